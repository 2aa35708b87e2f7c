"""`talentbot privacy purge|export|delete`: personal data under the Personal Data (Privacy) Ordinance.

- `purge` (daily, deploy/systemd/talentbot-privacy-purge.timer; idempotent) deletes what is past the retention
  (TALENTBOT_RETENTION_DAYS, default 180 days): conversations whose last event is older (Rasa's tracker store), handoff
  tickets whose last activity is older, with their messages, channel state keys (none may outlive the retention),
  Rasa's lock store's left-over locks, log files under var/ not written to within it, and analytics rows of messages
  sent before it; the masked texts kept on analytics rows, and the host's spooled events (raw events, texts
  included), go after TALENTBOT_ANALYTICS_TEXT_DAYS (default 90; never later than the retention).
- `export --user CHANNEL:ID` writes as JSON everything held about one user: the conversation's events, handoff
  tickets and their messages, channel state keys, a left-over conversation lock, log lines naming them, the
  analytics rows of the conversation (found by the keyed hash of the id: TALENTBOT_ANALYTICS_SALT, or the embedded
  set-up's var/analytics-salt) and the events of the conversation still in this host's spool.
- `delete --user CHANNEL:ID` removes all of it from every store (log lines: the id, and the pseudonym our own log
  lines use when TALENTBOT_LOG_SALT is set, masked), then checks that nothing is left (exit status 1 if something is).
  Where analytics rows exist but their salt is not set, export and delete refuse (exit status 2) before touching
  anything: those rows could not be found.

The stores are the servers' own: the tracker store of the endpoints file (bot/endpoints.yml, or
bot/endpoints.production.yml with `--production`, read with the environment as Rasa reads it), HANDOFF_DB_URL,
CONNECTORS_STATE_URL, the analytics database (ANALYTICS_DB_URL, else the handoff queue's) and the host's events spool
(TALENTBOT_EVENTS_SPOOL, default var/events-spool.sqlite3), with `--production` the defaults of `talentbot run
--production`. A store that does not exist yet (an SQLite file never created) holds nothing and is skipped. The
servers' metrics name no user. Not reached: RabbitMQ's queue (its messages cannot be deleted one user at a time; an
event of the user in flight there can still become an analytics row after a delete: its `message-ttl` policy bounds
that), and the spools of other hosts (each Rasa host or pod keeps its own, normally empty: events leave it as soon
as RabbitMQ confirms them) (README "Personal data").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import io
import json
import os
import sys
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, TextIO, Tuple

from connectors.state import PersonalData
from talentbot.core import paths
from talentbot.core.analytics import identity
from talentbot.core.analytics.spool import Spool, spool_path
from talentbot.core.analytics.store import AnalyticsStore, text_retention_days
from talentbot.core.privacy import logs
from talentbot.core.privacy import tickets as handoff
from talentbot.core.privacy.conversations import Conversations
from talentbot.core.privacy.engines import erasing_engine, flush_log
from talentbot.core.privacy.retention import check_sender_id, cutoff, retention_days, utcnow

EXIT_OK, EXIT_LEFT_OVER, EXIT_BAD_INPUT = 0, 1, 2
SECONDS_PER_DAY = 24 * 3600


# --- where the stores are ----------------------------------------------------------------------------------------


class RedisLocks:
    """Rasa's Redis lock store's keys (``<prefix>lock:<conversation id>``): a lock outlives its message only when a
    process died holding it, and then it would keep the conversation id for ever."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client  # redis.Redis (synchronous, as Rasa's lock store uses it)
        self.prefix = prefix

    def held(self, sender_id: str) -> Optional[Dict[str, Any]]:
        raw = self.client.get(self.prefix + sender_id)
        return None if raw is None else json.loads(raw)

    def forget(self, sender_id: str) -> int:
        return int(self.client.delete(self.prefix + sender_id))

    def purge(self) -> int:
        """Deletes locks whose every ticket has expired (Rasa treats them as free anyway)."""
        from rasa.core.lock import TicketLock

        removed = 0
        for name in self.client.scan_iter(match=self.prefix + "*", count=1000):
            raw = self.client.get(name)
            if raw is None:
                continue
            lock = TicketLock.from_dict(json.loads(raw))
            lock.remove_expired_tickets()
            if not lock.is_someone_waiting():
                removed += int(self.client.delete(name))
        return removed

    def close(self) -> None:
        self.client.close()


