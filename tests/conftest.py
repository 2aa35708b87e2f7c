"""Helpers for tests in several folders (import them as ``from tests.conftest import ...``; pytest loads this file
before any test).

PostgreSQL and Redis instances of a test's own, in a temporary folder on free ports: a test that stops a store
stops its own, never the machine's shared PostgreSQL (5432) or Redis (6379). PostgreSQL refuses to run as root, so
as root its programs run as the ``postgres`` system user.

Fake platform API servers (`FakePlatform`: WeChat, the Telegram Bot API, WhatsApp's Graph API) for the channel tests
(tests/connectors/) and the end-to-end tests (tests/e2e/)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional
from urllib.parse import parse_qsl

from aiohttp import web

from talentbot.wiring.devserver import free_port

START_TIMEOUT_S = 30
"""How long a store of our own may take to start or stop."""


def postgres_bin() -> Optional[Path]:
    """The newest installed PostgreSQL's programs (Debian: /usr/lib/postgresql/<version>/bin), or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


def wait_for_port(port: int, up: bool, timeout: float = START_TIMEOUT_S) -> None:
    """Waits until 127.0.0.1:`port` accepts connections (`up`) or refuses them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            if (s.connect_ex(("127.0.0.1", port)) == 0) == up:
                return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} not {'open' if up else 'closed'} after {timeout} s")


@dataclass
class LocalPostgres:
    """A throw-away PostgreSQL cluster (trust authentication, user ``postgres``) on 127.0.0.1:`port`."""

    folder: Path
    port: int = field(default_factory=free_port)
    bin: Path = field(default_factory=lambda: postgres_bin() or Path("/nonexistent"))

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    def _run(self, *command: str) -> None:
        as_user: List[str] = []
        if os.geteuid() == 0:
            as_user = ["runuser", "-u", "postgres", "--"]
        subprocess.run([*as_user, *command], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       timeout=120)

    @classmethod
    def create(cls) -> "LocalPostgres":
        # Not under pytest's tmp_path: its folders are root's only, and the server runs as postgres.
        server = cls(Path(tempfile.mkdtemp(prefix="talentbot-pg-")))
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(server.folder, owner.pw_uid, owner.pw_gid)
        server._run(str(server.bin / "initdb"), "-D", str(server.data), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--no-sync")
        return server

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "postgres.log"),
                  "-o", options, "-w", "start")
        wait_for_port(self.port, up=True)

    def stop(self) -> None:
        """Stops at once, as a crash or a fail-over would: open transactions are cut (``-m fast``)."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        wait_for_port(self.port, up=False)

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class LocalRedis:
    """A throw-away Redis without persistence (``--save ''``) on 127.0.0.1:`port`."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        """What redis-py and RedisStateStore connect with (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder), "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, up=True)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=START_TIMEOUT_S)
        wait_for_port(self.port, up=False)


# --- fake platform servers ---------------------------------------------------------------------------------------


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


def path_name(path: str) -> str:
    """A fixture name from a request path: ``/cgi-bin/message/custom/send`` -> ``cgi-bin_message_custom_send``."""
    return path.strip("/").replace("/", "_")


def telegram_method(path: str) -> str:
    """The Bot API method of a request path: ``/bot<token>/sendMessage`` -> ``sendMessage``."""
    return path.rstrip("/").rsplit("/", 1)[-1]


@contextlib.contextmanager
def serving_in_a_thread(fake: FakePlatform) -> Iterator[FakePlatform]:
    """Serves `fake` from an event loop in a thread of its own, for servers started as other processes (the
    end-to-end tests): it answers while they start, whatever event loops the test itself runs meanwhile. Read
    what it recorded from the test's thread as it is (lists appended to under the GIL)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name=f"fake-platform-{id(fake)}", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(fake.start(), loop).result(timeout=START_TIMEOUT_S)
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(timeout=START_TIMEOUT_S)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=START_TIMEOUT_S)
        loop.close()
