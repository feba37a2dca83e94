"""Shared fixtures. Integration fixtures use the real MariaDB, RabbitMQ and Redis on loopback."""
from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from adapters.clock import ManualClock
from adapters.sealing import KEYRING
from adapters.settings import Settings

MYSQL_URL = os.environ.get("DISPERSA_TEST_DATABASE_URL", "mysql+pymysql://root@127.0.0.1:3306/dispersa_test")
TEST_REDIS_URL = os.environ.get("DISPERSA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TEST_DATA_KEYS = "ZGlzcGVyc2EgdGVzdHMnIG93biBkYXRhIGtleSAzMmI="  # 32 bytes: the tests' own data key
os.environ["DISPERSA_DATA_KEYS"] = TEST_DATA_KEYS  # every Settings() and child process of the tests seals with it
KEYRING.load(TEST_DATA_KEYS)


class FakeClock(ManualClock):
    """The tests' clock: Monday 2026-11-23 15:00 UTC unless told otherwise, moved by hand."""

    def __init__(self, now: datetime | None = None):
        super().__init__(now or datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc))


@pytest.fixture(scope="session")
def migrated_db() -> str:
    """A fresh test database at the head migration, once per session."""
    from adapters.db.migrate import upgrade

    url = make_url(MYSQL_URL)
    engine = create_engine(url.set(database=""))
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{url.database}`"))
        conn.execute(text(f"CREATE DATABASE `{url.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    engine.dispose()
    upgrade(MYSQL_URL)
    return MYSQL_URL


@pytest.fixture
def db_url(migrated_db: str) -> str:
    """The test database with every table emptied."""
    engine = create_engine(migrated_db)
    with engine.begin() as conn:
        tables = [r[0] for r in conn.execute(text("SHOW TABLES")) if r[0] != "alembic_version"]
        conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        for table in tables:
            conn.execute(text(f"TRUNCATE TABLE `{table}`"))
        conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
    engine.dispose()
    return migrated_db


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Test settings on a RabbitMQ virtual host of the test database's own, so that concurrent runs
    against other test databases cannot purge or consume this run's messages."""
    from tests.integration.helpers import on_own_vhost

    return on_own_vhost(Settings(database_url=db_url, broker="rabbitmq", redis_url=TEST_REDIS_URL, max_retries=2,
                                 min_backoff_ms=50, max_backoff_ms=500, _env_file=None))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def container(settings: Settings, clock: FakeClock):
    """The composition root on MariaDB + RabbitMQ (queues purged) + Redis (test db flushed)."""
    from bootstrap import build_container

    c = build_container(settings, clock=clock)
    c.broker.flush_all()
    c.redis.flushdb()
    yield c
    c.broker.flush_all()
    c.broker.close()
    c.engine.dispose()
