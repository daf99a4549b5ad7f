"""The callback list: abandoned and silent calls to call back, and each attempt.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "callbacks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("call_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("room", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleared_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id", name="uq_callbacks_call_id"),
    )
    op.create_index("ix_callbacks_number_cleared_at", "callbacks", ["number", "cleared_at"])
    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("callback_id", sa.String(length=36), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["callback_id"], ["callbacks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_callback_attempts_callback_id", "callback_attempts", ["callback_id"])


def downgrade() -> None:
    op.drop_index("ix_callback_attempts_callback_id", table_name="callback_attempts")
    op.drop_table("callback_attempts")
    op.drop_index("ix_callbacks_number_cleared_at", table_name="callbacks")
    op.drop_table("callbacks")
