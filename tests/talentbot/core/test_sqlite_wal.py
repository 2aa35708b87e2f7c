"""talentbot.core.sqlite_wal: every connection of a shared SQLite file runs the pragmas, for each store that uses it."""

from __future__ import annotations

from talentbot.core.handoff import db


def test_the_handoff_database_has_foreign_keys_and_a_write_ahead_log(tmp_path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'handoff.sqlite3'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    finally:
        engine.dispose()
