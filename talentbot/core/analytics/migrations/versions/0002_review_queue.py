"""The review queue: the assistant's best guesses beside a kept text, and the supervisors' decisions on groups.

Revision ID: a0002
Revises: a0001
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

from talentbot.core.handoff.models import UtcDateTime

revision = "a0002"
down_revision = "a0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("analytics_messages") as batch:
        batch.add_column(sa.Column("guesses", sa.JSON))
    op.create_table(
        "review_decisions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.String(16), nullable=False),
        sa.Column("signature", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("target_kind", sa.String(8)),
        sa.Column("target_id", sa.String(128)),
        sa.Column("note", sa.Text),
        sa.Column("members", sa.Integer, nullable=False),
        sa.Column("languages", sa.JSON),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("decided_at", UtcDateTime, nullable=False),
        sa.Column("withdrawn_by", sa.String(64)),
        sa.Column("withdrawn_at", UtcDateTime),
        sa.CheckConstraint("status IN ('paraphrase', 'content_gap', 'dismissed')", name="ck_review_decisions_status"),
        sa.CheckConstraint("status != 'paraphrase' OR (target_kind IN ('intent', 'entry') AND target_id IS NOT NULL)",
                           name="ck_review_decisions_target"),
    )
    op.create_index("ix_review_decisions_decided_at", "review_decisions", ["decided_at"])
    op.create_table(
        "review_members",
        sa.Column("message_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                  sa.ForeignKey("analytics_messages.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("decision_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                  sa.ForeignKey("review_decisions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("accepted", sa.Boolean, nullable=False, server_default=sa.text("true")),
    )
    op.create_index("ix_review_members_decision", "review_members", ["decision_id"])


def downgrade() -> None:
    op.drop_index("ix_review_members_decision", table_name="review_members")
    op.drop_table("review_members")
    op.drop_index("ix_review_decisions_decided_at", table_name="review_decisions")
    op.drop_table("review_decisions")
    with op.batch_alter_table("analytics_messages") as batch:
        batch.drop_column("guesses")
