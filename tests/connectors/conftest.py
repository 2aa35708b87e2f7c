"""Fixtures for the channel tests: state stores, fake platform API servers, a real Sanic app with a channel mounted."""
from __future__ import annotations

import asyncio
import json
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Optional
from urllib.parse import parse_qsl

import httpx
import pytest
import redis
from aiohttp import web
from rasa.core.channels.channel import InputChannel, UserMessage, register
from sanic import Sanic

from connectors.handoff_gate import HandoffGate, use_gate
from connectors.state import RedisStateStore, SQLiteStateStore
from talentbot.handoff.policy import default_policy
from talentbot.handoff.store import SqlTicketStore

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


# --- fake platform servers -----------------------------------------------------------------------------------


@dataclass
class Recorded:
    """One request a fake platform received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        """python-telegram-bot posts form fields; nested values are JSON strings."""
        return dict(parse_qsl(self.body.decode("utf-8")))


@dataclass
class FakePlatform:
    """A local HTTP server speaking a platform's API paths. It answers each path from the fixture file named
    after it (``cgi-bin_message_custom_send.json`` for ``/cgi-bin/message/custom/send``; Telegram by method name:
    ``sendMessage.json``), or from ``answer(path, ...)`` set by a test, and records every request."""

    fixtures: Path
    name_of: Callable[[str], str]
    requests: list[Recorded] = field(default_factory=list)
    answers: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)
    url: str = ""
    delay_s: float = 0.0
    _runner: Optional[web.AppRunner] = None

    def answer(self, name: str, *responses: tuple[int, Any]) -> None:
        """Queue answers for a fixture name (used once each, then the fixture file again)."""
        self.answers.setdefault(name, []).extend(responses)

    def to(self, name: str) -> list[Recorded]:
        """The requests received on the path of a fixture name."""
        return [r for r in self.requests if self.name_of(r.path) == name]

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        self.requests.append(
            Recorded(request.method, request.path, dict(request.query), dict(request.headers), body)
        )
        name = self.name_of(request.path)
        if self.answers.get(name):
            status, payload = self.answers[name].pop(0)
            return web.json_response(payload, status=status)
        path = self.fixtures / f"{name}.json"
        if not path.exists():
            return web.json_response({"error": f"no fixture {path.name}"}, status=404)
        return web.json_response(json.loads(path.read_text(encoding="utf-8")))

    async def start(self) -> "FakePlatform":
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def _by_path(path: str) -> str:
    return path.strip("/").replace("/", "_")


def _telegram_method(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


@pytest.fixture
async def wechat_api():
    """Fake api.weixin.qq.com: /cgi-bin/token, /cgi-bin/message/custom/send, /cgi-bin/user/info."""
    fake = await FakePlatform(FIXTURES / "wechat", _by_path).start()
    yield fake
    await fake.stop()


@pytest.fixture
async def telegram_api():
    """Fake Bot API: /bot<token>/getMe, /sendMessage, /answerCallbackQuery, /setWebhook."""
    fake = await FakePlatform(FIXTURES / "telegram", _telegram_method).start()
    yield fake
    await fake.stop()


@pytest.fixture
async def graph_api():
    """Fake Graph API: /v19.0/<phone_number_id>/messages."""
    fake = await FakePlatform(FIXTURES / "whatsapp", _by_path).start()
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
