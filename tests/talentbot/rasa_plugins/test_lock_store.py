"""talentbot.rasa_plugins.lock_store: Rasa's Redis lock store, refusing a message when Redis is down, never dropping an
answer."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from typing import Dict, Optional

import pytest
import redis.exceptions
from rasa.core.lock_store import LockError, LockStore
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from talentbot.core import paths
from talentbot.core.store_outages import LOCK_STORE, OutageLog, StoreUnavailable
from talentbot.rasa_plugins.lock_store import CONNECT_TIMEOUT_S, SOCKET_TIMEOUT_S, RedisLockStore
from talentbot.wiring.devserver import production_env


class FlakyRedis:
    """The three Redis commands the lock store uses, on a dict; `down` makes each raise as a stopped Redis does."""

    def __init__(self) -> None:
        self.data: Dict[str, bytes] = {}
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")

    def get(self, key: str) -> Optional[bytes]:
        self._check()
        return self.data.get(key)

    def set(self, key: str, value: str) -> None:
        self._check()
        self.data[key] = value.encode() if isinstance(value, str) else value

    def delete(self, key: str) -> int:
        self._check()
        return int(self.data.pop(key, None) is not None)


@pytest.fixture
def outages() -> OutageLog:
    return OutageLog(logging.getLogger("test.lock_store"))


@pytest.fixture
def redis_fake() -> FlakyRedis:
    return FlakyRedis()


@pytest.fixture
def store(outages, redis_fake) -> RedisLockStore:
    built = RedisLockStore(host="127.0.0.1", port=6390, key_prefix="talentbot", outages=outages)
    built.red = redis_fake
    return built


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def handle(store: RedisLockStore, conversation: str, during=None) -> str:
    async with store.lock(conversation):
        if during:
            during()
        return "answered"


def test_a_message_is_handled_under_the_lock_and_the_lock_is_released(store, redis_fake):
    assert asyncio.run(handle(store, "web:a")) == "answered"
    assert redis_fake.data == {}


def test_an_unreachable_redis_refuses_the_message_before_it_runs(outages):
    store = RedisLockStore(host="127.0.0.1", port=closed_port(), outages=outages)
    ran = []
    with pytest.raises(StoreUnavailable) as raised:
        asyncio.run(handle(store, "web:a", during=lambda: ran.append(True)))
    assert raised.value.store == LOCK_STORE
    assert isinstance(raised.value.cause, redis.exceptions.ConnectionError)
    assert ran == [] and LOCK_STORE in outages.down()


def test_redis_going_down_during_the_message_keeps_the_answer(store, redis_fake, outages):
    """The turn ran and was stored: the lock that cannot be released is logged, and the answer goes out."""
    assert asyncio.run(handle(store, "web:a", during=lambda: setattr(redis_fake, "down", True))) == "answered"
    assert LOCK_STORE in outages.down()
    redis_fake.down = False
    assert asyncio.run(handle(store, "web:b")) == "answered"
    assert outages.down() == {}


def test_an_error_of_the_message_itself_is_not_hidden(store, redis_fake):
    def fail() -> None:
        redis_fake.down = True
        raise KeyError("the message's own error")

    with pytest.raises(KeyError):
        asyncio.run(handle(store, "web:a", during=fail))


def test_other_lock_errors_pass_unchanged(store, monkeypatch):
    async def expired(*args, **kwargs):
        raise LockError("Could not acquire lock for conversation_id 'web:a'.")

    monkeypatch.setattr(store, "_acquire_lock", expired)
    with pytest.raises(LockError):
        asyncio.run(handle(store, "web:a"))


def test_rasa_builds_it_from_its_endpoint_with_rasas_settings():
    config = EndpointConfig(url="127.0.0.1", type="talentbot.rasa_plugins.lock_store.RedisLockStore", port="6390",
                            db="2", key_prefix="talentbot")
    store = LockStore.create(config)
    assert isinstance(store, RedisLockStore)
    assert store.key_prefix == "talentbot:lock:"
    kwargs = store.red.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("127.0.0.1", 6390, 2)


def test_the_production_endpoints_name_this_lock_store(monkeypatch):
    for name, value in production_env({"ACTION_SERVER_URL": "http://127.0.0.1:5055/webhook"}).items():
        monkeypatch.setenv(name, value)
    config = read_endpoint_config(str(paths.ENDPOINTS_PRODUCTION), "lock_store")
    assert config.type == "talentbot.rasa_plugins.lock_store.RedisLockStore"


@pytest.fixture
def silent_port():
    """A port that takes TCP connections (the kernel's accept queue) but never reads or answers: Redis hung, or a
    proxy in front of a Redis that went away."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


@pytest.fixture
def unreachable_port():
    """A port whose connections never complete: its accept queue is full, so the kernel drops further SYNs, as a
    blackholed host (a network cut, a dropped route) does."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers = []
        try:
            for _ in range(4):
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
                fillers.append(filler)
            time.sleep(0.1)
            yield port
        finally:
            for filler in fillers:
                filler.close()


@pytest.mark.parametrize("port_fixture", ["silent_port", "unreachable_port"])
def test_a_redis_that_never_answers_refuses_the_message_within_the_timeout(outages, port_fixture, request):
    """Rasa's client waited 10 s, with the event loop (every conversation of the process) stopped meanwhile."""
    store = RedisLockStore(host="127.0.0.1", port=request.getfixturevalue(port_fixture), outages=outages)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as raised:
        asyncio.run(handle(store, "web:a"))
    assert time.monotonic() - started < CONNECT_TIMEOUT_S + SOCKET_TIMEOUT_S + 1
    assert isinstance(raised.value.cause, redis.exceptions.TimeoutError)
    assert LOCK_STORE in outages.down()


def test_the_timeouts_come_from_the_endpoint_settings():
    config = EndpointConfig(url="127.0.0.1", type="talentbot.rasa_plugins.lock_store.RedisLockStore", port="6390",
                            socket_timeout="0.25", socket_connect_timeout=0.5)  # from ${VARIABLES}: strings too
    kwargs = LockStore.create(config).red.connection_pool.connection_kwargs
    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (0.25, 0.5)
    defaults = RedisLockStore(host="127.0.0.1", port=6390).red.connection_pool.connection_kwargs
    assert (defaults["socket_timeout"], defaults["socket_connect_timeout"]) == (SOCKET_TIMEOUT_S, CONNECT_TIMEOUT_S)
    assert SOCKET_TIMEOUT_S <= 2 and CONNECT_TIMEOUT_S <= 2


@pytest.mark.parametrize("value", ["soon", "0", -1, None])
def test_a_timeout_that_is_not_a_positive_number_is_refused_at_start_up(value):
    with pytest.raises(ValueError, match="socket_timeout"):
        RedisLockStore(host="127.0.0.1", port=6390, socket_timeout=value)


# --- a message waiting behind a dead one (issue 14: a host killed mid-conversation) --------------------------------


async def waits_behind(store: RedisLockStore, dead_lifetime: float, lifetime: float, wait: float) -> float:
    """A message that died with its process left its ticket; the user's next message (sent again at once) waits
    for it. Returns how long that message waited for its turn."""
    store.issue_ticket("web:a", dead_lifetime)  # never released
    await asyncio.sleep(0.05)
    started = time.monotonic()
    async with store.lock("web:a", lock_lifetime=lifetime, wait_time_in_seconds=wait):
        return time.monotonic() - started


def test_a_message_behind_a_dead_ticket_is_served_when_both_tickets_expire_together(store, redis_fake):
    """Upstream both tickets were dropped by the same clean-up, and the message waited for its own, gone ticket
    forever (the user's message was never answered)."""
    waited = asyncio.run(asyncio.wait_for(waits_behind(store, 0.3, 0.3, wait=0.5), timeout=5))
    assert waited < 1.5
    assert redis_fake.data == {}  # its new ticket was released with the lock


def test_a_message_behind_a_dead_ticket_is_served_when_it_expires(store, redis_fake):
    waited = asyncio.run(asyncio.wait_for(waits_behind(store, 0.3, 5.0, wait=0.1), timeout=5))
    assert 0.2 < waited < 1.0
    assert redis_fake.data == {}


def test_a_message_whose_ticket_expires_still_waits_for_a_live_one(store, redis_fake):
    """A new ticket goes to the back of the queue: a message handled meanwhile keeps the lock until it is done."""
    order = []

    async def both() -> None:
        async def holder() -> None:
            async with store.lock("web:a", lock_lifetime=10, wait_time_in_seconds=0.05):
                order.append("holder starts")
                await asyncio.sleep(0.6)
                order.append("holder done")

        async def waiter() -> None:
            await asyncio.sleep(0.05)
            async with store.lock("web:a", lock_lifetime=0.2, wait_time_in_seconds=0.05):
                order.append("waiter runs")

        await asyncio.gather(holder(), waiter())

    asyncio.run(asyncio.wait_for(both(), timeout=5))
    assert order == ["holder starts", "holder done", "waiter runs"]
    assert redis_fake.data == {}
