"""One user's analytics rows and spooled events (`talentbot privacy export|delete`), and the rows' retention
(`talentbot privacy purge`), on the store adapters themselves: SQLite and the real PostgreSQL, the spool's file."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text

from talentbot.core.analytics.identity import conversation_key
from talentbot.core.analytics.records import message_row
from talentbot.core.analytics.spool import Spool
from talentbot.core.analytics.store import AnalyticsStore
from tests.talentbot.conftest import POSTGRES_ADMIN_URL, POSTGRES_HOST, POSTGRES_PORT, _postgres_reachable

SALT = b"s" * 32
NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.timezone.utc)
DAY = 24 * 3600.0


def row(sender: str, ts: float, intent: str = "nlu_fallback") -> dict:
    event = {"sender_id": sender, "event": "user", "timestamp": ts, "text": "call 9123 4567", "input_channel": "rest",
             "parse_data": {"intent": {"name": intent, "confidence": 0.3}}}
    made = message_row(event, None, SALT, NOW)
    assert made is not None
    return made


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path) -> Iterator[AnalyticsStore]:
    """An empty table of its own (the purge deletes whatever is old: the session's shared database would lose the
    other tests' rows)."""
    if request.param == "sqlite":
        opened = AnalyticsStore.from_url(f"sqlite:///{tmp_path / 'handoff.sqlite3'}")
        yield opened
        opened.close()
        return
    if not _postgres_reachable():
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_HOST}:{POSTGRES_PORT}")
    name = f"talentbot_analytics_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        opened = AnalyticsStore.from_url(f"postgresql://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}")
        yield opened
        opened.close()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_one_users_rows_are_found_exported_and_forgotten_by_the_keyed_hash_alone(store: AnalyticsStore) -> None:
    now = NOW.timestamp()
    store.add([row("telegram:1", now - 2 * DAY), row("telegram:1", now - DAY, "greet"), row("telegram:12", now)])
    exported = store.rows_of("telegram:1", SALT)
    assert [r["intent"] for r in exported] == ["nlu_fallback", "greet"]  # oldest first
    assert {r["conversation"] for r in exported} == {conversation_key("telegram:1", SALT)}
    assert "telegram:1" not in json.dumps(exported)  # JSON-ready, and the id itself is nowhere
    assert exported[0]["sent_at"].startswith("2026-11-29T08:00:00")
    assert store.count_of("telegram:1", SALT) == 2
    assert store.rows_of("telegram:1", b"another salt, another key") == []
    assert store.forget("telegram:1", SALT) == 2
    assert store.count_of("telegram:1", SALT) == 0 and store.count_of("telegram:12", SALT) == 1


def test_rows_older_than_the_retention_are_purged_and_only_those(store: AnalyticsStore) -> None:
    now = NOW.timestamp()
    store.add([row("a", now - 200 * DAY), row("a", now - 100 * DAY), row("b", now - DAY)])
    before = NOW - dt.timedelta(days=180)
    assert store.purge_rows(before) == 1
    assert store.purge_rows(before) == 0  # idempotent
    assert store.count() == 2
    with pytest.raises(ValueError):
        store.purge_rows(before.replace(tzinfo=None))


def _event(sender: str, text: str) -> str:
    return json.dumps({"sender_id": sender, "event": "user", "timestamp": 1.0, "text": text})


def test_one_conversations_spooled_events_are_found_and_erased_from_the_file(tmp_path) -> None:
    path = tmp_path / "spool.sqlite3"
    spool = Spool(path)
    spool.append([(_event("web:ab", "my passport is K1234567"), {"talentbot-turn": "{}"}),
                  (_event("web:abc", "hello"), None), ("not json", None), (_event("web:ab", "thanks"), None)],
                 now=100.0)
    mine = spool.of_sender("web:ab")
    assert [json.loads(s.body)["text"] for s in mine] == ["my passport is K1234567", "thanks"]
    assert mine[0].headers == {"talentbot-turn": "{}"} and mine[0].created == 100.0
    spool.erasing()
    assert spool.forget("web:ab") == 2
    assert spool.flush_log() is True
    assert spool.of_sender("web:ab") == [] and spool.pending() == 2  # the other user's and the malformed row stay
    spool.close()
    for file in tmp_path.glob("spool.sqlite3*"):  # free pages and the write-ahead log hold nothing of it either
        assert b"K1234567" not in file.read_bytes(), file
