"""talentbot.rasa_plugins.tracker_store: Rasa's SQL tracker store, leaner, with the same rows and the same trackers.

Each scenario runs on Rasa's own `SQLTrackerStore` and on ours, on SQLite files and on the real PostgreSQL, and
the two must agree; each store must also read what the other wrote.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, TypeVar
from unittest import mock

import pytest
import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore as RasaSQLTrackerStore
from rasa.core.tracker_store import TrackerStore, create_tracker_store
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.utils.endpoints import read_endpoint_config
from sqlalchemy.pool import QueuePool

from talentbot.core import paths
from talentbot.core.store_outages import TRACKER_STORE, StoreUnavailable
from talentbot.rasa_plugins.tracker_store import STORE_TYPE, SQLTrackerStore, is_sqlite_file, sqlite_endpoint
from talentbot.wiring.devserver import production_env

DOMAIN = Domain.from_dict({
    "intents": ["ask_scheme", "greet"],
    "slots": {"language": {"type": "text", "mappings": [{"type": "custom"}]}},
    "responses": {"utter_greet": [{"text": "Hi"}]},
})
POSTGRES = ("127.0.0.1", 5432)
T0 = 1_790_000_000.0
"""The clock during a scripted conversation: both stores stamp their first `action_listen` alike."""


def _postgres_reachable() -> bool:
    try:
        with socket.create_connection(POSTGRES, timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> Iterator[Dict[str, Any]]:
    """Settings for a fresh, empty database (the keyword arguments of an SQL tracker store)."""
    if request.param == "sqlite":
        yield {"dialect": "sqlite", "db": str(tmp_path / "trackers.db")}
        return
    if not _postgres_reachable():
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    name = f"talentbot_trackers_test_{uuid.uuid4().hex[:10]}"
    # Rasa creates the database through `login_db`, as bot/endpoints.production.yml asks it to.
    yield {"dialect": "postgresql", "host": "127.0.0.1", "port": 5432, "username": "postgres",
           "db": name, "login_db": "postgres"}
    admin = sa.create_engine("postgresql://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


StoreT = TypeVar("StoreT", bound=TrackerStore)


def make(store_class: Callable[..., StoreT], settings: Dict[str, Any]) -> StoreT:
    return store_class(DOMAIN, **settings)


def user(text: str, intent: str, at: float) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 0.93}, [{"entity": "scheme", "value": "TTPS"}],
                       timestamp=T0 + at)


async def conversation(store: RasaSQLTrackerStore) -> None:
    """Two users; alice talks across two sessions, saving after each turn as Rasa's processor does."""
    with mock.patch("time.time", return_value=T0):
        await _conversation(store)


async def _conversation(store: RasaSQLTrackerStore) -> None:
    alice = await store.get_or_create_tracker("alice")
    bob = await store.get_or_create_tracker("bob")
    turns: List[List[Event]] = [
        [user("高才通係咩嚟㗎？", "ask_scheme", 1000.0), SlotSet("language", "zh-Hant", timestamp=T0 + 1000.1),
         ActionExecuted("action_answer", timestamp=T0 + 1000.2), BotUttered("高才通即係…", timestamp=T0 + 1000.3),
         ActionExecuted("action_listen", timestamp=T0 + 1000.4)],
        [],  # a save with nothing new stores nothing twice
        [ActionExecuted("action_session_start", timestamp=T0 + 2000.0), SessionStarted(timestamp=T0 + 2000.1),
         SlotSet("language", "zh-Hant", timestamp=T0 + 2000.2), ActionExecuted("action_listen", timestamp=T0 + 2000.3),
         user("hello", "greet", 2000.4), ActionExecuted("utter_greet", timestamp=T0 + 2000.5)],
    ]
    for turn in turns:
        for event in turn:
            alice.update(event)
        await store.save(alice)
        bob.update(user("what is QMAS", "ask_scheme", 1500.0 + len(bob.events)))
        await store.save(bob)


