"""Engine and session factory for MySQL/MariaDB (production) and SQLite (embedded demo)."""
from __future__ import annotations

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from adapters.db.tables import map_domain


def normalise_url(url: str) -> str:
    if url.startswith("mysql://"):
        url = "mysql+pymysql://" + url[len("mysql://"):]
    if url.startswith("mysql+pymysql://") and "charset=" not in url:
        url += ("&" if "?" in url else "?") + "charset=utf8mb4"
    return url


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
# Every session refuses a value that does not fit its column (a BIGINT amount beyond its range, a text too
# long) rather than storing it changed; the rest is the server's default.
SQL_MODE = "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"
STRICT_MODES = frozenset({"STRICT_TRANS_TABLES", "STRICT_ALL_TABLES"})


def _connect_args(url: str) -> dict[str, object]:
    """PyMySQL tries TLS on every new connection unless told otherwise, at a cost of tens of milliseconds
    of CPU each; to a server on this host, and with no TLS option in the URL, it is not asked for."""
    parsed = make_url(url)
    if parsed.host in LOOPBACK and not any(k.startswith("ssl") for k in parsed.query):
        return {"ssl_disabled": True}
    return {}


def build_engine(url: str, lock_wait_seconds: int = 0, pool_size: int = 10, max_overflow: int = 20) -> Engine:
    """``lock_wait_seconds``: how long a statement waits for a row lock before MySQL gives up (1205);
    0 keeps the server's innodb_lock_wait_timeout. Lock waits are retried by the actors, never failed.
    ``pool_size`` connections are kept open; up to ``max_overflow`` more are opened under load."""
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
    # Every unit of work ends its transaction (commit, or close's rollback), so the pool need not send
    # another ROLLBACK when a connection comes back.
    engine = create_engine(url, pool_pre_ping=True, pool_recycle=1800, isolation_level="READ COMMITTED",
                           pool_size=pool_size, max_overflow=max_overflow, pool_reset_on_return=None,
                           connect_args=_connect_args(url))
    @event.listens_for(engine, "connect")
    def _session(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        with dbapi_conn.cursor() as cursor:
            cursor.execute(f"SET SESSION sql_mode = '{SQL_MODE}'")
            if lock_wait_seconds > 0:
                cursor.execute(f"SET SESSION innodb_lock_wait_timeout = {int(lock_wait_seconds)}")

    return engine


class NotStrict(RuntimeError):
    """The database session does not run in strict mode: a value that does not fit would be stored changed."""


def require_strict(engine: Engine) -> None:
    """Raise NotStrict unless a new session of ``engine`` runs in strict mode (SQLite, the embedded demo's,
    has no such mode)."""
    if engine.dialect.name != "mysql":
        return
    with engine.connect() as conn:
        mode = str(conn.exec_driver_sql("SELECT @@SESSION.sql_mode").scalar() or "")
    if not STRICT_MODES & set(mode.split(",")):
        raise NotStrict(f"the database session runs with sql_mode '{mode}', without STRICT_TRANS_TABLES: the server "
                        "would store a value that does not fit its column changed (an amount clamped) instead of "
                        "refusing it. Let the database user set its session's sql_mode, or set the server's to "
                        "include STRICT_TRANS_TABLES, and start again.")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    map_domain()
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)
