"""talentbot.core.store_outages: which errors are outages, and one log line per outage (start and end)."""

from __future__ import annotations

import logging
from typing import List, Optional

import pytest
import redis.exceptions
import sqlalchemy.exc
from rasa.core.lock_store import LockError

from talentbot.core.store_outages import (
    LOCK_STORE,
    TRACKER_STORE,
    OutageLog,
    StoreUnavailable,
    connection_failure,
    describe,
    reporting,
    store_outage,
)


def raised_while_handling(outer: Exception, inner: Exception) -> Exception:
    """`outer` raised inside `except inner` (as Rasa raises LockError while handling a Redis error)."""
    try:
        try:
            raise inner
        except Exception:
            raise outer  # noqa: B904 - implicit chaining (__context__), as Rasa's own code does
    except Exception as error:
        return error


REFUSED = redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")
PG_DOWN = sqlalchemy.exc.OperationalError(
    "SELECT 1", {}, Exception('connection to server at "127.0.0.1", port 5499 failed: Connection refused'))
INVALIDATED = sqlalchemy.exc.DBAPIError("SELECT 1", {}, Exception("server closed the connection unexpectedly"),
                                        connection_invalidated=True)
NUL = sqlalchemy.exc.DataError("INSERT", {}, Exception("A string literal cannot contain NUL (0x00) characters."))


@pytest.mark.parametrize("error, is_outage", [
    (ConnectionRefusedError(111, "Connection refused"), True),
    (TimeoutError("timed out"), True),
    (REFUSED, True),
    (redis.exceptions.TimeoutError("Timeout reading from socket"), True),
    (redis.exceptions.BusyLoadingError("Redis is loading the dataset in memory"), True),
    (raised_while_handling(LockError("Error while acquiring lock."), REFUSED), True),
    (PG_DOWN, True),
    (INVALIDATED, True),
    (sqlalchemy.exc.InterfaceError("SELECT 1", {}, Exception("connection already closed")), True),
    (NUL, False),
    (sqlalchemy.exc.IntegrityError("INSERT", {}, Exception("duplicate key")), False),
    (redis.exceptions.ResponseError("WRONGTYPE"), False),
    (LockError("Could not acquire lock for conversation_id 'x'."), False),
    (ValueError("bad"), False),
    (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), False),
], ids=lambda value: type(value).__name__ if isinstance(value, Exception) else str(value))
def test_connection_failures_are_outages_and_faults_are_not(error, is_outage):
    assert (connection_failure(error) is not None) is is_outage
    assert (store_outage(error) is not None) is is_outage


@pytest.mark.parametrize("error, store", [
    (StoreUnavailable(TRACKER_STORE, PG_DOWN), TRACKER_STORE),
    (raised_while_handling(RuntimeError("wrapped"), StoreUnavailable(LOCK_STORE, REFUSED)), LOCK_STORE),
    (raised_while_handling(LockError("Error while acquiring lock."), REFUSED), "Redis"),
    (PG_DOWN, "database"),
    (ConnectionResetError(104, "Connection reset by peer"), "a store"),
])
def test_an_outage_names_its_store(error, store):
    assert store_outage(error).store == store


def test_an_error_is_described_on_one_line():
    assert describe(PG_DOWN).startswith("OperationalError: (builtins.Exception) connection to server at")
    assert "\n" not in describe(PG_DOWN)
    assert describe(ConnectionError()) == "ConnectionError"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def outages(clock) -> OutageLog:
    return OutageLog(logging.getLogger("test.outages"), clock)


def lines(caplog) -> List[str]:
    return [f"{record.levelname} {record.getMessage()}" for record in caplog.records if record.name == "test.outages"]


def test_one_error_when_an_outage_starts_and_one_line_when_it_ends(outages, clock, caplog):
    caplog.set_level(logging.INFO)
    assert outages.succeeded(LOCK_STORE) is False
    assert outages.failed(LOCK_STORE, REFUSED) is True
    for _ in range(40):
        clock.now += 0.25
        assert outages.failed(LOCK_STORE, ConnectionRefusedError()) is False
    assert outages.down() == {LOCK_STORE: describe(REFUSED)}
    assert outages.succeeded(LOCK_STORE) is True
    assert outages.succeeded(LOCK_STORE) is False
    assert lines(caplog) == [
        "ERROR The lock store is unreachable (ConnectionError: Error 111 connecting to 127.0.0.1:6390. Connection "
        "refused.). Further failures are counted, not logged, until it answers again.",
        "WARNING The lock store answers again after 10.0 s unreachable; 41 failed operations (first cause: "
        "ConnectionError: Error 111 connecting to 127.0.0.1:6390. Connection refused.)",
    ]
    assert outages.down() == {}


def test_each_store_has_its_own_outages(outages, caplog):
    caplog.set_level(logging.INFO)
    outages.failed(TRACKER_STORE, PG_DOWN)
    outages.failed(LOCK_STORE, REFUSED)
    assert outages.succeeded(LOCK_STORE) is True
    assert outages.down() == {TRACKER_STORE: describe(PG_DOWN)}
    outages.failed(LOCK_STORE, REFUSED)  # a second outage is logged again
    assert [line.split(" is unreachable")[0] for line in lines(caplog) if line.startswith("ERROR")] == [
        "ERROR The tracker store", "ERROR The lock store", "ERROR The lock store"]


def run(outages: OutageLog, error: Optional[Exception]) -> None:
    with reporting(TRACKER_STORE, outages):
        if error is not None:
            raise error


def test_reporting_turns_a_connection_failure_into_store_unavailable(outages):
    with pytest.raises(StoreUnavailable) as raised:
        run(outages, PG_DOWN)
    assert raised.value.store == TRACKER_STORE
    assert raised.value.cause is PG_DOWN and raised.value.__cause__ is PG_DOWN
    assert str(raised.value).startswith("tracker store unreachable: OperationalError:")
    assert TRACKER_STORE in outages.down()
    run(outages, None)
    assert outages.down() == {}


def test_reporting_lets_other_errors_through_unchanged(outages):
    with pytest.raises(sqlalchemy.exc.DataError):
        run(outages, NUL)
    assert outages.down() == {}
