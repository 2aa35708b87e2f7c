"""The analytics table (SQLAlchemy Core): one row per user message the assistant handled.

Written only by `talentbot events consume` (talentbot.core.analytics.store), read by the insights page and the review
queue. The Alembic migrations in `migrations/versions/` create exactly this; a change here needs a new migration.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from talentbot.core.handoff.models import UtcDateTime

metadata = MetaData()

messages = Table(
    "analytics_messages", metadata,
    # BIGINT on PostgreSQL; SQLite's INTEGER PRIMARY KEY is its 64-bit rowid
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    # the user message's event: keyed hash of conversation, type and timestamp (identity.event_key); unique, so a
    # redelivered event is stored once
    Column("event_key", String(64), nullable=False),
    Column("conversation", String(64), nullable=False),  # keyed hash of the sender id (identity.conversation_key)
    Column("sent_at", UtcDateTime, nullable=False),  # the message's time (Rasa's event timestamp)
    Column("channel", String(32)),  # Rasa's input_channel: rest, socketio, telegram, whatsapp, wechat, ...
    Column("language", String(8)),  # en, zh-Hant, zh-Hans: the `language` slot for the turn (LanguagePolicy)
    Column("intent", String(64)),  # the intent Rasa acted on (after the question bank's correction)
    Column("confidence", Float),
    Column("intent_corrected_from", String(64)),  # the classifier's intent, when the question bank corrected it
    Column("answer_kind", String(16)),  # entry (question bank), changes (an entry's rule changes), content (topic)
    Column("answer", String(128)),  # the bank entry's id or the content key answered
    Column("did_you_mean", String(16)),  # asked_first or after_answer: close bank entries were offered
    Column("did_you_mean_ids", JSON(none_as_null=True)),  # the entries offered
    Column("nlu_fallback", Boolean, nullable=False, server_default=text("false")),  # intent nlu_fallback
    Column("core_fallback", Boolean, nullable=False, server_default=text("false")),  # action_default_fallback ran
    # the eligibility check ended in this turn: {"outcome": result/stopped/left, "schemes": {scheme: status}}
    Column("eligibility", JSON(none_as_null=True)),
    Column("handoff", Boolean, nullable=False, server_default=text("false")),  # action_handoff ran
    Column("handoff_ticket", Integer),  # handoff_tickets.id (same database by default): wait and outcome there
    Column("actions", JSON(none_as_null=True)),  # the actions run for the message, action_listen left out
    # masked, only when the message fell back or was met with a "Did you mean" offer (the review queue's candidates,
    # talentbot.core.analytics.review); removed after the retention (purge)
    Column("text", Text),
    # the assistant's best guesses (top intents, top bank entries), kept with the text (analytics.guesses; a0002)
    Column("guesses", JSON(none_as_null=True)),
    Column("stored_at", UtcDateTime, nullable=False),  # when the consumer stored the row
    UniqueConstraint("event_key", name="uq_analytics_messages_event_key"),
)
Index("ix_analytics_messages_sent_at", messages.c.sent_at)
Index("ix_analytics_messages_conversation", messages.c.conversation, messages.c.sent_at)
