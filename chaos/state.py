"""What the run reads of the system, never writing: the testbed's database (a read-only session), its
RabbitMQ queues (``rabbitmqctl list_queues -p <its vhost>``) and the sandbox's books (``/_sandbox/books``).
From these it decides whether the system has settled, and if not, names what is still moving."""
from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import httpx
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import DBAPIError

from testbed import Testbed

T = TypeVar("T")
IN_FLIGHT = "A"
SAMPLE = 8  # ids shown of each thing still unsettled


@dataclass(frozen=True)
class Unsettled:
    """One kind of work that has not finished: how many, and some of their ids."""

    what: str
    count: int
    sample: tuple[Any, ...] = ()

    def __str__(self) -> str:
        ids = f" (e.g. {', '.join(map(str, self.sample))})" if self.sample else ""
        return f"{self.count} {self.what}{ids}"


# (what, SQL selecting the ids of the unsettled rows)
UNSETTLED_SQL = (
    ("transfers waiting for treasury", "SELECT id FROM bank_transfers WHERE status = 'waiting_confirmation'"),
    ("transfers sending or in transit", "SELECT id FROM bank_transfers WHERE status IN ('sending', 'in_transit')"),
    ("payment orders created, sending or sent (no final word)",
     "SELECT id FROM payment_orders WHERE status IN ('created', 'sending', 'sent')"),
    ("outbox rows not published", "SELECT id FROM outbox WHERE published_at IS NULL"),
    ("delivered credits without their contribution",
     "SELECT c.id FROM credits c LEFT JOIN balance_updates b ON b.credit_id = c.id AND b.type = 'contribution' "
     "WHERE c.delivered_at IS NOT NULL AND b.id IS NULL"),
    ("credits cancelled after delivery without their cancellation",
     "SELECT c.id FROM credits c LEFT JOIN balance_updates b ON b.credit_id = c.id "
     "AND b.type = 'credit_cancellation' WHERE c.delivered_at IS NOT NULL AND c.status = 'cancelled' AND b.id IS NULL"),
    ("requests for a transfer now not decided", "SELECT id FROM trigger_evaluations WHERE outcome = 'requested'"),
    ("bank callbacks not processed", "SELECT id FROM bank_events WHERE status IN ('received', 'unmatched')"),
    ("bulk batches not finished (queued, awaiting approval or processing)",
     "SELECT batch_id FROM batches WHERE status NOT IN ('completed', 'failed')"),
    ("bulk rows without their final word", "SELECT instruction_id FROM instructions WHERE status NOT IN "
                                           "('success', 'failure')"),
)


def _read_only(dbapi_conn: Any, _record: Any) -> None:
    with dbapi_conn.cursor() as cursor:
        cursor.execute("SET SESSION TRANSACTION READ ONLY")