def rows(store: RasaSQLTrackerStore) -> List[tuple]:
    """Every stored row but its id, in the order stored."""
    with store.engine.connect() as connection:
        result = connection.execute(sa.text(
            "SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id"))
        return [tuple(row) for row in result]


def as_dicts(events: Any) -> List[Dict[str, Any]]:
    return [event.as_dict() for event in events]


def test_stores_the_same_rows_and_reads_the_same_trackers_as_rasa(database, tmp_path):
    if database["dialect"] == "sqlite":
        theirs_settings = {**database, "db": str(tmp_path / "rasa.db")}
    else:
        theirs_settings = {**database, "db": database["db"] + "_rasa"}
    ours, theirs = make(SQLTrackerStore, database), make(RasaSQLTrackerStore, theirs_settings)
    try:
        for store in (ours, theirs):
            asyncio.run(conversation(store))
        stored = rows(ours)
        assert stored == rows(theirs)
        assert len([row for row in stored if row[0] == "alice"]) == 1 + 5 + 6  # action_listen, turn 1, session 2

        for sender in ("alice", "bob", "nobody"):
            mine, rasas = asyncio.run(ours.retrieve(sender)), asyncio.run(theirs.retrieve(sender))
            assert (mine is None) == (rasas is None) == (sender == "nobody")
            if mine is not None:
                assert as_dicts(mine.events) == as_dicts(rasas.events)
                assert mine.current_slot_values() == rasas.current_slot_values()
            full_mine = asyncio.run(ours.retrieve_full_tracker(sender))
            full_rasas = asyncio.run(theirs.retrieve_full_tracker(sender))
            assert (full_mine is None) == (full_rasas is None)
            if full_mine is not None:
                assert as_dicts(full_mine.events) == as_dicts(full_rasas.events)
    finally:
        if database["dialect"] == "postgresql":
            _drop(theirs_settings["db"], theirs)


def test_the_latest_session_only_unless_the_full_tracker_is_asked_for(database):
    store = make(SQLTrackerStore, database)
    asyncio.run(conversation(store))
    latest = asyncio.run(store.retrieve("alice"))
    full = asyncio.run(store.retrieve_full_tracker("alice"))
    # from the `session_started` event on (Rasa logs `action_session_start` just before it)
    assert isinstance(latest.events[0], SessionStarted)
    assert latest.latest_message.text == "hello"
    assert len(full.events) == 12 and len(latest.events) == 5
    assert latest.get_slot("language") == "zh-Hant"


def test_each_store_reads_what_the_other_wrote(database):
    writer, reader = make(RasaSQLTrackerStore, database), make(SQLTrackerStore, database)
    asyncio.run(conversation(writer))
    read, written = asyncio.run(reader.retrieve("alice")), asyncio.run(writer.retrieve("alice"))
    assert as_dicts(read.events) == as_dicts(written.events)

    # a turn saved by ours after Rasa's: only the new events are added, and Rasa reads them back
    tracker = asyncio.run(reader.retrieve("alice"))
    tracker.update(user("多謝", "greet", 3000.0))
    asyncio.run(reader.save(tracker))
    back = asyncio.run(writer.retrieve("alice"))
    assert as_dicts(back.events) == as_dicts(tracker.events)
    alice, bob = 12 + 1, 1 + 3
    assert len(rows(reader)) == len(rows(writer)) == alice + bob


class Recorder(EventBroker):
    """An event broker that keeps what it is given."""

    def __init__(self) -> None:
        self.published: List[Dict[str, Any]] = []

    def publish(self, event: Dict[str, Any]) -> None:
        self.published.append(event)


