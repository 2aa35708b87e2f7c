"""Connections for erasing: on SQLite, deleted rows are overwritten and the write-ahead log emptied afterwards, so
what was deleted cannot be read back from the file's free pages or from the log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

SQLITE_BUSY_TIMEOUT_S = 15
"""How long a delete waits for a server's write lock on the same SQLite file (they hold it for milliseconds)."""

SQLITE_PRAGMAS = ("PRAGMA secure_delete=ON", "PRAGMA foreign_keys=ON")
"""secure_delete: SQLite zeroes the content it deletes (rows and index entries) instead of leaving it in free
space."""


def is_sqlite(engine: Engine) -> bool:
    return bool(engine.url.get_backend_name() == "sqlite")


def erasing_engine(url: str) -> Engine:
    """An engine for the privacy commands on `url`; for SQLite, one connection per use (a short-lived command) with
    secure_delete on."""
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, future=True, pool_pre_ping=True)
    engine = create_engine(url, future=True, poolclass=NullPool, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            for pragma in SQLITE_PRAGMAS:
                cursor.execute(pragma)
        finally:
            cursor.close()

    event.listen(engine, "connect", on_connect)
    return engine


def flush_log(engine: Engine) -> bool:
    """SQLite in write-ahead-log mode: copies the log into the file and empties it, so the old pages it still held
    (with the deleted rows) are gone. False when a reader kept it from finishing (the next run finishes it)."""
    if not is_sqlite(engine):
        return True
    with engine.connect() as connection:
        busy, _log, _copied = connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).one()
    return not busy
