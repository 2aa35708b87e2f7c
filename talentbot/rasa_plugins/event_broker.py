"""Rasa's event broker with a local spool: conversation events leave for analysis without ever holding up a reply.

Configured in `bot/endpoints*.yml` as ``event_broker: type: talentbot.rasa_plugins.event_broker.SpooledEventBroker``
(Rasa's custom broker hook). Rasa publishes every event (the tracker store hands over each turn's new events once it
has stored them, talentbot.rasa_plugins.tracker_store); those of ``event_types`` are first written to the host's
spool file (talentbot.core.analytics.spool), one transaction per turn. ``event_types`` is a list of Rasa event names,
or ``all``; unset, only user messages (turns.ANALYSED_EVENTS: all `talentbot events consume` reads, since each carries
its turn's summary), so a turn is one message, not about nine. Then:

- ``forward: pika`` (production, `bot/endpoints.production.yml`): a sender in this process claims spooled events,
  publishes them through Rasa's `PikaEventBroker` to RabbitMQ (a fanout exchange, durable queues, the event JSON as
  the body, persistent delivery, as Rasa's own; or with ``batch: true`` one message per send, below), and removes them
  once RabbitMQ confirmed them (publisher confirms). The other settings are `PikaEventBroker`'s own: ``url``
  (host), ``port``, ``username``, ``password``, ``queues``, ``exchange_name`` (give each deployment its own: every
  queue bound to a fanout exchange gets every event published to it, and Rasa's default ``rasa-exchange`` is shared by
  every Rasa server on the broker). TALENTBOT_EVENTS_FORWARD=0 keeps the events in the spool all the same (servers
  started without a consumer: tests, the benchmark).
- no ``forward`` (the embedded set-up, `bot/endpoints.yml`): the spool is the outbox; `talentbot events consume`
  reads it directly. Nothing else needs to run.

Why not Rasa's `PikaEventBroker` alone (Rasa 3.6.21, measured by hand through a TCP proxy cut in front of RabbitMQ):
while RabbitMQ is down it keeps unsent events in an unbounded in-memory queue and sends them when the connection comes
back (a 60 s outage under 10 messages/s lost none), but (1) it logs one ERROR line per event meanwhile, each with the
sender id and the user's text; (2) the queue is lost when the process stops: 200 of 300 events were gone after a
server stopped during an outage; (3) a server that starts while RabbitMQ is down tries 20 times 5 s and then exits
(Rasa does not start at all: no replies for 100 s, then a restart loop). Here the events are on disk before any
network is involved, the server starts and answers whatever RabbitMQ does, an outage is logged once when it starts
and once when it ends (with how long it lasted and how many sends failed), and a spooled event is sent by whichever
process of the host runs next.

The turn summary: Rasa publishes a turn's events one by one in one go (no await in between), so they are spooled
together at the end of the event loop's current step. There the user message's event gets the summary of its turn
in a header (talentbot.core.analytics.turns), made from all the turn's events whichever are sent on.

Messages: by default each is one event with exactly Rasa's body, so any other consumer of Rasa events reads them as
usual (with ``event_types: all`` it gets every event, as from Rasa's own Pika broker). ``batch: true`` (the production
endpoints) makes each send one message of the events it claimed, their bodies unchanged one per line
(talentbot.core.analytics.batches): a message costs RabbitMQ and, above all, the consumer's aio-pika the same whatever
it holds (measured: ~1.4 ms of the consumer's CPU and ~0.6 ms of RabbitMQ's per message; batched, ~0.45 and ~0.2 ms
per turn), which only our consumer reads.

Costs (tools/bench/events_cost.py, part of `make bench`): on the event loop, the turn's events handed over by the
tracker store with no second read of the conversation, its summary and one small SQLite transaction per turn (WAL
mode, no fsync per commit), about 0.1 ms; with RabbitMQ, a send of what gathered SEND_DELAY_S after the turn (so its
reply goes out first): claimed, published as one message, confirmed, removed; 0.3-0.5 ms of CPU per turn in all
(measured alone at 20 turns/s, within the noise of a turn's ~5 ms there). The consumer then needs ~0.3 ms and
RabbitMQ ~0.15 ms per turn. Before (every event, one message each, and Rasa's second read), that was ~15 ms of CPU per
message on the machine, and 13-17 % of the throughput of 16 senders on 2 cores. With and without the broker side by
side, p95 and throughput now differ by no more than the noise (README, "Conversation events and analytics").
tests/e2e/test_events.py measures the outage behaviour.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from asyncio import AbstractEventLoop
from typing import Any, Dict, FrozenSet, List, Optional, Sequence, Tuple

import aio_pika
import aiormq
from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.pika import PikaEventBroker, _create_rabbitmq_ssl_options
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import EndpointConfig

from talentbot.core.analytics import batches, turns
from talentbot.core.analytics.spool import FORWARD_VARIABLE, Spool, Spooled, spool_path
from talentbot.core.store_outages import OutageLog

logger = logging.getLogger(__name__)

BROKER = "event broker (RabbitMQ)"
"""How the outage log lines name RabbitMQ."""

ALL_EVENTS = "all"
"""``event_types: all``: every event Rasa publishes is sent on (for a consumer other than ours that wants them)."""

BATCH = 200
"""Events claimed and published at once."""

SEND_DELAY_S = 1.0
"""How long new events wait before they are sent: the reply of the turn that stored them goes out first, and the
events of the turns stored meanwhile are sent with them (with ``batch: true`` in the same message: at 20 turns/s a
send every second instead of every 0.25 s made 21 messages of 440 turns instead of 73, for that much less work in
this process, RabbitMQ and the consumer; analytics are a second later)."""

IDLE_S = 1.0
"""How often an idle sender looks at the spool (events of other processes, leases run out); new events of its own
wake it at once."""

RETRY_MIN_S, RETRY_MAX_S = 0.5, 2.0
"""Back-off between attempts while RabbitMQ cannot be reached (an attempt while aio-pika is reconnecting costs a check;
new events do not cut a back-off short)."""

RECONNECT_S = 1.0
"""How often aio-pika tries to restore a connection that was lost (its default, and Rasa's, is 5 s)."""

CONNECT_TIMEOUT_S = 10.0
PUBLISH_TIMEOUT_S = 10.0
CLOSE_TIMEOUT_S = 3.0
"""At shutdown, how long the sender may go on sending; what is left stays in the spool."""


class SpooledEventBroker(EventBroker):
    """Spools the events of `event_types` (None: all), each user message with its turn's summary; sends them on to
    RabbitMQ when configured to."""

    def __init__(self, spool: Spool, forwarder: Optional["RabbitMQ"] = None,
                 loop: Optional[AbstractEventLoop] = None,
                 event_types: Optional[FrozenSet[str]] = turns.ANALYSED_EVENTS) -> None:
        super().__init__()
        self.spool = spool
        self.forwarder = forwarder
        self.event_types = event_types  # None: every event
        self._loop = loop
        self._pending: List[Dict[str, Any]] = []
        self._flush_scheduled = False
        self._work = asyncio.Event()  # new events spooled
        self._stop = asyncio.Event()  # closing
        self._closing = False
        self._sender: Optional[asyncio.Task] = None
        self.outages = OutageLog(logger)

    @classmethod
    async def from_endpoint_config(cls, broker_config: EndpointConfig,
                                   event_loop: Optional[AbstractEventLoop] = None) -> "SpooledEventBroker":
        settings = dict(broker_config.kwargs)
        path = spool_path(settings.pop("spool", None))
        forward = settings.pop("forward", None)
        event_types = selected_event_types(settings.pop("event_types", None))
        batch = _flag(settings.pop("batch", False), "batch")
        loop = event_loop or asyncio.get_running_loop()
        forwarder = None
        if os.environ.get(FORWARD_VARIABLE, "").strip() == "0":
            forward = None  # kept in the spool (a server without a consumer: talentbot.core.analytics.spool)
        if forward in ("pika", "rabbitmq"):
            forwarder = RabbitMQ(str(broker_config.url), settings, loop, batch)
        elif forward:
            raise ValueError(f"event_broker forward: {forward!r} is not supported (pika, or none for the outbox)")
        broker = cls(Spool(path), forwarder, loop, event_types)
        broker.start()
        where = (f"sent to RabbitMQ at {forwarder.where}{', in batches' if batch else ''}" if forwarder
                 else "read by `talentbot events consume`")
        kinds = "every event" if event_types is None else f"events of type {', '.join(sorted(event_types))}"
        logger.info("Conversation events (%s) are spooled to %s and %s", kinds, path, where)
        return broker

    def start(self) -> None:
        if self.forwarder is not None and self._sender is None:
            self._sender = asyncio.get_running_loop().create_task(self._send_forever())

    # --- Rasa's side: publish ------------------------------------------------------------------------------------

    def publish(self, event: Dict[str, Any]) -> None:
        """Takes one event (Rasa's dict with ``sender_id``); the events Rasa publishes in one step are spooled
        together when it ends."""
        self._pending.append(event)
        if self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # called outside the event loop: write at once
            self.flush()
            return
        self._flush_scheduled = True
        loop.call_soon(self.flush)

    def flush(self) -> None:
        """Spools the events published so far, each user message with its turn's summary."""
        self._flush_scheduled = False
        events, self._pending = self._pending, []
        if not events:
            return
        try:
            spooled = self.spool.append(spooled_form(events, self.event_types))
        except Exception:
            logger.exception("Could not write %d conversation events to the spool %s; trying again in 1 s",
                             len(events), self.spool.path)
            self._pending = events + self._pending
            try:
                asyncio.get_running_loop().call_later(1.0, self.flush)
                self._flush_scheduled = True
            except RuntimeError:
                pass
            return
        if spooled:  # a save of nothing sent on (a new conversation's action_listen) wakes no one
            self._work.set()

    def is_ready(self) -> bool:
        return True  # the spool takes events whatever RabbitMQ does

    async def close(self) -> None:
        """Spools what is pending, gives the sender a moment to send what it can, and closes; the rest waits in
        the spool for the next process."""
        self.flush()
        self._closing = True
        self._stop.set()
        if self._sender is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._sender), CLOSE_TIMEOUT_S)
            except (asyncio.TimeoutError, Exception):
                self._sender.cancel()
        if self.forwarder is not None:
            await self.forwarder.close()
        self.spool.close()

    # --- the sender: spool to RabbitMQ ---------------------------------------------------------------------------

    async def _send_forever(self) -> None:
        assert self.forwarder is not None
        delay = RETRY_MIN_S
        while True:
            try:
                sent_any = await self._send_once(self.forwarder)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.outages.failed(BROKER, error)
                if self._closing:
                    return
                await self._pause(delay, wake_on_events=False)
                delay = min(delay * 2, RETRY_MAX_S)
                continue
            delay = RETRY_MIN_S
            if not sent_any:
                if self._closing:
                    return
                await self._pause(IDLE_S)
                if not self._closing:  # let the reply that stored the events go out first; gather other turns'
                    await asyncio.sleep(SEND_DELAY_S)

    async def _send_once(self, forwarder: "RabbitMQ") -> bool:
        """Sends one batch; False when there was nothing to send. Raises when RabbitMQ could not take it."""
        await forwarder.ensure_connected()
        batch = self.spool.claim(BATCH)
        if not batch:
            self.outages.succeeded(BROKER)
            return False
        sent, error = await forwarder.publish(batch)
        self.spool.remove([spooled.id for spooled in sent])
        if len(sent) < len(batch):
            sent_ids = {spooled.id for spooled in sent}
            self.spool.release([spooled.id for spooled in batch if spooled.id not in sent_ids])
        if error is not None:
            raise error
        self.outages.succeeded(BROKER)
        return True

    async def _pause(self, seconds: float, wake_on_events: bool = True) -> None:
        """Waits `seconds`, or less when closing (or, when idle, when new events are spooled)."""
        self._work.clear()
        waits = [asyncio.ensure_future(self._stop.wait())]
        if wake_on_events:
            waits.append(asyncio.ensure_future(self._work.wait()))
        _, pending = await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for waiting in pending:
            waiting.cancel()


