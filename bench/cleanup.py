"""What a run leaves behind, removed unless ``--keep``: the bench database, its RabbitMQ vhost (removed
before a run as well, so that no message of an earlier run is consumed by this one), its Redis db."""
from __future__ import annotations

import subprocess

from sqlalchemy import create_engine, text

from testbed import SERVER_URL


def delete_vhost(name: str) -> None:
    """Delete a RabbitMQ virtual host and its queues (nothing happens if there is none)."""
    try:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        pass


def drop_database(name: str, server_url: str = SERVER_URL) -> None:
    """Drop the database if it exists."""
    engine = create_engine(server_url)
    try:
        with engine.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    finally:
        engine.dispose()


def flush_redis(db: int) -> None:
    """Empty one Redis database."""
    try:
        subprocess.run(["redis-cli", "-n", str(db), "flushdb"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        pass
