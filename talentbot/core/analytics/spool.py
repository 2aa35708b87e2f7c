"""The local spool of conversation events: an SQLite file every Rasa process of a host writes its events to first.

Rasa publishes each event as the turn is stored (talentbot.rasa_plugins.event_broker). The events go into this
file in one transaction per turn before anything else is tried, so a broker that is down, slow or unreachable at
start-up never holds up a reply, and what was not sent yet survives the process: the next process on the host
(a restarted server, the replacement of a Sanic worker) sends it.

Then either
- a sender in each Rasa process (production: RabbitMQ) claims rows, publishes them, and removes them once the broker
  confirmed them; or
- with no broker (the embedded set-up) the file is the outbox `talentbot events consume` reads itself: it claims
  rows, stores their analytics rows, and removes them once those are committed.

Claims are leases: a claimed row is skipped by the others until its lease runs out, so two processes rarely send
the same row; when one dies holding a lease, the row is sent again after it. A row sent twice is stored once (the
analytics table's unique event key). Rows hold the events as Rasa serialises them (message texts included), so
rows older than the retention are deleted by `talentbot events purge` even if they were never sent.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from talentbot.core import paths

SPOOL_VARIABLE = "TALENTBOT_EVENTS_SPOOL"
DEFAULT_SPOOL = "var/events-spool.sqlite3"
"""The spool file: the event broker endpoint's ``spool`` setting, else TALENTBOT_EVENTS_SPOOL, else this (from the
project root). One per host: every Rasa process of the host shares it."""

FORWARD_VARIABLE = "TALENTBOT_EVENTS_FORWARD"
"""``0``: events stay in the spool even where the endpoints file sends them to RabbitMQ. For servers started without
a consumer (`talentbot.wiring.devserver.assistant` sets it so for tests and the benchmark)."""

BUSY_TIMEOUT_S = 10.0
"""How long a writer waits for another's lock (the file is shared by every Rasa process and a consumer)."""

LEASE_S = 60.0
"""How long a claim keeps a row from the others: longer than any publish or store of one batch."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS spooled_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    body TEXT NOT NULL,
    headers TEXT,
    created REAL NOT NULL,
    lease_until REAL NOT NULL DEFAULT 0
)
"""

CLAIMABLE = "SELECT 1 FROM spooled_events WHERE lease_until <= ? LIMIT 1"


def spool_path(configured: Optional[str] = None, env: Mapping[str, str] = os.environ) -> Path:
    """Where the spool is (see DEFAULT_SPOOL); a relative path is taken from the project root."""
    path = Path(configured or env.get(SPOOL_VARIABLE) or DEFAULT_SPOOL)
    return path if path.is_absolute() else paths.ROOT / path


@dataclass(frozen=True)
class Spooled:
    id: int
    body: str  # the event's JSON, as Rasa's brokers publish it
    headers: Dict[str, str]  # message headers (the turn summary of a user message)
    created: float