@dataclass
class Stores:
    """The stores holding personal data; None where there is none."""

    tracker_url: Optional[str] = None  # SQLAlchemy URL of the database of Rasa's `events` table
    handoff_url: Optional[str] = None
    state: Optional[PersonalData] = None
    locks: Optional[RedisLocks] = None
    logs_dir: Optional[Path] = None
    pseudonym: Optional[Callable[[str], str]] = None  # how our log lines name a conversation, when the salt is known
    analytics_url: Optional[str] = None  # the database of the analytics table (analytics_messages)
    analytics_salt: Optional[bytes] = None  # the key of its conversation hashes, when known
    spool: Optional[Path] = None  # this host's spool of conversation events (an existing file)

    def log_aliases(self, sender_id: str) -> Tuple[str, ...]:
        return () if self.pseudonym is None else (self.pseudonym(sender_id),)

    def describe(self) -> Dict[str, Optional[str]]:
        from sqlalchemy.engine import make_url

        def hidden(url: Optional[str]) -> Optional[str]:
            return None if url is None else make_url(url).render_as_string(hide_password=True)

        return {
            "tracker_store": hidden(self.tracker_url),
            "handoff": hidden(self.handoff_url),
            "channel_state": None if self.state is None else type(self.state).__name__,
            "lock_store": None if self.locks is None else f"redis {self.locks.prefix}*",
            "logs": None if self.logs_dir is None else str(self.logs_dir),
            "log_pseudonyms": "masked too" if self.pseudonym is not None else "TALENTBOT_LOG_SALT unset: not masked",
            "analytics": hidden(self.analytics_url),
            "analytics_ids": ("found by their keyed hash" if self.analytics_salt is not None
                              else f"{identity.SALT_VARIABLE} unset: not found"),
            "events_spool": None if self.spool is None else str(self.spool),
        }

    def analytics_unsearchable(self) -> bool:
        """Whether analytics rows exist that no user's rows can be found among (their salt is not set)."""
        if self.analytics_url is None or self.analytics_salt is not None:
            return False
        with _opened(self.analytics_url) as engine:
            store = AnalyticsStore(engine)
            return store.exists() and store.count() > 0

    async def close(self) -> None:
        if self.state is not None:
            await self.state.close()
        if self.locks is not None:
            self.locks.close()


@contextlib.contextmanager
def _opened(url: str) -> Iterator[Any]:
    """An engine on one store for the length of a command step (erasing_engine: SQLite overwrites deleted rows)."""
    engine = erasing_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


