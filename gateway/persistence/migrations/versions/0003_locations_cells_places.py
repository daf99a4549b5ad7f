"""Locations (every fix with its provenance), the cell table and the gazetteer.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("best_location_id", sa.Integer(), nullable=True))
    op.create_table(
        "locations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(length=36), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("radius_m", sa.Float(), nullable=True),
        sa.Column("confidence_pct", sa.Float(), nullable=True),
        sa.Column("method", sa.String(length=24), nullable=True),
        sa.Column("civic", sa.JSON(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=True),
        sa.Column("fixed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=160), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key", name="uq_locations_dedupe_key"),
    )
    op.create_index("ix_locations_call_id", "locations", ["call_id"])
    op.create_index("ix_locations_number_received_at", "locations", ["number", "received_at"])
    op.create_table(
        "cells",
        sa.Column("radio", sa.String(length=8), nullable=False),
        sa.Column("mcc", sa.Integer(), nullable=False),
        sa.Column("net", sa.Integer(), nullable=False),
        sa.Column("area", sa.Integer(), nullable=False),
        sa.Column("cell", sa.BigInteger(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("range_m", sa.Float(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=True),
        sa.Column("updated", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("radio", "mcc", "net", "area", "cell"),
    )
    op.create_table(
        "places",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("city", sa.String(length=64), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("radius_m", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_places_key", "places", ["key"])


def downgrade() -> None:
    op.drop_index("ix_places_key", table_name="places")
    op.drop_table("places")
    op.drop_table("cells")
    op.drop_index("ix_locations_number_received_at", table_name="locations")
    op.drop_index("ix_locations_call_id", table_name="locations")
    op.drop_table("locations")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("best_location_id")
