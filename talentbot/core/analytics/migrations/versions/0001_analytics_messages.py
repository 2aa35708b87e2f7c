"""Analytics: one row per user message (analytics_messages).

Revision ID: a0001
Revises:
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

from talentbot.core.handoff.models import UtcDateTime

revision = "a0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analytics_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("event_key", sa.String(64), nullable=False),
        sa.Column("conversation", sa.String(64), nullable=False),
        sa.Column("sent_at", UtcDateTime, nullable=False),
        sa.Column("channel", sa.String(32)),
        sa.Column("language", sa.String(8)),
        sa.Column("intent", sa.String(64)),
        sa.Column("confidence", sa.Float),
        sa.Column("intent_corrected_from", sa.String(64)),
        sa.Column("answer_kind", sa.String(16)),
        sa.Column("answer", sa.String(128)),
        sa.Column("did_you_mean", sa.String(16)),
        sa.Column("did_you_mean_ids", sa.JSON),
        sa.Column("nlu_fallback", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("core_fallback", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("eligibility", sa.JSON),
        sa.Column("handoff", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("handoff_ticket", sa.Integer),
        sa.Column("actions", sa.JSON),
        sa.Column("text", sa.Text),
        sa.Column("stored_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("event_key", name="uq_analytics_messages_event_key"),
    )
    op.create_index("ix_analytics_messages_sent_at", "analytics_messages", ["sent_at"])
    op.create_index("ix_analytics_messages_conversation", "analytics_messages", ["conversation", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_analytics_messages_conversation", table_name="analytics_messages")
    op.drop_index("ix_analytics_messages_sent_at", table_name="analytics_messages")
    op.drop_table("analytics_messages")
