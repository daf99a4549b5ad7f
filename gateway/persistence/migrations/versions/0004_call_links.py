"""Call links: a call known under a second telephony id (a Twilio call handed to Asterisk).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_links",
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("source", "external_id"),
    )
    op.create_index("ix_call_links_call_id", "call_links", ["call_id"])


def downgrade() -> None:
    op.drop_index("ix_call_links_call_id", table_name="call_links")
    op.drop_table("call_links")