def selected_event_types(setting: Any) -> Optional[FrozenSet[str]]:
    """The ``event_types`` setting: a list of Rasa event names (``user``, ``bot``, ``action``, ``slot``...) to send
    on, or ``all``; unset, the user messages the analytics consumer reads (turns.ANALYSED_EVENTS). None: every
    event. An unknown name is refused, so a typo cannot silently send nothing."""
    if setting is None:
        return turns.ANALYSED_EVENTS
    if isinstance(setting, str):
        if setting.strip().lower() == ALL_EVENTS:
            return None
        setting = [setting]
    if not isinstance(setting, (list, tuple)) or not setting:
        raise ValueError(f"event_broker event_types: a list of Rasa event names or {ALL_EVENTS!r}, not {setting!r}")
    names = frozenset(str(name).strip() for name in setting)
    if ALL_EVENTS in names:
        return None
    known = {kind.type_name for kind in all_subclasses(Event)}
    unknown = sorted(names - known)
    if unknown:
        raise ValueError(f"event_broker event_types: {', '.join(unknown)} is not a Rasa event name "
                         f"(known: {', '.join(sorted(known))})")
    return names


def spooled_form(events: Sequence[Dict[str, Any]], event_types: Optional[FrozenSet[str]] = None,
                 ) -> List[Tuple[str, Optional[Dict[str, str]]]]:
    """The events of `event_types` (None: all), each as its JSON body (as Rasa's own brokers write it) and headers: a
    user message's turn summary, made from every event of its turn whichever are sent."""
    headers: Dict[int, Dict[str, str]] = {
        index: {turns.TURN_HEADER: turns.encode(turns.summarize(turn))} for index, turn in turns.turns_of(events)
    }
    return [(json.dumps(event), headers.get(index)) for index, event in enumerate(events)
            if event_types is None or event.get("event") in event_types]


