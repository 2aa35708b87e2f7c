"""`talentbot events consume|purge`: where the events are read from, exactly-once storage from the spool and from
RabbitMQ with competing consumers and redeliveries, the salt production requires, and the retention."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import uuid
from pathlib import Path
from typing import Any, AsyncIterator, List, Sequence

import aio_pika
import pytest
from sqlalchemy import text

from talentbot.core import paths
from talentbot.core.analytics import batches
from talentbot.core.analytics.identity import event_key
from talentbot.core.analytics.spool import Spool
from talentbot.core.analytics.store import AnalyticsStore
from talentbot.core.analytics.turns import TURN_HEADER
from talentbot.rasa_plugins.event_broker import spooled_form
from talentbot.wiring import cli
from talentbot.wiring.devserver import production_env
from talentbot.wiring.events_cli import (
    AmqpSource,
    Consumer,
    SpoolSource,
    broker_settings,
    consume_amqp,
    consume_spool,
    purge_analytics,
    source_of,
)

SALT = b"t" * 32


def turn(sender: str, ts: float, intent: str = "ask_scheme_info", text_: str = "What is TTPS?") -> List[dict]:
    return [
        {"sender_id": sender, "event": "user", "timestamp": ts, "text": text_, "input_channel": "rest",
         "parse_data": {"intent": {"name": intent, "confidence": 0.9}}},
        {"sender_id": sender, "event": "slot", "timestamp": ts + 0.001, "name": "language", "value": "en"},
        {"sender_id": sender, "event": "action", "timestamp": ts + 0.002, "name": "action_answer"},
        {"sender_id": sender, "event": "action", "timestamp": ts + 0.003, "name": "action_listen"},
    ]


def test_the_shipped_endpoints_say_where_the_events_are(tmp_path) -> None:
    embedded = source_of(broker_settings(paths.ENDPOINTS, {}), {"TALENTBOT_EVENTS_SPOOL": str(tmp_path / "s.db")})
    assert embedded == SpoolSource(tmp_path / "s.db")
    env = production_env({"ACTION_SERVER_URL": "http://127.0.0.1:5055/webhook"})
    assert source_of(broker_settings(paths.ENDPOINTS_PRODUCTION, env), env) == AmqpSource(
        "127.0.0.1", 5672, "guest", "guest", "talentbot_events", "talentbot_events")
    with pytest.raises(ValueError, match="RABBITMQ_HOST"):
        broker_settings(paths.ENDPOINTS_PRODUCTION, {})
    with pytest.raises(ValueError, match="no event_broker"):
        source_of(None, {})


def test_production_refuses_to_consume_without_the_salt(monkeypatch, capsys) -> None:
    monkeypatch.delenv("TALENTBOT_ANALYTICS_SALT", raising=False)
    assert cli.main(["events", "consume", "--production"]) == 2
    assert "TALENTBOT_ANALYTICS_SALT" in capsys.readouterr().err


async def run_until(consumer: Consumer, task: "asyncio.Future[Any]", done: Any, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not done() and loop.time() < deadline and not task.done():
        await asyncio.sleep(0.1)
    consumer.stop.set()
    await asyncio.wait_for(task, 10)
    assert done()


async def test_the_spool_is_the_outbox_of_the_embedded_set_up(tmp_path) -> None:
    spool = Spool(tmp_path / "spool.sqlite3")
    events = [event for n in range(30) for event in turn(f"rest:u{n % 3}", 100.0 + n)]
    spool.append(spooled_form(events))
    spool.append(spooled_form(events[:8]))  # the same events spooled twice (a sender that died mid-batch)
    store = AnalyticsStore.from_url(f"sqlite:///{tmp_path / 'handoff.sqlite3'}")
    consumer = Consumer(store, SALT, asyncio.Event())
    task = asyncio.ensure_future(consume_spool(consumer, SpoolSource(spool.path)))
    await run_until(consumer, task, lambda: spool.pending() == 0)
    assert store.count() == 30
    assert (consumer.counts.stored, consumer.counts.duplicates) == (30, 2)
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT language, actions FROM analytics_messages")).all()
    assert {(language, actions) for language, actions in rows} == {("en", '["action_answer"]')}
    store.close()


def rabbitmq_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
async def queue() -> AsyncIterator[AmqpSource]:
    if not rabbitmq_reachable():
        pytest.skip("RabbitMQ is not reachable at 127.0.0.1:5672")
    name = f"talentbot_test_{uuid.uuid4().hex[:10]}"
    source = AmqpSource("127.0.0.1", 5672, "guest", "guest", name, exchange=name)  # never Rasa's shared default
    yield source
    connection = await aio_pika.connect_robust(host=source.host, port=source.port)
    channel = await connection.channel()
    await channel.queue_delete(source.queue)
    await channel.exchange_delete(source.exchange)
    await connection.close()


async def publish(source: AmqpSource, events: List[dict]) -> None:
    """As the spooled broker publishes: Rasa's exchange, each event's JSON, the turn summary on user messages."""
    connection = await aio_pika.connect_robust(host=source.host, port=source.port)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(source.exchange, type=aio_pika.ExchangeType.FANOUT)
    queue = await channel.declare_queue(source.queue, durable=True)
    await queue.bind(exchange, "")
    for body, headers in spooled_form(events):
        await exchange.publish(aio_pika.Message(body.encode(), headers=dict(headers or {}),
                                                delivery_mode=aio_pika.DeliveryMode.PERSISTENT), "")
    await connection.close()


async def test_competing_consumers_store_every_message_once_despite_redeliveries(tmp_path, queue) -> None:
    events = [event for n in range(300) for event in turn(f"telegram:{n % 7}", 1000.0 + n)]
    await publish(queue, events)
    await publish(queue, events[:40])  # published twice (a sender whose confirm was lost)
    # a consumer that takes messages and dies before acknowledging them: RabbitMQ hands them to the others
    crashing = await aio_pika.connect_robust(host=queue.host, port=queue.port)
    channel = await crashing.channel()
    await channel.set_qos(prefetch_count=50)
    taken = await channel.declare_queue(queue.queue, durable=True)
    held: List[Any] = []
    await taken.consume(held.append)
    while len(held) < 50:
        await asyncio.sleep(0.05)
    url = f"sqlite:///{tmp_path / 'handoff.sqlite3'}"
    stores = [AnalyticsStore.from_url(url), AnalyticsStore.from_url(url)]
    stop = asyncio.Event()
    consumers = [Consumer(store, SALT, stop) for store in stores]
    tasks = [asyncio.ensure_future(consume_amqp(consumer, queue)) for consumer in consumers]
    await asyncio.sleep(1)
    await crashing.close()  # never acknowledged
    await run_until(consumers[0], asyncio.gather(*tasks), lambda: stores[0].count() == 300, timeout=60)
    assert stores[0].count() == 300
    assert sum(c.counts.duplicates for c in consumers) == 10  # the 10 user messages published twice
    assert all(c.counts.stored > 0 for c in consumers)  # both took part
    expected = {event_key(e["sender_id"], "user", e["timestamp"], SALT) for e in events if e["event"] == "user"}
    with stores[0].engine.connect() as connection:
        assert set(connection.execute(text("SELECT event_key FROM analytics_messages")).scalars()) == expected
    for store in stores:
        store.close()
    check = await aio_pika.connect_robust(host=queue.host, port=queue.port)
    declared = await (await check.channel()).declare_queue(queue.queue, durable=True)
    assert declared.declaration_result.message_count == 0  # every message acknowledged
    await check.close()


async def test_batched_and_single_messages_are_stored_alike(tmp_path, queue) -> None:
    """The broker's `batch: true` (several events per message, talentbot.core.analytics.batches) next to Rasa's
    one event per message, on one queue: every user message stored once, its turn summary read from the batch."""
    events = [event for n in range(40) for event in turn(f"rest:b{n % 5}", 2000.0 + n)]
    form = spooled_form(events)
    connection = await aio_pika.connect_robust(host=queue.host, port=queue.port)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(queue.exchange, type=aio_pika.ExchangeType.FANOUT)
    declared = await channel.declare_queue(queue.queue, durable=True)
    await declared.bind(exchange, "")
    for start in range(0, 120, 30):  # the first 30 turns in 4 messages of 30 events
        body, batch_headers = batches.batch_message([(event, own or {}) for event, own in form[start:start + 30]])
        await exchange.publish(aio_pika.Message(body, headers=batch_headers,
                                                content_type=batches.BATCH_CONTENT_TYPE), "")
    for event, own in form[120:]:  # the other 10 turns one event per message
        await exchange.publish(aio_pika.Message(event.encode(), headers=dict(own or {})), "")
    await connection.close()
    store = AnalyticsStore.from_url(f"sqlite:///{tmp_path / 'handoff.sqlite3'}")
    consumer = Consumer(store, SALT, asyncio.Event())
    task = asyncio.ensure_future(consume_amqp(consumer, queue))
    await run_until(consumer, task, lambda: store.count() == 40)
    assert (consumer.counts.events, consumer.counts.stored, consumer.counts.malformed) == (160, 40, 0)
    with store.engine.connect() as connection_:
        rows = connection_.execute(text("SELECT language, actions FROM analytics_messages")).all()
    assert set(rows) == {("en", '["action_answer"]')}  # the summaries came through
    store.close()


def test_purge_removes_old_texts_and_old_spooled_events(tmp_path, monkeypatch, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'handoff.sqlite3'}"
    now = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
    old, recent = (now - dt.timedelta(days=100)).timestamp(), (now - dt.timedelta(days=10)).timestamp()
    store = AnalyticsStore.from_url(url)
    from talentbot.core.analytics.records import rows_from

    deliveries = [(body, headers or {}) for body, headers in
                  spooled_form(turn("rest:p", old, "nlu_fallback", "my number is 9123 4567")
                               + turn("rest:p", recent, "nlu_fallback", "call 9876 5432"))]
    store.add(rows_from(deliveries, SALT, now)[0])
    store.close()
    spool = Spool(tmp_path / "spool.sqlite3")
    spool.append([("old", None)], now=old)
    spool.append([("new", None)], now=recent)
    assert purge_analytics(90, url, spool.path, now=now).__dict__ == {"texts": 1, "spooled": 1}
    assert purge_analytics(90, url, spool.path, now=now).__dict__ == {"texts": 0, "spooled": 0}
    # nothing is created where nothing was
    assert purge_analytics(90, f"sqlite:///{tmp_path / 'none.sqlite3'}", tmp_path / "none.db").__dict__ == {
        "texts": 0, "spooled": 0}
    assert not (tmp_path / "none.sqlite3").exists() and not (tmp_path / "none.db").exists()
    monkeypatch.setenv("HANDOFF_DB_URL", url)
    monkeypatch.delenv("ANALYTICS_DB_URL", raising=False)
    assert cli.main(["events", "purge", "--days", "5", "--spool", str(spool.path)]) == 0
    assert "1 message texts older than 5 days removed, 1 spooled events" in capsys.readouterr().out
    assert cli.main(["events", "purge", "--days", "0"]) == 2


def test_the_spool_row_bodies_are_rasas_json(tmp_path) -> None:
    events = turn("rest:x", 1.0)
    form = spooled_form(events)
    assert [json.loads(body) for body, _ in form] == events
    assert TURN_HEADER in (form[0][1] or {}) and Path(paths.ROOT).exists()


async def test_a_consumer_cut_off_from_rabbitmq_mid_stream_recovers_and_still_stops_at_once(tmp_path, queue) -> None:
    """Acknowledgements on a channel lost meanwhile never complete in aio-pika: the consumer must not hang on them
    (it would hold its unacknowledged messages, and ignore SIGTERM)."""
    from tests.e2e.tcp_proxy import TcpProxy

    events = [event for n in range(400) for event in turn(f"rest:{n % 5}", 5000.0 + n)]
    await publish(queue, events)
    store = AnalyticsStore.from_url(f"sqlite:///{tmp_path / 'handoff.sqlite3'}")
    slow_add = store.add

    def add(rows: Sequence[dict]) -> int:  # slow enough that the cut falls between storing and acknowledging
        import time

        time.sleep(0.05)
        return slow_add(rows)

    store.add = add  # type: ignore[method-assign]
    with TcpProxy(queue.host, queue.port) as proxy:
        behind = AmqpSource(queue.host, proxy.port, "guest", "guest", queue.queue, queue.exchange)
        consumer = Consumer(store, SALT, asyncio.Event())
        task = asyncio.ensure_future(consume_amqp(consumer, behind))
        while store.count() < 50:
            await asyncio.sleep(0.01)
        proxy.cut()
        await asyncio.sleep(2)
        proxy.restore()
        await run_until(consumer, task, lambda: store.count() == 400, timeout=60)
    assert store.count() == 400
    store.close()


async def test_a_row_the_database_refuses_is_dropped_not_redelivered_for_ever(tmp_path) -> None:
    spool = Spool(tmp_path / "spool.sqlite3")
    spool.append(spooled_form([event for n in range(5) for event in turn("rest:poison", 100.0 + n)]))
    store = AnalyticsStore.from_url(f"sqlite:///{tmp_path / 'handoff.sqlite3'}")
    poisoned = event_key("rest:poison", "user", 102.0, SALT)
    real_add = store.add

    def add(rows: Sequence[dict]) -> int:
        if any(row["event_key"] == poisoned for row in rows):
            raise ValueError("a value this database cannot hold")
        return real_add(rows)

    store.add = add  # type: ignore[method-assign]
    consumer = Consumer(store, SALT, asyncio.Event())
    task = asyncio.ensure_future(consume_spool(consumer, SpoolSource(spool.path)))
    await run_until(consumer, task, lambda: spool.pending() == 0)
    assert store.count() == 4 and consumer.counts.malformed == 1
    store.close()
