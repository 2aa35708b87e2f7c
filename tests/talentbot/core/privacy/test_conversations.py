"""Rasa's `events` table: a conversation is purged whole once its last event is older than the retention, never cut
in half; one user's events are exported and deleted. On SQLite and on PostgreSQL."""

from __future__ import annotations

import time

import sqlalchemy as sa

from talentbot.core.privacy.conversations import TIMESTAMP_INDEX, Conversations, Purged
from talentbot.core.privacy.retention import cutoff
from tests.talentbot.core.privacy.conftest import DAY, NOW, add_events, senders


def test_only_conversations_whose_last_event_is_past_the_retention_are_purged(events_engine) -> None:
    add_events(events_engine, "telegram:1", NOW - 200 * DAY, NOW - 190 * DAY)  # quiet for 190 days
    add_events(events_engine, "telegram:2", NOW - 200 * DAY, NOW - 100 * DAY, NOW - 10 * DAY)  # still going on
    add_events(events_engine, "web:" + "a" * 32, NOW - DAY)
    conversations = Conversations(events_engine)
    assert conversations.stale(cutoff(180, NOW)) == ["telegram:1"]
    assert conversations.purge(cutoff(180, NOW)) == Purged(conversations=1, events=2)
    # the conversation going on keeps its old turns too
    assert senders(events_engine) == {"telegram:2": 3, "web:" + "a" * 32: 1}
    assert conversations.purge(cutoff(180, NOW)) == Purged(0, 0)  # idempotent
    assert conversations.purge(cutoff(5, NOW)) == Purged(conversations=1, events=3)
    assert set(senders(events_engine)) == {"web:" + "a" * 32}


def test_a_message_arriving_between_finding_and_deleting_keeps_its_conversation(events_engine, monkeypatch) -> None:
    add_events(events_engine, "telegram:1", NOW - 200 * DAY)
    conversations = Conversations(events_engine)
    found = conversations.stale(cutoff(180, NOW))

    def stale_then_a_new_message(before):
        add_events(events_engine, "telegram:1", NOW)  # the user writes again just now
        return found

    monkeypatch.setattr(conversations, "stale", stale_then_a_new_message)
    assert conversations.purge(cutoff(180, NOW)) == Purged(0, 0)
    assert senders(events_engine) == {"telegram:1": 2}


def test_an_empty_database_has_nothing_to_purge(tmp_path) -> None:
    from talentbot.core.privacy.engines import erasing_engine

    engine = erasing_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    conversations = Conversations(engine)
    assert conversations.purge(cutoff(180, NOW)) == Purged(0, 0)
    assert conversations.events_of("telegram:1") == [] and conversations.delete("telegram:1") == 0
    engine.dispose()


def test_one_users_events_are_exported_in_order_and_deleted(events_engine) -> None:
    add_events(events_engine, "telegram:12345", NOW - 2 * DAY, NOW - DAY)
    add_events(events_engine, "telegram:123456", NOW - DAY)  # another user whose id starts the same
    conversations = Conversations(events_engine)
    exported = conversations.events_of("telegram:12345")
    assert [e["timestamp"] for e in exported] == [(NOW - 2 * DAY).timestamp(), (NOW - DAY).timestamp()]
    assert all(e["text"] == "hello from telegram:12345" for e in exported)
    assert conversations.delete("telegram:12345") == 2
    assert conversations.count("telegram:12345") == 0 and conversations.events_of("telegram:12345") == []
    assert senders(events_engine) == {"telegram:123456": 1}


def test_old_events_are_found_through_the_timestamp_index(events_engine) -> None:
    conversations = Conversations(events_engine)
    conversations.ensure_timestamp_index()
    conversations.ensure_timestamp_index()  # once is enough; again changes nothing
    assert TIMESTAMP_INDEX in {index["name"] for index in sa.inspect(events_engine).get_indexes("events")}
    if events_engine.url.get_backend_name() == "sqlite":
        with events_engine.connect() as connection:
            plan = " ".join(str(row[-1]) for row in connection.execute(sa.text(
                "EXPLAIN QUERY PLAN SELECT sender_id FROM events WHERE timestamp < 0")))
        assert f"COVERING INDEX {TIMESTAMP_INDEX}" in plan  # the index alone: no table row is read


def test_a_daily_purge_reads_what_aged_out_not_the_whole_table(tmp_path) -> None:
    """100,000 events of 20,000 conversations, 1,000 of them past the retention: finding them reads the 5,000 old
    events from the index, not the table (GROUP BY sender_id HAVING max(timestamp) < cutoff reads every row)."""
    from talentbot.core.privacy.engines import erasing_engine
    from tests.talentbot.core.privacy.conftest import RasaSQLTrackerStore

    engine = erasing_engine(f"sqlite:///{tmp_path / 'trackers.db'}")
    RasaSQLTrackerStore.SQLEvent.__table__.create(engine)
    rows = []
    for number in range(20_000):
        last = NOW - (190 if number < 1_000 else number % 170) * DAY
        rows += [{"sender_id": f"telegram:{number}", "type_name": "user", "timestamp": (last - k * DAY).timestamp(),
                  "intent_name": None, "action_name": None, "data": "{}"} for k in range(5)]
    with engine.begin() as connection:
        connection.execute(RasaSQLTrackerStore.SQLEvent.__table__.insert(), rows)
    conversations = Conversations(engine)
    conversations.ensure_timestamp_index()  # the first purge builds it once
    started = time.perf_counter()
    assert conversations.purge(cutoff(180, NOW)) == Purged(conversations=1_000, events=5_000)
    elapsed = time.perf_counter() - started
    print(f"purge of 1,000 of 20,000 conversations (100,000 events): {elapsed:.3f} s")
    assert elapsed < 5
    engine.dispose()