@contextlib.contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    """`env` as os.environ while Rasa reads an endpoints file (it expands ${VARIABLES} from os.environ), without
    deprecation warnings (a timer's run would log them to the journal every day)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _import_rasa() -> None:
    """Rasa's modules used here, imported once with their import-time deprecation notices kept off standard error
    (Rasa re-enables such warnings while importing, so a filter alone does not keep them out of the journal)."""
    with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        import rasa.core.lock_store
        import rasa.core.tracker_store
        import rasa.utils.endpoints  # noqa: F401


def _sqlite_file(url: str) -> Optional[str]:
    """`url` with a relative SQLite path taken from the project root (the servers' working directory); None for an
    SQLite file that does not exist (it holds nothing, and connecting would create it)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return url
    database = parsed.database or ""
    if database in ("", ":memory:") or "mode=memory" in database:
        return None
    path = Path(database)
    if not path.is_absolute():
        path = paths.ROOT / path
    if not path.exists():
        return None
    rendered: str = parsed.set(database=str(path)).render_as_string(hide_password=False)
    return rendered


def tracker_store_url(endpoints: Path, env: Mapping[str, str]) -> Optional[str]:
    """The database of the endpoints file's SQL tracker store (as Rasa builds its URL), None without one."""
    _import_rasa()
    with _environment(env):
        from rasa.core.tracker_store import SQLTrackerStore, validate_port
        from rasa.utils.endpoints import read_endpoint_config

        config = read_endpoint_config(str(endpoints), "tracker_store")
        if config is None:
            return None
        kind = str(config.type or "")
        if kind.lower() != "sql" and not kind.endswith("SQLTrackerStore"):
            raise ValueError(f"the tracker store of {endpoints} is {kind!r}: only SQL tracker stores are supported")
        settings = config.kwargs
        # (Rasa annotates username and password as Text, with None as their default: hence the ignore)
        url = SQLTrackerStore.get_db_url(
            str(settings.get("dialect") or "sqlite"), config.url, validate_port(settings.get("port")),
            str(settings.get("db") or "rasa.db"), settings.get("username") or None,  # type: ignore[arg-type]
            settings.get("password") or None, None, settings.get("query"))  # type: ignore[arg-type]
    return _sqlite_file(str(url) if isinstance(url, str) else url.render_as_string(hide_password=False))


def lock_store(endpoints: Path, env: Mapping[str, str]) -> Optional[RedisLocks]:
    """The endpoints file's Redis lock store, None when locks are kept in memory (the embedded set-up)."""
    _import_rasa()
    with _environment(env):
        from rasa.core.lock_store import LockStore
        from rasa.core.lock_store import RedisLockStore as RasaRedisLockStore
        from rasa.utils.endpoints import read_endpoint_config

        config = read_endpoint_config(str(endpoints), "lock_store")
        if config is None or config.type in (None, "in_memory"):
            return None
        store = LockStore.create(config)
    if not isinstance(store, RasaRedisLockStore):
        return None
    return RedisLocks(store.red, store.key_prefix)


def state_store(env: Mapping[str, str]) -> Optional[PersonalData]:
    """CONNECTORS_STATE_URL's store as the Rasa server opens it (a relative SQLite path from the project root)."""
    from connectors.state import DEFAULT_SQLITE_PATH, STATE_URL_ENV, RedisStateStore, SQLiteStateStore

    url = (env.get(STATE_URL_ENV) or "").strip()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStateStore(url)
    if url and not url.startswith("sqlite:///"):
        raise ValueError(f"{STATE_URL_ENV} must start with redis:// or sqlite:///, got {url!r}")
    path = Path(url[len("sqlite:///"):] if url else DEFAULT_SQLITE_PATH)
    if not path.is_absolute():
        path = paths.ROOT / path
    return SQLiteStateStore(path) if path.exists() else None


def analytics_salt(env: Mapping[str, str], production: bool) -> Optional[bytes]:
    """The key of the analytics table's conversation hashes, as `talentbot events consume` takes it:
    TALENTBOT_ANALYTICS_SALT, else (not in production) the embedded set-up's salt file if there is one; never a new
    one. None: not known here."""
    if not (env.get(identity.SALT_VARIABLE) or "").strip():
        salt_file = Path(env.get(identity.SALT_FILE_VARIABLE) or paths.VAR / "analytics-salt")
        if production or not salt_file.exists():
            return None
        return _salt(env, production, salt_file)
    return _salt(env, production, None)


def _salt(env: Mapping[str, str], production: bool, salt_file: Optional[Path]) -> bytes:
    try:
        return identity.salt_from(env, production, salt_file)
    except identity.SaltMissing as problem:
        raise ValueError(str(problem)) from None


def events_spool(endpoints: Path, env: Mapping[str, str]) -> Optional[Path]:
    """The host's spool (the endpoints file's event_broker `spool`, else TALENTBOT_EVENTS_SPOOL, else
    var/events-spool.sqlite3), None when there is none."""
    import yaml

    broker = (yaml.safe_load(endpoints.read_text(encoding="utf-8")) or {}).get("event_broker")
    configured = broker.get("spool") if isinstance(broker, dict) else None
    path = spool_path(str(configured) if configured else None, env)
    return path if path.exists() else None


def locate(production: bool = False, endpoints: Optional[Path] = None, env: Optional[Mapping[str, str]] = None,
           logs_dir: Optional[Path] = paths.VAR) -> Stores:
    """The stores the servers use with this environment (`production`: as `talentbot run --production` sets it)."""
    from talentbot.core.analytics import db as analytics_db
    from talentbot.core.handoff import db

    environment = dict(os.environ if env is None else env)
    if production:
        from talentbot.wiring.devserver import production_env

        environment = production_env(environment)
        environment.setdefault("ACTION_SERVER_URL", "http://127.0.0.1:5055/webhook")  # read with the file, not used
    endpoints = endpoints or (paths.ENDPOINTS_PRODUCTION if production else paths.ENDPOINTS)
    return Stores(
        tracker_url=tracker_store_url(endpoints, environment),
        handoff_url=_sqlite_file(environment.get(db.URL_VARIABLE) or db.DEFAULT_URL),
        state=state_store(environment),
        locks=lock_store(endpoints, environment),
        logs_dir=logs_dir,
        pseudonym=log_pseudonym(environment),
        analytics_url=_sqlite_file(environment.get(analytics_db.URL_VARIABLE) or environment.get(db.URL_VARIABLE)
                                   or db.DEFAULT_URL),
        analytics_salt=analytics_salt(environment, production),
        spool=events_spool(endpoints, environment),
    )


def log_pseudonym(env: Mapping[str, str]) -> Optional[Callable[[str], str]]:
    """How the servers' own log lines name a conversation (a keyed hash), when the deployment's salt is set; without
    it each server process used a random salt of its own, and no pseudonym can be tied back to the user."""
    from talentbot.core.observability.logs import SALT_VARIABLE, pseudonym

    if not (env.get(SALT_VARIABLE) or "").strip():
        return None
    salted = dict(env)
    return lambda sender_id: pseudonym(sender_id, salted)


# --- the three commands -----------------------------------------------------------------------------------------


def _at(seconds: Optional[float]) -> Optional[str]:
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, dt.timezone.utc).isoformat()


