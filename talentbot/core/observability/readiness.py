"""Readiness: whether a process can serve now, dependency by dependency (`/ready`).

`/health` only says the process is alive and answering; it looks at no dependency, so a database outage never makes a
supervisor or an orchestrator restart servers that would recover by themselves. `/ready` runs the checks here: each
dependency is asked something trivial (`SELECT 1`, Redis `PING`) in a worker thread, all at once, each within
`CHECK_TIMEOUT_S`. The answer names every dependency with `ok` or a short reason (`unreachable`, `timeout`,
`error`, `not loaded`): never a host, a port, a user name or an error message, which the probe's caller has no need
of. The cause goes to the log instead, once when a dependency starts failing and once when it answers again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from talentbot.core.handoff import db
from talentbot.core.store_outages import connection_failure, describe

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_S = 2.0
"""The longest one check may take before its dependency counts as not answering."""

OK = "ok"
UNREACHABLE = "unreachable"
TIMEOUT = "timeout"
FAILED = "error"
NOT_LOADED = "not loaded"

MODEL = "model"
TRACKER_STORE = "tracker_store"
LOCK_STORE = "lock_store"
HANDOFF_DATABASE = "handoff_database"
"""The names of the checks in `/ready`'s answer."""

Check = Callable[[], None]
"""A blocking check: returns when the dependency answers, raises when it cannot be used."""


@dataclass(frozen=True)
class Readiness:
    """Each check's result: `ok` or a short reason."""

    checks: Dict[str, str]

    @property
    def ready(self) -> bool:
        return all(result == OK for result in self.checks.values())

    @property
    def status(self) -> int:
        """The HTTP status of `/ready`: 200 when every check passed, else 503."""
        return 200 if self.ready else 503

    def body(self) -> Dict[str, Any]:
        return {"status": "ready" if self.ready else "not ready", "checks": dict(self.checks)}


def reason(error: BaseException) -> str:
    """The short reason `/ready` gives for a failed check."""
    if isinstance(error, (asyncio.TimeoutError, TimeoutError)):
        return TIMEOUT
    return UNREACHABLE if connection_failure(error) is not None else FAILED


class FailureLog:
    """One warning when a dependency's check starts failing (with its cause), one line when it passes again: a
    probe every few seconds must not fill the log."""

    def __init__(self, log: logging.Logger = logger) -> None:
        self.log = log
        self._failing: Dict[str, str] = {}
        self._lock = threading.Lock()

    def failed(self, name: str, error: BaseException) -> None:
        with self._lock:
            if name in self._failing:
                return
            self._failing[name] = cause = describe(error) or type(error).__name__
        self.log.warning("Not ready: the %s check fails (%s)", name.replace("_", " "), cause)

    def passed(self, name: str) -> None:
        if name not in self._failing:
            return
        with self._lock:
            if self._failing.pop(name, None) is None:
                return
        self.log.warning("The %s check passes again", name.replace("_", " "))


FAILURES = FailureLog()
"""This process's log of failing checks."""


async def _run(name: str, check: Check, timeout: float, failures: FailureLog) -> str:
    try:
        await asyncio.wait_for(asyncio.to_thread(check), timeout)
    except Exception as error:  # the dependency cannot be used, whatever the reason
        failures.failed(name, TimeoutError(f"no answer within {timeout:g} s")
                        if isinstance(error, asyncio.TimeoutError) else error)
        return reason(error)
    failures.passed(name)
    return OK


async def check(checks: Mapping[str, Check], known: Optional[Mapping[str, str]] = None,
                timeout: float = CHECK_TIMEOUT_S, failures: FailureLog = FAILURES) -> Readiness:
    """Runs `checks` at once, each in a thread and within `timeout`; `known` adds results found without a check
    (the model: loaded or not)."""
    names = list(checks)
    results = await asyncio.gather(*(_run(name, checks[name], timeout, failures) for name in names))
    return Readiness({**(known or {}), **dict(zip(names, results, strict=True))})


def sql_check(engine: Engine) -> Check:
    """`SELECT 1` on a connection of `engine`."""

    def run() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    return run


def redis_check(client: Any) -> Check:
    """Redis `PING` through `client` (a redis-py client, with the timeouts it was made with)."""

    def run() -> None:
        client.ping()

    return run


def probe_engine(url: str, timeout: float = CHECK_TIMEOUT_S) -> Engine:
    """An engine that opens a new connection for each check (a pooled one could hide a server gone away), with a
    connection timeout; an SQLite file is opened read-only, so a missing file fails the check instead of being
    created."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            return create_engine("sqlite://", future=True, poolclass=NullPool)
        read_only = parsed.set(database=f"file:{parsed.database}", query={"mode": "ro", "uri": "true"})
        return create_engine(read_only, future=True, poolclass=NullPool, connect_args={"timeout": timeout})
    connect_args = {"connect_timeout": max(1, int(timeout))} if backend == "postgresql" else {}
    return create_engine(parsed, future=True, poolclass=NullPool, connect_args=connect_args)


_handoff: Dict[str, Engine] = {}
_handoff_lock = threading.Lock()


def handoff_database_check(env: Mapping[str, str] = os.environ) -> Check:
    """The check of the handoff database (HANDOFF_DB_URL, else the SQLite default), its engine made once per
    process. Nothing is migrated or created: the servers that write to it do that at start-up."""
    url = db.database_url(env)
    with _handoff_lock:
        engine = _handoff.get(url)
        if engine is None:
            engine = _handoff[url] = probe_engine(url)
    return sql_check(engine)
