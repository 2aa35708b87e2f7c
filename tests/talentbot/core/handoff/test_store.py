"""The ticket store, the same tests on SQLite and on the real PostgreSQL: lifecycle, atomic claims and messages,
restarts, stats."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import List

import pytest
from sqlalchemy import text, update
from sqlalchemy.engine import Engine

from talentbot.core.handoff.accounts import StaffDirectory
from talentbot.core.handoff.models import tickets
from talentbot.core.handoff.policy import default_policy
from talentbot.core.handoff.store import (
    ClaimConflict,
    InvalidState,
    SqlTicketStore,
    Ticket,
    TicketNotFound,
    UnknownStaff,
)
from tests.talentbot.conftest import PASSWORD, TEST_ROUNDS, hkt
from tests.talentbot.core.handoff.races import resolved_as_a_message_is_inserted

T0 = hkt("2026-03-02 10:00")  # a Monday, staffed


def _open(store: SqlTicketStore, conversation_id: str, minutes: int = 0, **fields) -> Ticket:
    values = dict(channel="telegram", language="zh-Hant", reason="requested")
    values.update(fields)
    return store.open_ticket(conversation_id, now=T0 + dt.timedelta(minutes=minutes), **values)


@pytest.fixture
def staff(directory: StaffDirectory) -> StaffDirectory:
    for username, role in (("amy", "agent"), ("ben", "agent"), ("sue", "supervisor")):
        directory.add(username, role, PASSWORD, rounds=TEST_ROUNDS)
    return directory


def test_open_ticket_keeps_what_the_user_asked(store: SqlTicketStore) -> None:
    ticket = _open(store, "telegram:42", summary="我可唔可以帶埋老婆嚟？", schemes=["TTPS"], topics=["housing"])
    again = store.get(ticket.id)
    assert again == ticket
    assert (again.status, again.assignee, again.summary) == ("waiting", None, "我可唔可以帶埋老婆嚟？")
    assert (again.schemes, again.topics, again.created_at) == (["TTPS"], ["housing"], T0)


def test_opening_twice_for_one_conversation_returns_the_open_ticket(store: SqlTicketStore) -> None:
    first = _open(store, "c1")
    assert _open(store, "c1", minutes=1).id == first.id
    store.resolve(first.id, now=T0)
    assert _open(store, "c1", minutes=2).id != first.id  # after resolving, a new handoff is a new ticket


def test_unknown_reason_is_refused(store: SqlTicketStore) -> None:
    with pytest.raises(ValueError, match="reason"):
        _open(store, "c1", reason="bored")


def test_unknown_ticket(store: SqlTicketStore) -> None:
    with pytest.raises(TicketNotFound):
        store.get(999)


def test_queue_lists_oldest_first_with_places(store: SqlTicketStore) -> None:
    late, early, middle = _open(store, "c3", minutes=5), _open(store, "c1", minutes=0), _open(store, "c2", minutes=2)
    assert [ticket.id for ticket in store.list_by_status("waiting")] == [early.id, middle.id, late.id]
    assert [store.place_in_queue(t.id) for t in (early, middle, late)] == [1, 2, 3]
    with pytest.raises(ValueError):
        store.list_by_status("lost")


def test_claim_assigns_and_a_second_claim_is_told_who_won(store: SqlTicketStore, staff: StaffDirectory) -> None:
    ticket = _open(store, "c1")
    claimed = store.claim(ticket.id, "amy", now=T0 + dt.timedelta(minutes=3))
    assert (claimed.status, claimed.assignee, claimed.claimed_at) == ("assigned", "amy", T0 + dt.timedelta(minutes=3))
    assert store.place_in_queue(ticket.id) is None
    with pytest.raises(ClaimConflict, match="already taken by amy"):
        store.claim(ticket.id, "ben")


@pytest.mark.parametrize("claimers", [2, 6])
def test_concurrent_claims_have_exactly_one_winner(store: SqlTicketStore, staff: StaffDirectory,
                                                   claimers: int) -> None:
    ticket = _open(store, "c1")
    names = ["amy", "ben", "sue"]
    barrier = threading.Barrier(claimers)
    won: List[str] = []
    lost: List[str] = []

    def claim(username: str) -> None:
        barrier.wait()
        try:
            store.claim(ticket.id, username)
            won.append(username)
        except ClaimConflict:
            lost.append(username)

    threads = [threading.Thread(target=claim, args=(names[i % 3],)) for i in range(claimers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(won) == 1 and len(lost) == claimers - 1
    assert store.get(ticket.id).assignee == won[0]


def test_transfer_needs_an_assigned_ticket_and_a_real_colleague(store: SqlTicketStore, staff: StaffDirectory) -> None:
    ticket = _open(store, "c1")
    with pytest.raises(InvalidState, match="only an assigned"):
        store.transfer(ticket.id, "ben")
    store.claim(ticket.id, "amy")
    assert store.transfer(ticket.id, "ben").assignee == "ben"
    with pytest.raises(UnknownStaff):
        store.transfer(ticket.id, "nobody")


def test_resolve_closes_once(store: SqlTicketStore, staff: StaffDirectory) -> None:
    ticket = _open(store, "c1")
    store.claim(ticket.id, "amy")
    resolved = store.resolve(ticket.id, now=T0 + dt.timedelta(minutes=9))
    assert (resolved.status, resolved.resolution, resolved.resolved_at) == ("resolved", "resolved",
                                                                           T0 + dt.timedelta(minutes=9))
    assert store.open_ticket_for("c1") is None
    with pytest.raises(InvalidState):
        store.resolve(ticket.id)


def test_cancel_only_while_waiting(store: SqlTicketStore, staff: StaffDirectory) -> None:
    waiting, taken = _open(store, "c1"), _open(store, "c2")
    assert store.cancel(waiting.id).resolution == "cancelled"
    store.claim(taken.id, "amy")
    with pytest.raises(InvalidState, match="only a waiting"):
        store.cancel(taken.id)


def test_messages_are_kept_as_written_in_order(store: SqlTicketStore, staff: StaffDirectory) -> None:
    ticket = _open(store, "c1")
    script = "<script>alert('x')</script> & <b>bold</b>"
    first = store.add_message(ticket.id, "user", "高才通要咩條件？", now=T0)
    second = store.add_message(ticket.id, "staff", script, author="amy", now=T0)
    store.set_delivered(second.id, True)
    found = store.messages(ticket.id)
    assert [(m.sender, m.text) for m in found] == [("user", "高才通要咩條件？"), ("staff", script)]
    assert found[1].delivered is True and found[0].delivered is None
    assert [m.id for m in store.messages_after(first.id)] == [second.id]
    assert store.last_message_id() == second.id


def test_no_messages_on_a_resolved_ticket(store: SqlTicketStore) -> None:
    ticket = _open(store, "c1")
    store.cancel(ticket.id)
    with pytest.raises(InvalidState, match="resolved"):
        store.add_message(ticket.id, "user", "hello?")
    assert store.messages(ticket.id) == []


def test_a_message_to_an_unknown_ticket(store: SqlTicketStore) -> None:
    with pytest.raises(TicketNotFound):
        store.add_message(999, "user", "hello?")
    assert store.last_message_id() == 0


def test_a_resolve_just_before_the_insert_keeps_the_message_off_the_closed_ticket(
        store: SqlTicketStore, staff: StaffDirectory) -> None:
    """The status is checked by the INSERT itself: a resolve committed after any earlier look at the ticket still
    stops the message, and the caller is told (so the user's message goes to the assistant, not nowhere)."""
    ticket = _open(store, "c1")
    store.claim(ticket.id, "amy")
    with resolved_as_a_message_is_inserted(store, ticket.id):
        with pytest.raises(InvalidState, match="resolved"):
            store.add_message(ticket.id, "user", "are you still there?")
    assert store.get(ticket.id).status == "resolved"
    assert store.messages(ticket.id) == []


def _lock_waiters(engine: Engine) -> int:
    """PostgreSQL backends of this database waiting for a row lock."""
    with engine.connect() as connection:
        return int(connection.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )).scalar())


