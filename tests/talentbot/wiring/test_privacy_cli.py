"""`talentbot privacy`: one user's data exported and deleted from every store with nothing left, and the scheduled
purge, on the embedded stores (SQLite files, no lock store) and the production ones (PostgreSQL: a database of the
test's own on the shared server, created and dropped here; Redis: database 12 with key prefixes of the test's own,
removed afterwards).

"Nothing left" is checked apart from the command's own count: every row of every table of the databases (the
analytics table's too, for the user's id and for its keyed hash), every key under the test's Redis prefixes (names
and values), every log file, and on SQLite the files' bytes themselves (free pages and write-ahead log included: the
host's events spool too)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import stat
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator, List, Optional, Union

import pytest
import redis
import sqlalchemy as sa
import yaml
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from connectors.output import remember_language
from connectors.state import RedisStateStore, SQLiteStateStore
from connectors.window import record_inbound
from talentbot.core import paths
from talentbot.core.analytics.identity import conversation_key
from talentbot.core.analytics.records import rows_from
from talentbot.core.analytics.spool import Spool
from talentbot.core.analytics.store import AnalyticsStore
from talentbot.core.handoff.store import SqlTicketStore
from talentbot.core.observability.logs import SALT_VARIABLE, pseudonym
from talentbot.rasa_plugins.event_broker import spooled_form
from talentbot.rasa_plugins.lock_store import RedisLockStore
from talentbot.rasa_plugins.tracker_store import SQLTrackerStore
from talentbot.wiring import cli
from talentbot.wiring.privacy_cli import RedisLocks, Stores, delete, export, locate, log_pseudonym, purge, remaining
from tests.talentbot.conftest import POSTGRES_ADMIN_URL, POSTGRES_HOST, POSTGRES_PORT, _postgres_reachable

REDIS_URL = "redis://127.0.0.1:6379/12"
SALTED = {SALT_VARIABLE: "the deployment's log salt"}
ANALYTICS_SALT = b"the deployment's analytics salt"
DOMAIN = Domain.from_dict({"slots": {"language": {"type": "text", "mappings": [{"type": "custom"}]}}})
NOW = dt.datetime.now(dt.timezone.utc)
DAY = dt.timedelta(days=1)
USERS = {"sqlite": "web:" + "5eed" * 8, "postgresql": "telegram:987654321"}
OTHER = "telegram:98765432"  # another user, whose id starts the production test user's id


@dataclass
class Backend:
    name: str
    user: str
    tracker_url: str
    tracker: SQLTrackerStore
    handoff: SqlTicketStore
    state: Union[SQLiteStateStore, RedisStateStore]
    state_url: str
    lock_store: Optional[RedisLockStore]
    logs_dir: Path
    files: List[Path]  # the SQLite files, for the byte check
    redis_prefixes: List[str]
    analytics: AnalyticsStore  # the table in the handoff queue's database, as by default
    spool: Path  # the host's events spool

    def stores(self) -> Stores:
        locks = None if self.lock_store is None else RedisLocks(self.lock_store.red, self.lock_store.key_prefix)
        return Stores(self.tracker_url, self.handoff_url, self.state, locks, self.logs_dir, log_pseudonym(SALTED),
                      self.handoff_url, ANALYTICS_SALT, self.spool)

    @property
    def handoff_url(self) -> str:
        return str(self.handoff.engine.url.render_as_string(hide_password=False))


def _redis() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    return client


@pytest.fixture(params=["sqlite", "postgresql"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    logs_dir = tmp_path / "var"
    logs_dir.mkdir()
    domain = DOMAIN
    if request.param == "sqlite":
        tracker_url = f"sqlite:///{tmp_path / 'trackers.db'}"
        tracker = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "trackers.db"))
        handoff = SqlTicketStore.from_url(f"sqlite:///{logs_dir / 'handoff.sqlite3'}")
        state_url = f"sqlite:///{logs_dir / 'connectors-state.sqlite3'}"
        state: Union[SQLiteStateStore, RedisStateStore] = SQLiteStateStore(logs_dir / "connectors-state.sqlite3")
        spool = logs_dir / "events-spool.sqlite3"
        files = [tmp_path / "trackers.db", logs_dir / "handoff.sqlite3", logs_dir / "connectors-state.sqlite3", spool]
        analytics = AnalyticsStore.from_url(f"sqlite:///{logs_dir / 'handoff.sqlite3'}")
        yield Backend("sqlite", USERS["sqlite"], tracker_url, tracker, handoff, state, state_url, None, logs_dir,
                      files, [], analytics, spool)
        await state.close()
        tracker.engine.dispose()
        handoff.close()
        analytics.close()
        return
    if not _postgres_reachable():
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_HOST}:{POSTGRES_PORT}")
    client = _redis()
    name = f"talentbot_privacy_test_{uuid.uuid4().hex[:12]}"
    tag = uuid.uuid4().hex[:12]
    state_prefix, lock_prefix = f"talentbot-privacy-test:{tag}:", f"privacytest{tag}"
    # Rasa creates the database through `login_db`, as bot/endpoints.production.yml asks it to
    tracker = SQLTrackerStore(domain, dialect="postgresql", host=POSTGRES_HOST, port=POSTGRES_PORT, db=name,
                              username="postgres", login_db="postgres")
    tracker_url = f"postgresql://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}"
    handoff = SqlTicketStore.from_url(tracker_url)  # production: the queue shares the tracker store's database
    state = RedisStateStore(REDIS_URL, prefix=state_prefix)
    lock_store = RedisLockStore(host="127.0.0.1", port=6379, db=12, key_prefix=lock_prefix)
    analytics = AnalyticsStore.from_url(tracker_url)
    spool = tmp_path / "events-spool.sqlite3"  # a host's spool is an SQLite file in production too
    try:
        yield Backend("postgresql", USERS["postgresql"], tracker_url, tracker, handoff, state, REDIS_URL,
                      lock_store, logs_dir, [spool], [state_prefix, lock_store.key_prefix], analytics, spool)
    finally:
        await state.close()
        tracker.engine.dispose()
        handoff.close()
        analytics.close()
        for prefix in (state_prefix, lock_store.key_prefix):
            for key in client.scan_iter(f"{prefix}*"):
                client.delete(key)
        client.close()
        admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- what the servers would have written ----------------------------------------------------------------------


def _turn(text: str, at: dt.datetime) -> List[Event]:
    t = at.timestamp()
    return [UserUttered(text, {"name": "ask_scheme_info", "confidence": 0.9}, timestamp=t),
            SlotSet("language", "en", timestamp=t + 0.1), ActionExecuted("action_answer", timestamp=t + 0.2),
            BotUttered(f"About your question: {text}", timestamp=t + 0.3),
            ActionExecuted("action_listen", timestamp=t + 0.4)]


async def _conversation(backend: Backend, sender_id: str, *turns: tuple[str, dt.datetime]) -> None:
    tracker = DialogueStateTracker.from_events(sender_id, [], slots=DOMAIN.slots)
    for text, at in turns:
        for event in _turn(text, at):
            tracker.update(event)
        await backend.tracker.save(tracker)


def _published(sender_id: str, *turns: tuple[str, dt.datetime]) -> list:
    """The turns as the event broker spools and publishes them (talentbot.rasa_plugins.event_broker)."""
    events = [{**event.as_dict(), "sender_id": sender_id} for text, at in turns for event in _turn(text, at)]
    return spooled_form(events)


def _analytics(backend: Backend, sender_id: str, *turns: tuple[str, dt.datetime], spooled: bool = False) -> None:
    """What `talentbot events consume` stored of the turns (and, with `spooled`, the events still in the spool)."""
    published = _published(sender_id, *turns)
    rows, malformed = rows_from(published, ANALYTICS_SALT, NOW)
    assert malformed == 0 and backend.analytics.add(rows) == len(turns)
    if spooled:
        spool = Spool(backend.spool)
        spool.append(published, now=min(at for _, at in turns).timestamp())
        spool.close()


async def _channel_keys(state, sender_id: str) -> None:
    """As the channels write them (connectors/output.py, window.py, wechat/channel.py, the event dedup)."""
    await remember_language(state, sender_id, "en")
    await record_inbound(state, sender_id, 24 * 3600)
    await state.put(f"choices:{sender_id}", '["/affirm", "/deny"]', ttl_s=24 * 3600)
    channel, _, native = sender_id.partition(":")
    await state.claim(f"{channel}:event:{native}:1764489600", 24 * 3600)


async def _populate(backend: Backend) -> None:
    user = backend.user
    await _conversation(backend, user, (f"My passport is K1234567, I am {user}", NOW - 2 * DAY),
                        ("thanks", NOW - DAY))
    await _conversation(backend, OTHER, ("what is TTPS?", NOW - DAY))
    _analytics(backend, user, (f"My passport is K1234567, I am {user}", NOW - 2 * DAY), ("thanks", NOW - DAY),
               spooled=True)
    _analytics(backend, OTHER, ("what is TTPS?", NOW - DAY), spooled=True)
    first = backend.handoff.open_ticket(user, user.partition(":")[0], "en", "requested", "K1234567 question",
                                        now=NOW - 2 * DAY)
    backend.handoff.add_message(first.id, "user", "my passport is K1234567", now=NOW - 2 * DAY)
    backend.handoff.add_message(first.id, "staff", "Thanks, noted.", delivered=True, now=NOW - 2 * DAY)
    backend.handoff.resolve(first.id, now=NOW - 2 * DAY)
    backend.handoff.open_ticket(user, user.partition(":")[0], "en", "not_understood", now=NOW - DAY)
    other = backend.handoff.open_ticket(OTHER, "telegram", "en", "requested", now=NOW - DAY)
    backend.handoff.add_message(other.id, "user", "hello", now=NOW - DAY)
    await _channel_keys(backend.state, user)
    await _channel_keys(backend.state, OTHER)
    if backend.lock_store is not None:
        backend.lock_store.issue_ticket(user, -1)  # left behind by a process that died (its ticket expired)
        backend.lock_store.issue_ticket(OTHER, -1)
    (backend.logs_dir / "rasa.log").write_text(
        f"2026-11-30 10:00:00 ERROR The assistant failed on a {user.partition(':')[0]} message of {user}\n"
        f"2026-11-30 10:00:01 ERROR action action_answer failed for {OTHER}\n", encoding="utf-8")
    (backend.logs_dir / "actions.log").write_text(  # our own lines name conversations by their pseudonym
        json.dumps({"message": f"could not open a handoff ticket for {pseudonym(user, SALTED)}"}) + "\n"
        + json.dumps({"message": f"could not open a handoff ticket for {pseudonym(OTHER, SALTED)}"}) + "\n",
        encoding="utf-8")


# --- independent checks -----------------------------------------------------------------------------------------


def _rows_mentioning(url: str, needle: str) -> List[str]:
    """Every row of every table of the database whose values mention `needle`."""
    engine = sa.create_engine(url, future=True)
    found = []
    try:
        with engine.connect() as connection:
            for name in sa.inspect(engine).get_table_names():
                for row in connection.execute(sa.text(f'SELECT * FROM "{name}"')):
                    if needle in repr(tuple(row)):
                        found.append(f"{name}: {tuple(row)!r}")
    finally:
        engine.dispose()
    return found


def _redis_mentions(prefixes: List[str], needle: str) -> List[str]:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    found = []
    for prefix in prefixes:
        for key in client.scan_iter(f"{prefix}*"):
            value = client.get(key) if client.type(key) == "string" else ""
            if needle in key or needle in (value or ""):
                found.append(f"{key} = {value}")
    client.close()
    return found


async def _left_anywhere(backend: Backend, needle: str) -> List[str]:
    left = _rows_mentioning(backend.tracker_url, needle) + _redis_mentions(backend.redis_prefixes, needle)
    if backend.handoff_url != backend.tracker_url:
        left += _rows_mentioning(backend.handoff_url, needle)
    if backend.name == "sqlite":
        left += [f"state: {k.key}" for k in await backend.state.user_keys(needle)]
    for path in backend.logs_dir.rglob("*"):
        if path.is_file() and needle.encode() in path.read_bytes():
            left.append(f"bytes of {path}")
    for database in backend.files:  # the SQLite files themselves: free pages and the write-ahead log too
        for path in database.parent.glob(database.name + "*"):
            if needle.encode() in path.read_bytes():
                left.append(f"bytes of {path}")
    return sorted(set(left))


# --- the tests -------------------------------------------------------------------------------------------------


async def test_a_users_data_is_exported_then_deleted_from_every_store_with_nothing_left(backend: Backend) -> None:
    await _populate(backend)
    user = backend.user
    stores = backend.stores()
    assert await _left_anywhere(backend, user) != []

    started = time.perf_counter()
    held = await export(stores, user, days=180)
    exported_in = time.perf_counter() - started
    texts = [e.get("text") for e in held["conversation_events"] if e["event"] == "user"]
    assert texts == [f"My passport is K1234567, I am {user}", "thanks"]
    assert [t["status"] for t in held["handoff_tickets"]] == ["resolved", "waiting"]
    assert [m["text"] for m in held["handoff_tickets"][0]["messages"]] == ["my passport is K1234567", "Thanks, noted."]
    channel, _, native = user.partition(":")
    assert {k["key"] for k in held["channel_state"]} == {
        f"lang:{user}", f"window:{user}", f"choices:{user}", f"{channel}:event:{native}:1764489600"}
    assert (held["conversation_lock"] is not None) == (backend.lock_store is not None)
    assert [(Path(line["file"]).name, line["line"]) for line in held["log_lines"]] == [("actions.log", 1),
                                                                                      ("rasa.log", 1)]
    assert [row["intent"] for row in held["analytics_messages"]] == ["ask_scheme_info", "ask_scheme_info"]
    assert {row["conversation"] for row in held["analytics_messages"]} == {conversation_key(user, ANALYTICS_SALT)}
    assert [e["event"]["text"] for e in held["spooled_events"] if e["event"]["event"] == "user"] == [
        f"My passport is K1234567, I am {user}", "thanks"]
    dumped = json.dumps(held, ensure_ascii=False)  # JSON-ready as it is, and only the user's own data:
    assert re.search(re.escape(OTHER) + "(?![0-9])", dumped) is None and "what is TTPS?" not in dumped

    started = time.perf_counter()
    report = await delete(stores, user)
    deleted_in = time.perf_counter() - started
    print(f"{backend.name}: export {exported_in:.3f} s, delete (with the check) {deleted_in:.3f} s")
    assert report["left"] == {key: 0 for key in report["left"]}
    assert report["conversation_events"] == 10 and report["handoff"]["tickets"] == 2
    assert report["handoff"]["messages"] == 2 and report["channel_state_keys"] == 4
    assert report["log_occurrences_masked"] == 2
    assert report["analytics_messages"]["messages"] == 2 and report["spooled_events"]["events"] == 10

    assert await _left_anywhere(backend, user) == []
    assert await _left_anywhere(backend, pseudonym(user, SALTED)) == []
    assert await _left_anywhere(backend, conversation_key(user, ANALYTICS_SALT)) == []  # its analytics rows
    assert await _left_anywhere(backend, "K1234567") == []  # what the user told us went with them
    # the other user keeps everything
    assert await remaining(stores, OTHER) == {
        "conversation_events": 5, "handoff_tickets": 1, "handoff_messages": 1, "channel_state_keys": 4,
        "conversation_lock": int(backend.lock_store is not None), "log_lines": 2, "analytics_messages": 1,
        "spooled_events": 5}
    assert await _left_anywhere(backend, conversation_key(OTHER, ANALYTICS_SALT)) != []
    # and deleting again finds nothing, changes nothing
    again = await delete(stores, user)
    assert again["conversation_events"] == 0 and again["handoff"]["tickets"] == 0
    assert again["channel_state_keys"] == 0 and again["left"] == report["left"]
    assert again["analytics_messages"]["messages"] == 0 and again["spooled_events"]["events"] == 0


async def test_the_purge_removes_what_is_past_the_retention_and_only_that(backend: Backend) -> None:
    await _conversation(backend, "telegram:1", ("old", NOW - 200 * DAY), ("older still", NOW - 190 * DAY))
    await _conversation(backend, "telegram:2", ("long ago", NOW - 200 * DAY), ("and now", NOW - DAY))  # going on
    await _conversation(backend, "telegram:3", ("new", NOW - DAY))
    _analytics(backend, "telegram:1", ("old", NOW - 200 * DAY), ("older still", NOW - 190 * DAY))
    _analytics(backend, "telegram:2", ("long ago", NOW - 200 * DAY), ("and now", NOW - DAY))
    _analytics(backend, "telegram:3", ("sorry?", NOW - 100 * DAY), spooled=True)  # unsent for 100 days
    _analytics(backend, "telegram:3", ("new", NOW - DAY), spooled=True)
    with backend.analytics.engine.begin() as connection:  # as if they fell back: their masked texts were kept
        connection.execute(sa.text("UPDATE analytics_messages SET text = 'masked'"))
    old = backend.handoff.open_ticket("telegram:1", "telegram", "en", "requested", now=NOW - 200 * DAY)
    backend.handoff.add_message(old.id, "user", "hello?", now=NOW - 200 * DAY)
    backend.handoff.resolve(old.id, now=NOW - 190 * DAY)
    recent = backend.handoff.open_ticket("telegram:2", "telegram", "en", "requested", now=NOW - 200 * DAY)
    backend.handoff.resolve(recent.id, now=NOW - DAY)
    await backend.state.put("lang:telegram:2", "en")  # no expiry
    if backend.lock_store is not None:
        backend.lock_store.issue_ticket("telegram:1", -1)  # left over
        backend.lock_store.issue_ticket("telegram:3", 60)  # a message being handled now
    old_log, live_log = backend.logs_dir / "rasa.log.1", backend.logs_dir / "rasa.log"
    old_log.write_text("old\n", encoding="utf-8")
    live_log.write_text("live\n", encoding="utf-8")
    long_ago = (NOW - 200 * DAY).timestamp()
    os.utime(old_log, (long_ago, long_ago))
    stores = backend.stores()

    started = time.perf_counter()
    report = await purge(stores, 180, NOW)
    print(f"{backend.name}: purge {time.perf_counter() - started:.3f} s")
    assert report["conversations"]["conversations"] == 1 and report["conversations"]["events"] == 10
    assert (report["handoff"]["tickets"], report["handoff"]["messages"]) == (1, 1)
    assert report["channel_state"]["capped"] == 1
    assert report["log_files"] == [str(old_log)] and live_log.exists()
    assert report.get("left_over_locks", 0) == (1 if backend.lock_store is not None else 0)
    # analytics: rows past the retention (180 days), texts past TALENTBOT_ANALYTICS_TEXT_DAYS (90), the spool's
    # events past that too
    assert report["analytics"] == {"text_days": 90, "texts": 1, "messages": 3, "log_flushed": True}
    assert report["events_spool"] == {"events": 5, "log_flushed": True}
    with backend.analytics.engine.connect() as connection:
        kept = connection.execute(sa.text("SELECT intent, text FROM analytics_messages")).all()
    assert sorted(text or "" for _, text in kept) == ["", "masked", "masked"]  # the 100-day-old row's text is gone
    left = {sender: await remaining(stores, sender) for sender in ("telegram:1", "telegram:2", "telegram:3")}
    assert left["telegram:1"]["conversation_events"] == 0 and left["telegram:1"]["handoff_tickets"] == 0
    assert left["telegram:2"]["conversation_events"] == 10 and left["telegram:2"]["handoff_tickets"] == 1
    assert left["telegram:3"]["conversation_events"] == 5
    assert left["telegram:3"]["conversation_lock"] == int(backend.lock_store is not None)
    assert left["telegram:1"]["conversation_lock"] == 0
    assert (left["telegram:1"]["analytics_messages"], left["telegram:2"]["analytics_messages"]) == (0, 1)
    assert (left["telegram:3"]["analytics_messages"], left["telegram:3"]["spooled_events"]) == (2, 5)

    again = await purge(stores, 180, NOW)  # idempotent: a second run finds nothing more
    assert again["conversations"]["conversations"] == 0 and again["handoff"]["tickets"] == 0
    assert again["channel_state"]["capped"] == 0 and again["log_files"] == []
    assert again.get("left_over_locks", 0) == 0
    assert again["analytics"]["texts"] == again["analytics"]["messages"] == again["events_spool"]["events"] == 0


# --- the command line ------------------------------------------------------------------------------------------


def _endpoints(tmp_path: Path, tracker_db: Path) -> Path:
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(yaml.safe_dump({"tracker_store": {
        "type": "talentbot.rasa_plugins.tracker_store.SQLTrackerStore", "dialect": "sqlite", "db": str(tracker_db)}}))
    return endpoints


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the stores are found the same way on either
def test_the_command_line_exports_to_a_private_file_deletes_and_purges(backend: Backend, tmp_path: Path,
                                                                       monkeypatch, capsys) -> None:
    asyncio.run(_populate(backend))
    monkeypatch.setenv("HANDOFF_DB_URL", backend.handoff_url)
    monkeypatch.setenv("CONNECTORS_STATE_URL", backend.state_url)
    monkeypatch.setenv("TALENTBOT_RETENTION_DAYS", "30")
    monkeypatch.setenv("TALENTBOT_EVENTS_SPOOL", str(backend.spool))
    monkeypatch.delenv("TALENTBOT_ANALYTICS_SALT", raising=False)
    monkeypatch.setenv("TALENTBOT_ANALYTICS_SALT_FILE", str(tmp_path / "no-salt-here"))
    where = ["--endpoints", str(_endpoints(tmp_path, tmp_path / "trackers.db")), "--logs-dir", str(backend.logs_dir)]
    output = tmp_path / "export.json"

    # analytics rows whose salt is unknown cannot be searched: refused before anything is touched
    assert cli.main(["privacy", "delete", "--user", backend.user, *where]) == 2
    assert "TALENTBOT_ANALYTICS_SALT" in capsys.readouterr().err
    assert not (tmp_path / "no-salt-here").exists()  # and no salt was made up
    monkeypatch.setenv("TALENTBOT_ANALYTICS_SALT", ANALYTICS_SALT.decode())

    assert cli.main(["privacy", "export", "--user", backend.user, "--output", str(output), *where]) == 0
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    exported = json.loads(output.read_text(encoding="utf-8"))
    assert exported["user"] == backend.user and exported["retention_days"] == 30
    assert len(exported["conversation_events"]) == 10 and len(exported["handoff_tickets"]) == 2
    assert len(exported["analytics_messages"]) == 2 and len(exported["spooled_events"]) == 10

    assert cli.main(["privacy", "delete", "--user", backend.user, *where]) == 0
    deleted = json.loads(capsys.readouterr().out)
    assert deleted["stores"]["tracker_store"] == f"sqlite:///{tmp_path / 'trackers.db'}"
    assert deleted["stores"]["events_spool"] == str(backend.spool)
    assert deleted["stores"]["analytics"] == backend.handoff_url  # the queue's database, as by default
    assert set(deleted["left"].values()) == {0} and deleted["analytics_messages"]["messages"] == 2

    assert cli.main(["privacy", "purge", *where]) == 0
    purged = json.loads(capsys.readouterr().out)
    assert purged["retention_days"] == 30 and purged["conversations"]["conversations"] == 0

    assert cli.main(["privacy", "delete", "--user", "telegram:1\n", *where]) == 2
    assert "control characters" in capsys.readouterr().err
    monkeypatch.setenv("TALENTBOT_RETENTION_DAYS", "six months")
    assert cli.main(["privacy", "purge", *where]) == 2
    assert "TALENTBOT_RETENTION_DAYS" in capsys.readouterr().err


def test_talentbot_privacy_purge_runs_as_the_timer_runs_it(tmp_path: Path) -> None:
    """The installed command, in its own process, on stores that do not exist yet: nothing to do, exit 0."""
    env = {**os.environ, "HANDOFF_DB_URL": f"sqlite:///{tmp_path / 'none' / 'handoff.sqlite3'}",
           "CONNECTORS_STATE_URL": f"sqlite:///{tmp_path / 'none' / 'state.sqlite3'}",
           "TALENTBOT_EVENTS_SPOOL": str(tmp_path / "none" / "events-spool.sqlite3")}
    env.pop("ANALYTICS_DB_URL", None)
    where = ["--endpoints", str(_endpoints(tmp_path, tmp_path / "none" / "trackers.db")), "--logs-dir",
             str(tmp_path / "none")]
    done = subprocess.run([str(Path(sys.executable).with_name("talentbot")), "privacy", "purge", *where], env=env,
                          capture_output=True, text=True, timeout=120, cwd=paths.ROOT)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["retention_days"] == 180 and report["stores"]["tracker_store"] is None
    assert report["stores"]["analytics"] is None and report["stores"]["events_spool"] is None
    assert not (tmp_path / "none").exists()  # nothing created


def test_production_finds_postgresql_redis_and_the_lock_store_as_talentbot_run_does(monkeypatch) -> None:
    for variable in ("DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD", "HANDOFF_DB_URL",
                     "CONNECTORS_STATE_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_DB"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("DB_NAME", "talentbot_privacy_never_created")
    stores = locate(production=True)
    try:
        assert stores.tracker_url == "postgresql://postgres@127.0.0.1:5432/talentbot_privacy_never_created"
        assert stores.handoff_url == stores.tracker_url
        assert isinstance(stores.state, RedisStateStore)
        assert stores.locks is not None and stores.locks.prefix == "talentbot:lock:"
        assert stores.describe()["lock_store"] == "redis talentbot:lock:*"
    finally:
        asyncio.run(stores.close())
