"""Adjustments to Rasa Open Source 3.6.21 internals that the Rasa server needs for throughput.

Installed explicitly, once per process, by `install()`: `talentbot.rasa_server` (the Rasa server entry point
that `talentbot run`, the end-to-end tests and the benchmark start) calls it before Rasa starts. Plain
`rasa run` works as before without them, only slower. Each adjustment keeps Rasa's observable behaviour
(except the SQLite durability trade-off below); `tests/talentbot/test_rasa_adapters.py` checks that, and
that the Rasa version they were written against is installed.

1. Action server responses are validated with one pre-built JSON Schema validator.

   Upstream, `RemoteAction._validate_action_result` calls `jsonschema.validate(result, schema)` for every
   custom action call. `jsonschema.validate` first checks the schema itself against the JSON Schema
   meta-schema (`check_schema`) and builds a new validator; Rasa's response schema embeds the schema of
   every event type, so that check costs about 20 ms of CPU per call (56% of the Rasa server's CPU per
   message in the py-spy profile of issue 2), and it blocks the event loop meanwhile.
   The schema is a constant, so here it is checked once, at installation, and one validator of the same
   class (`validator_for(schema)`, as `validate` picks) validates every response. The responses accepted
   and rejected, and the `ValidationError` raised (the best match, with Rasa's added hint), are unchanged.

2. The SQL tracker store on an SQLite file keeps its connections and commits in write-ahead-log mode.

   Upstream, `SQLTrackerStore` uses SQLAlchemy 1.4's default pool for SQLite files, `NullPool`: every
   retrieve and save opens a new SQLite connection; and SQLite's default rollback journal with
   `synchronous=FULL` waits for several fsyncs per commit, on the event loop (~2 ms per message here).
   Here the store's engine gets a `QueuePool` (SQLAlchemy 2.0's default for SQLite files) and every
   connection `PRAGMA journal_mode=WAL` and `PRAGMA synchronous=NORMAL`. What is stored and read back is
   unchanged. Trade-offs: the database gets `-wal`/`-shm` files next to it (WAL mode stays set in the file);
   after a power loss or OS crash (not a crash of Rasa) the last few committed turns may be missing, the
   file stays consistent. Only SQLite files are affected: PostgreSQL (production) and in-memory SQLite
   keep Rasa's settings.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Dict, Text

logger = logging.getLogger(__name__)

RASA_VERSION = "3.6.21"
"""The Rasa version these adjustments were written and tested against (see the test)."""

_installed = False
UPSTREAM: Dict[str, Any] = {}
"""Rasa's own functions that `install()` replaced, by qualified name (for tests and comparison)."""


def _cached_response_validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, as jsonschema.validate would on every call
    return cls(schema)


def _install_action_response_validator() -> None:
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    validator = _cached_response_validator()

    def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        # Same as RemoteAction._validate_action_result in Rasa 3.6.21, minus the per-call schema check.
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error

    _validate_action_result.__doc__ = "Validates with a pre-built validator (talentbot.rasa_adapters)."
    UPSTREAM["RemoteAction._validate_action_result"] = RemoteAction._validate_action_result
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[assignment]


SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _is_sqlite_file(url: Any) -> bool:
    database = url.database or ""
    return url.get_backend_name() == "sqlite" and database not in ("", ":memory:") and "mode=memory" not in database


def _install_sqlite_tracker_store_settings() -> None:
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore
    from sqlalchemy.pool import QueuePool

    upstream_init = SQLTrackerStore.__init__

    @functools.wraps(upstream_init)
    def __init__(self: SQLTrackerStore, *args: Any, **kwargs: Any) -> None:
        upstream_init(self, *args, **kwargs)  # creates the tables, as upstream
        url = self.engine.url
        if not _is_sqlite_file(url):
            return
        self.engine.dispose()
        # One connection per thread at a time (the pool's rule), so SQLite's same-thread check can be off;
        # SQLAlchemy 2.0 sets the same for its pooled SQLite files.
        self.engine = sa.create_engine(url, poolclass=QueuePool, connect_args={"check_same_thread": False})
        sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    UPSTREAM["SQLTrackerStore.__init__"] = upstream_init
    SQLTrackerStore.__init__ = __init__  # type: ignore[method-assign]


def install() -> None:
    """Applies every adjustment above; a second call does nothing."""
    global _installed
    if _installed:
        return
    import rasa

    if rasa.__version__ != RASA_VERSION:
        logger.warning(
            "talentbot.rasa_adapters was written for Rasa %s, found %s; check the adjustments still apply.",
            RASA_VERSION, rasa.__version__,
        )
    _install_action_response_validator()
    _install_sqlite_tracker_store_settings()
    _installed = True
