"""Handoff tickets and their messages: purged once their last activity is past the retention (resolved, or left
open untouched), exported and deleted per user. On SQLite and PostgreSQL (tests/talentbot/conftest.py's `store`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from talentbot.core.handoff.models import messages, tickets
from talentbot.core.handoff.store import SqlTicketStore
from talentbot.core.privacy import tickets as handoff
from talentbot.core.privacy.retention import cutoff

NOW = dt.datetime(2026, 11, 30, 4, 0, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)


def _counts(store: SqlTicketStore) -> tuple[int, int]:
    with store.engine.connect() as connection:
        return (connection.execute(select(func.count()).select_from(tickets)).scalar(),
                connection.execute(select(func.count()).select_from(messages)).scalar())


def _ids(store: SqlTicketStore) -> set[str]:
    with store.engine.connect() as connection:
        return set(connection.execute(select(tickets.c.conversation_id)).scalars())


def test_tickets_are_purged_once_their_last_activity_is_past_the_retention(store: SqlTicketStore) -> None:
    old = store.open_ticket("telegram:1", "telegram", "en", "requested", "old question", now=NOW - 200 * DAY)
    store.add_message(old.id, "user", "my passport number is ...", now=NOW - 199 * DAY)
    store.resolve(old.id, now=NOW - 190 * DAY)
    late = store.open_ticket("telegram:2", "telegram", "en", "requested", now=NOW - 200 * DAY)
    store.resolve(late.id, now=NOW - 10 * DAY)  # resolved recently: kept
    waiting = store.open_ticket("telegram:3", "telegram", "en", "requested", now=NOW - 200 * DAY)
    store.add_message(waiting.id, "user", "still there?", now=NOW - 5 * DAY)  # open, the user wrote lately: kept
    store.open_ticket("telegram:4", "telegram", "en", "requested", now=NOW - 200 * DAY)  # abandoned: purged
    assert _counts(store) == (4, 2)
    assert handoff.purge(store.engine, cutoff(180, NOW)) == handoff.Removed(tickets=2, messages=1)
    assert _ids(store) == {"telegram:2", "telegram:3"} and _counts(store) == (2, 1)
    assert handoff.purge(store.engine, cutoff(180, NOW)) == handoff.Removed(0, 0)  # idempotent


def test_one_users_tickets_are_exported_with_their_messages_and_deleted(store: SqlTicketStore) -> None:
    first = store.open_ticket("whatsapp:85291234567", "whatsapp", "zh-Hant", "requested", "搵真人", ["TTPS"],
                              now=NOW - 3 * DAY)
    store.add_message(first.id, "user", "我想問高才通", now=NOW - 3 * DAY)
    store.add_message(first.id, "staff", "你好，有咩可以幫到你？", author=None, delivered=True, now=NOW - 3 * DAY)
    store.resolve(first.id, now=NOW - 2 * DAY)
    second = store.open_ticket("whatsapp:85291234567", "whatsapp", "zh-Hant", "requested", now=NOW - DAY)
    other = store.open_ticket("whatsapp:85291234568", "whatsapp", "en", "requested", now=NOW - DAY)
    store.add_message(other.id, "user", "someone else", now=NOW - DAY)

    exported = handoff.export_user(store.engine, "whatsapp:85291234567")
    assert [t["id"] for t in exported] == [first.id, second.id]
    assert [m["text"] for m in exported[0]["messages"]] == ["我想問高才通", "你好，有咩可以幫到你？"]
    assert exported[0]["schemes"] == ["TTPS"] and exported[0]["resolved_at"].startswith("2026-11-28")
    assert exported[1]["messages"] == []
    assert handoff.count_user(store.engine, "whatsapp:85291234567") == handoff.Removed(2, 2)

    assert handoff.delete_user(store.engine, "whatsapp:85291234567") == handoff.Removed(tickets=2, messages=2)
    assert handoff.export_user(store.engine, "whatsapp:85291234567") == []
    assert _ids(store) == {"whatsapp:85291234568"} and _counts(store) == (1, 1)
    # the queue works on: the user may open a new ticket, the other's is untouched
    assert store.open_ticket_for("whatsapp:85291234568") is not None
    assert store.open_ticket("whatsapp:85291234567", "whatsapp", "en", "requested").status == "waiting"
