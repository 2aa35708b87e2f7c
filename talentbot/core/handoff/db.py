"""Connecting to the handoff database and bringing its schema up to date with Alembic."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import QueuePool

from talentbot.core.paths import ROOT
from talentbot.core.sqlite_wal import WAL_PRAGMAS, run_pragmas_on_connect

URL_VARIABLE = "HANDOFF_DB_URL"
DEFAULT_URL = "sqlite:///var/handoff.sqlite3"
"""A file under var/, relative to the project root (the Rasa tracker and channel state live there too)."""

MIGRATIONS = Path(__file__).with_name("migrations")

SQLITE_BUSY_TIMEOUT_S = 15
"""How long a SQLite writer waits for another's lock before failing: two staff claiming at once must queue, not fail."""


def database_url(env: Mapping[str, str] = os.environ) -> str:
    """HANDOFF_DB_URL, else the SQLite default; a relative SQLite path is taken from the project root."""
    url = make_url(env.get(URL_VARIABLE) or DEFAULT_URL)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        if not path.is_absolute():
            path = ROOT / path
        path.parent.mkdir(parents=True, exist_ok=True)
        url = url.set(database=str(path))
    rendered: str = url.render_as_string(hide_password=False)  # (SQLAlchemy 1.4 ships no types)
    return rendered


SQLITE_PRAGMAS = ("PRAGMA foreign_keys=ON", *WAL_PRAGMAS)
"""Foreign keys on; write-ahead log so the console's and the channels' reads never wait for the action server's
writes (several processes share the file)."""


def make_engine(url: str) -> Engine:
    """An engine for `url`, usable from several threads (the console runs queries in a thread pool)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # pooled connections (SQLAlchemy 1.4 opens a new one per use for SQLite files): every message a channel
        # receives looks up the conversation's open ticket
        pool = {"poolclass": QueuePool} if parsed.database not in (None, "", ":memory:") else {}
        engine = create_engine(url, future=True, **pool,
                               connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S})
        run_pragmas_on_connect(engine, SQLITE_PRAGMAS)
        return engine
    # pooled connections are checked before use: after a PostgreSQL restart the next request gets a new connection
    # instead of failing on a closed one (console, action server and channels all connect here)
    return create_engine(url, future=True, pool_pre_ping=True)


def alembic_config(url: str) -> Config:
    """Alembic's configuration without reading alembic.ini, so the store works from any working directory."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """`alembic upgrade head` on the engine's database (idempotent; run at every start-up)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
