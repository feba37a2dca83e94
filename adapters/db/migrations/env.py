"""Alembic environment: the URL comes from dispersa's settings (or the caller's config)."""
from __future__ import annotations

from alembic import context

from adapters.db.engine import build_engine
from adapters.db.tables import metadata
from adapters.sealing import KEYRING

config = context.config


def load_keys() -> None:
    """The data keys migrations seal and unseal stored rows with (DISPERSA_DATA_KEYS), unless the caller
    loaded them; without keys, only a database with no payee data yet can be migrated."""
    from adapters.settings import Settings

    keys = Settings().data_keys
    if not KEYRING.loaded and keys:
        KEYRING.load(keys)


def run_migrations_online() -> None:
    load_keys()
    url = config.get_main_option("sqlalchemy.url") or ""
    engine = build_engine(url)
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":  # a table rebuilt in batch mode must not cascade to its children
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
