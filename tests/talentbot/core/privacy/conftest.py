"""An empty Rasa `events` table (Rasa's own table definition) on a fresh SQLite file or on a PostgreSQL database of
the test's own on the shared server (created here, dropped afterwards)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore as RasaSQLTrackerStore

from talentbot.core.privacy.engines import erasing_engine
from tests.talentbot.conftest import POSTGRES_ADMIN_URL, POSTGRES_HOST, POSTGRES_PORT, _postgres_reachable

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)


@pytest.fixture(params=["sqlite", "postgresql"])
def events_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.engine.Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'trackers.db'}"
        name = None
    else:
        if not _postgres_reachable():
            pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_HOST}:{POSTGRES_PORT}")
        name = f"talentbot_privacy_test_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = f"postgresql://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}"
    engine = erasing_engine(url)
    RasaSQLTrackerStore.SQLEvent.__table__.create(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        if name is not None:
            admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def add_events(engine: sa.engine.Engine, sender_id: str, *times: dt.datetime) -> None:
    """One `user` event per time, as Rasa stores them."""
    table = RasaSQLTrackerStore.SQLEvent.__table__
    rows = [{"sender_id": sender_id, "type_name": "user", "timestamp": at.timestamp(), "intent_name": "greet",
             "action_name": None, "data": json.dumps({"event": "user", "text": f"hello from {sender_id}",
                                                      "timestamp": at.timestamp()})}
            for at in times]
    with engine.begin() as connection:
        connection.execute(table.insert(), rows)


def senders(engine: sa.engine.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return dict(connection.execute(sa.text(
            "SELECT sender_id, count(*) FROM events GROUP BY sender_id")).all())
