"""The staff console's /health, /ready and /metrics: open to probes and scrapers (no session), the queue's gauges
read from the database at each scrape, replies counted, and /ready failing while the database cannot be reached."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from talentbot.core.handoff import db
from talentbot.core.handoff.accounts import StaffDirectory
from talentbot.core.handoff.store import SqlTicketStore
from talentbot.core.store_outages import OutageLog
from talentbot.wiring.devserver import free_port
from tests.talentbot.conftest import RunningConsole, running_console

pytestmark = pytest.mark.server


def samples(text: str) -> dict:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[RunningConsole]:
    store = SqlTicketStore.from_url(f"sqlite:///{tmp_path / 'handoff.sqlite3'}")
    try:
        async with running_console(store, StaffDirectory(store.engine)) as running:
            yield running
    finally:
        store.close()


async def test_health_and_ready_need_no_session_and_tell_nothing(console: RunningConsole) -> None:
    async with console.client() as client:
        health = await client.get("/health")
        ready = await client.get("/ready")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready", "checks": {"handoff_database": "ok"}})
    assert "set-cookie" not in ready.headers


async def test_metrics_show_the_queue_as_it_is_at_the_scrape(console: RunningConsole) -> None:
    async with console.client() as client:
        empty = samples((await client.get("/metrics")).text)
    assert empty[("talentbot_handoff_waiting", ())] == 0 and empty[("talentbot_handoff_database_up", ())] == 1
    assert empty[("talentbot_handoff_oldest_waiting_seconds", ())] == 0
    an_hour_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
    console.store.open_ticket("telegram:1", "telegram", "en", "requested", now=an_hour_ago)
    console.store.open_ticket("telegram:2", "telegram", "en", "requested")
    async with console.client() as client:
        response = await client.get("/metrics")
    found = samples(response.text)
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert found[("talentbot_handoff_waiting", ())] == 2
    assert 3590 < found[("talentbot_handoff_oldest_waiting_seconds", ())] < 3700


async def test_replies_are_counted_delivered_or_not(console: RunningConsole) -> None:
    ticket = console.store.open_ticket("telegram:42", "telegram", "en", "requested")
    client, csrf = await console.logged_in("amy")
    async with client:
        await client.post(f"/api/tickets/{ticket.id}/claim", headers={"X-CSRF-Token": csrf})
        before = samples((await client.get("/metrics")).text)
        sent = await client.post(f"/api/tickets/{ticket.id}/messages", json={"text": "Hello"},
                                 headers={"X-CSRF-Token": csrf})
        console.deliver.fail_with = RuntimeError("the 48-hour window is closed")
        kept = await client.post(f"/api/tickets/{ticket.id}/messages", json={"text": "Again"},
                                 headers={"X-CSRF-Token": csrf})
        after = samples((await client.get("/metrics")).text)
    assert (sent.status_code, kept.status_code) == (201, 502)
    for outcome in ("delivered", "not_delivered"):
        key = ("talentbot_handoff_replies_total", (("outcome", outcome),))
        assert after[key] == before.get(key, 0) + 1


async def test_ready_fails_and_the_queue_is_unknown_while_the_database_is_unreachable(tmp_path: Path) -> None:
    """A database on a closed port: /ready 503 with the reason, /metrics says the database did not answer."""
    store = SqlTicketStore(db.make_engine(f"postgresql://postgres@127.0.0.1:{free_port()}/handoff"))
    directory = StaffDirectory(SqlTicketStore.from_url(f"sqlite:///{tmp_path / 'staff.sqlite3'}").engine)
    async with running_console(store, directory, OutageLog()) as running:
        async with httpx.AsyncClient(base_url=running.base_url, timeout=10) as client:
            health = await client.get("/health")
            ready = await client.get("/ready")
            scraped = samples((await client.get("/metrics")).text)
    assert health.status_code == 200
    assert (ready.status_code, ready.json()) == (503, {"status": "not ready",
                                                       "checks": {"handoff_database": "unreachable"}})
    assert scraped[("talentbot_handoff_database_up", ())] == 0
    assert ("talentbot_handoff_waiting", ()) not in scraped
    store.close()
