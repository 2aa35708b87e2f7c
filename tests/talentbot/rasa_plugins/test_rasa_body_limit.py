"""talentbot.rasa_plugins.rasa_body_limit: the Rasa server reads at most 1 MiB of a request body and answers more with a
JSON 413.

The app is Rasa's own (`rasa.core.run.configure_app`, as `rasa run` builds it, with the API and the REST channel);
the tests that send requests serve it on a free loopback port."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import AsyncIterator

import httpx
import pytest
from sanic import Sanic
from sanic.exceptions import PayloadTooLarge

from connectors.rest import RestInput
from talentbot.rasa_plugins import rasa_api_auth, rasa_body_limit
from talentbot.rasa_plugins.rasa_body_limit import MAX_BODY_BYTES, error_body, too_large

TOKEN = "api-token"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def rasa_app() -> Sanic:
    """Rasa's server app with the API and the REST channel, built as talentbot.wiring.rasa_server has Rasa build it."""
    import rasa.core.run

    rasa_api_auth.install()
    rasa_body_limit.install()
    Sanic.test_mode = True  # several apps per process
    return rasa.core.run.configure_app([RestInput()], enable_api=True, auth_token=TOKEN, port=0)


def test_rasas_app_reads_at_most_1_mib(rasa_app) -> None:
    """Sanic's default is 100 MB, buffered in every worker before any route looks at it."""
    assert rasa_app.config.REQUEST_MAX_SIZE == MAX_BODY_BYTES == MIB
    assert rasa_app.error_handler.lookup(PayloadTooLarge("Request body exceeds the size limit"), None) is too_large


def test_install_is_done_once() -> None:
    import rasa.core.run

    rasa_body_limit.install()
    adjusted = rasa.core.run.configure_app
    rasa_body_limit.install()
    assert rasa.core.run.configure_app is adjusted
    assert rasa_body_limit.UPSTREAM["configure_app"] is not adjusted


@pytest.mark.parametrize(
    "path, expected",
    [
        ("/model/parse", {"status": "failure", "reason": "PayloadTooLarge", "code": 413, "message": "too big",
                          "details": {"limit_bytes": MIB}, "help": None}),
        ("/conversations/a/tracker/events", {"status": "failure", "reason": "PayloadTooLarge", "code": 413}),
        ("/webhooks/rest/webhook", {"error": "too big"}),
    ],
)
def test_the_413_speaks_the_routes_format(path: str, expected: dict) -> None:
    """Rasa's error format on the HTTP API, the channels' {"error": ...} on their routes."""
    body = error_body(path, "too big")
    assert {key: body[key] for key in expected} == expected
    if path.startswith("/webhooks/"):
        assert body == expected


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def served(rasa_app) -> AsyncIterator[str]:
    port = free_port()
    server = await rasa_app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True,
                                          access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    yield f"http://127.0.0.1:{port}"
    await server.before_stop()
    server.close()
    await server.wait_closed()
    await server.after_stop()


async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A body of `total` bytes sent chunked (no Content-Length: the cap is met while reading)."""
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


@pytest.mark.server
@pytest.mark.parametrize(
    "path, size, chunked",
    [("/model/parse", 2 * MIB, False), ("/model/parse", 2 * MIB, True),
     ("/conversations/a/tracker/events", 9 * MIB, False), ("/webhooks/rest/webhook", 9 * MIB, False)],
    ids=["api-2MiB", "api-2MiB-chunked", "api-9MiB", "rest-9MiB"],
)
async def test_a_body_over_the_cap_gets_a_json_413(served, path, size, chunked) -> None:
    """The client reads the answer although it sends its whole body before reading (the rest is dropped unread)."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    content = chunks(size) if chunked else b" " * size
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.post(served + path, content=content, headers=headers)
    assert answer.status_code == 413 and time.monotonic() - started < 10
    body = answer.json()
    message = body["error"] if path.startswith("/webhooks/") else body["message"]
    assert "1,048,576 bytes" in message
    if not path.startswith("/webhooks/"):
        assert (body["status"], body["reason"], body["code"]) == ("failure", "PayloadTooLarge", 413)


@pytest.mark.server
async def test_a_body_under_the_cap_reaches_the_route(served) -> None:
    """Just under 1 MiB gets to Rasa's API (409: no model loaded here), and to the REST channel's own 64 KiB check."""
    async with httpx.AsyncClient(timeout=30) as client:
        parse = await client.post(served + "/model/parse", content=b" " * (MIB - 1),
                                  headers={"Authorization": f"Bearer {TOKEN}"})
        rest = await client.post(served + "/webhooks/rest/webhook",
                                 content=json.dumps({"sender": "a", "message": "x" * (MIB - 100)}).encode())
    assert parse.status_code == 409 and parse.json()["reason"] == "Conflict"
    assert rest.status_code == 413 and "too large" in rest.json()["error"]


@pytest.mark.server
async def test_a_huge_declared_body_is_not_read_at_all(served) -> None:
    """A Content-Length past what is dropped unread (16 MiB) is answered and the connection closed at once."""
    reader, writer = await asyncio.open_connection(*served.removeprefix("http://").split(":"))
    writer.write(b"POST /model/parse HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n" + b" " * 1024)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)  # the server closes: read() returns
    writer.close()
    assert answer.startswith(b"HTTP/1.1 413") and b'"reason":"PayloadTooLarge"' in answer
