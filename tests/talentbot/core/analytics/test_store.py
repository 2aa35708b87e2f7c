"""The analytics table on SQLite and on the real PostgreSQL: its own migrations beside the handoff queue's, rows
stored exactly once, kept texts purged after the retention."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Iterator

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from talentbot.core.analytics import db
from talentbot.core.analytics.records import message_row
from talentbot.core.analytics.store import AnalyticsStore, text_retention_days
from talentbot.core.handoff.store import SqlTicketStore

SALT = b"s" * 32
NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.timezone.utc)


def row(sender: str, ts: float, intent: str = "nlu_fallback", text_: str = "call 9123 4567") -> dict:
    event = {"sender_id": sender, "event": "user", "timestamp": ts, "text": text_, "input_channel": "rest",
             "parse_data": {"intent": {"name": intent, "confidence": 0.3}}}
    made = message_row(event, None, SALT, NOW)
    assert made is not None
    return made


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'handoff.sqlite3'}"
    else:
        yield request.getfixturevalue("postgres_url")


def test_analytics_and_handoff_migrations_share_one_database_with_their_own_version_tables(url: str) -> None:
    SqlTicketStore.from_url(url).close()
    store = AnalyticsStore.from_url(url)
    AnalyticsStore.from_url(url).close()  # a second start: nothing to do
    tables = set(inspect(store.engine).get_table_names())
    assert {"analytics_messages", "alembic_version_analytics", "handoff_tickets", "alembic_version"} <= tables
    with store.engine.connect() as connection:
        head = ScriptDirectory.from_config(db.alembic_config(url)).get_current_head()
        assert connection.execute(text("SELECT version_num FROM alembic_version_analytics")).scalar() == head
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() != head
    SqlTicketStore.from_url(url).close()  # the queue's own upgrade still finds one head
    store.close()


def test_a_redelivered_event_is_stored_once(url: str) -> None:
    store = AnalyticsStore.from_url(url)
    before = store.count()
    first = [row("a", 1.0), row("a", 2.0), row("b", 1.0)]
    assert store.add(first) == 3
    assert store.add([row("a", 2.0), row("c", 3.0)]) == 1
    assert store.count() == before + 4
    store.close()


def test_consumers_storing_the_same_events_at_once_store_each_once(url: str) -> None:
    stores = [AnalyticsStore.from_url(url) for _ in range(4)]
    before = stores[0].count()
    rows = [row("race", float(n)) for n in range(200)]
    added = []

    def store_all(store: AnalyticsStore) -> None:
        added.append(sum(store.add(rows[start:start + 20]) for start in range(0, len(rows), 20)))

    threads = [threading.Thread(target=store_all, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(added) == 200 and stores[0].count() == before + 200
    for store in stores:
        store.close()


def test_purge_removes_old_texts_and_keeps_the_rows(url: str) -> None:
    store = AnalyticsStore.from_url(url)
    old = row("purge", (NOW - dt.timedelta(days=91)).timestamp())
    recent = row("purge", (NOW - dt.timedelta(days=89)).timestamp())
    store.add([old, recent])
    assert store.purge_texts(NOW - dt.timedelta(days=90)) >= 1  # the database may hold other tests' old rows
    with store.engine.connect() as connection:
        texts = dict(connection.execute(text("SELECT event_key, text FROM analytics_messages")).all())
    assert texts[old["event_key"]] is None and texts[recent["event_key"]] == "call [phone]"
    assert store.purge_texts(NOW - dt.timedelta(days=90)) == 0
    with pytest.raises(ValueError):
        store.purge_texts(dt.datetime(2026, 1, 1))
    store.close()


def test_forget_deletes_one_conversation(url: str) -> None:
    store = AnalyticsStore.from_url(url)
    store.add([row("forget-me", 1.0), row("forget-me", 2.0), row("keep-me", 1.0)])
    assert store.forget("forget-me", SALT) == 2
    assert store.forget("forget-me", SALT) == 0
    store.close()


def test_the_database_is_the_handoff_queues_unless_told_otherwise(tmp_path) -> None:
    assert db.database_url({}).endswith("var/handoff.sqlite3")
    assert db.database_url({"HANDOFF_DB_URL": "postgresql://h/q"}) == "postgresql://h/q"
    assert db.database_url({"HANDOFF_DB_URL": "postgresql://h/q", "ANALYTICS_DB_URL": "postgresql://h/a"}) \
        == "postgresql://h/a"


def test_the_text_retention(monkeypatch) -> None:
    assert text_retention_days({}) == 90
    assert text_retention_days({"TALENTBOT_ANALYTICS_TEXT_DAYS": "30"}) == 30
    for wrong in ("0", "soon"):
        with pytest.raises(ValueError):
            text_retention_days({"TALENTBOT_ANALYTICS_TEXT_DAYS": wrong})


def test_columns_match_the_migration(tmp_path) -> None:
    """models.py and the migration describe the same table."""
    from talentbot.core.analytics.models import messages

    store = AnalyticsStore.from_url(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    columns = {c["name"] for c in inspect(store.engine).get_columns("analytics_messages")}
    assert columns == {c.name for c in messages.columns}
    store.close()
