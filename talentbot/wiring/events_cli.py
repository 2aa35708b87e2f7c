"""`talentbot events consume|purge`: conversation events into the analytics table, and its retention.

- `consume` (a process of its own; run as many as needed) reads the events Rasa publishes where the endpoints file's
  `event_broker` sends them (talentbot.rasa_plugins.event_broker): RabbitMQ (`forward: pika`, the production set-up:
  competing consumers on one durable queue, each message acknowledged only after its row is committed) or, with no
  broker, the host's spool file itself (the embedded set-up). One row per user message goes into
  `analytics_messages` (talentbot.core.analytics), exactly once whatever is redelivered. A message is one Rasa event,
  or several with the broker's ``batch: true`` (talentbot.core.analytics.batches); a batch of deliveries is stored in
  one transaction and acknowledged at once. Reading RabbitMQ it runs at a lower CPU priority (`--nice`, NICE) so that
  on a shared host the replies come first. Stops cleanly on SIGTERM or Ctrl-C; unacknowledged messages go back to the
  queue for the other consumers.
- `purge` removes the kept texts of misunderstood messages older than TALENTBOT_ANALYTICS_TEXT_DAYS (default 90) and
  spool rows older than that (events never sent, with their texts). Idempotent; run it daily.

The endpoints file is bot/endpoints.yml, or bot/endpoints.production.yml with `--production` (with the defaults of
`talentbot run --production` for what the environment does not set), or `--endpoints`. The database is ANALYTICS_DB_URL,
else HANDOFF_DB_URL, else var/handoff.sqlite3. Sender ids are hashed with TALENTBOT_ANALYTICS_SALT, which production
(`--production`, or RabbitMQ as the source) requires; the embedded set-up keeps a generated one in var/analytics-salt.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import os
import re
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from talentbot.core import paths
from talentbot.core.analytics import batches, db, identity
from talentbot.core.analytics.records import rows_from
from talentbot.core.analytics.spool import Spool, spool_path
from talentbot.core.analytics.store import AnalyticsStore, text_retention_days
from talentbot.core.store_outages import OutageLog

logger = logging.getLogger("talentbot.events")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

BROKER_TYPE = "talentbot.rasa_plugins.event_broker.SpooledEventBroker"
DEFAULT_QUEUE = "rasa_core_events"  # Rasa's own default when `queues` is not set
DEFAULT_EXCHANGE = "rasa-exchange"  # Rasa's RABBITMQ_EXCHANGE

BATCH = 200
"""Deliveries stored in one transaction."""

BATCH_WAIT_S = 0.2
"""How long a batch waits to fill before it is stored anyway."""

SPOOL_WAIT_S = 1.0
"""How long a consumer of the spool that has caught up waits before it looks again: a claim, a store and a removal a
second (on a file the Rasa server writes to) instead of one per turn; rows are a second later."""

PREFETCH = 400
"""Unacknowledged messages RabbitMQ hands one consumer: two batches, so the next fills while one is stored."""

RETRY_MIN_S, RETRY_MAX_S = 0.5, 10.0
"""Back-off while the database (or RabbitMQ) cannot be reached."""

RECONNECT_S = 1.0
"""How often aio-pika tries to restore a lost connection to RabbitMQ (its default is 5 s)."""

ACK_TIMEOUT_S = 5.0
"""An acknowledgement on a channel that was lost meanwhile never completes: given up after this (RabbitMQ delivers
the message again, and it is stored once)."""

BROKER = "event broker (RabbitMQ)"

REPORT_EVERY_S = 60.0
"""How often a consumer at work logs what it stored."""

DATABASE = "analytics database"

NICE = 10
"""How far below the assistant's CPU priority a consumer of RabbitMQ runs: on a host it shares with a Rasa server
(`talentbot run --production`, the benchmark) the replies come first and the consumer catches up with idle CPU; it
still gets its share (about a tenth of a contended core, some ten times what 40 messages/s need), so it keeps up.
A consumer of the spool keeps the normal priority: it takes the spool's write lock, which the Rasa server's appends
wait for, and a low priority could keep it there."""


@dataclass
class AmqpSource:
    host: str
    port: int
    username: str
    password: str
    queue: str
    exchange: str = DEFAULT_EXCHANGE

    def describe(self) -> str:
        return f"RabbitMQ {self.host}:{self.port} queue {self.queue}"


@dataclass
class SpoolSource:
    path: Path

    def describe(self) -> str:
        return f"the spool {self.path}"


@dataclass
class Counts:
    events: int = 0
    stored: int = 0
    duplicates: int = 0
    malformed: int = 0
    since: float = field(default_factory=time.monotonic)

    def line(self) -> str:
        return (f"{self.events} events read, {self.stored} messages stored, {self.duplicates} already stored "
                f"(redelivered), {self.malformed} malformed")


# --- configuration -----------------------------------------------------------------------------------------------


def environment(production: bool, base: Mapping[str, str] = os.environ) -> Dict[str, str]:
    if not production:
        return dict(base)
    from talentbot.wiring.devserver import production_env

    return production_env(base)


def broker_settings(endpoints: Path, env: Mapping[str, str]) -> Optional[Dict[str, Any]]:
    """The `event_broker` section of an endpoints file, its ${VARIABLES} taken from `env` (as Rasa takes them from its
    environment); a variable that is not set is an error, as in Rasa."""
    import yaml

    content = yaml.safe_load(endpoints.read_text(encoding="utf-8")) or {}
    section = content.get("event_broker")
    return _expanded(dict(section), env) if isinstance(section, dict) else None


def _expanded(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: _expanded(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [_expanded(item, env) for item in value]
    if isinstance(value, str):
        def variable(match: "re.Match[str]") -> str:
            if match.group(1) not in env:
                raise ValueError(f"the environment variable {match.group(1)} is not set")
            return env[match.group(1)]

        return re.sub(r"\$\{(\w+)\}", variable, value)
    return value


def source_of(settings: Optional[Mapping[str, Any]], env: Mapping[str, str]) -> Any:
    """Where the events are: RabbitMQ or the spool, as the broker of `settings` sends them."""
    if not settings:
        raise ValueError("the endpoints file configures no event_broker, so Rasa publishes no events")
    kind = str(settings.get("type") or "")
    if kind != BROKER_TYPE:
        if kind.lower() in ("pika", ""):
            return _amqp(settings)
        raise ValueError(f"event_broker type {kind!r}: consume reads {BROKER_TYPE} (spool or RabbitMQ) or pika")
    if settings.get("forward") in ("pika", "rabbitmq"):
        return _amqp(settings)
    return SpoolSource(spool_path(settings.get("spool"), env))


def _amqp(settings: Mapping[str, Any]) -> AmqpSource:
    queues = settings.get("queues") or [DEFAULT_QUEUE]
    if isinstance(queues, str):
        queues = [queues]
    return AmqpSource(
        host=str(settings.get("url") or "127.0.0.1"), port=int(settings.get("port") or 5672),
        username=str(settings.get("username") or "guest"), password=str(settings.get("password") or "guest"),
        queue=str(queues[0]), exchange=str(settings.get("exchange_name") or DEFAULT_EXCHANGE),
    )


# --- consume -----------------------------------------------------------------------------------------------------


class Consumer:
    """Turns batches of deliveries into rows, stores them, and only then lets the source acknowledge them."""

    def __init__(self, store: AnalyticsStore, salt: bytes, stop: asyncio.Event) -> None:
        self.store = store
        self.salt = salt
        self.stop = stop
        self.counts = Counts()
        self.outages = OutageLog(logger)
        self._reported = time.monotonic()

    async def store_batch(self, deliveries: Sequence[Tuple[Any, Mapping[str, Any]]]) -> bool:
        """Stores the batch's rows, retrying while the database cannot be reached; False if stopped first."""
        rows, malformed = rows_from(deliveries, self.salt, dt.datetime.now(dt.timezone.utc))
        delay = RETRY_MIN_S
        while True:
            try:
                added = await asyncio.to_thread(self.store.add, rows)
            except Exception as error:
                if not self._is_outage(error):
                    added, refused = await asyncio.to_thread(self._one_by_one, rows)
                    malformed += refused
                    break
                self.outages.failed(DATABASE, error)
                if await self._stopped_within(delay):
                    return False
                delay = min(delay * 2, RETRY_MAX_S)
                continue
            self.outages.succeeded(DATABASE)
            break
        if malformed:
            logger.warning("%d deliveries were not Rasa events; acknowledged without a row", malformed)
        self.counts.events += len(deliveries)
        self.counts.stored += added
        self.counts.duplicates += len(rows) - added
        self.counts.malformed += malformed
        if time.monotonic() - self._reported >= REPORT_EVERY_S:
            self._reported = time.monotonic()
            logger.info("So far: %s", self.counts.line())
        return True

    def _one_by_one(self, rows: Sequence[Dict[str, Any]]) -> Tuple[int, int]:
        """After a batch the database refused (not an outage): each row alone, so one row it can never take is
        dropped (logged by its key, never its content) instead of being redelivered for ever; (added, refused)."""
        added = refused = 0
        for row in rows:
            try:
                added += self.store.add([row])
            except Exception as error:
                if self._is_outage(error):
                    raise
                refused += 1
                logger.error("The analytics row of event %s was refused and dropped: %s", row.get("event_key"),
                             type(error).__name__)
        return added, refused

    @staticmethod
    def _is_outage(error: BaseException) -> bool:
        from talentbot.core.store_outages import connection_failure

        return connection_failure(error) is not None

    async def _stopped_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self.stop.wait(), seconds)
        except asyncio.TimeoutError:
            return False
        return True


