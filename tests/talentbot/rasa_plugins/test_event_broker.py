"""The spooled event broker: every event on disk first, then to RabbitMQ through Rasa's PikaEventBroker, whatever
RabbitMQ does (down at start, down for a while, down while the process stops). Against the machine's RabbitMQ
(127.0.0.1:5672, guest) behind a proxy the test cuts, on queues of the test's own."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
import uuid
from typing import AsyncIterator, List

import aio_pika
import pytest
from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

from talentbot.core.analytics.batches import BATCH_CONTENT_TYPE, BATCH_HEADER, deliveries
from talentbot.core.analytics.spool import Spool
from talentbot.core.analytics.turns import TURN_HEADER, decode
from talentbot.rasa_plugins.event_broker import SpooledEventBroker, selected_event_types, spooled_form
from tests.e2e.tcp_proxy import TcpProxy

RABBITMQ = ("127.0.0.1", 5672)
TYPE = "talentbot.rasa_plugins.event_broker.SpooledEventBroker"


def rabbitmq_reachable() -> bool:
    try:
        with socket.create_connection(RABBITMQ, timeout=0.5):
            return True
    except OSError:
        return False


needs_rabbitmq = pytest.mark.skipif(not rabbitmq_reachable(), reason="RabbitMQ is not reachable at 127.0.0.1:5672")


def turn(sender: str, ts: float) -> List[dict]:
    return [
        {"sender_id": sender, "event": "user", "timestamp": ts, "text": "What is TTPS?", "input_channel": "rest",
         "parse_data": {"intent": {"name": "ask_scheme_info", "confidence": 0.99}}},
        {"sender_id": sender, "event": "slot", "timestamp": ts + 0.01, "name": "language", "value": "en"},
        {"sender_id": sender, "event": "action", "timestamp": ts + 0.02, "name": "action_answer"},
        {"sender_id": sender, "event": "bot", "timestamp": ts + 0.03, "text": "TTPS is ...",
         "metadata": {"metadata": {"language": "en", "outcome": {"answer": {"kind": "entry", "id": "ttps.what"}}}}},
        {"sender_id": sender, "event": "action", "timestamp": ts + 0.04, "name": "action_listen"},
    ]


def config(tmp_path, **settings: object) -> EndpointConfig:
    return EndpointConfig.from_dict({"type": TYPE, "spool": str(tmp_path / "spool.sqlite3"), **settings})


SUMMARY = {"v": 1, "language": "en", "actions": ["action_answer"],
           "outcome": {"answer": {"kind": "entry", "id": "ttps.what"}}}


async def test_a_turn_is_summed_up_on_its_user_message_which_alone_is_sent_by_default(tmp_path) -> None:
    broker = await EventBroker.create(config(tmp_path))  # Rasa's own factory, as the endpoints file makes it
    assert isinstance(broker, SpooledEventBroker) and broker.is_ready()
    events = turn("rest:ann", 100.0)
    for event in events:  # as Rasa's tracker store publishes them: one call each, no await in between
        broker.publish(event)
    assert broker.spool.pending() == 0  # not yet: at the end of this step of the event loop
    await asyncio.sleep(0)
    spooled = broker.spool.claim(10)
    assert [json.loads(s.body) for s in spooled] == events[:1]  # the analytics consumer reads nothing else
    assert decode(spooled[0].headers[TURN_HEADER]) == SUMMARY  # made from every event of the turn
    await broker.close()


async def test_with_event_types_all_every_event_is_spooled_in_one_go(tmp_path) -> None:
    broker = await EventBroker.create(config(tmp_path, event_types="all"))
    assert isinstance(broker, SpooledEventBroker) and broker.event_types is None
    events = turn("rest:ann", 100.0)
    for event in events:
        broker.publish(event)
    await asyncio.sleep(0)
    spooled = broker.spool.claim(10)
    assert [json.loads(s.body) for s in spooled] == events  # Rasa's bodies, unchanged
    assert decode(spooled[0].headers[TURN_HEADER]) == SUMMARY
    assert all(not s.headers for s in spooled[1:])
    await broker.close()


@pytest.mark.parametrize(("setting", "kept"), [
    (None, frozenset({"user"})), ("all", None), (["user", "bot"], frozenset({"user", "bot"})),
    ("action", frozenset({"action"})), (["user", "all"], None)])
def test_event_types_setting(setting, kept) -> None:
    assert selected_event_types(setting) == kept


@pytest.mark.parametrize("setting", [["user", "bots"], [], 3])
def test_an_unknown_event_type_is_refused(setting) -> None:
    with pytest.raises(ValueError, match="event_types"):
        selected_event_types(setting)


def test_outside_the_event_loop_events_are_written_at_once(tmp_path) -> None:
    broker = SpooledEventBroker(Spool(tmp_path / "spool.sqlite3"))
    broker.publish(turn("rest:bo", 1.0)[0])
    assert broker.spool.pending() == 1


@pytest.fixture
async def queue_name() -> AsyncIterator[str]:
    """A queue, and an exchange of the same name, of the test's own (Rasa's default exchange is shared by every
    Rasa server on the broker: its queues receive every event any of them publishes)."""
    name = f"talentbot_test_{uuid.uuid4().hex[:10]}"
    yield name
    connection = await aio_pika.connect_robust(host=RABBITMQ[0], port=RABBITMQ[1])
    channel = await connection.channel()
    await channel.queue_delete(name)
    await channel.exchange_delete(name)
    await connection.close()


async def drain(name: str, expected: int, timeout: float = 30.0) -> List[aio_pika.abc.AbstractIncomingMessage]:
    connection = await aio_pika.connect_robust(host=RABBITMQ[0], port=RABBITMQ[1])
    channel = await connection.channel()
    queue = await channel.declare_queue(name, durable=True)
    received: List[aio_pika.abc.AbstractIncomingMessage] = []
    deadline = time.monotonic() + timeout
    while len(received) < expected and time.monotonic() < deadline:
        message = await queue.get(no_ack=True, fail=False)
        if message is None:
            await asyncio.sleep(0.1)
        else:
            received.append(message)
    await asyncio.sleep(0.3)
    extra = await queue.get(no_ack=True, fail=False)
    await connection.close()
    assert extra is None, "more messages than published"
    return received


def pika(proxy: TcpProxy, queue: str, tmp_path, **settings: object) -> EndpointConfig:
    return config(tmp_path, forward="pika", url="127.0.0.1", port=proxy.port, username="guest", password="guest",
                  queues=[queue], exchange_name=queue, **settings)


@needs_rabbitmq
async def test_rabbitmq_gets_rasas_messages_each_confirmed(tmp_path, queue_name) -> None:
    with TcpProxy(*RABBITMQ) as proxy:  # every event (event_types: all): Rasa's messages, one per event
        broker = await EventBroker.create(pika(proxy, queue_name, tmp_path, event_types="all"))
        assert isinstance(broker, SpooledEventBroker)
        for event in turn("rest:cy", 5.0):
            broker.publish(event)
        received = await drain(queue_name, 5)
        assert [json.loads(m.body) for m in received] == turn("rest:cy", 5.0)
        assert received[0].delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        assert (decode(received[0].headers[TURN_HEADER]) or {})["actions"] == ["action_answer"]
        assert broker.spool.pending() == 0  # removed once confirmed
        await broker.close()


@needs_rabbitmq
async def test_with_batch_a_send_is_one_message_of_rasas_bodies_one_per_line(tmp_path, queue_name) -> None:
    with TcpProxy(*RABBITMQ) as proxy:
        broker = await EventBroker.create(pika(proxy, queue_name, tmp_path, batch=True, event_types="all"))
        assert isinstance(broker, SpooledEventBroker) and broker.forwarder is not None and broker.forwarder.batch
        events = turn("rest:b0", 50.0) + turn("rest:b1", 51.0)
        for event in events:  # one step: spooled together, sent together
            broker.publish(event)
        (message,) = await drain(queue_name, 1)
        assert message.content_type == BATCH_CONTENT_TYPE and message.headers[BATCH_HEADER] == 10
        assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        unpacked = deliveries(message.body, message.headers)
        assert [json.loads(body) for body, _ in unpacked] == events  # Rasa's bodies, one per line
        assert [decode(headers.get(TURN_HEADER)) for headers in (h for _, h in unpacked) if headers] == [
            SUMMARY, {**SUMMARY}]
        assert broker.spool.pending() == 0
        await broker.close()


def test_the_batch_setting_is_a_yes_or_no() -> None:
    from talentbot.rasa_plugins.event_broker import _flag

    assert (_flag(True, "batch"), _flag("true", "batch"), _flag("0", "batch"), _flag("", "batch")) == (
        True, True, False, False)
    with pytest.raises(ValueError, match="batch"):
        _flag("sometimes", "batch")


@needs_rabbitmq
async def test_rabbitmq_down_at_start_and_for_a_while_loses_nothing_and_is_logged_once(tmp_path, queue_name,
                                                                                     caplog) -> None:
    caplog.set_level(logging.INFO, logger="talentbot.rasa_plugins.event_broker")
    proxy = TcpProxy(*RABBITMQ)  # not listening: RabbitMQ unreachable
    started = time.monotonic()
    broker = await EventBroker.create(pika(proxy, queue_name, tmp_path))
    assert time.monotonic() - started < 2  # Rasa's own broker tries 20 x 5 s, then Rasa exits
    assert isinstance(broker, SpooledEventBroker)
    for n in range(10):
        for event in turn(f"rest:down{n}", 10.0 + n):
            broker.publish(event)
        await asyncio.sleep(0.5)
    assert broker.spool.pending() == 10  # a user message per turn
    proxy.restore()
    received = await drain(queue_name, 10)
    assert len(received) == 10 and broker.spool.pending() == 0
    assert all(TURN_HEADER in m.headers for m in received)
    proxy.cut()  # down again while running
    for event in turn("rest:again", 30.0):
        broker.publish(event)
    await asyncio.sleep(3)
    proxy.restore()
    assert len(await drain(queue_name, 1)) == 1
    await broker.close()
    proxy.cut()
    ours = [r for r in caplog.records if r.name == "talentbot.rasa_plugins.event_broker"]
    errors = [r for r in ours if r.levelno >= logging.ERROR]
    assert len(errors) == 2 and all("unreachable" in r.getMessage() for r in errors), [r.getMessage() for r in errors]
    assert sum(r.getMessage().startswith("The event broker (RabbitMQ) answers again") for r in ours) == 2
    assert not any("rest:" in r.getMessage() or "TTPS" in r.getMessage() for r in caplog.records)


@needs_rabbitmq
async def test_what_a_stopping_process_could_not_send_is_sent_by_the_next(tmp_path, queue_name) -> None:
    proxy = TcpProxy(*RABBITMQ)
    broker = await EventBroker.create(pika(proxy, queue_name, tmp_path))
    assert isinstance(broker, SpooledEventBroker)
    for event in turn("rest:stopped", 40.0):
        broker.publish(event)
    await asyncio.sleep(0.5)
    await broker.close()  # Rasa shutting down while RabbitMQ is unreachable
    assert Spool(tmp_path / "spool.sqlite3").pending() == 1
    with proxy:
        successor = await EventBroker.create(pika(proxy, queue_name, tmp_path))
        assert isinstance(successor, SpooledEventBroker)
        received = await drain(queue_name, 1)
        assert [json.loads(m.body)["timestamp"] for m in received] == [turn("", 40.0)[0]["timestamp"]]
        await successor.close()


def test_spooled_form_gives_each_user_message_its_own_turn() -> None:
    events = turn("a", 1.0) + turn("b", 1.5)[:1] + turn("a", 2.0)[:3]
    form = spooled_form(events)
    summaries = [decode(headers[TURN_HEADER]) if headers else None for _, headers in form]
    assert [s["actions"] if s else None for s in summaries] == [
        ["action_answer"], None, None, None, None, [], ["action_answer"], None, None]
    users = spooled_form(events, frozenset({"user"}))  # the turns summed up all the same
    user_summaries = [decode((headers or {}).get(TURN_HEADER)) or {} for _, headers in users]
    assert [summary.get("actions") for summary in user_summaries] == [["action_answer"], [], ["action_answer"]]


async def test_servers_without_a_consumer_keep_their_events_in_the_spool(tmp_path, monkeypatch) -> None:
    """TALENTBOT_EVENTS_FORWARD=0 (talentbot.wiring.devserver.assistant without a consumer: tests, the benchmark):
    nothing goes to a durable queue no one would read."""
    monkeypatch.setenv("TALENTBOT_EVENTS_FORWARD", "0")
    broker = await EventBroker.create(config(tmp_path, forward="pika", url="127.0.0.1", port=1, username="guest",
                                             password="guest", queues=["never"], exchange_name="never"))
    assert isinstance(broker, SpooledEventBroker) and broker.forwarder is None
    await broker.close()
