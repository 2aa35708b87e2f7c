"""Fixtures for the channel tests: state stores, fake platform API servers, a real Sanic app with a channel mounted;
and what the platform channels' fuzz tests share (importable as ``tests.connectors.conftest``)."""
from __future__ import annotations

import itertools
import shutil
import socket
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable, Optional

import httpx
import pytest
import redis
import redis.exceptions
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rasa.core.channels.channel import InputChannel, UserMessage, register
from sanic import Sanic

from connectors.handoff_gate import HandoffGate, use_gate
from connectors.state import RedisStateStore, SQLiteStateStore
from talentbot.core.handoff.policy import default_policy
from talentbot.core.handoff.store import SqlTicketStore
from tests.conftest import FakePlatform, LocalRedis, path_name, telegram_method

FIXTURES = Path(__file__).with_name("fixtures")
REDIS_URL = "redis://127.0.0.1:6379/0"


# --- the handoff queue every channel consults ------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def handoff_store(tmp_path_factory: pytest.TempPathFactory):
    """The channels' handoff gate on a queue database of this test run (never the project's var/)."""
    store = SqlTicketStore.from_url(f"sqlite:///{tmp_path_factory.mktemp('handoff') / 'handoff.sqlite3'}")
    use_gate(HandoffGate(store, default_policy()))
    yield store
    use_gate(None)
    store.close()


# --- state stores --------------------------------------------------------------------------------------------


def _redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.fixture
async def sqlite_store(tmp_path: Path):
    store = SQLiteStateStore(tmp_path / "state.sqlite3")
    yield store
    await store.close()


@pytest.fixture
async def redis_store():
    if not _redis_available():
        pytest.skip("no Redis at 127.0.0.1:6379")
    prefix = f"test:{uuid.uuid4().hex}:"  # unique per test: tests never see each other's keys
    store = RedisStateStore(REDIS_URL, prefix=prefix)
    yield store
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    await store.close()


@pytest.fixture(params=["sqlite", "redis"])
def any_store(request: pytest.FixtureRequest):
    """Every StateStore implementation, for the tests they must all pass."""
    return request.getfixturevalue(f"{request.param}_store")


REDIS_DOWN = redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
"""What redis-py raises for every call while Redis is unreachable."""


class FlakyStore:
    """A state store that can go down (`down`), go down after a number of calls (`fail_after`), or fail on the
    keys starting with `fail_on`: such calls raise what redis-py raises while Redis is unreachable."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.down = False
        self.fail_after: Optional[int] = None
        self.fail_on: Optional[str] = None

    def _check(self, key: str) -> None:
        if self.fail_after is not None:
            self.fail_after -= 1
            if self.fail_after < 0:
                self.down = True
        if self.down or (self.fail_on is not None and key.startswith(self.fail_on)):
            raise REDIS_DOWN

    async def claim(self, key: str, ttl_s: float) -> bool:
        self._check(key)
        return await self.store.claim(key, ttl_s)

    async def get(self, key: str) -> Optional[str]:
        self._check(key)
        return await self.store.get(key)

    async def put(self, key: str, value: str, ttl_s: Optional[float] = None) -> None:
        self._check(key)
        await self.store.put(key, value, ttl_s)

    async def pop(self, key: str) -> Optional[str]:
        self._check(key)
        return await self.store.pop(key)

    async def delete(self, key: str) -> None:
        self._check(key)
        await self.store.delete(key)

    async def close(self) -> None:
        await self.store.close()


@pytest.fixture
def flaky_store(sqlite_store) -> FlakyStore:
    return FlakyStore(sqlite_store)


@pytest.fixture
def local_redis(tmp_path: Path):
    """A redis-server of the test's own (tests.conftest.LocalRedis: a temporary folder, a free port), started and
    stopped by the test, so a test may stop it without disturbing the machine's shared Redis; skipped where
    redis-server is not installed."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = LocalRedis(tmp_path)
    server.start()
    yield server
    server.stop()


# --- fake platform servers (tests.conftest.FakePlatform) ------------------------------------------------------


@pytest.fixture
async def wechat_api():
    """Fake api.weixin.qq.com: /cgi-bin/token, /cgi-bin/message/custom/send, /cgi-bin/user/info."""
    fake = await FakePlatform(FIXTURES / "wechat", path_name).start()
    yield fake
    await fake.stop()


@pytest.fixture
async def telegram_api():
    """Fake Bot API: /bot<token>/getMe, /sendMessage, /answerCallbackQuery, /setWebhook."""
    fake = await FakePlatform(FIXTURES / "telegram", telegram_method).start()
    yield fake
    await fake.stop()


