"""Storing analytics rows exactly once, and removing the kept texts after the retention.

`add` inserts rows with ``ON CONFLICT (event_key) DO NOTHING`` (SQLite and PostgreSQL alike): a redelivered event,
another consumer's copy of it, a spool row published twice, all end as the one row already there. The caller
acknowledges the deliveries only after `add` returned, i.e. after the rows are committed.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence

from sqlalchemy import delete, func, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from talentbot.core.analytics import db
from talentbot.core.analytics.identity import conversation_key
from talentbot.core.analytics.models import messages

TEXT_RETENTION_VARIABLE = "TALENTBOT_ANALYTICS_TEXT_DAYS"
DEFAULT_TEXT_RETENTION_DAYS = 90
"""How long the masked texts of misunderstood messages are kept for review (the rows themselves, which hold no text,
stay for the statistics)."""


def text_retention_days(env: Mapping[str, str] = os.environ) -> int:
    """TALENTBOT_ANALYTICS_TEXT_DAYS, else 90; anything but a whole number of days >= 1 is refused."""
    raw = (env.get(TEXT_RETENTION_VARIABLE) or "").strip()
    if not raw:
        return DEFAULT_TEXT_RETENTION_DAYS
    try:
        days = int(raw)
    except ValueError:
        raise ValueError(f"{TEXT_RETENTION_VARIABLE} must be a whole number of days, got {raw!r}") from None
    if days < 1:
        raise ValueError(f"{TEXT_RETENTION_VARIABLE} must be at least 1 day, got {days}")
    return days


class AnalyticsStore:
    """The analytics table in one database (an engine the store owns, or one passed in)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._insert = _insert_ignoring_duplicates(engine.dialect.name)

    @classmethod
    def from_url(cls, url: Optional[str] = None, migrate: bool = True) -> "AnalyticsStore":
        engine = db.make_engine(url or db.database_url())
        if migrate:
            db.upgrade(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def add(self, rows: Sequence[Dict[str, Any]]) -> int:
        """Stores `rows` in one transaction; returns how many were new (the others were stored before)."""
        if not rows:
            return 0
        # one executemany: the statement is compiled once per batch, not per row (SQLAlchemy 1.4 does not cache the
        # compiled ON CONFLICT insert; per row that was ~0.6 ms of the consumer's CPU). Its rowcount is the rows
        # inserted on SQLite, and on PostgreSQL too while a batch fits in one page of psycopg2's execute_values
        # (1000 rows; the consumer's batches are at most 200).
        with self.engine.begin() as connection:
            added: int = connection.execute(self._insert, list(rows)).rowcount
        return added

    def exists(self) -> bool:
        """Whether the table is there (a database no consumer has written to yet has none)."""
        found: bool = inspect(self.engine).has_table(messages.name)
        return found

    def count(self) -> int:
        with self.engine.connect() as connection:
            counted: int = connection.execute(select(func.count()).select_from(messages)).scalar_one()
        return counted

    def purge_texts(self, before: dt.datetime) -> int:
        """Removes the kept texts of messages sent before `before` (an aware datetime); returns how many."""
        if before.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware one")
        statement = update(messages).where(messages.c.sent_at < before, messages.c.text.is_not(None)).values(text=None)
        with self.engine.begin() as connection:
            purged: int = connection.execute(statement).rowcount
        return purged

    def forget(self, sender_id: str, salt: bytes) -> int:
        """Deletes every row of one conversation (a user's request to erase their data); returns how many."""
        statement = delete(messages).where(messages.c.conversation == conversation_key(sender_id, salt))
        with self.engine.begin() as connection:
            deleted: int = connection.execute(statement).rowcount
        return deleted

    def purge_rows(self, before: dt.datetime) -> int:
        """Deletes the rows of messages sent before `before` (an aware datetime: the general retention,
        `talentbot privacy purge`); returns how many."""
        if before.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware one")
        with self.engine.begin() as connection:
            deleted: int = connection.execute(delete(messages).where(messages.c.sent_at < before)).rowcount
        return deleted

    def rows_of(self, sender_id: str, salt: bytes) -> List[Dict[str, Any]]:
        """Every row of one conversation, oldest first, JSON-ready (times in ISO 8601, UTC): a user's export."""
        statement = (select(messages).where(messages.c.conversation == conversation_key(sender_id, salt))
                     .order_by(messages.c.sent_at, messages.c.id))
        with self.engine.connect() as connection:
            found = connection.execute(statement).all()
        return [{key: value.isoformat() if isinstance(value, dt.datetime) else value
                 for key, value in row._mapping.items()} for row in found]

    def count_of(self, sender_id: str, salt: bytes) -> int:
        """How many rows one conversation has (what `forget` would delete)."""
        statement = (select(func.count()).select_from(messages)
                     .where(messages.c.conversation == conversation_key(sender_id, salt)))
        with self.engine.connect() as connection:
            counted: int = connection.execute(statement).scalar_one()
        return counted


def _insert_ignoring_duplicates(dialect: str) -> Any:
    if dialect == "postgresql":
        return postgresql.insert(messages).on_conflict_do_nothing(index_elements=[messages.c.event_key])
    if dialect == "sqlite":
        return sqlite.insert(messages).on_conflict_do_nothing(index_elements=[messages.c.event_key])
    raise ValueError(f"analytics need SQLite or PostgreSQL, not {dialect}")
