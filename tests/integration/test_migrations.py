"""The migrations build exactly the schema the code maps (no drift), on MariaDB and on the demo's SQLite,
and every one of them can be undone and done again."""
from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from adapters.db.migrate import alembic_config, current, head, upgrade
from adapters.db.tables import metadata
from tests.conftest import MYSQL_URL

pytestmark = pytest.mark.integration


@pytest.fixture
def scratch_mysql() -> str:
    url = make_url(MYSQL_URL).set(database=f"{make_url(MYSQL_URL).database}_migrations")
    server = create_engine(url.set(database=""))
    with server.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{url.database}`"))
        conn.execute(text(f"CREATE DATABASE `{url.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    yield url.render_as_string(hide_password=False)
    with server.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{url.database}`"))
    server.dispose()


def drift(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), metadata))
    finally:
        engine.dispose()


@pytest.mark.parametrize("database", ["mariadb", "sqlite"])
def test_the_migrations_build_the_mapped_schema_and_undo_cleanly(database: str, scratch_mysql: str,
                                                                tmp_path: Path) -> None:
    url = scratch_mysql if database == "mariadb" else f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    assert current(url) == head()
    assert drift(url) == []
    command.downgrade(alembic_config(url), "base")
    assert current(url) is None
    upgrade(url)
    assert current(url) == head() and drift(url) == []
