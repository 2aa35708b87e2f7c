"""Failed staff log-ins, for the per-username log-in limit (auth.locked_until).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

from talentbot.core.handoff.models import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_login_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("failed_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_staff_login_failures_username_failed_at", "staff_login_failures", ["username", "failed_at"])


def downgrade() -> None:
    op.drop_index("ix_staff_login_failures_username_failed_at", table_name="staff_login_failures")
    op.drop_table("staff_login_failures")
