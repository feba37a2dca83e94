"""Engine and session factory for MySQL/MariaDB (production) and SQLite (embedded demo)."""
from __future__ import annotations

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from adapters.db.tables import map_domain


def normalise_url(url: str) -> str:
    if url.startswith("mysql://"):
        url = "mysql+pymysql://" + url[len("mysql://"):]
    if url.startswith("mysql+pymysql://") and "charset=" not in url:
        url += ("&" if "?" in url else "?") + "charset=utf8mb4"
    return url


def build_engine(url: str, lock_wait_seconds: int = 0) -> Engine:
    """``lock_wait_seconds``: how long a statement waits for a row lock before MySQL gives up (1205);
    0 keeps the server's innodb_lock_wait_timeout. Lock waits are retried by the actors, never failed."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            dbapi_conn.execute("PRAGMA foreign_keys=ON")
            dbapi_conn.execute("PRAGMA journal_mode=WAL")

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # type: ignore[no-untyped-def]
            # SQLite has no row locks: take the write lock up front so that a
            # read-then-append (the ledger chain) is serialised like FOR UPDATE is on MySQL.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # READ COMMITTED: a locking read followed by plain reads sees what other
    # transactions committed before our lock, not an older snapshot.
    engine = create_engine(url, pool_pre_ping=True, pool_recycle=1800, isolation_level="READ COMMITTED")
    if lock_wait_seconds > 0:
        @event.listens_for(engine, "connect")
        def _lock_wait(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            with dbapi_conn.cursor() as cursor:
                cursor.execute(f"SET SESSION innodb_lock_wait_timeout = {int(lock_wait_seconds)}")

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    map_domain()
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)