@pytest.fixture
async def graph_api():
    """Fake Graph API: /v19.0/<phone_number_id>/messages."""
    fake = await FakePlatform(FIXTURES / "whatsapp", path_name).start()
    yield fake
    await fake.stop()


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield client


# --- a real Sanic app with one channel mounted -------------------------------------------------------------


OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


@dataclass
class Assistant:
    """Stands in for Rasa: records each UserMessage and answers through the message's output channel."""

    received: list[UserMessage] = field(default_factory=list)
    answer: Optional[Callable[[UserMessage], Awaitable[None]]] = None

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.answer is not None:
            await self.answer(message)
        else:
            await message.output_channel.send_text_message(message.sender_id, f"echo: {message.text}")


@pytest.fixture
def assistant() -> Assistant:
    return Assistant()


@pytest.fixture
async def serve():
    """``await serve(channel, on_new_message)`` mounts the channel as ``rasa run`` does (``/webhooks/<name>/``)
    on a real Sanic server on a free port and returns its base URL."""
    servers = []

    async def start(channel: InputChannel, on_new_message: OnNewMessage) -> str:
        Sanic.test_mode = True  # several apps per process
        app = Sanic(f"test_{uuid.uuid4().hex}")

        class _Agent:
            async def handle_message(self, message: UserMessage) -> None:
                await on_new_message(message)

        app.ctx.agent = _Agent()
        register([channel], app, route="/webhooks/")
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
        assert server is not None  # return_asyncio_server=True
        await server.startup()
        await server.before_start()
        await server.after_start()
        servers.append(server)
        return f"http://127.0.0.1:{port}"

    yield start
    for server in servers:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


# --- fuzzing: the rules restated independently of connectors/inbound.py (so the fuzzer checks the code, not itself),
# the strategies and the settings the platform channels' fuzz tests share ---------------------------------------


CAP = 2000
"""The message length cap (connectors/inbound.py MAX_MESSAGE_CHARS), in characters once cleaned."""

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
"""About 300 requests a channel (10-40 s each): enough for the shapes below to meet every branch of the parsers."""

FRESH = itertools.count(1)
"""Update and message ids no earlier example used (a reused id is a duplicate, answered once)."""


def unstorable(char: str) -> bool:
    """Characters that must never reach Rasa: control characters (but tab, LF, CR) and lone surrogates."""
    return unicodedata.category(char) in ("Cc", "Cs") and char not in "\t\n\r"


def cleaned(text: str) -> str:
    """A text without the unstorable characters (what the cap is measured on)."""
    return "".join(c for c in text if not unstorable(c))


def storable(*texts: Any) -> bool:
    """Whether every text given (None and non-strings skipped) is free of unstorable characters."""
    return not any(unstorable(c) for text in texts if isinstance(text, str) for c in text)


def is_note(text: str) -> bool:
    """The polite note on a message over the cap, in any of its languages."""
    return "too long" in text or "太長" in text or "太长" in text


def received_storable(messages: Iterable[Any]) -> bool:
    """Nothing unstorable reached Rasa: text, sender id, message id, metadata."""
    return all(storable(m.text, m.sender_id, m.message_id, *_strings(m.metadata)) for m in messages)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# --- strategies ----------------------------------------------------------------------------------------------------

any_char = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())  # surrogates included
special_texts = st.sampled_from([
    "", " ", "\x00", "\ud800", "s\udfff", "hi\x00there", "高才通要咩條件？", "高才通申请条件是什么", "What is TTPS?",
    "\u202egnp.exe", "\x1b[31m", "😀🇭🇰", "\x85\x9f", "\r\n\t", "/start", "/language zh-Hant",
    "/change_language{\"language\":[[[",
    "]]>", "<xml>", "&amp;", "\ufffe\uffff",
])
texts = st.text(any_char, max_size=40) | special_texts
long_texts = st.sampled_from([
    "高才通" * 700, "x" * 2001, "x" * 2000 + "\x00" * 5, "ab " * 5000, "\ud800" * 2100, "問" * 10_000,
    "y" * 10_000, "😀" * 2001, "x" * 1999 + "😀",
])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=10,
)
deep_bodies = st.sampled_from([
    b"[" * 50_000 + b"]" * 50_000, b'{"a":' * 10_000 + b"1" + b"}" * 10_000, b"9" * 5000, b"\xff\xfe\x00",
    b"", b" ", b"null", b"NaN", b'{"update_id": 1e400}',
])
