"""The bare actors of the raw limits, for the dramatiq CLI and nothing of dispersa's in them:

    dramatiq bench.raw_actors --processes P --threads T --queues bench_raw_insert   # (a)
    dramatiq bench.raw_actors --processes P --threads T --queues bench_raw_noop     # (b)

(a) does one INSERT and one COMMIT per message, on a PyMySQL connection of its thread's own, into the
bench database's ``bench_raw_inserts``; (b) does nothing. Both read the testbed's DISPERSA_RABBITMQ_URL and
DISPERSA_DATABASE_URL."""
from __future__ import annotations

import os
import threading
from typing import Any

import dramatiq
import pymysql
from dramatiq.brokers.rabbitmq import RabbitmqBroker

from bench.config import RAW_INSERT_QUEUE, RAW_NOOP_QUEUE, RAW_TABLE, pymysql_arguments

broker = RabbitmqBroker(url=os.environ["DISPERSA_RABBITMQ_URL"])
dramatiq.set_broker(broker)
_local = threading.local()


def _connection() -> Any:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = pymysql.connect(**pymysql_arguments(os.environ["DISPERSA_DATABASE_URL"]))
    return conn


@dramatiq.actor(queue_name=RAW_INSERT_QUEUE, actor_name=RAW_INSERT_QUEUE, max_retries=0)
def raw_insert(n: int) -> None:
    """One INSERT, one COMMIT."""
    conn = _connection()
    with conn.cursor() as cursor:
        cursor.execute(f"INSERT INTO {RAW_TABLE} (n) VALUES (%s)", (n,))
    conn.commit()


@dramatiq.actor(queue_name=RAW_NOOP_QUEUE, actor_name=RAW_NOOP_QUEUE, max_retries=0)
def raw_noop(n: int) -> None:
    """Nothing: what a message costs through RabbitMQ and Dramatiq alone."""