async def purge(stores: Stores, days: int, now: Optional[dt.datetime] = None,
                text_days: Optional[int] = None) -> Dict[str, Any]:
    """Deletes everything whose last activity is older than the retention (`days`), and the analytics' kept texts and
    the spooled events older than `text_days` (default TALENTBOT_ANALYTICS_TEXT_DAYS; at most `days`); what was
    deleted, per store."""
    before = cutoff(days, now)
    text_days = min(days, text_days if text_days is not None else text_retention_days())
    texts_before = cutoff(text_days, now)
    report: Dict[str, Any] = {"retention_days": days, "cutoff": before.isoformat()}
    if stores.tracker_url is not None:
        with _opened(stores.tracker_url) as engine:
            purged = Conversations(engine).purge(before)
            report["conversations"] = {**asdict(purged), "log_flushed": flush_log(engine)}
    if stores.handoff_url is not None:
        with _opened(stores.handoff_url) as engine:
            removed = handoff.purge(engine, before)
            report["handoff"] = {**asdict(removed), "log_flushed": flush_log(engine)}
    if stores.state is not None:
        report["channel_state"] = asdict(await stores.state.purge(days * SECONDS_PER_DAY))
    if stores.locks is not None:
        report["left_over_locks"] = stores.locks.purge()
    if stores.logs_dir is not None:
        report["log_files"] = logs.purge(stores.logs_dir, before)
    if stores.analytics_url is not None:
        with _opened(stores.analytics_url) as engine:
            store = AnalyticsStore(engine)
            if store.exists():
                rows = store.purge_rows(before)  # first: the texts of rows deleted whole are not counted twice
                report["analytics"] = {"text_days": text_days, "texts": store.purge_texts(texts_before),
                                       "messages": rows, "log_flushed": flush_log(engine)}
    if stores.spool is not None:
        with _spool(stores.spool) as spool:
            report["events_spool"] = {"events": spool.purge(texts_before.timestamp()), "log_flushed": spool.flush_log()}
    return report


@contextlib.contextmanager
def _spool(path: Path) -> Iterator[Spool]:
    """The host's spool, erasing what it deletes, for the length of a command step."""
    spool = Spool(path)
    try:
        spool.erasing()
        yield spool
    finally:
        spool.close()


def _spooled(spool: Spool, sender_id: str) -> List[Dict[str, Any]]:
    return [{"spooled_at": _at(item.created), "event": _json_or_text(item.body), "headers": item.headers}
            for item in spool.of_sender(sender_id)]


