"""Alembic environment: the URL comes from dispersa's settings (or the caller's config)."""
from __future__ import annotations

from alembic import context

from adapters.db.engine import build_engine
from adapters.db.tables import metadata

config = context.config


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url") or ""
    engine = build_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
