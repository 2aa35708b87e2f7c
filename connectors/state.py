"""Small key-value state the channel processes share: dedup keys, access tokens, pending choices, last-message times."""
from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional, Protocol, TypeVar

STATE_URL_ENV = "CONNECTORS_STATE_URL"
"""Environment variable naming the store: ``redis://host:port/db`` or ``sqlite:///path`` (default below)."""

DEFAULT_SQLITE_PATH = "var/connectors-state.sqlite3"
"""Embedded default, relative to the working directory of ``rasa run``."""

BUSY_TIMEOUT_S = 5.0
"""How long an SQLite call waits for another process's write lock before it fails with "database is locked"."""

PURGE_EVERY_S = 60.0
"""How often a process deletes expired keys from the SQLite file: only to bound its size, as queries skip them."""

T = TypeVar("T")


class StateStore(Protocol):
    """What the connectors need to remember across requests and processes.

    Keys are plain strings chosen by the caller (e.g. ``wechat:msg:<MsgId>``); values are strings.
    A ``ttl_s`` of ``None`` keeps the value until it is deleted.
    """

    async def claim(self, key: str, ttl_s: float) -> bool:
        """Atomically mark ``key`` as seen: True for the first caller, False for every later one (dedup)."""

    async def get(self, key: str) -> Optional[str]:
        """The live value of ``key``, or None."""

    async def put(self, key: str, value: str, ttl_s: Optional[float] = None) -> None:
        """Set ``key`` (replacing any value)."""

    async def pop(self, key: str) -> Optional[str]:
        """Atomically read and delete ``key``: two processes never both get the value."""

    async def delete(self, key: str) -> None:
        """Forget ``key``."""

    async def close(self) -> None:
        """Release connections."""


# --- personal data (talentbot privacy export|delete|purge) ---------------------------------------------------------


def is_user_key(key: str, sender_id: str) -> bool:
    """Whether ``key`` is about the user ``sender_id``: the per-user keys ``<kind>:<sender id>`` (``lang:``,
    ``choices:``, ``window:``, ``hint:``, any kind to come written the same way) and WeChat's event dedup keys
    ``wechat:event:<openid>:<time>`` (with their ``:pending``). The other keys name no user: message ids, update
    ids, signatures' nonces, access tokens."""
    _kind, separator, rest = key.partition(":")
    if separator and rest == sender_id:
        return True
    channel, separator, native = sender_id.partition(":")
    return bool(separator and channel and native) and key.startswith(f"{channel}:event:{native}:")


def _user_needles(sender_id: str) -> tuple[str, str]:
    """Substrings every key of the user contains (a pre-filter; `is_user_key` decides)."""
    channel, separator, native = sender_id.partition(":")
    return sender_id, (f"{channel}:event:{native}:" if separator and channel and native else sender_id)


@dataclass(frozen=True)
class HeldKey:
    """A key the store holds, as `talentbot privacy export` shows it."""

    key: str
    value: Optional[str]
    expires_at: Optional[float]  # seconds since the epoch; None: kept until deleted


@dataclass(frozen=True)
class Purged:
    expired: int  # expired keys deleted (SQLite; Redis deletes its own)
    capped: int  # keys that would have outlived the retention, now expiring at its end


class PersonalData(Protocol):
    """What the privacy commands need of a state store besides `StateStore` (both stores below have it)."""

    async def user_keys(self, sender_id: str) -> list[HeldKey]:
        """Every key about the user (`is_user_key`), with its value and expiry."""

    async def forget_user(self, sender_id: str) -> int:
        """Deletes every key about the user; how many there were."""

    async def purge(self, max_ttl_s: float) -> Purged:
        """Deletes expired keys and makes every key expire within ``max_ttl_s`` at the latest (the retention)."""

    async def close(self) -> None:
        """Release connections."""


_CREATE = "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at REAL)"
_LIVE = "(expires_at IS NULL OR expires_at > :now)"
_PURGE = "DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= :now"
_CLAIM = (  # a new key, or one whose ttl has run out but which no purge has deleted yet
    "INSERT INTO kv (key, value, expires_at) VALUES (:key, '1', :now + :ttl) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at "
    "WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= :now RETURNING key"
)
_GET = f"SELECT value FROM kv WHERE key = :key AND {_LIVE}"
_PUT = "INSERT OR REPLACE INTO kv (key, value, expires_at) VALUES (:key, :value, :now + :ttl)"  # NULL ttl: no expiry
_POP = f"DELETE FROM kv WHERE key = :key AND {_LIVE} RETURNING value"
_DELETE = "DELETE FROM kv WHERE key = :key"
_USER_CANDIDATES = "SELECT key, value, expires_at FROM kv WHERE instr(key, :first) > 0 OR instr(key, :second) > 0"
_CAP = "UPDATE kv SET expires_at = :now + :max_ttl WHERE expires_at IS NULL OR expires_at > :now + :max_ttl"


