"""The handoff tables (SQLAlchemy Core): tickets, the messages exchanged while staff handle them, staff, sessions.

The Alembic migrations in `migrations/versions/` create exactly these; a change here needs a new migration.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text, text
from sqlalchemy.types import TypeDecorator

STATUSES = ("waiting", "assigned", "resolved")
"""A ticket's life: waiting in the queue, assigned to one staff member, resolved (closed, bot resumed)."""

ROLES = ("agent", "supervisor")
"""Staff roles (interfaces §5)."""

SENDERS = ("user", "staff", "system")
"""Who wrote a handoff message: the user on their channel, a staff member in the console, or the queue itself."""


class UtcDateTime(TypeDecorator):  # type: ignore[misc]  # SQLAlchemy 1.4 ships no types: an Any base
    """Timezone-aware UTC datetimes on every backend: SQLite has no zone, so values are stored as naive UTC and given
    their zone back when read (PostgreSQL would keep them, but one representation keeps comparisons simple)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Optional[dt.datetime], dialect: Any) -> Optional[dt.datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the handoff store; pass an aware one")
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: Optional[dt.datetime], dialect: Any) -> Optional[dt.datetime]:
        return None if value is None else value.replace(tzinfo=dt.timezone.utc)


metadata = MetaData()

tickets = Table(
    "handoff_tickets", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(255), nullable=False),  # Rasa's sender id; also the recipient on the channel
    Column("channel", String(32), nullable=False),  # rest, socketio, telegram, wechat, whatsapp, ...
    Column("language", String(8), nullable=False),  # en, zh-Hant, zh-Hans
    Column("reason", String(32), nullable=False),  # see policy.REASONS
    Column("status", String(16), nullable=False, server_default="waiting"),
    Column("resolution", String(16)),  # resolved (by staff) or cancelled (by the user), once status is resolved
    Column("assignee", String(64), ForeignKey("staff_users.username")),
    Column("summary", Text, nullable=False, server_default=""),  # what the user asked, in their words
    Column("schemes", JSON, nullable=False),  # schemes that came up, e.g. ["TTPS"]
    Column("topics", JSON, nullable=False),  # living topics that came up, e.g. ["housing"]
    Column("created_at", UtcDateTime, nullable=False),
    Column("claimed_at", UtcDateTime),  # first claim: the end of the user's wait
    Column("resolved_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),  # any change; the console's event stream watches it
)
# At most one open ticket per conversation: opening again while one is open returns that one.
Index("ix_handoff_tickets_one_open", tickets.c.conversation_id, unique=True,
      sqlite_where=text("status != 'resolved'"), postgresql_where=text("status != 'resolved'"))
Index("ix_handoff_tickets_status_created", tickets.c.status, tickets.c.created_at)

messages = Table(
    "handoff_messages", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),  # increasing: the event stream's cursor
    Column("ticket_id", Integer, ForeignKey("handoff_tickets.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("sender", String(16), nullable=False),  # see SENDERS
    Column("author", String(64)),  # the staff member's username for staff messages
    Column("text", Text, nullable=False),  # exactly as written; shown as text, never as HTML
    Column("delivered", Boolean),  # staff messages: whether the channel accepted it; None for the others
    Column("created_at", UtcDateTime, nullable=False),
)

staff_users = Table(
    "staff_users", metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", String(255), nullable=False),  # bcrypt, see auth.py
    Column("role", String(16), nullable=False),  # see ROLES
    Column("created_at", UtcDateTime, nullable=False),
)

staff_login_failures = Table(
    "staff_login_failures", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),  # as typed: unknown usernames count too (not a foreign key)
    Column("failed_at", UtcDateTime, nullable=False),
)
Index("ix_staff_login_failures_username_failed_at", staff_login_failures.c.username, staff_login_failures.c.failed_at)

staff_sessions = Table(
    "staff_sessions", metadata,
    Column("token_hash", String(64), primary_key=True),  # SHA-256 of the cookie's token: a leaked table logs no one in
    Column("username", String(64), ForeignKey("staff_users.username", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),  # absolute end; idle expiry is checked against last_seen
)