def test_a_message_during_an_uncommitted_resolve_waits_for_it_on_postgresql(
        store: SqlTicketStore, staff: StaffDirectory) -> None:
    """Under READ COMMITTED a plain INSERT ... SELECT would read the ticket as still open and commit its message
    after the resolve; the INSERT waits for the resolving transaction instead and then sees the ticket closed."""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: no resolve is ever in progress beside an insert")
    ticket = _open(store, "c1")
    store.claim(ticket.id, "amy")
    outcome: List[object] = []

    def add() -> None:
        try:
            outcome.append(store.add_message(ticket.id, "user", "hello?"))
        except InvalidState as refused:
            outcome.append(refused)

    with store.engine.connect() as staff_connection:
        resolving = staff_connection.begin()
        staff_connection.execute(
            update(tickets).where(tickets.c.id == ticket.id).values(status="resolved", resolution="resolved"))
        adder = threading.Thread(target=add)
        adder.start()
        deadline = time.monotonic() + 10
        while adder.is_alive() and _lock_waiters(store.engine) == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        resolving.commit()
    adder.join(30)
    [result] = outcome
    assert isinstance(result, InvalidState), f"stored on a ticket being resolved: {result}"
    assert store.messages(ticket.id) == []


def test_a_new_store_on_the_same_database_sees_waiting_tickets_and_messages(database_url: str) -> None:
    before = SqlTicketStore.from_url(database_url)
    ticket = _open(before, "wechat:abc")
    before.add_message(ticket.id, "user", "仲有人喺度嗎？", now=T0)
    before.close()  # the process stops

    after = SqlTicketStore.from_url(database_url)  # and starts again (migrations are a no-op now)
    try:
        assert [t.id for t in after.list_by_status("waiting")] == [ticket.id]
        reopened = after.open_ticket_for("wechat:abc")
        assert reopened is not None and reopened.id == ticket.id
        assert [m.text for m in after.messages(ticket.id)] == ["仲有人喺度嗎？"]
    finally:
        after.close()


