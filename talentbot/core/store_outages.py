"""Store outages: the error a message meets when a store it needs is unreachable, and the log of outages.

The tracker store (PostgreSQL) and the lock store (Redis) of the production set-up can blink: a restart, a fail-over,
a network cut. Rasa 3.6 hides that: it answers from an in-memory tracker (`FailSafeTrackerStore`), or drops the
message after a lock error with no reply at all. Here a store that cannot be reached raises `StoreUnavailable`,
the channel tells the user to try again (connectors/outage.py), and `OutageLog` writes one error line when an
outage starts (with its cause) and one line when the store answers again, whatever the number of messages between.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional

import redis.exceptions
import sqlalchemy.exc

logger = logging.getLogger(__name__)

TRACKER_STORE = "tracker store"
LOCK_STORE = "lock store"

CONNECTION_FAILURES = (
    ConnectionError,  # refused, reset, broken pipe (OSError subclasses)
    TimeoutError,
    socket.gaierror,  # the host name does not resolve (DNS down)
    redis.exceptions.ConnectionError,  # includes BusyLoadingError: Redis restarting and still loading its data
    redis.exceptions.TimeoutError,
    sqlalchemy.exc.OperationalError,  # connection refused or cut, server shutting down, SQLite file locked
    sqlalchemy.exc.InterfaceError,  # a connection the server already closed
    sqlalchemy.exc.DisconnectionError,
    sqlalchemy.exc.TimeoutError,  # no pooled connection free in time
)
"""Errors that mean "the store cannot be reached now", as opposed to a fault in what was asked of it."""


class StoreUnavailable(Exception):
    """A store a conversation needs could not be reached, so the message was not taken: nothing of it was stored.

    `store` names the store for people ("tracker store"); `cause` is the error the store's client raised.
    """

    def __init__(self, store: str, cause: BaseException) -> None:
        super().__init__(f"{store} unreachable: {describe(cause)}")
        self.store = store
        self.cause = cause


def describe(error: BaseException) -> str:
    """The error on one line, as a log reader wants it: its type and the first line of its message."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and the errors it was raised from or while handling, innermost last."""
    seen = set()
    current: Optional[BaseException] = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def connection_failure(error: BaseException) -> Optional[BaseException]:
    """The connection failure behind `error`, or None when `error` is not one (nor raised from one).

    Rasa wraps Redis errors in its own (`LockError` raised while handling a `redis.ConnectionError`), so the whole
    chain of causes is searched.
    """
    for link in _chain(error):
        if isinstance(link, sqlalchemy.exc.DBAPIError) and link.connection_invalidated:
            invalidated: BaseException = link  # SQLAlchemy 1.4 ships no types: narrowed to Any otherwise
            return invalidated
        if isinstance(link, CONNECTION_FAILURES):
            return link
    return None


def store_outage(error: BaseException) -> Optional[StoreUnavailable]:
    """`error` as a store outage: the `StoreUnavailable` in its chain, or one built from a connection failure
    (named after the client library: a store whose code does not raise `StoreUnavailable` itself); else None."""
    for link in _chain(error):
        if isinstance(link, StoreUnavailable):
            return link
    cause = connection_failure(error)
    if cause is None:
        return None
    if isinstance(cause, redis.exceptions.RedisError):
        return StoreUnavailable("Redis", cause)
    if isinstance(cause, sqlalchemy.exc.SQLAlchemyError):
        return StoreUnavailable("database", cause)
    return StoreUnavailable("a store", cause)


@dataclass
class _Outage:
    since: float  # clock time of the first failure
    cause: str  # `describe` of the first failure
    failures: int = 1  # failed operations so far


class OutageLog:
    """One error line when a store becomes unreachable, one line when it answers again; nothing in between.

    Stores report each failed operation (`failed`) and each successful one (`succeeded`); `succeeded` costs a
    dictionary check while nothing is down, so it can run on every operation. One log per process: each Sanic
    worker reports the outages it meets.
    """

    def __init__(self, log: logging.Logger = logger, clock: Callable[[], float] = time.monotonic) -> None:
        self.log = log
        self.clock = clock
        self._down: Dict[str, _Outage] = {}
        self._lock = threading.Lock()
        self.observers: List[Callable[[str], None]] = []
        """Called with the store's name on every failed operation (talentbot.core.observability.metrics counts
        them)."""

    def failed(self, store: str, cause: BaseException) -> bool:
        """Records a failed operation; True (and an error line) when it starts an outage."""
        for observe in self.observers:
            observe(store)
        with self._lock:
            outage = self._down.get(store)
            if outage is not None:
                outage.failures += 1
                return False
            outage = self._down[store] = _Outage(self.clock(), describe(cause))
        self.log.error(
            "The %s is unreachable (%s). Further failures are counted, not logged, until it answers again.",
            store, outage.cause,
        )
        return True

    def succeeded(self, store: str) -> bool:
        """Records a successful operation; True (and a line) when it ends an outage."""
        if store not in self._down:
            return False
        with self._lock:
            outage = self._down.pop(store, None)
        if outage is None:
            return False
        self.log.warning(
            "The %s answers again after %.1f s unreachable; %d failed operations (first cause: %s)",
            store, self.clock() - outage.since, outage.failures, outage.cause,
        )
        return True

    def down(self) -> Dict[str, str]:
        """The stores unreachable now, with the cause of each outage."""
        with self._lock:
            return {store: outage.cause for store, outage in self._down.items()}


OUTAGES = OutageLog()
"""This process's outage log, shared by its stores and channels."""


@contextmanager
def reporting(store: str, outages: OutageLog = OUTAGES) -> Iterator[None]:
    """Runs one store operation: a connection failure becomes `StoreUnavailable` (and is logged once per outage);
    success ends an outage; any other error passes unchanged."""
    try:
        yield
    except StoreUnavailable:
        raise
    except Exception as error:
        cause = connection_failure(error)
        if cause is None:
            raise
        outages.failed(store, cause)
        raise StoreUnavailable(store, cause) from error
    outages.succeeded(store)