def test_the_broker_gets_what_rasas_store_publishes_without_reading_the_tracker_again(database, tmp_path):
    """Rasa's `stream_events` retrieves the latest session once more per save to find the new events; ours takes
    them from the count its save reads anyway: the same bodies, in the same order, and no retrieve."""
    if database["dialect"] == "sqlite":
        theirs_settings = {**database, "db": str(tmp_path / "rasa.db")}
    else:
        theirs_settings = {**database, "db": database["db"] + "_rasa"}
    ours = SQLTrackerStore(DOMAIN, event_broker=Recorder(), **database)
    theirs = RasaSQLTrackerStore(DOMAIN, event_broker=Recorder(), **theirs_settings)
    try:
        with mock.patch.object(SQLTrackerStore, "_retrieve", wraps=ours._retrieve) as retrieves:
            asyncio.run(conversation(ours))
        asyncio.run(conversation(theirs))
        assert retrieves.call_count == 2  # get_or_create_tracker of alice and of bob, nothing per save
        assert ours.event_broker.published == theirs.event_broker.published
        assert [e["event"] for e in ours.event_broker.published if e["sender_id"] == "alice"] == [
            "action", "user", "slot", "action", "bot", "action", "action", "session_started", "slot", "action",
            "user", "action"]
    finally:
        if database["dialect"] == "postgresql":
            _drop(theirs_settings["db"], theirs)


def test_a_turn_the_store_refused_is_not_published():
    broker = Recorder()
    store = SQLTrackerStore(DOMAIN, event_broker=broker, dialect="sqlite", db=":memory:")
    tracker = asyncio.run(store.get_or_create_tracker("erin"))
    published = len(broker.published)
    tracker.update(user("hello", "greet", 10.0))
    with mock.patch.object(store, "session_scope", side_effect=sa.exc.OperationalError("insert", {}, Exception())):
        with pytest.raises(StoreUnavailable):
            asyncio.run(store.save(tracker))
    assert len(broker.published) == published
    asyncio.run(store.save(tracker))  # stored on the next save, and announced then
    assert [e["event"] for e in broker.published[published:]] == ["user"]


def test_a_new_conversation_starts_listening():
    store = make(SQLTrackerStore, {"dialect": "sqlite", "db": ":memory:"})
    tracker = asyncio.run(store.get_or_create_tracker("carol"))
    assert [event.as_dict()["event"] for event in tracker.events] == ["action"]
    assert as_dicts(asyncio.run(store.retrieve("carol")).events) == as_dicts(tracker.events)


def test_replicas_starting_together_on_an_empty_server_do_not_race(caplog):
    """Both Sanic workers of the production set-up build a store at once; without turns, one hits duplicate-key
    errors creating the database and the tables, which Rasa logs before sleeping 5 s and retrying."""
    if not _postgres_reachable():
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    name = f"talentbot_trackers_test_{uuid.uuid4().hex[:10]}"
    settings = {"dialect": "postgresql", "host": "127.0.0.1", "port": 5432, "username": "postgres", "db": name,
                "login_db": "postgres"}
    start = threading.Barrier(3)
    stores: List[SQLTrackerStore] = []

    def replica() -> None:
        start.wait()
        stores.append(make(SQLTrackerStore, settings))

    replicas = [threading.Thread(target=replica) for _ in range(3)]
    try:
        with caplog.at_level(logging.WARNING):
            for thread in replicas:
                thread.start()
            for thread in replicas:
                thread.join(timeout=60)
        assert len(stores) == 3
        assert [r.getMessage() for r in caplog.records if r.name.startswith("rasa")] == []
        asyncio.run(conversation(stores[0]))
        assert len(asyncio.run(stores[1].retrieve_full_tracker("alice")).events) == 12
    finally:
        _drop(name, *stores)


