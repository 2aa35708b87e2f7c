"""Conversations in Rasa's tracker store: the `events` table of Rasa's SQL tracker store (SQLite or PostgreSQL),
one row per event, `sender_id` the conversation, `timestamp` the event's time (seconds since the epoch).

A conversation is purged whole, once its *last* event is older than the cutoff: a conversation still going on keeps
its older turns too (a tracker cut in half would lose its session start and slots). Finding those efficiently:
the senders with an event before the cutoff are read from an index on (`timestamp`, `sender_id`) (created here,
beside Rasa's own index on `sender_id`; Rasa's columns and rows are unchanged), a range of the index alone, so a
daily run reads the events that aged out since the last run and those of conversations still going on, not the
whole table (`GROUP BY sender_id HAVING max(timestamp) < cutoff` reads every row). Each of those senders is then
checked for a recent event through Rasa's `sender_id` index. The delete repeats that check in the same statement,
so a message arriving between the two keeps its conversation.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from sqlalchemy import Float, Integer, String, Text, column, delete, exists, func, inspect, select, table, text
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

EVENTS = table(
    "events",
    column("id", Integer), column("sender_id", String), column("type_name", String), column("timestamp", Float),
    column("data", Text),
)
"""Rasa's table (rasa.core.tracker_store.SQLTrackerStore.SQLEvent), the columns read here."""

TIMESTAMP_INDEX = "ix_events_timestamp_sender_id"
BATCH = 200
"""Conversations deleted per statement (and transaction): short write locks for the servers sharing the database."""

_recent = EVENTS.alias("recent")


def _no_event_since(cutoff: float, sender: ColumnElement[Any]) -> ColumnElement[bool]:
    return ~exists().where(_recent.c.sender_id == sender, _recent.c.timestamp >= cutoff)


@dataclass(frozen=True)
class Purged:
    conversations: int
    events: int


class Conversations:
    """Rasa's `events` table on `engine` (which should come from `engines.erasing_engine`)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def exists(self) -> bool:
        """Whether the table is there (Rasa creates it when its server first starts)."""
        return bool(inspect(self.engine).has_table("events"))

    def ensure_timestamp_index(self) -> None:
        """The index the purge finds old events by; created once (on PostgreSQL without blocking Rasa's writes)."""
        if self.engine.url.get_backend_name() == "postgresql":
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {TIMESTAMP_INDEX} "
                                        "ON events (timestamp, sender_id)"))
            return
        with self.engine.begin() as connection:
            connection.execute(text(f"CREATE INDEX IF NOT EXISTS {TIMESTAMP_INDEX} ON events (timestamp, sender_id)"))

    def stale(self, before: dt.datetime, batch: int = BATCH) -> list[str]:
        """The conversations whose last event is older than `before`."""
        cutoff = before.timestamp()
        # no DISTINCT: with it SQLite walks the whole `sender_id` index instead of a range of the timestamp index
        old = select(EVENTS.c.sender_id).where(EVENTS.c.timestamp < cutoff)
        with self.engine.connect() as connection:
            candidates = sorted({str(sender) for sender in connection.execute(old).scalars()})
            live: set[str] = set()
            for senders in _batches(candidates, batch):
                live.update(str(sender) for sender in connection.execute(
                    select(EVENTS.c.sender_id).where(EVENTS.c.sender_id.in_(senders), EVENTS.c.timestamp >= cutoff)
                    .distinct()).scalars())
        return [sender for sender in candidates if sender not in live]

    def purge(self, before: dt.datetime, batch: int = BATCH) -> Purged:
        """Deletes every conversation whose last event is older than `before`; idempotent."""
        if not self.exists():
            return Purged(0, 0)
        self.ensure_timestamp_index()
        cutoff = before.timestamp()
        conversations = events = 0
        for senders in _batches(self.stale(before), batch):
            statement = delete(EVENTS).where(
                EVENTS.c.sender_id.in_(senders), _no_event_since(cutoff, EVENTS.c.sender_id))
            with self.engine.begin() as connection:
                counted = connection.execute(
                    select(EVENTS.c.sender_id, func.count()).where(
                        EVENTS.c.sender_id.in_(senders), _no_event_since(cutoff, EVENTS.c.sender_id))
                    .group_by(EVENTS.c.sender_id)).all()
                deleted = connection.execute(statement).rowcount
            conversations += len(counted)
            events += int(deleted)
        return Purged(conversations, events)

    def events_of(self, sender_id: str) -> list[dict[str, Any]]:
        """The conversation's events, oldest first, as Rasa stored them."""
        if not self.exists():
            return []
        query = select(EVENTS.c.data).where(EVENTS.c.sender_id == sender_id).order_by(EVENTS.c.id)
        with self.engine.connect() as connection:
            return [_event(data) for data in connection.execute(query).scalars()]

    def delete(self, sender_id: str) -> int:
        """Deletes the conversation; the number of events deleted."""
        if not self.exists():
            return 0
        with self.engine.begin() as connection:
            return int(connection.execute(delete(EVENTS).where(EVENTS.c.sender_id == sender_id)).rowcount)

    def count(self, sender_id: str) -> int:
        if not self.exists():
            return 0
        with self.engine.connect() as connection:
            found = connection.execute(
                select(func.count()).select_from(EVENTS).where(EVENTS.c.sender_id == sender_id)).scalar()
        return int(found or 0)


def _event(data: str) -> dict[str, Any]:
    try:
        loaded = json.loads(data)
    except ValueError:
        return {"unreadable": data}
    return loaded if isinstance(loaded, dict) else {"value": loaded}


def _batches(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])
