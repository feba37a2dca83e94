"""Run the Alembic migrations against a database URL (MySQL tables are InnoDB, utf8mb4)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from adapters.db.engine import normalise_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def head() -> str:
    """The newest migration this code knows."""
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head())


def current(url: str) -> str | None:
    """The migration the database is at; None when it has no dispersa schema."""
    from alembic.runtime.migration import MigrationContext

    from adapters.db.engine import build_engine

    engine = build_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def create_database(url: str) -> str:
    """Create the MySQL database the URL names, utf8mb4, if it does not exist; returns its name."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(normalise_url(url))
    if not target.drivername.startswith("mysql"):
        raise ValueError(f"only MySQL/MariaDB databases are created this way, not {target.drivername}")
    engine = create_engine(target.set(database=""))
    try:
        with engine.connect() as conn:
            conn.execute(text(f"CREATE DATABASE IF NOT EXISTS `{target.database}` "
                              "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    finally:
        engine.dispose()
    return str(target.database)
