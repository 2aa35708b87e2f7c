"""Handoff tickets and the messages written on them (talentbot/core/handoff/models.py).

A ticket's last activity is the later of its `updated_at` (set by every change: opening, claim, transfer,
resolution or cancellation) and its newest message. A ticket is purged, with its messages, once that is older than
the cutoff: a resolved ticket some time after its resolution, and a ticket left open (no change and no message for
the whole retention) as abandoned. Staff accounts, sessions and failed log-ins are staff's data, kept by their own
rules (talentbot/core/handoff/accounts.py), and not touched here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, exists, func, inspect, select
from sqlalchemy.engine import Connection, Engine

from talentbot.core.handoff.models import messages, tickets


@dataclass(frozen=True)
class Removed:
    tickets: int
    messages: int


def has_tables(engine: Engine) -> bool:
    """Whether the queue's tables are there (its migrations run when a server first starts)."""
    return bool(inspect(engine).has_table(tickets.name))


def _last_activity_before(before: dt.datetime) -> Any:
    newer_message = exists().where(and_(messages.c.ticket_id == tickets.c.id, messages.c.created_at >= before))
    return and_(tickets.c.updated_at < before, ~newer_message)


def _remove(connection: Connection, condition: Any) -> Removed:
    ids = select(tickets.c.id).where(condition)
    removed_messages = connection.execute(delete(messages).where(messages.c.ticket_id.in_(ids))).rowcount
    removed_tickets = connection.execute(delete(tickets).where(condition)).rowcount
    return Removed(int(removed_tickets), int(removed_messages))


def purge(engine: Engine, before: dt.datetime) -> Removed:
    """Deletes the tickets (and their messages) whose last activity is older than `before`; idempotent."""
    if not has_tables(engine):
        return Removed(0, 0)
    with engine.begin() as connection:
        return _remove(connection, _last_activity_before(before))


def delete_user(engine: Engine, sender_id: str) -> Removed:
    """Deletes every ticket of the conversation `sender_id`, open or resolved, with its messages."""
    if not has_tables(engine):
        return Removed(0, 0)
    with engine.begin() as connection:
        return _remove(connection, tickets.c.conversation_id == sender_id)


def export_user(engine: Engine, sender_id: str) -> list[dict[str, Any]]:
    """Every ticket of the conversation, oldest first, each with its messages."""
    if not has_tables(engine):
        return []
    with engine.connect() as connection:
        found = connection.execute(
            select(tickets).where(tickets.c.conversation_id == sender_id).order_by(tickets.c.id)).all()
        written = connection.execute(
            select(messages).where(messages.c.ticket_id.in_([row.id for row in found])).order_by(messages.c.id)).all()
    by_ticket: dict[int, list[dict[str, Any]]] = {}
    for row in written:
        by_ticket.setdefault(int(row.ticket_id), []).append(_plain(row._mapping))
    return [{**_plain(row._mapping), "messages": by_ticket.get(int(row.id), [])} for row in found]


def count_user(engine: Engine, sender_id: str) -> Removed:
    """How many tickets and messages the conversation has (what `delete_user` would remove)."""
    if not has_tables(engine):
        return Removed(0, 0)
    ids = select(tickets.c.id).where(tickets.c.conversation_id == sender_id)
    with engine.connect() as connection:
        held_tickets = connection.execute(select(func.count()).select_from(ids.subquery())).scalar()
        held_messages = connection.execute(
            select(func.count()).select_from(messages).where(messages.c.ticket_id.in_(ids))).scalar()
    return Removed(int(held_tickets or 0), int(held_messages or 0))


def _plain(row: Any) -> dict[str, Any]:
    """A row as JSON-ready values (times in ISO 8601, UTC)."""
    return {key: value.isoformat() if isinstance(value, dt.datetime) else value for key, value in dict(row).items()}