def test_an_sqlite_file_keeps_its_connections_in_wal_mode(tmp_path):
    store = make(SQLTrackerStore, {"dialect": "sqlite", "db": str(tmp_path / "trackers.db")})
    assert isinstance(store.engine.pool, QueuePool)
    asyncio.run(conversation(store))
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_only_sqlite_files_get_the_sqlite_settings():
    from sqlalchemy.engine import make_url

    assert is_sqlite_file(make_url("sqlite:////tmp/trackers.db"))
    assert not is_sqlite_file(make_url("sqlite://"))
    assert not is_sqlite_file(make_url("sqlite:///:memory:"))
    assert not is_sqlite_file(make_url("postgresql://postgres@127.0.0.1:5432/talentbot"))


@pytest.mark.parametrize("endpoints", [paths.ENDPOINTS, paths.ENDPOINTS_PRODUCTION], ids=lambda p: Path(p).name)
def test_the_shipped_endpoints_name_this_store(endpoints, monkeypatch):
    """A wrong module path would make Rasa fall back to keeping conversations in memory, with only a warning."""
    for name, value in production_env({"ACTION_SERVER_URL": "http://127.0.0.1:5055/webhook"}).items():
        monkeypatch.setenv(name, value)  # what `talentbot run --production` sets
    config = read_endpoint_config(str(endpoints), "tracker_store")
    assert config.type == STORE_TYPE


def test_rasa_builds_this_store_from_its_endpoint(tmp_path):
    config = read_endpoint_config_from(sqlite_endpoint(tmp_path / "t.db"), tmp_path)
    store = create_tracker_store(config, DOMAIN)
    assert _wrapped(store, SQLTrackerStore)


def test_an_unreachable_database_raises_store_unavailable():
    """Rasa's fallback to an in-memory store is off (talentbot.rasa_plugins.rasa_adapters): the error has to say what it
    is."""
    store = make(SQLTrackerStore, {"dialect": "sqlite", "db": ":memory:"})
    tracker = asyncio.run(store.get_or_create_tracker("dana"))
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        nothing_listens = free.getsockname()[1]
    store.engine = sa.create_engine(f"postgresql://postgres@127.0.0.1:{nothing_listens}/talentbot")
    store.sessionmaker = sa.orm.session.sessionmaker(bind=store.engine)
    for operation in (store.retrieve("dana"), store.save(tracker)):
        with pytest.raises(StoreUnavailable) as raised:
            asyncio.run(operation)
        assert raised.value.store == TRACKER_STORE and isinstance(raised.value.cause, sa.exc.OperationalError)


def test_postgresql_connections_cut_by_a_restart_are_replaced_unnoticed():
    """A restarted PostgreSQL leaves the pool's connections dead; each is tested before use, so the first message
    after the restart is served rather than refused. Only this test's database's connections are cut."""
    if not _postgres_reachable():
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    name = f"talentbot_trackers_test_{uuid.uuid4().hex[:10]}"
    store = make(SQLTrackerStore, {"dialect": "postgresql", "host": "127.0.0.1", "port": 5432, "username": "postgres",
                                   "db": name, "login_db": "postgres"})
    try:
        asyncio.run(conversation(store))
        admin = sa.create_engine("postgresql://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            cut = connection.execute(sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :name"),
                {"name": name}).scalar()
        admin.dispose()
        assert cut >= 1
        assert len(asyncio.run(store.retrieve_full_tracker("alice")).events) == 12
    finally:
        _drop(name, store)


def read_endpoint_config_from(tracker_store: Dict[str, Any], folder: Path):
    import yaml

    path = folder / "endpoints.yml"
    path.write_text(yaml.safe_dump({"tracker_store": tracker_store}), encoding="utf-8")
    return read_endpoint_config(str(path), "tracker_store")


def _wrapped(store: Any, cls: type) -> bool:
    """Rasa wraps the configured store (fail-safe, awaitable); look through the wrappers."""
    for _ in range(4):
        if isinstance(store, cls):
            return True
        store = getattr(store, "_tracker_store", None)
    return False


def _drop(name: str, *stores: RasaSQLTrackerStore) -> None:
    for store in stores:
        store.engine.dispose()
    admin = sa.create_engine("postgresql://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