class Observer:
    """Read-only views of the testbed's database, queues and bank."""

    def __init__(self, bed: Testbed):
        self.bed = bed
        self.engine = create_engine(bed.database_url, pool_pre_ping=True, pool_size=2,
                                    isolation_level="READ COMMITTED")
        event.listen(self.engine, "connect", _read_only)

    def _retrying(self, read: Callable[[], T]) -> T:
        """A read, again when a killed connection broke it."""
        for attempt in range(10):
            try:
                return read()
            except DBAPIError:
                if attempt == 9:
                    raise
                time.sleep(0.5)
        raise AssertionError("unreachable")

    def rows(self, sql: str, **params: Any) -> list[Any]:
        """The rows of one read-only query."""
        def _read() -> list[Any]:
            with self.engine.connect() as conn:
                return list(conn.execute(text(sql), params))
        return self._retrying(_read)

    def scalar(self, sql: str, **params: Any) -> Any:
        """The one value of one read-only query."""
        rows = self.rows(sql, **params)
        return rows[0][0] if rows else None

    def by_status(self, table: str, column: str = "status", amounts: bool = True) -> dict[str, tuple[int, int]]:
        """status -> (rows, sum of amounts) of one table."""
        total = "SUM(amount)" if amounts else "0"
        return {str(s): (int(n), int(a or 0)) for s, n, a in self.rows(
            f"SELECT {column}, COUNT(*), {total} FROM {table} GROUP BY {column} ORDER BY {column}")}

    def unsettled_in_database(self) -> list[Unsettled]:
        """Every kind of database work not finished yet, with some ids."""
        found = []
        for what, sql in UNSETTLED_SQL:
            count = int(self.scalar(f"SELECT COUNT(*) FROM ({sql}) AS q") or 0)
            if count:
                sample = tuple(r[0] for r in self.rows(f"{sql} ORDER BY 1 LIMIT {SAMPLE}"))
                found.append(Unsettled(what, count, sample))
        return found

    def queues(self) -> dict[str, tuple[int, int]]:
        """The testbed vhost's queues: name -> (ready, unacknowledged)."""
        done = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", self.bed.vhost, "name", "messages_ready",
                               "messages_unacknowledged"], capture_output=True, text=True, timeout=60)
        queues = {}
        for line in done.stdout.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1].isdigit():
                queues[parts[0]] = (int(parts[1]), int(parts[2]))
        return queues

    def books(self) -> list[dict[str, Any]]:
        """The sandbox's books: every order STP accepted, its estado and its callbacks."""
        answer = httpx.get(f"{self.bed.sandbox_url}/_sandbox/books", timeout=60)
        answer.raise_for_status()
        orders: list[dict[str, Any]] = answer.json()["orders"]
        return orders

    def unsettled(self, books: list[dict[str, Any]]) -> list[Unsettled]:
        """What is still moving: database work, queued messages (dead letters aside), the bank's
        orders still in flight and its callbacks still being delivered."""
        found = self.unsettled_in_database()
        busy = {name: ready + unacked for name, (ready, unacked) in self.queues().items()
                if not name.endswith(".XQ") and ready + unacked}
        if busy:
            found.append(Unsettled("messages queued or being processed", sum(busy.values()),
                                   tuple(f"{q}={n}" for q, n in sorted(busy.items()))))
        flying = [o["claveRastreo"] for o in books if o.get("estado") == IN_FLIGHT]
        if flying:
            found.append(Unsettled("orders in flight at the bank", len(flying), tuple(flying[:SAMPLE])))
        calling = [o["claveRastreo"] for o in books
                   if any(not d["delivered"] and not d["gave_up"] for d in o.get("deliveries", ()))]
        if calling:
            found.append(Unsettled("orders whose callbacks the bank is still delivering", len(calling),
                                   tuple(calling[:SAMPLE])))
        return found

    def fingerprint(self, books: list[dict[str, Any]]) -> dict[str, Any]:
        """What changes whenever anything moves, by name: the newest row of each table that grows with
        work, and the bank's orders, estados and webhook attempts."""
        names = ("balance updates", "transfer moves", "order moves", "bank callbacks", "outbox rows",
                 "wallet entries", "bulk rows settled", "bulk batches finished")
        newest = self.rows("SELECT (SELECT COALESCE(MAX(id), 0) FROM balance_updates), "
                           "(SELECT COALESCE(MAX(id), 0) FROM bank_transfer_status_history), "
                           "(SELECT COALESCE(MAX(id), 0) FROM payment_order_status_history), "
                           "(SELECT COALESCE(MAX(id), 0) FROM bank_events), "
                           "(SELECT COALESCE(MAX(id), 0) FROM outbox), "
                           "(SELECT COALESCE(MAX(id), 0) FROM wallet_entries), "
                           "(SELECT COUNT(*) FROM instructions WHERE status IN ('success', 'failure')), "
                           "(SELECT COUNT(*) FROM batches WHERE status IN ('completed', 'failed'))")[0]
        moved: dict[str, Any] = dict(zip(names, newest))
        moved["bank orders"] = (len(books), tuple(o.get("estado") for o in books))
        moved["webhook attempts"] = sum(d["attempts"] for o in books for d in o.get("deliveries", ()))
        return moved

    def evaluations(self) -> dict[str, int]:
        """Trigger evaluations by the kind of their period (instant, hourly, ..., manual) and outcome."""
        return {f"{k} {o}": int(n) for k, o, n in self.rows(
            "SELECT SUBSTRING_INDEX(period_key, ':', 1) AS k, outcome, COUNT(*) FROM trigger_evaluations "
            "GROUP BY k, outcome ORDER BY k, outcome")}

    def events(self) -> dict[str, int]:
        """Events of level WARNING and above by level and kind: the faults as the system saw them (sweeps
        that re-drove work, failed steps) and what a person would have to look at (ALERT)."""
        return {f"{level} {kind}": int(n) for level, kind, n in self.rows(
            "SELECT level, kind, COUNT(*) FROM event_log WHERE level IN ('WARNING', 'ERROR', 'ALERT') "
            "GROUP BY level, kind ORDER BY level, kind")}

    def sweeps(self) -> list[str]:
        """What the sweeps found stuck and re-drove, as the event log says it."""
        return [str(m) for (m,) in self.rows("SELECT message FROM event_log WHERE kind = 'sweep' ORDER BY id")]

    def dead_letters(self) -> dict[str, int]:
        """Messages that died: copies left in the vhost's ``<queue>.XQ``, and the dead letters recorded
        (by actor and status) where the schema has them."""
        found = {f"{name} (RabbitMQ)": ready + unacked for name, (ready, unacked) in self.queues().items()
                 if name.endswith(".XQ") and ready + unacked}
        if self.scalar("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                       "AND TABLE_NAME = 'dead_letters'"):
            found.update({f"{actor} {status}": int(n) for actor, status, n in self.rows(
                "SELECT actor_name, status, COUNT(*) FROM dead_letters GROUP BY actor_name, status "
                "ORDER BY actor_name, status")})
        return found

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()
