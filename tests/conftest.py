"""Helpers for tests in several folders (import them as ``from tests.conftest import ...``; pytest loads this file
before any test).

PostgreSQL and Redis instances of a test's own, in a temporary folder on free ports: a test that stops a store
stops its own, never the machine's shared PostgreSQL (5432) or Redis (6379). PostgreSQL refuses to run as root, so
as root its programs run as the ``postgres`` system user."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

from talentbot.devserver import free_port

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
