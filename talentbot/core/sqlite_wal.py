"""SQLite files that several processes share (the tracker store, the handoff queue): write-ahead-log mode, so
readers never wait for a writer, with the commit durability SQLite recommends for it (no fsync per commit; after
a power loss or OS crash the last few commits may be missing, the file stays consistent)."""

from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import event
from sqlalchemy.engine import Engine

WAL_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")


def run_pragmas_on_connect(engine: Engine, pragmas: Sequence[str]) -> None:
    """Runs `pragmas` on every new connection of `engine` (SQLite settings are per connection)."""

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            for pragma in pragmas:
                cursor.execute(pragma)
        finally:
            cursor.close()

    event.listen(engine, "connect", on_connect)
