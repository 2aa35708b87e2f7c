"""The analytics database: where it is, its engine, and bringing its schema up to date with Alembic.

The deployment's database, as the handoff queue's (talentbot.core.handoff.db): ANALYTICS_DB_URL if set, else
HANDOFF_DB_URL, else the SQLite default `var/handoff.sqlite3`; with `--production` that is the tracker store's
PostgreSQL database. One database for both lets the insights page join a message's handoff ticket (its wait, its
outcome) without copying it.

Migrations: a folder of their own (`migrations/`) with their own version table, `alembic_version_analytics`, beside
the handoff queue's `alembic_version`. The two schemas then move independently (neither's `upgrade head` ever sees
the other's revisions, and no merge revision is ever needed), while living in one database.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator, Mapping

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine, make_url

from talentbot.core.handoff import db as handoff_db

URL_VARIABLE = "ANALYTICS_DB_URL"
MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version_analytics"
MIGRATION_LOCK_KEY = 0x74616C656E75  # the PostgreSQL advisory lock consumers starting together take in turn


def database_url(env: Mapping[str, str] = os.environ) -> str:
    """ANALYTICS_DB_URL, else HANDOFF_DB_URL, else the handoff queue's SQLite default (relative paths from the
    project root, as there)."""
    chosen = env.get(URL_VARIABLE) or env.get(handoff_db.URL_VARIABLE) or ""
    return handoff_db.database_url({handoff_db.URL_VARIABLE: chosen})


def make_engine(url: str) -> Engine:
    """The handoff queue's engine settings: pooled SQLite in WAL mode with a busy timeout; PostgreSQL connections
    tested before use."""
    return handoff_db.make_engine(url)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """`alembic upgrade head` of the analytics tables (idempotent; every consumer runs it at start-up, one at a
    time)."""
    url = engine.url.render_as_string(hide_password=False)
    config = alembic_config(url)
    with _one_at_a_time(engine), engine.begin() as connection:
        _lock_in_transaction(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _lock_in_transaction(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


@contextlib.contextmanager
def _one_at_a_time(engine: Engine) -> Iterator[None]:
    """On an SQLite file, a lock file beside it: two consumers starting together must not both find the tables
    missing. (PostgreSQL: the advisory lock taken in the migration's transaction.)"""
    database = make_url(str(engine.url)).database or ""
    if engine.url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        yield
        return
    with open(f"{database}.migrate-lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