def test_stats_for_the_supervisor(store: SqlTicketStore, staff: StaffDirectory) -> None:
    now = T0 + dt.timedelta(minutes=30)
    yesterday = _open(store, "old", minutes=-24 * 60)
    store.claim(yesterday.id, "amy", now=T0 - dt.timedelta(hours=23))
    store.resolve(yesterday.id, now=T0 - dt.timedelta(hours=22))  # resolved yesterday: not counted today
    quick, slow = _open(store, "c1", minutes=0), _open(store, "c2", minutes=0, reason="not_understood")
    store.claim(quick.id, "amy", now=T0 + dt.timedelta(minutes=2))
    store.claim(slow.id, "ben", now=T0 + dt.timedelta(minutes=6))
    store.resolve(quick.id, now=T0 + dt.timedelta(minutes=10))
    _open(store, "c3", minutes=5, reason="not_understood")  # waiting 25 minutes: overdue
    _open(store, "c4", minutes=25, reason="needs_judgement")  # waiting 5 minutes

    stats = store.stats(default_policy(), now=now)
    assert (stats.waiting, stats.assigned, stats.resolved_today, stats.overdue) == (2, 1, 1, 1)
    assert stats.median_wait_seconds == 4 * 60  # claims today after 2 and 6 minutes
    assert stats.per_reason == {"needs_judgement": 1, "not_understood": 2, "requested": 1}


def test_today_is_the_hong_kong_day(store: SqlTicketStore, staff: StaffDirectory) -> None:
    ticket = store.open_ticket("c1", "rest", "en", "requested", now=hkt("2026-03-02 00:30"))  # 16:30 UTC, Sunday
    stats = store.stats(default_policy(), now=hkt("2026-03-02 09:00"))
    assert stats.per_reason == {"requested": 1} and ticket.id