class _OneAttemptPika(PikaEventBroker):
    """Rasa's `PikaEventBroker` (exchange, queues, message format) whose `connect` tries once, quietly: the sender
    retries with its own back-off and logs outages once."""

    async def _connect(self) -> aio_pika.abc.AbstractRobustConnection:
        ssl_options: Any = _create_rabbitmq_ssl_options(self.host)  # the dict Rasa passes aio-pika itself
        return await aio_pika.connect_robust(
            url=self._configure_url(), host=self.host, port=self.port, login=self.username, password=self.password,
            loop=self._loop, ssl=ssl_options is not None, ssl_options=ssl_options,
            reconnect_interval=RECONNECT_S,
        )


class RabbitMQ:
    """Publishing spooled events through Rasa's `PikaEventBroker`, each confirmed by RabbitMQ: one message per event
    (Rasa's own), or with `batch` one message per publish (talentbot.core.analytics.batches)."""

    def __init__(self, host: str, settings: Dict[str, Any], loop: AbstractEventLoop, batch: bool = False) -> None:
        self._pika = _OneAttemptPika(host, event_loop=loop, **settings)
        self.batch = batch
        # aio-pika logs a warning on every reconnection attempt (each RECONNECT_S while RabbitMQ is down); the outage
        # is logged once by the sender instead
        logging.getLogger("aio_pika.robust_connection").setLevel(logging.ERROR)
        self.where = f"{self._pika.host}:{self._pika.port} (queues {', '.join(self._pika.queues)})"

    async def ensure_connected(self) -> None:
        """Connects once; after that aio-pika restores a lost connection by itself (every RECONNECT_S), and until it
        has, this raises without touching the spool."""
        connection = self._pika._connection
        if connection is not None and not connection.is_closed and self._pika._exchange is not None:
            if connection.connected.is_set():
                return
            raise ConnectionError("the connection to RabbitMQ was lost; reconnecting")
        if connection is not None:  # a connection that failed half-way: start again
            await self.close()
        await asyncio.wait_for(self._pika.connect(), CONNECT_TIMEOUT_S)

    async def publish(self, batch: Sequence[Spooled]) -> Tuple[List[Spooled], Optional[BaseException]]:
        """Publishes the batch at once; returns those RabbitMQ confirmed, and the first error (None: all sent)."""
        exchange = self._pika._exchange
        if exchange is None:
            return [], ConnectionError("not connected to RabbitMQ")
        channel = exchange.channel  # aiormq's (raises while the channel is closed)
        if self.batch:
            return await self._publish_batch(exchange, channel, batch)

        try:  # one timeout for the batch (aio-pika's own per call costs a task per step of every publish)
            results = await asyncio.wait_for(asyncio.gather(
                *(exchange.publish(self._message(spooled), "") for spooled in batch), return_exceptions=True),
                PUBLISH_TIMEOUT_S)
        except asyncio.TimeoutError as error:
            _retrieve_orphans(channel)
            return [], error
        sent = [spooled for spooled, result in zip(batch, results, strict=True) if _confirmed(result)]
        errors = [result for result in results if isinstance(result, BaseException)]
        if errors:
            _retrieve_orphans(channel)
            return sent, errors[0]
        if len(sent) < len(batch):
            return sent, ConnectionError("RabbitMQ did not confirm every event")
        return sent, None

    async def _publish_batch(self, exchange: Any, channel: Any, batch: Sequence[Spooled],
                             ) -> Tuple[List[Spooled], Optional[BaseException]]:
        """The whole batch as one message: all confirmed, or none."""
        body, headers = batches.batch_message([(spooled.body, spooled.headers) for spooled in batch])
        message = aio_pika.Message(body, headers=headers, content_type=batches.BATCH_CONTENT_TYPE,
                                   app_id=self._pika.rasa_environment, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
        try:
            result = await asyncio.wait_for(exchange.publish(message, ""), PUBLISH_TIMEOUT_S)
        except Exception as error:  # a timeout, or the connection lost meanwhile
            _retrieve_orphans(channel)
            return [], error
        if not _confirmed(result):
            return [], ConnectionError("RabbitMQ did not confirm the batch")
        return list(batch), None

    def _message(self, spooled: Spooled) -> aio_pika.Message:
        """Rasa's message (PikaEventBroker._message) from the spooled JSON, with the spooled headers."""
        return aio_pika.Message(
            spooled.body.encode("utf-8"), headers=dict(spooled.headers) or None, app_id=self._pika.rasa_environment,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )

    async def close(self) -> None:
        connection, self._pika._connection, self._pika._exchange = self._pika._connection, None, None
        if connection is not None:
            try:
                await asyncio.wait_for(connection.close(), CLOSE_TIMEOUT_S)
            except Exception:
                pass


def _retrieve_orphans(channel: Any) -> None:
    """aiormq creates each publish's confirmation future before sending it; when the connection drops mid-send, the
    publish fails and that future, failed too, is never awaited: asyncio would log "Future exception was never
    retrieved" with a traceback for each. They are marked retrieved once they fail."""
    for future in list(getattr(channel, "confirmations", {}).values()):
        if isinstance(future, asyncio.Future):
            future.add_done_callback(lambda done: done.cancelled() or done.exception())


def _flag(value: Any, name: str) -> bool:
    """A yes/no setting of the endpoints file (YAML gives a bool; an expanded ${VARIABLE} gives a string)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off", ""):
        return False
    raise ValueError(f"event_broker {name}: true or false, not {value!r}")


def _confirmed(result: Any) -> bool:
    """Whether a publish's confirmation is RabbitMQ's ack (a nack, or a message returned as unroutable, is not)."""
    return isinstance(result, aiormq.spec.Basic.Ack)
