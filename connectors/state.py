"""Small key-value state the channel processes share: dedup keys, access tokens, pending choices, last-message times."""
from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Callable, Mapping, Optional, Protocol

STATE_URL_ENV = "CONNECTORS_STATE_URL"
"""Environment variable naming the store: ``redis://host:port/db`` or ``sqlite:///path`` (default below)."""

DEFAULT_SQLITE_PATH = "var/connectors-state.sqlite3"
"""Embedded default, relative to the working directory of ``rasa run`` (``make clean`` removes ``var/``)."""


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


class SQLiteStateStore:
    """Embedded store: one SQLite file, safe for several processes on one host (SQLite's own locking)."""

    def __init__(self, path: str | Path, clock: Callable[[], float] = time.time) -> None:
        self._path = str(path)
        self._clock = clock
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        self._memory: Optional[sqlite3.Connection] = None
        with self._connect() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at REAL)"
            )

    def _connect(self) -> sqlite3.Connection:
        if self._path == ":memory:":
            # One shared connection, else every connection would see its own empty database.
            if self._memory is None:
                self._memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            return self._memory
        conn = sqlite3.connect(self._path, timeout=5.0, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    def _run(self, sql: str, *args: object) -> list[tuple]:
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?", (self._clock(),))
            rows = conn.execute(sql, args).fetchall()
            conn.execute("COMMIT")
            return rows
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            if conn is not self._memory:
                conn.close()

    def _expiry(self, ttl_s: Optional[float]) -> Optional[float]:
        return None if ttl_s is None else self._clock() + ttl_s

    async def claim(self, key: str, ttl_s: float) -> bool:
        rows = self._run(
            "INSERT OR IGNORE INTO kv (key, value, expires_at) VALUES (?, '1', ?) RETURNING key",
            key, self._expiry(ttl_s),
        )
        return bool(rows)  # RETURNING yields a row only when the insert happened

    async def get(self, key: str) -> Optional[str]:
        rows = self._run("SELECT value FROM kv WHERE key = ?", key)
        return rows[0][0] if rows else None

    async def put(self, key: str, value: str, ttl_s: Optional[float] = None) -> None:
        self._run("INSERT OR REPLACE INTO kv (key, value, expires_at) VALUES (?, ?, ?)",
                  key, value, self._expiry(ttl_s))

    async def pop(self, key: str) -> Optional[str]:
        rows = self._run("DELETE FROM kv WHERE key = ? RETURNING value", key)
        return rows[0][0] if rows else None

    async def delete(self, key: str) -> None:
        self._run("DELETE FROM kv WHERE key = ?", key)

    async def close(self) -> None:
        if self._memory is not None:
            self._memory.close()
            self._memory = None


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


__all__ = ["StateStore", "SQLiteStateStore", "RedisStateStore", "open_state_store", "STATE_URL_ENV"]
