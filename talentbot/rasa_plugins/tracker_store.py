"""Rasa's SQL tracker store, with the same tables and results, at a fraction of its cost per message.

Configured in `bot/endpoints*.yml` as ``type: talentbot.rasa_plugins.tracker_store.SQLTrackerStore`` (Rasa's custom
tracker
store hook) with the same settings as Rasa's ``type: SQL``; the rows it writes are the rows Rasa's store writes,
so either store (and `rasa export`, or an analytics job) can read the other's database.

Why: in the py-spy profile of issue 2, Rasa 3.6's SQLTrackerStore took about a third of the Rasa server's CPU
per message, mostly SQLAlchemy ORM work rather than the database: every retrieve and every save builds ORM
queries anew (and SQLAlchemy derives their cache keys each time), loads each event row as an ORM object, and
`save` counts the stored events with a second copy of the retrieve query. Here every statement is SQLAlchemy
Core, built once per store, reading only the `data` column, and new events are inserted in one executemany.

On an SQLite file the store also keeps its connections (a QueuePool, as SQLAlchemy 2.0 does for SQLite files;
1.4 opens a connection per use) and runs in write-ahead-log mode with ``synchronous=NORMAL``: a commit then
waits for no fsync (~2 ms per message on the event loop before). What is stored and read back is unchanged.
Trade-off: after a power loss or OS crash (not a crash of Rasa) the last few committed turns may be missing;
the file stays consistent. PostgreSQL (production) and in-memory SQLite keep Rasa's engine settings.

With an event broker (bot/endpoints*.yml: talentbot.rasa_plugins.event_broker), Rasa's `save` first re-reads the
conversation's latest session (query and deserialisation of every event, ~2.5 ms of CPU per message in a
10-turn conversation, more as it grows) only to find which events are new; here `save` hands the broker the events it
has just inserted instead (the same bodies, in the same order), once they are committed: the broker then costs the
save about 0.2 ms.

On PostgreSQL, replicas starting together take turns to create the database and tables
(`one_creator_at_a_time`), instead of racing into duplicate-key errors and Rasa's 5 s retry.

When the database cannot be reached, reading or saving a tracker raises `StoreUnavailable` (and the outage is logged
once, talentbot.core.store_outages); Rasa's fallback to an in-memory store is switched off
(talentbot.rasa_plugins.rasa_adapters), so
the message is refused instead of answered and lost. On PostgreSQL the pool tests a connection before lending it
(``pool_pre_ping``): after the server restarts, the first message is served on a new connection instead of failing
on a dead one.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Text, Union

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore as RasaSQLTrackerStore
from rasa.core.tracker_store import create_engine_kwargs, validate_port
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool, QueuePool

from talentbot.core.observability.logs import pseudonym
from talentbot.core.sqlite_wal import WAL_PRAGMAS, run_pragmas_on_connect
from talentbot.core.store_outages import TRACKER_STORE, reporting

logger = logging.getLogger(__name__)

def is_sqlite_file(url: URL) -> bool:
    """True for an SQLite database in a file (not in memory): the only kind whose engine settings change."""
    database = url.database or ""
    return url.get_backend_name() == "sqlite" and database not in ("", ":memory:") and "mode=memory" not in database


CREATION_LOCK_KEY = 0x74616C656E74  # "talent": the PostgreSQL advisory lock every replica's store takes at start


@contextlib.contextmanager
def one_creator_at_a_time(url: Union[str, URL]) -> Iterator[None]:
    """On PostgreSQL, lets one store at a time create the database and the tables.

    Rasa checks whether they exist, then creates them. Replicas starting together on an empty server (the two
    Sanic workers of `talentbot run --production`) both try. One gets a duplicate-key error, and Rasa logs it
    and sleeps 5 s before trying again. Best effort: if the server cannot be reached yet, no lock is taken and
    Rasa's own wait-and-retry applies.
    """
    if sa.engine.make_url(url).get_backend_name() != "postgresql":
        yield
        return
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        connection = engine.connect()
    except sa.exc.OperationalError:
        engine.dispose()
        yield
        return
    try:
        connection.execute(sa.select(sa.func.pg_advisory_lock(CREATION_LOCK_KEY)))
        yield
    finally:
        connection.close()  # ends the session, and with it the lock
        engine.dispose()


class SQLTrackerStore(RasaSQLTrackerStore):
    """Rasa's `SQLTrackerStore` (same settings, tables, rows and trackers) with prebuilt Core statements."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        dialect: Text = "sqlite",
        host: Optional[Text] = None,
        port: Optional[int] = None,
        db: Text = "rasa.db",
        username: Optional[Text] = None,
        password: Optional[Text] = None,
        event_broker: Optional[EventBroker] = None,
        login_db: Optional[Text] = None,
        query: Optional[Dict] = None,
        **kwargs: Any,
    ) -> None:
        # Rasa's constructor connects (waiting for the database), creates the database and the tables
        # (Rasa annotates username and password as Text, with None as their default: hence the ignores)
        url = self.get_db_url(
            dialect, host, validate_port(port), db, username, password, login_db, query)  # type: ignore[arg-type]
        with one_creator_at_a_time(url):
            super().__init__(
                domain, dialect, host, port, db, username, password, event_broker, login_db,  # type: ignore[arg-type]
                query, **kwargs)
        if is_sqlite_file(self.engine.url):
            self.engine.dispose()
            # One connection per thread at a time (the pool's rule), so SQLite's same-thread check can be off;
            # SQLAlchemy 2.0 sets the same for its pooled SQLite files.
            self.engine = sa.create_engine(
                self.engine.url, poolclass=QueuePool, connect_args={"check_same_thread": False})
            run_pragmas_on_connect(self.engine, WAL_PRAGMAS)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        elif self.engine.url.get_backend_name() == "postgresql":
            self.engine.dispose()
            # Rasa's pool settings (POSTGRESQL_POOL_SIZE...), plus a test of each connection before use
            self.engine = sa.create_engine(
                self.engine.url, pool_pre_ping=True, **create_engine_kwargs(self.engine.url))
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self._statements = _Statements(self.SQLEvent.__table__)

    async def _retrieve(
        self, sender_id: Text, fetch_events_from_all_sessions: bool
    ) -> Optional[DialogueStateTracker]:
        statement = self._statements.all_sessions if fetch_events_from_all_sessions else self._statements.latest_session
        with reporting(TRACKER_STORE), self.session_scope() as session:
            rows = session.execute(statement, {"sender_id": sender_id}).scalars().all()
        if not self.domain or not rows:
            return None
        return DialogueStateTracker.from_dict(sender_id, [json.loads(data) for data in rows], self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Stores the tracker's events that are not stored yet (those past the latest session's stored count), then
        hands those same events to the event broker, if any.

        Rasa's `save` first calls `stream_events`, which retrieves the whole latest session again (query and
        deserialisation of every event) only to learn how many events are stored: the count this save reads anyway.
        So the new events are published from here, with Rasa's message bodies, in Rasa's order, and only once they
        are committed (a turn the store refused is not announced)."""
        sender_id = tracker.sender_id
        with reporting(TRACKER_STORE), self.session_scope() as session:
            stored = session.execute(self._statements.count_latest_session, {"sender_id": sender_id}).scalar()
            new = [(event.type_name, event.as_dict()) for event in itertools.islice(tracker.events, stored, None)]
            if new:
                session.execute(self._statements.insert, [_row(sender_id, kind, data) for kind, data in new])
            session.commit()
        if self.event_broker is not None:
            for _, data in new:  # as Rasa's TrackerStore._stream_new_events builds them
                self.event_broker.publish({"sender_id": sender_id, **data})
        if logger.isEnabledFor(logging.DEBUG):  # the conversation named by its pseudonym only
            logger.debug("Tracker of %s stored to database", pseudonym(sender_id))


def _row(sender_id: Text, type_name: Text, data: Dict[Text, Any]) -> Dict[Text, Any]:
    """The columns Rasa's store fills for one event."""
    return {
        "sender_id": sender_id,
        "type_name": type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


class _Statements:
    """The store's statements, built once: SQLAlchemy then compiles each once and reuses it."""

    def __init__(self, events: sa.Table) -> None:
        sender = events.c.sender_id == sa.bindparam("sender_id")
        # The latest session starts at its `session_started` event; without one, every event is in it (as in Rasa).
        session_start = (
            sa.select(sa.func.max(events.c.timestamp))
            .where(sender, events.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        in_latest_session = sa.or_(events.c.timestamp >= session_start, session_start.is_(None))
        self.all_sessions = sa.select(events.c.data).where(sender).order_by(events.c.id)
        self.latest_session = sa.select(events.c.data).where(sender, in_latest_session).order_by(events.c.id)
        self.count_latest_session = sa.select(sa.func.count()).select_from(events).where(sender, in_latest_session)
        self.insert = events.insert()


STORE_TYPE = f"{__name__}.{SQLTrackerStore.__name__}"
"""The ``type`` of this store in an endpoints file."""


def sqlite_endpoint(db: Path) -> Dict[str, str]:
    """The ``tracker_store`` endpoint of this store on the SQLite file `db` (tests, the benchmark)."""
    return {"type": STORE_TYPE, "dialect": "sqlite", "db": str(db)}
