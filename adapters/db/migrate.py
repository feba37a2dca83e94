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
