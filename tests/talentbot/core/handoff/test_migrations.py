"""Alembic: the migrations create exactly the tables of models.py, go down cleanly, and alembic.ini finds them."""

from __future__ import annotations

import configparser

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from talentbot.core.handoff import db
from talentbot.core.handoff.models import metadata
from talentbot.core.paths import ROOT


def test_upgrade_head_matches_the_models(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        db.upgrade(engine)
        db.upgrade(engine)  # idempotent: every start-up runs it
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
        # the database is shared with other stores (talentbot.core.analytics, its own migrations): only what the
        # handoff migrations own is compared
        assert [d for d in differences if not _another_store_s_table(d)] == []
    finally:
        engine.dispose()


def _another_store_s_table(difference: object) -> bool:
    """A table (or an index of a table) in the database that the handoff models do not have."""
    if not isinstance(difference, tuple):
        return False
    if difference[0] == "remove_table":
        return difference[1].name not in metadata.tables
    if difference[0] == "remove_index":
        return difference[1].table.name not in metadata.tables
    return False


def test_downgrade_to_base_removes_the_tables(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        db.upgrade(engine)
        config = db.alembic_config(database_url)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        assert not {"handoff_tickets", "staff_users"} & set(inspect(engine).get_table_names())
        db.upgrade(engine)
        assert {"handoff_tickets", "handoff_messages", "staff_users", "staff_sessions"} <= set(
            inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_alembic_ini_points_at_the_migrations() -> None:
    parser = configparser.ConfigParser()
    parser.read(ROOT / "alembic.ini")
    assert (ROOT / parser["alembic"]["script_location"]).resolve() == db.MIGRATIONS.resolve()


def test_default_url_is_a_file_under_var(monkeypatch) -> None:
    monkeypatch.delenv(db.URL_VARIABLE, raising=False)
    url = db.database_url()
    assert url == f"sqlite:///{ROOT / 'var' / 'handoff.sqlite3'}"
    assert db.database_url({db.URL_VARIABLE: "postgresql://postgres@127.0.0.1:5432/x"}).startswith("postgresql://")