async def consume_spool(consumer: Consumer, source: SpoolSource) -> None:
    """The embedded set-up: the spool is the outbox; rows are removed from it once their analytics are committed."""
    spool = Spool(source.path)
    try:
        while not consumer.stop.is_set():
            batch = await asyncio.to_thread(spool.claim, BATCH)
            if not batch:
                await consumer._stopped_within(BATCH_WAIT_S * 2)
                continue
            if await consumer.store_batch([(spooled.body, spooled.headers) for spooled in batch]):
                await asyncio.to_thread(spool.remove, [spooled.id for spooled in batch])
            else:
                await asyncio.to_thread(spool.release, [spooled.id for spooled in batch])
                continue
            if len(batch) < BATCH:  # caught up: let the next batch gather
                await consumer._stopped_within(SPOOL_WAIT_S)
    finally:
        spool.close()


async def consume_amqp(consumer: Consumer, source: AmqpSource) -> None:
    """Competing consumers on the durable queue Rasa publishes to (declared here too, with Rasa's exchange and
    binding, so a consumer started first loses nothing); manual acknowledgement after the commit."""
    import aio_pika

    connection: Optional[aio_pika.abc.AbstractRobustConnection] = None
    delay = RETRY_MIN_S
    outages = OutageLog(logger)
    # aio-pika logs every reconnection attempt; the outage is logged once here instead
    logging.getLogger("aio_pika.robust_connection").setLevel(logging.ERROR)
    while connection is None:
        try:
            connection = await aio_pika.connect_robust(host=source.host, port=source.port, login=source.username,
                                                       password=source.password, reconnect_interval=RECONNECT_S)
        except Exception as error:
            outages.failed(BROKER, error)
            if await consumer._stopped_within(delay):
                return
            delay = min(delay * 2, RETRY_MAX_S)
    outages.succeeded(BROKER)

    def lost(_: Any, error: Any = None) -> None:
        if not consumer.stop.is_set():
            outages.failed(BROKER, error if isinstance(error, BaseException) else ConnectionError("connection lost"))

    connection.close_callbacks.add(lost)
    connection.reconnect_callbacks.add(lambda *_: outages.succeeded(BROKER))
    inbox: asyncio.Queue = asyncio.Queue()
    try:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=PREFETCH)
        # exactly as Rasa's PikaEventBroker declares them (another type or durability would be refused)
        exchange = await channel.declare_exchange(source.exchange, type=aio_pika.ExchangeType.FANOUT)
        queue = await channel.declare_queue(source.queue, durable=True)
        await queue.bind(exchange, "")
        tag = await queue.consume(inbox.put)
        logger.info("Consuming %s", source.describe())
        while not consumer.stop.is_set():
            batch = await _collect(inbox, consumer.stop)
            if not batch:
                continue
            # each event of each message (a message of the broker's `batch` option holds several)
            stored = await consumer.store_batch(
                [delivery for m in batch for delivery in batches.deliveries(m.body, m.headers)])
            # the batch at once: everything delivered on the channel up to its last message (those received since
            # wait in the inbox, with later delivery tags); messages of a channel lost meanwhile are delivered again
            await _settle(batch[-1], stored, multiple=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(queue.cancel(tag), ACK_TIMEOUT_S)
        left = [inbox.get_nowait() for _ in range(inbox.qsize())]
        if left:  # received but not stored: back to the queue for the others
            await _settle(left[-1], stored=False, multiple=True)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(connection.close(), ACK_TIMEOUT_S)


async def _settle(message: Any, stored: bool, multiple: bool = False) -> bool:
    """Acknowledges a stored delivery (rejects one that was not, back to the queue), with `multiple` every earlier one
    of its channel too; False when its channel is gone.
    On a channel lost meanwhile aio-pika's acknowledgement never completes, and cancelling it does not either: it is
    left behind after ACK_TIMEOUT_S (RabbitMQ has put the message back for another delivery already)."""
    if message.channel.is_closed:
        return False
    settling = asyncio.ensure_future(message.ack(multiple=multiple) if stored
                                     else message.nack(multiple=multiple, requeue=True))
    done, _ = await asyncio.wait({settling}, timeout=ACK_TIMEOUT_S)
    if not done:
        settling.cancel()
        return False
    return not settling.cancelled() and settling.exception() is None


async def _collect(inbox: asyncio.Queue, stop: asyncio.Event) -> List[Any]:
    """Up to BATCH messages: waits for the first (waking now and then to see whether to stop), then as many as
    arrive within BATCH_WAIT_S."""
    try:
        first = await asyncio.wait_for(inbox.get(), 0.5)
    except asyncio.TimeoutError:
        return []
    batch = [first]
    deadline = time.monotonic() + BATCH_WAIT_S
    while len(batch) < BATCH and not stop.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            batch.append(await asyncio.wait_for(inbox.get(), remaining))
        except asyncio.TimeoutError:
            break
    return batch


def consume(args: argparse.Namespace) -> int:
    env = environment(args.production)
    endpoints = Path(args.endpoints) if args.endpoints else (
        paths.ENDPOINTS_PRODUCTION if args.production else paths.ENDPOINTS)
    try:
        source = source_of(broker_settings(endpoints, env), env)
    except ValueError as error:
        print(f"talentbot events consume: {endpoints}: {error}", file=sys.stderr)
        return EXIT_USAGE
    production = args.production or isinstance(source, AmqpSource)
    salt_file = Path(env.get(identity.SALT_FILE_VARIABLE) or paths.VAR / "analytics-salt")
    try:
        salt = identity.salt_from(env, production, salt_file)
    except identity.SaltMissing as error:
        print(f"talentbot events consume: {error}", file=sys.stderr)
        return EXIT_USAGE
    _show_log()
    _lower_priority(args.nice if getattr(args, "nice", None) is not None
                    else NICE if isinstance(source, AmqpSource) else 0)
    url = db.database_url(env)
    store = _open_store(url)
    if store is None:
        return EXIT_FAILED
    logger.info("Storing the analytics of %s in %s", source.describe(), _safe(url))
    try:
        return asyncio.run(_consume(store, salt, source))
    finally:
        store.close()


def _open_store(url: str) -> Optional[AnalyticsStore]:
    """The store with its tables up to date, waiting for a database that is not up yet (a consumer may start
    before it) until stopped."""
    delay = RETRY_MIN_S
    outages = OutageLog(logger)
    while True:
        try:
            store = AnalyticsStore.from_url(url)
        except Exception as error:
            if not Consumer._is_outage(error):
                raise
            outages.failed(DATABASE, error)
            try:
                time.sleep(delay)
            except KeyboardInterrupt:
                return None
            delay = min(delay * 2, RETRY_MAX_S)
            continue
        outages.succeeded(DATABASE)
        return store


async def _consume(store: AnalyticsStore, salt: bytes, source: Any) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    consumer = Consumer(store, salt, stop)
    if isinstance(source, AmqpSource):
        await consume_amqp(consumer, source)
    else:
        await consume_spool(consumer, source)
    logger.info("Stopped: %s", consumer.counts.line())
    return EXIT_OK


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    rendered: str = make_url(url).render_as_string(hide_password=True)
    return rendered


def _lower_priority(niceness: int) -> None:
    """Runs the consumer `niceness` steps below the Rasa server's CPU priority (os.nice)."""
    if niceness > 0:
        os.nice(niceness)
        logger.info("Running at CPU priority nice +%d: the assistant's replies come first on a busy host", niceness)


def _show_log() -> None:
    from talentbot.core.observability.logs import json_handler, wants_json

    if logger.handlers:
        return
    handler = json_handler() if wants_json() else logging.StreamHandler()
    if not wants_json():
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("talentbot.events", "talentbot.core"):
        log = logging.getLogger(name)
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


# --- purge -------------------------------------------------------------------------------------------------------


@dataclass
class Purged:
    texts: int
    spooled: int


def purge_analytics(days: int, url: str, spool: Optional[Path], now: Optional[dt.datetime] = None) -> Purged:
    """Removes kept texts of messages sent more than `days` ago, and spool rows spooled before then. The function
    `talentbot privacy purge` can call with its own clock: nothing is created that does not exist yet."""
    if days < 1:
        raise ValueError("the retention is at least 1 day")
    moment = now or dt.datetime.now(dt.timezone.utc)
    before = moment - dt.timedelta(days=days)
    texts = 0
    if not _missing_sqlite_file(url):
        store = AnalyticsStore.from_url(url, migrate=False)
        try:
            if store.exists():
                texts = store.purge_texts(before)
        finally:
            store.close()
    spooled = 0
    if spool is not None and spool.exists():
        outbox = Spool(spool)
        try:
            spooled = outbox.purge(before.timestamp())
        finally:
            outbox.close()
    return Purged(texts, spooled)


def _missing_sqlite_file(url: str) -> bool:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and bool(parsed.database) and parsed.database != ":memory:" \
        and not Path(parsed.database).exists()


def purge(args: argparse.Namespace) -> int:
    env = environment(args.production)
    try:
        days = args.days if args.days is not None else text_retention_days(env)
        spool = Path(args.spool) if args.spool else spool_path(None, env)
        purged = purge_analytics(days, db.database_url(env), spool)
    except ValueError as error:
        print(f"talentbot events purge: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:
        if not Consumer._is_outage(error):
            raise
        print(f"talentbot events purge: the analytics database cannot be reached ({error.__class__.__name__}); "
              "nothing was purged", file=sys.stderr)
        return EXIT_FAILED
    print(f"talentbot events purge: {purged.texts} message texts older than {days} days removed, "
          f"{purged.spooled} spooled events older than that deleted")
    return EXIT_OK


def add_events_commands(commands: Any) -> None:
    """`talentbot events consume|purge` (commands: the CLI's subparsers)."""
    events = commands.add_parser("events", help="conversation events: the analytics consumer and its retention")
    events_commands = events.add_subparsers(dest="events_command", required=True)
    run = events_commands.add_parser(
        "consume", help="store the analytics of Rasa's conversation events (RabbitMQ or the spool); several may run")
    run.add_argument("--production", action="store_true",
                     help="bot/endpoints.production.yml with `talentbot run --production`'s defaults; needs "
                          "TALENTBOT_ANALYTICS_SALT")
    run.add_argument("--endpoints", default=None, help="the endpoints file the Rasa server uses")
    run.add_argument("--nice", type=int, default=None,
                     help=f"lower the consumer's CPU priority by this much (default {NICE} reading RabbitMQ, 0 reading "
                          "the spool)")
    run.set_defaults(handler=consume)
    clean = events_commands.add_parser(
        "purge", help="remove kept message texts (and unsent spooled events) older than the retention")
    clean.add_argument("--production", action="store_true", help="the production database (HANDOFF_DB_URL default)")
    clean.add_argument("--days", type=int, default=None, help="default TALENTBOT_ANALYTICS_TEXT_DAYS or 90")
    clean.add_argument("--spool", default=None, help="the host's spool file (default TALENTBOT_EVENTS_SPOOL or "
                                                     "var/events-spool.sqlite3)")
    clean.set_defaults(handler=purge)
