"""talentbot.core.observability.readiness: /ready's checks, reasons and their log."""

from __future__ import annotations

import logging
import sqlite3
import time

import pytest
import redis

from talentbot.core.observability import readiness
from talentbot.wiring.devserver import free_port


def ok() -> None:
    return None


def refused() -> None:
    raise ConnectionRefusedError("[Errno 111] Connection refused (host 10.1.2.3, password hunter2)")


def slow() -> None:
    time.sleep(1)


def wrong() -> None:
    raise ValueError("not a connection problem")


async def test_each_dependency_gets_ok_or_a_short_reason() -> None:
    result = await readiness.check({"a": ok, "b": refused, "c": slow, "d": wrong}, {"model": "ok"}, timeout=0.2,
                                   failures=readiness.FailureLog(logging.getLogger("tests.readiness")))
    assert result.checks == {"model": "ok", "a": "ok", "b": "unreachable", "c": "timeout", "d": "error"}
    assert (result.ready, result.status) == (False, 503)
    assert result.body() == {"status": "not ready", "checks": result.checks}
    assert "10.1.2.3" not in str(result.body()) and "hunter2" not in str(result.body())


async def test_ready_when_every_check_passes() -> None:
    result = await readiness.check({"a": ok}, {"model": readiness.OK})
    assert (result.ready, result.status, result.body()["status"]) == (True, 200, "ready")


async def test_a_failing_check_is_logged_once_with_its_cause_and_once_when_it_passes(caplog) -> None:
    failures = readiness.FailureLog(logging.getLogger("tests.readiness"))
    state = {"down": True}

    def flaky() -> None:
        if state["down"]:
            refused()

    with caplog.at_level(logging.WARNING, "tests.readiness"):
        for _ in range(3):
            await readiness.check({"lock_store": flaky}, failures=failures)
        state["down"] = False
        for _ in range(2):
            await readiness.check({"lock_store": flaky}, failures=failures)
    assert [r.getMessage() for r in caplog.records] == [
        "Not ready: the lock store check fails (ConnectionRefusedError: [Errno 111] Connection refused (host "
        "10.1.2.3, password hunter2))",
        "The lock store check passes again",
    ]


async def test_a_postgresql_url_to_a_closed_port_is_unreachable() -> None:
    engine = readiness.probe_engine(f"postgresql://postgres@127.0.0.1:{free_port()}/talentbot")
    result = await readiness.check({"handoff_database": readiness.sql_check(engine)})
    assert result.checks == {"handoff_database": "unreachable"}


async def test_a_redis_on_a_closed_port_is_unreachable() -> None:
    client = redis.StrictRedis(port=free_port(), socket_timeout=1, socket_connect_timeout=1)
    result = await readiness.check({"lock_store": readiness.redis_check(client)})
    assert result.checks == {"lock_store": "unreachable"}


async def test_an_sqlite_file_is_checked_read_only_and_never_created(tmp_path) -> None:
    missing = tmp_path / "missing.sqlite3"
    result = await readiness.check({"db": readiness.sql_check(readiness.probe_engine(f"sqlite:///{missing}"))})
    assert result.checks == {"db": "unreachable"} and not missing.exists()
    present = tmp_path / "present.sqlite3"
    sqlite3.connect(present).close()
    engine = readiness.probe_engine(f"sqlite:///{present}")
    result = await readiness.check({"db": readiness.sql_check(engine)})
    assert result.checks == {"db": "ok"}


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
async def test_an_sqlite_database_in_memory_answers(url: str) -> None:
    result = await readiness.check({"db": readiness.sql_check(readiness.probe_engine(url))})
    assert result.checks == {"db": "ok"}


async def test_the_handoff_database_check_follows_handoff_db_url(tmp_path) -> None:
    check = readiness.handoff_database_check({"HANDOFF_DB_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/x"})
    assert (await readiness.check({"handoff_database": check})).checks == {"handoff_database": "unreachable"}
    missing = readiness.handoff_database_check({"HANDOFF_DB_URL": f"sqlite:///{tmp_path / 'none.sqlite3'}"})
    assert (await readiness.check({"handoff_database": missing})).checks == {"handoff_database": "unreachable"}
