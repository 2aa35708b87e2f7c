"""Alembic environment for the analytics tables: their own version table (`alembic_version_analytics`); the URL comes
from the caller, else ANALYTICS_DB_URL / HANDOFF_DB_URL / the default (talentbot.core.analytics.db)."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

from talentbot.core.analytics.db import VERSION_TABLE, database_url
from talentbot.core.analytics.models import metadata

config = context.config
if config.config_file_name is not None:  # the `alembic` command with alembic.ini, not the consumer
    fileConfig(config.config_file_name, disable_existing_loggers=False)
target_metadata = metadata


def _url() -> str:
    configured = config.get_main_option("sqlalchemy.url")
    return configured or database_url()


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True,
                      version_table=VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # the consumer passes its own connection (db.upgrade)
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          version_table=VERSION_TABLE)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config({"sqlalchemy.url": _url()}, prefix="sqlalchemy.", poolclass=pool.NullPool, future=True)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          version_table=VERSION_TABLE)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
