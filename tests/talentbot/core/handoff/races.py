"""Deterministic races for the handoff store's tests: another party's change committed at the worst moment."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from sqlalchemy import event

from talentbot.core.handoff.store import SqlTicketStore


@contextlib.contextmanager
def resolved_as_a_message_is_inserted(store: SqlTicketStore, ticket_id: int) -> Iterator[None]:
    """Staff resolve the ticket (on another connection, committed) just before the statement that stores a message
    on it reaches the database: after any check of the ticket's status made in an earlier statement."""
    resolved = False

    def resolve_first(connection: Any, cursor: Any, statement: str, *rest: Any) -> None:
        nonlocal resolved
        if not resolved and statement.lstrip().upper().startswith("INSERT INTO HANDOFF_MESSAGES"):
            resolved = True
            store.resolve(ticket_id)

    event.listen(store.engine, "before_cursor_execute", resolve_first)
    try:
        yield
    finally:
        event.remove(store.engine, "before_cursor_execute", resolve_first)
    assert resolved, "no message was inserted: the race did not happen"