class Spool:
    """One spool file; safe to use from several threads of a process, and from several processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                           check_same_thread=False)
        with self._lock:
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=NORMAL")
            self._connection.execute(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def append(self, items: Iterable[Tuple[str, Optional[Dict[str, str]]]], now: Optional[float] = None) -> int:
        """Adds events (body, headers) in one transaction; returns how many."""
        created = time.time() if now is None else now
        rows = [(body, json.dumps(headers) if headers else None, created) for body, headers in items]
        if not rows:
            return 0
        with self._lock, self._transaction():
            self._connection.executemany("INSERT INTO spooled_events (body, headers, created) VALUES (?, ?, ?)", rows)
        return len(rows)

    def claim(self, limit: int, lease_s: float = LEASE_S, now: Optional[float] = None) -> List[Spooled]:
        """Up to `limit` of the oldest rows no one holds, now held for `lease_s` seconds, oldest first."""
        moment = time.time() if now is None else now
        with self._lock:
            # a read first: most looks find nothing (an idle sender or consumer), and a read in WAL mode neither
            # takes the write lock nor waits for it, so the Rasa server's appends are never held up by an empty look
            if self._connection.execute(CLAIMABLE, (moment,)).fetchone() is None:
                return []
        with self._lock, self._transaction():
            rows = self._connection.execute(
                "UPDATE spooled_events SET lease_until = ? WHERE id IN ("
                " SELECT id FROM spooled_events WHERE lease_until <= ? ORDER BY id LIMIT ?)"
                " RETURNING id, body, headers, created",
                (moment + lease_s, moment, limit),
            ).fetchall()
        return sorted((Spooled(row[0], row[1], json.loads(row[2]) if row[2] else {}, row[3]) for row in rows),
                      key=lambda spooled: spooled.id)

    def remove(self, ids: Sequence[int]) -> None:
        """Deletes rows that were delivered."""
        self._by_ids("DELETE FROM spooled_events WHERE id IN ({})", ids)

    def release(self, ids: Sequence[int]) -> None:
        """Gives rows back at once (they could not be delivered now)."""
        self._by_ids("UPDATE spooled_events SET lease_until = 0 WHERE id IN ({})", ids)

    def pending(self) -> int:
        with self._lock:
            counted: int = self._connection.execute("SELECT count(*) FROM spooled_events").fetchone()[0]
        return counted

    def purge(self, created_before: float) -> int:
        """Deletes rows spooled before `created_before` (unix time), sent or not; returns how many."""
        with self._lock, self._transaction():
            cursor = self._connection.execute("DELETE FROM spooled_events WHERE created < ?", (created_before,))
        return cursor.rowcount

    # --- one user's data (talentbot privacy export|delete) and erasing (talentbot privacy purge) -----------------

    def of_sender(self, sender_id: str) -> List[Spooled]:
        """The spooled events of one conversation (Rasa's ``sender_id`` in the event's JSON), oldest first."""
        with self._lock:
            rows = self._connection.execute(
                f"SELECT id, body, headers, created FROM spooled_events WHERE {_OF_SENDER} ORDER BY id",
                (sender_id,)).fetchall()
        return [Spooled(row[0], row[1], json.loads(row[2]) if row[2] else {}, row[3]) for row in rows]

    def forget(self, sender_id: str) -> int:
        """Deletes every spooled event of one conversation, sent or not; returns how many. Call `erasing` first
        for the bytes to go too."""
        with self._lock, self._transaction():
            cursor = self._connection.execute(f"DELETE FROM spooled_events WHERE {_OF_SENDER}", (sender_id,))
        return cursor.rowcount

    def erasing(self) -> None:
        """From now on this connection overwrites what it deletes (SQLite's secure_delete), so deleted events cannot
        be read back from the file's free pages."""
        with self._lock:
            self._connection.execute("PRAGMA secure_delete=ON")

    def flush_log(self) -> bool:
        """Copies the write-ahead log into the file and empties it (the old pages it held go with it); False when a
        reader (a Rasa process) kept it from finishing: the next run finishes it."""
        with self._lock:
            busy = self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        return not busy

    def _by_ids(self, statement: str, ids: Sequence[int]) -> None:
        if not ids:
            return
        with self._lock, self._transaction():
            for start in range(0, len(ids), 500):  # SQLite's limit on bound parameters is far above this
                chunk = list(ids[start:start + 500])
                self._connection.execute(statement.format(",".join("?" * len(chunk))), chunk)

    def _transaction(self) -> "_Immediate":
        return _Immediate(self._connection)


_OF_SENDER = "(CASE WHEN json_valid(body) THEN json_extract(body, '$.sender_id') END) = ?"
"""An event of one conversation (a row that is not JSON belongs to none)."""


class _Immediate:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error): the write lock taken at once, so no claim can interleave."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def __enter__(self) -> None:
        self._connection.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        self._connection.execute("COMMIT" if kind is None else "ROLLBACK")
