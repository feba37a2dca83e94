"""The bench's own reads and bulk writes on the bench database (plain SQL), and the server's counters."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping

from sqlalchemy import Engine, create_engine, text

SERVER_COUNTERS = ("Connections", "Questions", "Com_select", "Com_insert", "Com_update", "Com_delete", "Com_commit",
                   "Com_begin", "Com_rollback", "Com_admin_commands", "Com_set_option", "Innodb_row_lock_waits",
                   "Innodb_row_lock_time", "Innodb_deadlocks", "Innodb_os_log_fsyncs")


def bench_engine(url: str) -> Engine:
    """An engine on the bench database, READ COMMITTED so that each poll sees what was committed."""
    if "charset=" not in url:
        url += ("&" if "?" in url else "?") + "charset=utf8mb4"
    return create_engine(url, isolation_level="READ COMMITTED", pool_size=4)


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    """The first column of the first row of ``sql``."""
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def row(engine: Engine, sql: str, **params: Any) -> Any:
    """The first row of ``sql``."""
    with engine.connect() as conn:
        return conn.execute(text(sql), params).first()


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    """Every row of ``sql``."""
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def execute(engine: Engine, *statements: str, **params: Any) -> None:
    """Run ``statements`` in one transaction."""
    with engine.begin() as conn:
        for sql in statements:
            conn.execute(text(sql), params)


def server_counters(engine: Engine) -> dict[str, int]:
    """The server's global statement counters (every client's, not only the bench's)."""
    names = ", ".join(f"'{n}'" for n in SERVER_COUNTERS)
    with engine.connect() as conn:
        found = conn.execute(text(f"SHOW GLOBAL STATUS WHERE Variable_name IN ({names})"))
        return {name: int(value) for name, value in found}


def counter_deltas(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    """How much each counter grew."""
    return {name: after[name] - before.get(name, 0) for name in after}


def per_item(counters: Mapping[str, int], items: int) -> dict[str, float]:
    """Each counter per item, to two decimals (nothing for no items)."""
    return {name: round(value / items, 2) for name, value in counters.items()} if items else {}


def server_version(engine: Engine) -> str:
    """The server's version string."""
    return str(scalar(engine, "SELECT VERSION()"))


def ensure_numbers(engine: Engine, upto: int) -> None:
    """A table ``bench_numbers`` holding 1..``upto`` at least (built by doubling, on MySQL or MariaDB), for
    bulk INSERT ... SELECT."""
    execute(engine, "CREATE TABLE IF NOT EXISTS bench_numbers (n INT PRIMARY KEY)",
            "INSERT INTO bench_numbers (n) SELECT 1 FROM DUAL WHERE NOT EXISTS (SELECT n FROM bench_numbers)")
    while (top := int(scalar(engine, "SELECT MAX(n) FROM bench_numbers"))) < upto:
        execute(engine, "INSERT INTO bench_numbers (n) SELECT n + :top FROM bench_numbers WHERE n + :top <= :upto",
                top=top, upto=upto)


def epochs(engine: Engine, sql: str, **params: Any) -> list[float]:
    """The first column of every row of ``sql``, DATETIMEs, as epoch seconds."""
    return [epoch(r[0]) for r in rows(engine, sql, **params)]


def epoch(at: datetime) -> float:
    """A naive UTC DATETIME read back from the server (or an aware one) as epoch seconds."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.timestamp()


def utc_now() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(timezone.utc)
