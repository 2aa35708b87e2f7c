"""The console and the handoff store when PostgreSQL restarts or stops, on a PostgreSQL of the test's own
(initdb/pg_ctl in a temporary folder, a free port; never the machine's shared server).

A restart costs no request: pooled connections are checked before use (pool_pre_ping), so the first request after
it is served on a new connection. While the server is down, every request is answered 503 with a JSON error and
Retry-After, the outage is logged once with its cause, and the console serves again as soon as the database is
back, without a restart; nothing stored before is lost, and an open event stream goes on.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import AsyncIterator, Iterator

import pytest

from talentbot.console.web import OUTAGE_RETRY_AFTER_S
from talentbot.core.handoff.accounts import StaffDirectory
from talentbot.core.handoff.store import SqlTicketStore
from talentbot.core.store_outages import OutageLog
from talentbot.wiring.devserver import prepare_handoff_database
from tests.conftest import LocalPostgres, postgres_bin
from tests.talentbot.conftest import RunningConsole, running_console

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[LocalPostgres]:
    if postgres_bin() is None:
        pytest.skip("PostgreSQL's programs (initdb, pg_ctl) are not installed under /usr/lib/postgresql")
    server = LocalPostgres.create()
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture
def handoff_url(own_postgres: LocalPostgres, request: pytest.FixtureRequest) -> str:
    """A fresh handoff database on our own server (created and migrated as `talentbot run` does)."""
    url = f"{own_postgres.url}/handoff_{request.node.name.lower()[:40]}"
    prepare_handoff_database(url)
    return url


@pytest.fixture
def outages() -> OutageLog:
    return OutageLog(logging.getLogger("tests.console_outage"))


@pytest.fixture
async def console(handoff_url: str, outages: OutageLog) -> AsyncIterator[RunningConsole]:
    store = SqlTicketStore.from_url(handoff_url)  # as `talentbot console` connects
    try:
        async with running_console(store, StaffDirectory(store.engine), outages) as running:
            yield running
    finally:
        store.close()


async def _restart(postgres: LocalPostgres) -> None:
    await asyncio.to_thread(postgres.stop)
    await asyncio.to_thread(postgres.start)


async def test_the_first_request_after_a_restart_is_served(console: RunningConsole, own_postgres) -> None:
    ticket = console.store.open_ticket("telegram:1", "telegram", "en", "requested")
    client, _ = await console.logged_in("amy")
    async with client:
        assert (await client.get("/api/tickets")).status_code == 200  # the pool now holds a connection
        await _restart(own_postgres)  # which the server has closed
        first = await client.get("/api/tickets")
    assert first.status_code == 200, first.text
    assert [row["id"] for row in first.json()] == [ticket.id]


def test_the_store_the_action_server_and_channels_share_survives_a_restart(handoff_url: str,
                                                                           own_postgres) -> None:
    """process_store() connects with SqlTicketStore.from_url, as here: a restart between two handoffs costs none."""
    store = SqlTicketStore.from_url(handoff_url)
    try:
        first = store.open_ticket("telegram:2", "telegram", "en", "requested")
        own_postgres.stop()
        own_postgres.start()
        second = store.open_ticket("telegram:3", "telegram", "en", "requested")
        assert [t.id for t in store.list_by_status("waiting")] == [first.id, second.id]
    finally:
        store.close()


CALLS = [("GET", "/api/me"), ("GET", "/api/tickets"), ("GET", "/api/tickets/{id}"), ("GET", "/api/stats"),
         ("GET", "/api/staff"), ("GET", "/api/events"), ("POST", "/api/tickets/{id}/messages"),
         ("POST", "/api/tickets/{id}/transfer"), ("POST", "/api/tickets/{id}/resolve"), ("POST", "/api/logout")]


async def test_while_postgresql_is_down_every_request_is_a_clear_503_and_then_it_serves_again(
        console: RunningConsole, own_postgres, outages: OutageLog, caplog) -> None:
    ticket = console.store.open_ticket("telegram:42", "telegram", "en", "requested")
    console.store.claim(ticket.id, "sue")
    console.store.add_message(ticket.id, "user", "before the outage")
    client, csrf = await console.logged_in("sue")
    headers = {"X-CSRF-Token": csrf}
    caplog.set_level(logging.INFO, logger="tests.console_outage")
    async with client, console.client() as anonymous:
        await asyncio.to_thread(own_postgres.stop)
        try:
            down = [await client.request(method, path.format(id=ticket.id), headers=headers,
                                         json={"text": "during", "username": "amy"}) for method, path in CALLS]
            down.append(await anonymous.post("/api/login", json={"username": "amy",
                                                                "password": "correct horse battery staple"}))
            page = await client.get("/")
        finally:
            await asyncio.to_thread(own_postgres.start)
        after = await client.post(f"/api/tickets/{ticket.id}/messages", json={"text": "after"}, headers=headers)
        detail = await client.get(f"/api/tickets/{ticket.id}")
    for response in [*down, page]:
        assert response.status_code == 503, (response.request.url, response.text)
        assert "database cannot be reached" in response.json()["error"]
        assert response.headers["Retry-After"] == str(OUTAGE_RETRY_AFTER_S)
    assert after.status_code == 201, after.text
    assert [m["text"] for m in detail.json()["messages"]] == ["before the outage", "after"]
    assert console.deliver.sent == [("telegram", "telegram:42", "after")]  # "during" never reached the user
    lines = [r.getMessage() for r in caplog.records if r.name == "tests.console_outage"]
    assert len(lines) == 2, lines  # one when it went, one when it came back
    assert "handoff database is unreachable (OperationalError" in lines[0] and "answers again" in lines[1]
    assert outages.down() == {}


async def test_an_open_event_stream_goes_on_after_an_outage(console: RunningConsole, own_postgres) -> None:
    ticket = console.store.open_ticket("telegram:7", "telegram", "en", "requested")
    client, _ = await console.logged_in("amy")
    async with client:
        async with client.stream("GET", "/api/events") as stream:
            lines = stream.aiter_lines()
            assert await asyncio.wait_for(lines.__anext__(), 5) == ": connected"
            await asyncio.to_thread(own_postgres.stop)
            await asyncio.sleep(2.5)  # a few rounds of the stream meet the outage
            await asyncio.to_thread(own_postgres.start)
            await asyncio.to_thread(console.store.add_message, ticket.id, "user", "still there?")
            arrived = await asyncio.wait_for(_next_message(lines), 15)
    assert arrived["text"] == "still there?"


async def _next_message(lines) -> dict:
    event = None
    async for line in lines:
        if line.startswith("event: "):
            event = line[len("event: "):]
        elif line.startswith("data: ") and event == "message":
            return json.loads(line[len("data: "):])
    raise AssertionError("the stream ended")