class SQLiteStateStore:
    """Embedded store: one SQLite file, safe for several processes on one host (SQLite's own locking).

    A call may wait up to ``BUSY_TIMEOUT_S`` on another process's lock, so every statement runs on a thread of the
    store's own (one worker thread, one connection opened there): the event loop keeps serving other chats, the
    connection is reused rather than opened per call, and ``:memory:`` keeps its single database. SQLite admits one
    writer per file anyway, so a second thread would only queue on the same lock.
    """

    def __init__(
        self, path: str | Path, clock: Callable[[], float] = time.time, purge_every_s: float = PURGE_EVERY_S
    ) -> None:
        self._path = str(path)
        self._clock = clock
        self._purge_every_s = purge_every_s
        self._next_purge = float("-inf")  # the first write of a process purges what earlier runs left behind
        self._conn: Optional[sqlite3.Connection] = None  # used on the worker thread only
        self._worker: Optional[ThreadPoolExecutor] = None
        self._worker_pid = 0
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)

    # --- the worker thread ---------------------------------------------------------------------------------------

    def _executor(self) -> ThreadPoolExecutor:
        """The store's worker; a new one after a fork, whose child inherits neither the thread nor a usable
        connection (submitting to the parent's executor would wait forever)."""
        if self._worker is None or self._worker_pid != os.getpid():
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-state")
            self._worker_pid = os.getpid()
            self._conn = None  # after a fork, the parent's: never to be used here (SQLite's rule)
        return self._worker

    async def _call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Runs ``work(connection)`` on the worker thread, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._executor(), self._on_worker, work)

    def _on_worker(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._conn is None:
            self._conn = self._open()
        return work(self._conn)

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer (no-op for :memory:)
            conn.execute(_CREATE)
        except BaseException:
            conn.close()
            raise
        return conn

    def _read(self, sql: str, **params: object) -> Callable[[sqlite3.Connection], list[tuple]]:
        """A statement that only reads: no write lock, so it never waits for another process's writer."""
        return lambda conn: conn.execute(sql, {**params, "now": self._clock()}).fetchall()

    def _write(self, sql: str, **params: object) -> Callable[[sqlite3.Connection], list[tuple]]:
        """A statement in its own write transaction, with the scheduled purge of expired keys when it is due."""

        def work(conn: sqlite3.Connection) -> list[tuple]:
            conn.execute("BEGIN IMMEDIATE")
            try:
                now = self._clock()  # read once the lock is held: a key that expired while we waited is expired
                if self._purge_due(now):
                    conn.execute(_PURGE, {"now": now})
                rows = conn.execute(sql, {**params, "now": now}).fetchall()
                conn.execute("COMMIT")
                return rows
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

        return work

    def _purge_due(self, now: float) -> bool:
        """Purging is housekeeping only (every query skips expired rows), so once per ``purge_every_s`` will do."""
        if now < self._next_purge:
            return False
        self._next_purge = now + self._purge_every_s
        return True

    def _close_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # --- the StateStore promises ---------------------------------------------------------------------------------

    async def claim(self, key: str, ttl_s: float) -> bool:
        rows = await self._call(self._write(_CLAIM, key=key, ttl=ttl_s))
        return bool(rows)  # RETURNING yields a row only when the key was new or had expired

    async def get(self, key: str) -> Optional[str]:
        rows = await self._call(self._read(_GET, key=key))
        return rows[0][0] if rows else None

    async def put(self, key: str, value: str, ttl_s: Optional[float] = None) -> None:
        await self._call(self._write(_PUT, key=key, value=value, ttl=ttl_s))

    async def pop(self, key: str) -> Optional[str]:
        rows = await self._call(self._write(_POP, key=key))
        return rows[0][0] if rows else None

    async def delete(self, key: str) -> None:
        await self._call(self._write(_DELETE, key=key))

    async def close(self) -> None:
        """Closes the connection on its own thread (after the calls already queued) and lets the thread end; a
        later call opens both again."""
        worker = self._worker
        if worker is None or self._worker_pid != os.getpid():
            return
        await asyncio.get_running_loop().run_in_executor(worker, self._close_connection)
        worker.shutdown(wait=False)
        self._worker = None

    # --- personal data -------------------------------------------------------------------------------------------

    async def user_keys(self, sender_id: str) -> list[HeldKey]:
        first, second = _user_needles(sender_id)
        rows = await self._call(self._read(_USER_CANDIDATES, first=first, second=second))
        return sorted((HeldKey(key, value, expires_at) for key, value, expires_at in rows
                       if is_user_key(key, sender_id)), key=lambda held: held.key)

    async def forget_user(self, sender_id: str) -> int:
        first, second = _user_needles(sender_id)

        def work(conn: sqlite3.Connection) -> int:
            conn.execute("PRAGMA secure_delete=ON")  # the deleted values are overwritten, not left in free pages
            conn.execute("BEGIN IMMEDIATE")
            try:
                rows = conn.execute(_USER_CANDIDATES, {"first": first, "second": second}).fetchall()
                keys = [key for key, _value, _expires in rows if is_user_key(key, sender_id)]
                conn.executemany(_DELETE, [{"key": key} for key in keys])
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # nor in the write-ahead log's old pages
            return len(keys)

        return await self._call(work)

    async def purge(self, max_ttl_s: float) -> Purged:
        def work(conn: sqlite3.Connection) -> Purged:
            conn.execute("BEGIN IMMEDIATE")
            try:
                now = self._clock()
                expired = conn.execute(_PURGE, {"now": now}).rowcount
                capped = conn.execute(_CAP, {"now": now, "max_ttl": max_ttl_s}).rowcount
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return Purged(expired, capped)

        return await self._call(work)


class RedisStateStore:
    """Store for several hosts: Redis with a key prefix (so tests and deployments never share keys)."""

    def __init__(self, url: str, prefix: str = "talentbot:connectors:") -> None:
        import redis.asyncio as redis_asyncio  # imported here: only this store needs it

        self._redis = redis_asyncio.Redis.from_url(url, decode_responses=True)
        self._prefix = prefix

    def _key(self, key: str) -> str:
        return self._prefix + key

    @staticmethod
    def _ms(ttl_s: Optional[float]) -> Optional[int]:
        return None if ttl_s is None else max(1, int(ttl_s * 1000))

    async def claim(self, key: str, ttl_s: float) -> bool:
        return bool(await self._redis.set(self._key(key), "1", nx=True, px=self._ms(ttl_s)))

    async def get(self, key: str) -> Optional[str]:
        return await self._redis.get(self._key(key))

    async def put(self, key: str, value: str, ttl_s: Optional[float] = None) -> None:
        await self._redis.set(self._key(key), value, px=self._ms(ttl_s))

    async def pop(self, key: str) -> Optional[str]:
        return await self._redis.getdel(self._key(key))

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._key(key))

    async def close(self) -> None:
        await self._redis.close()

    # --- personal data -------------------------------------------------------------------------------------------

    async def _user_key_names(self, sender_id: str) -> list[str]:
        """The user's keys, prefix included: SCAN (it never blocks Redis) for the two shapes they take."""
        prefix = _glob_escape(self._prefix)
        _first, second = _user_needles(sender_id)
        patterns = {f"{prefix}*:{_glob_escape(sender_id)}", f"{prefix}{_glob_escape(second)}*"}
        found: set[str] = set()
        for pattern in patterns:
            async for name in self._redis.scan_iter(match=pattern, count=SCAN_COUNT):
                found.add(name)
        return sorted(name for name in found if is_user_key(name[len(self._prefix):], sender_id))

    async def user_keys(self, sender_id: str) -> list[HeldKey]:
        names = await self._user_key_names(sender_id)
        held = []
        for name in names:
            async with self._redis.pipeline(transaction=False) as pipe:
                value, ttl_ms = await pipe.get(name).pttl(name).execute()
            expires_at = time.time() + ttl_ms / 1000 if ttl_ms is not None and ttl_ms >= 0 else None
            held.append(HeldKey(name[len(self._prefix):], value, expires_at))
        return held

    async def forget_user(self, sender_id: str) -> int:
        names = await self._user_key_names(sender_id)
        return int(await self._redis.delete(*names)) if names else 0

    async def purge(self, max_ttl_s: float) -> Purged:
        max_ms = self._ms(max_ttl_s)
        capped = 0
        async for name in self._redis.scan_iter(match=_glob_escape(self._prefix) + "*", count=SCAN_COUNT):
            ttl_ms = await self._redis.pttl(name)
            if ttl_ms == -1 or (max_ms is not None and ttl_ms > max_ms):  # -1: no expiry; -2: gone meanwhile
                capped += int(bool(await self._redis.pexpire(name, max_ms)))
        return Purged(0, capped)


SCAN_COUNT = 1000
"""Keys Redis looks at per SCAN step."""


def _glob_escape(text: str) -> str:
    """``text`` matched literally by Redis's glob patterns (SCAN MATCH)."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def open_state_store(env: Mapping[str, str] = os.environ) -> StateStore:
    """The store named by ``CONNECTORS_STATE_URL``; the embedded SQLite file when it is not set."""
    url = env.get(STATE_URL_ENV, "").strip()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStateStore(url)
    if url.startswith("sqlite:///"):
        return SQLiteStateStore(url[len("sqlite:///"):])
    if url:
        raise ValueError(f"{STATE_URL_ENV} must start with redis:// or sqlite:///, got {url!r}")
    return SQLiteStateStore(DEFAULT_SQLITE_PATH)


__all__ = ["StateStore", "SQLiteStateStore", "RedisStateStore", "open_state_store", "STATE_URL_ENV",
           "PersonalData", "HeldKey", "Purged", "is_user_key"]