def _json_or_text(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body


async def export(stores: Stores, sender_id: str, days: Optional[int] = None) -> Dict[str, Any]:
    """Everything held about the user, as JSON-ready data."""
    check_sender_id(sender_id)
    held: Dict[str, Any] = {
        "user": sender_id,
        "exported_at": utcnow().isoformat(),
        "retention_days": days if days is not None else retention_days(),
        "conversation_events": [],
        "handoff_tickets": [],
        "channel_state": [],
        "conversation_lock": None,
        "log_lines": [],
        "analytics_messages": [],
        "spooled_events": [],
    }
    if stores.tracker_url is not None:
        with _opened(stores.tracker_url) as engine:
            held["conversation_events"] = Conversations(engine).events_of(sender_id)
    if stores.handoff_url is not None:
        with _opened(stores.handoff_url) as engine:
            held["handoff_tickets"] = handoff.export_user(engine, sender_id)
    if stores.state is not None:
        held["channel_state"] = [{"key": k.key, "value": k.value, "expires_at": _at(k.expires_at)}
                                 for k in await stores.state.user_keys(sender_id)]
    if stores.locks is not None:
        held["conversation_lock"] = stores.locks.held(sender_id)
    if stores.logs_dir is not None:
        held["log_lines"] = [asdict(mention) for mention in logs.mentions(
            stores.logs_dir, sender_id, stores.log_aliases(sender_id))]
    if stores.analytics_url is not None and stores.analytics_salt is not None:
        with _opened(stores.analytics_url) as engine:
            store = AnalyticsStore(engine)
            if store.exists():
                held["analytics_messages"] = store.rows_of(sender_id, stores.analytics_salt)
    if stores.spool is not None:
        with _spool(stores.spool) as spool:
            held["spooled_events"] = _spooled(spool, sender_id)
    return held


async def remaining(stores: Stores, sender_id: str) -> Dict[str, int]:
    """How much is still held about the user, per store (all 0 after `delete`)."""
    left = {"conversation_events": 0, "handoff_tickets": 0, "handoff_messages": 0, "channel_state_keys": 0,
            "conversation_lock": 0, "log_lines": 0, "analytics_messages": 0, "spooled_events": 0}
    if stores.tracker_url is not None:
        with _opened(stores.tracker_url) as engine:
            left["conversation_events"] = Conversations(engine).count(sender_id)
    if stores.handoff_url is not None:
        with _opened(stores.handoff_url) as engine:
            counted = handoff.count_user(engine, sender_id)
            left["handoff_tickets"], left["handoff_messages"] = counted.tickets, counted.messages
    if stores.state is not None:
        left["channel_state_keys"] = len(await stores.state.user_keys(sender_id))
    if stores.locks is not None:
        left["conversation_lock"] = int(stores.locks.held(sender_id) is not None)
    if stores.logs_dir is not None:
        left["log_lines"] = len(logs.mentions(stores.logs_dir, sender_id, stores.log_aliases(sender_id)))
    if stores.analytics_url is not None and stores.analytics_salt is not None:
        with _opened(stores.analytics_url) as engine:
            store = AnalyticsStore(engine)
            left["analytics_messages"] = store.count_of(sender_id, stores.analytics_salt) if store.exists() else 0
    if stores.spool is not None:
        with _spool(stores.spool) as spool:
            left["spooled_events"] = len(spool.of_sender(sender_id))
    return left


async def delete(stores: Stores, sender_id: str) -> Dict[str, Any]:
    """Removes the user from every store; what was removed, and what is left (nothing, unless the user wrote again
    meanwhile)."""
    check_sender_id(sender_id)
    report: Dict[str, Any] = {"user": sender_id}
    if stores.handoff_url is not None:  # first: an open ticket stops the channels passing messages to Rasa
        with _opened(stores.handoff_url) as engine:
            removed = handoff.delete_user(engine, sender_id)
            report["handoff"] = {**asdict(removed), "log_flushed": flush_log(engine)}
    if stores.tracker_url is not None:
        with _opened(stores.tracker_url) as engine:
            report["conversation_events"] = Conversations(engine).delete(sender_id)
            report["conversation_log_flushed"] = flush_log(engine)
    if stores.state is not None:
        report["channel_state_keys"] = await stores.state.forget_user(sender_id)
    if stores.locks is not None:
        report["conversation_lock"] = stores.locks.forget(sender_id)
    if stores.logs_dir is not None:
        report["log_occurrences_masked"] = logs.redact(stores.logs_dir, sender_id, stores.log_aliases(sender_id))
    if stores.spool is not None:  # before the analytics rows: a spooled event could become a row again
        with _spool(stores.spool) as spool:
            report["spooled_events"] = {"events": spool.forget(sender_id), "log_flushed": spool.flush_log()}
    if stores.analytics_url is not None and stores.analytics_salt is not None:
        with _opened(stores.analytics_url) as engine:
            store = AnalyticsStore(engine)
            if store.exists():
                report["analytics_messages"] = {"messages": store.forget(sender_id, stores.analytics_salt),
                                                "log_flushed": flush_log(engine)}
    report["left"] = await remaining(stores, sender_id)
    return report


# --- the command line --------------------------------------------------------------------------------------------


def add_privacy_commands(commands: Any) -> None:
    """`talentbot privacy ...` under the CLI's subcommands (`commands`: argparse's subparsers action)."""
    privacy = commands.add_parser(
        "privacy", help="personal data (PDPO): purge what is past the retention, export or delete one user's data")
    actions = privacy.add_subparsers(dest="privacy_command", required=True)
    purge_ = actions.add_parser(
        "purge", help="delete conversations, tickets, channel state, logs and analytics rows whose last activity is "
                      "older than the retention (TALENTBOT_RETENTION_DAYS, default 180), and analytics texts and "
                      "spooled events older than TALENTBOT_ANALYTICS_TEXT_DAYS (default 90); safe to run again")
    purge_.add_argument("--days", type=int, default=None, help="the retention (default TALENTBOT_RETENTION_DAYS)")
    export_ = actions.add_parser("export", help="write everything held about one user as JSON")
    export_.add_argument("--output", type=Path, default=None, help="a file (mode 0600) instead of standard output")
    delete_ = actions.add_parser("delete", help="remove everything held about one user from every store")
    for action in (export_, delete_):
        action.add_argument("--user", required=True, help="the conversation id, e.g. telegram:12345 or web:<hex>")
    for action in (purge_, export_, delete_):
        action.add_argument("--production", action="store_true",
                            help="the stores of `talentbot run --production` (PostgreSQL, Redis)")
        action.add_argument("--endpoints", type=Path, default=None,
                            help="the endpoints file naming the tracker and lock stores (default: bot/endpoints.yml, "
                                 "or bot/endpoints.production.yml with --production)")
        action.add_argument("--logs-dir", type=Path, default=paths.VAR, help="where log files are looked for")
        action.set_defaults(handler=main)


def _write_json(data: Any, output: Optional[Path], stdout: TextIO) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n"
    if output is None:
        stdout.write(text)
        return
    descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


async def _run(args: argparse.Namespace, stores: Stores, stdout: TextIO) -> int:
    try:
        if args.privacy_command == "purge":
            days = args.days if args.days is not None else retention_days()
            if days < 1:
                raise ValueError("--days must be at least 1")
            _write_json({"stores": stores.describe(), **await purge(stores, days)}, None, stdout)
            return EXIT_OK
        if stores.analytics_unsearchable():
            raise ValueError(f"analytics rows are kept, but {identity.SALT_VARIABLE} (the events consumer's) is not "
                             "set, so this user's rows cannot be found; set it and run the command again")
        if args.privacy_command == "export":
            _write_json(await export(stores, args.user), args.output, stdout)
            return EXIT_OK
        report = await delete(stores, args.user)
        _write_json({"stores": stores.describe(), **report}, None, stdout)
        return EXIT_LEFT_OVER if any(report["left"].values()) else EXIT_OK
    finally:
        await stores.close()


def main(args: argparse.Namespace, stdout: Optional[TextIO] = None, stderr: Optional[TextIO] = None) -> int:
    """The handler of `talentbot privacy ...`: 0 done, 1 something of the user is still held after a delete, 2 bad
    input (a user id no store could hold, a retention that is not a whole number of days >= 1)."""
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    try:
        if getattr(args, "user", None) is not None:
            check_sender_id(args.user)
        retention_days()  # a bad TALENTBOT_RETENTION_DAYS is refused before anything is touched
        text_retention_days()  # and a bad TALENTBOT_ANALYTICS_TEXT_DAYS
        stores = locate(args.production, args.endpoints, logs_dir=args.logs_dir)
        return asyncio.run(_run(args, stores, stdout))
    except ValueError as problem:
        print(f"talentbot privacy {args.privacy_command}: {problem}", file=stderr)
        return EXIT_BAD_INPUT
