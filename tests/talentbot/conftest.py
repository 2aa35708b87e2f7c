"""Fixtures for the handoff tests: a clean database on SQLite and on the real PostgreSQL, stores, fakes for the
channel and the tracker, and the console running on a free port."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncIterator, Dict, Iterator, List, Optional, Tuple

import httpx
import pytest
from aiohttp import web
from sqlalchemy import create_engine, delete, text

from talentbot.core.handoff.accounts import StaffDirectory
from talentbot.core.handoff.models import messages, staff_login_failures, staff_sessions, staff_users, tickets
from talentbot.core.handoff.store import SqlTicketStore
from talentbot.core.handoff.wire import Turn
from talentbot.core.store_outages import OutageLog

POSTGRES_HOST, POSTGRES_PORT = "127.0.0.1", 5432
POSTGRES_ADMIN_URL = f"postgresql://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/postgres"
TEST_ROUNDS = 4
"""bcrypt's lowest work factor: the tests check the logic, not the cost."""
PASSWORD = "correct horse battery staple"

HKT = dt.timezone(dt.timedelta(hours=8))


def hkt(text_: str) -> dt.datetime:
    """A Hong Kong time given as 'YYYY-MM-DD HH:MM'."""
    return dt.datetime.fromisoformat(text_).replace(tzinfo=HKT)


def _postgres_reachable() -> bool:
    try:
        with socket.create_connection((POSTGRES_HOST, POSTGRES_PORT), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of its own for this test run on the local PostgreSQL, dropped at the end."""
    if not _postgres_reachable():
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_HOST}:{POSTGRES_PORT}")
    name = f"talentbot_handoff_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _empty(url: str) -> None:
    engine = create_engine(url, future=True)
    try:
        with engine.begin() as connection:
            if not engine.dialect.has_table(connection, "handoff_tickets"):
                return
            for table in (messages, staff_sessions, staff_login_failures, tickets, staff_users):
                connection.execute(delete(table))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty handoff database: a fresh SQLite file, or the run's PostgreSQL database emptied."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'handoff.sqlite3'}"
    url = request.getfixturevalue("postgres_url")
    _empty(url)
    return url


@pytest.fixture
def store(database_url: str) -> Iterator[SqlTicketStore]:
    opened = SqlTicketStore.from_url(database_url)
    yield opened
    opened.close()


@pytest.fixture
def directory(store: SqlTicketStore) -> StaffDirectory:
    return StaffDirectory(store.engine)


# --- fakes for the channel and the tracker -------------------------------------------------------------------


@dataclass
class RecordingDeliver:
    """Stands in for connectors.outbound.send_text: records what would have reached the user."""

    sent: List[Tuple[str, str, str]] = field(default_factory=list)
    fail_with: Optional[Exception] = None

    async def __call__(self, channel: str, recipient_id: str, text_: str) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append((channel, recipient_id, text_))


@dataclass
class FakeTranscripts:
    """Stands in for Rasa's tracker API: conversation id -> turns."""

    turns: Dict[str, List[Turn]] = field(default_factory=dict)
    broken: bool = False

    async def __call__(self, conversation_id: str) -> List[Turn]:
        if self.broken:
            raise ConnectionError("tracker store down")
        return self.turns.get(conversation_id, [])


@dataclass
class FakeResume:
    """Stands in for Rasa's tracker API resuming a conversation: records the tickets resumed."""

    resumed: List[int] = field(default_factory=list)
    broken: bool = False

    async def __call__(self, ticket) -> None:
        if self.broken:
            raise ConnectionError("Rasa server unreachable")
        self.resumed.append(ticket.id)


@dataclass
class RunningConsole:
    base_url: str
    store: SqlTicketStore
    directory: StaffDirectory
    deliver: RecordingDeliver
    transcripts: FakeTranscripts
    resume: FakeResume

    @property
    def resumed(self) -> List[int]:
        return self.resume.resumed

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=10)

    async def logged_in(self, username: str, password: str = PASSWORD) -> Tuple[httpx.AsyncClient, str]:
        """A client holding a session cookie, and its CSRF token."""
        async with self.client() as login:
            response = await login.post("/api/login", json={"username": username, "password": password})
            assert response.status_code == 200, response.text
            cookies = httpx.Cookies(login.cookies)
        # a new client, not yet opened, so the test can use it in `async with`
        return httpx.AsyncClient(base_url=self.base_url, timeout=10, cookies=cookies), response.json()["csrf_token"]


@contextlib.asynccontextmanager
async def running_console(store: SqlTicketStore, directory: StaffDirectory,
                          outages: Optional[OutageLog] = None) -> AsyncIterator[RunningConsole]:
    """The real console application on 127.0.0.1 and a free port, with agents amy and ben and supervisor sue."""
    from talentbot.console.web import build_app

    for username, role in (("amy", "agent"), ("ben", "agent"), ("sue", "supervisor")):
        directory.add(username, role, PASSWORD, rounds=TEST_ROUNDS)
    deliver, transcripts, resume = RecordingDeliver(), FakeTranscripts(), FakeResume()
    app = build_app(store, directory, deliver, transcripts, resume=resume, outages=outages or OutageLog())
    runner = web.AppRunner(app, shutdown_timeout=2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield RunningConsole(f"http://{host}:{port}", store, directory, deliver, transcripts, resume)
    finally:
        await asyncio.wait_for(runner.cleanup(), 10)
        await asyncio.sleep(0.1)  # connections whose event stream the shutdown ended finish before the loop closes


@pytest.fixture
async def console(store: SqlTicketStore, directory: StaffDirectory) -> AsyncIterator[RunningConsole]:
    """The real console application on 127.0.0.1 and a free port, with agents amy and ben and supervisor sue."""
    async with running_console(store, directory) as running:
        yield running
