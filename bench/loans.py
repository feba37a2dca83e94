"""Scenario 7, the daily loan servicing run: a loan book written in bulk (INSERT … SELECT, a chunk of
credits per statement: customers, loans of 6 to 12 monthly installments signed over the last ten months,
mixed statuses, some late, some frozen or disputed), then the day's SERVICE_LOANS messages written to the
outbox by the scheduler's own use case and run by the Procfile's worker, slice by slice, as in production.
The figure is loans per second from the first slice's start to the last slice's end (the slices' rows in
``loan_servicing_runs``); beside it the end to end time from the outbox to the last slice.

The book is a book for timing: its stored installments look like a serviced book's (due ones paid, a tenth
of the loans late on their recent installments), but it has no repayment rows, so ``loans verify`` is not
run on it."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text

from bench import db
from bench.catalog import make_stores
from bench.config import LOANS
from bench.context import Run
from bench.processes import ensure_running, ensure_stopped
from bench.raw import wait_count
from bench.report import INCOMPLETE, Row, Threshold
from bench.stats import rate, ratio
from domain.customers import DEFAULT_DPD

TITLE = "7. loan servicing"
CHUNK = 100_000  # credits per INSERT … SELECT
LOANS_PER_CUSTOMER = 4
TARGET_SECONDS_PER_MILLION = 60.0
TARGET = Threshold("s_per_million", TARGET_SECONDS_PER_MILLION, False, "1M loans ≤ 60 s", "1M ≤ 60 s")
MEXICO_CITY = "America/Mexico_City"

PRODUCT_SQL = """
INSERT INTO products (name, currency, payment_frequency, status, created_at)
VALUES ('bench loans', 'MXN', 'monthly', 'active', :at)
"""
CUSTOMERS_SQL = """
INSERT INTO customers (lender, external_id, risk_profile, status, held, created_at)
SELECT 'own', CONCAT('bench-customer-', nb.n), 'B1', 'enabled', 0, :at FROM bench_numbers nb WHERE nb.n <= :customers
"""
# n: the loan's number. Its status by n % 100: 0 frozen, 1 in dispute, 2 cancelled, 3-5 paid, else active.
# Signed 20 to 320 days before the day serviced; 6 to 12 payments.
CREDITS_SQL = """
INSERT INTO credits (external_id, merchant_id, store_id, payment_option_id, amount, currency, number_of_payments,
                     commission_rate, tax_rate, commission, tax, contribution, status, signed_at, delivered_at,
                     disbursed, customer_id, product_id, risk_profile, annual_rate, payment_frequency, grace_months,
                     status_on, serviced_on, days_past_due)
SELECT CONCAT('bench-loan-', nb.n), :merchant, :store, :option, 100000 + (nb.n % 50) * 10000, 'MXN', 6 + nb.n % 7,
       '0.05', '0.16', 5000, 800, 94200,
       CASE WHEN nb.n % 100 = 0 THEN 'frozen' WHEN nb.n % 100 = 1 THEN 'in_dispute'
            WHEN nb.n % 100 = 2 THEN 'cancelled' WHEN nb.n % 100 < 6 THEN 'paid' ELSE 'active' END,
       :at, :at, 0, :first_customer + nb.n % :customers, :product, 'B1', '0.36', 'monthly', 0,
       DATE_SUB(:serviced, INTERVAL 5 DAY), :serviced, 0
FROM bench_numbers nb WHERE nb.n BETWEEN :first AND :last
"""
@dataclass(frozen=True)
class Book:
    """What was written: loans and customers, the day they are serviced to and the day to run."""

    loans: int
    customers: int
    serviced_on: date
    as_of: date


def installments_sql() -> str:
    """Installments of the chunk's loans with their standing as of the day serviced: installment k of a loan
    signed on s falls due on s + k months; what fell due is paid, except a tenth of the loans (id % 10 = 0)
    whose last 45 days' installments are unpaid (late); a paid loan's future installments are prepaid
    (waived), a cancelled one's void."""
    due = "DATE_ADD(DATE_SUB(:serviced, INTERVAL 20 + (c.id * 7919) % 300 DAY), INTERVAL k.n MONTH)"
    principal = "CASE WHEN k.n = c.number_of_payments THEN c.amount - (c.amount DIV c.number_of_payments) * (k.n - 1) " \
                "ELSE c.amount DIV c.number_of_payments END"
    interest = "(c.amount - (c.amount DIV c.number_of_payments) * (k.n - 1)) * 3 DIV 100"
    fell_due = f"{due} <= :serviced"
    paid = (f"(c.status = 'paid' OR ({fell_due} AND NOT (c.id % 10 = 0 AND {due} > DATE_SUB(:serviced, "
            f"INTERVAL 45 DAY))))")
    return f"""
INSERT INTO loan_installments (credit_id, number, scheduled_on, due_on, principal, interest, principal_paid,
                               interest_paid, interest_state)
SELECT c.id, k.n, {due}, {due}, {principal}, {interest},
       CASE WHEN {paid} THEN {principal} ELSE 0 END,
       CASE WHEN {paid} AND {fell_due} THEN {interest} ELSE 0 END,
       CASE WHEN c.status = 'cancelled' AND NOT ({fell_due}) THEN 'void'
            WHEN c.status = 'paid' AND NOT ({fell_due}) THEN 'waived'
            WHEN {fell_due} THEN 'active' ELSE 'not_due' END
FROM credits c JOIN bench_numbers k ON k.n <= c.number_of_payments
WHERE c.id BETWEEN :first_id AND :last_id AND c.customer_id IS NOT NULL
"""


# Only the tenth of the loans left unpaid can be late: the others owe nothing due.
DAYS_PAST_DUE_SQL = """
UPDATE credits c SET c.days_past_due = COALESCE(DATEDIFF(:serviced, (
    SELECT MIN(i.due_on) FROM loan_installments i FORCE INDEX (uq_loan_installments_credit_id_number)
    WHERE i.credit_id = c.id AND i.due_on <= :serviced
      AND i.interest_state <> 'void' AND i.principal_paid < i.principal)), 0)
WHERE c.id BETWEEN :first_id AND :last_id AND c.customer_id IS NOT NULL AND c.status <> 'cancelled'
  AND c.id % 10 = 0
"""

# The customers as the last run left them: disabled when a loan is more than the default threshold late.
CUSTOMERS_LATE_SQL = """
UPDATE customers cu JOIN (SELECT DISTINCT customer_id FROM credits WHERE customer_id IS NOT NULL
                          AND days_past_due > :threshold AND status <> 'cancelled') late ON late.customer_id = cu.id
SET cu.status = 'disabled' WHERE cu.status = 'enabled'
"""


def write_book(engine: Engine, shop: tuple[int, int, int], loans: int, today: date,
               update: Callable[[int], None] = lambda done: None) -> Book:
    """``loans`` loans on the store ``shop`` (merchant, store, payment option), serviced to the day before
    yesterday, so that the day's run (yesterday's) has one day to carry them over."""
    serviced, as_of = today - timedelta(days=2), today - timedelta(days=1)
    customers = max(1, loans // LOANS_PER_CUSTOMER)
    at = datetime.now(timezone.utc).replace(tzinfo=None)
    db.ensure_numbers(engine, max(loans, customers, 12))
    with engine.begin() as conn:
        product = conn.exec_driver_sql(PRODUCT_SQL.replace(":at", "%(at)s"), {"at": at}).lastrowid
        first_customer = int(conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) + 1 FROM customers").scalar() or 1)
    db.execute(engine, CUSTOMERS_SQL, at=at, customers=customers)
    merchant, store, option = shop
    installments = installments_sql()
    for first in range(1, loans + 1, CHUNK):
        last = min(loans, first + CHUNK - 1)
        params: dict[str, Any] = dict(merchant=merchant, store=store, option=option, at=at, customers=customers,
                                      first_customer=first_customer, product=product, serviced=serviced,
                                      first=first, last=last)
        with engine.begin() as conn:
            conn.execute(text("SET SESSION unique_checks = 0, foreign_key_checks = 0"))  # a bulk load
            before = int(conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM credits")).scalar() or 0)
            conn.execute(text(CREDITS_SQL), params)
            after = int(conn.execute(text("SELECT MAX(id) FROM credits")).scalar() or 0)
            ids = dict(first_id=before + 1, last_id=after, serviced=serviced)  # ids may skip: not ``last``'s
            conn.execute(text(installments), ids)
            conn.execute(text(DAYS_PAST_DUE_SQL), ids)
            conn.execute(text("SET SESSION unique_checks = 1, foreign_key_checks = 1"))
        update(last)
    db.execute(engine, CUSTOMERS_LATE_SQL, threshold=DEFAULT_DPD)
    return Book(loans, customers, serviced, as_of)


@dataclass(frozen=True)
class Serviced:
    """The day's run as the slices' rows tell it: slices done, loans, seconds from the first slice's start
    to the last one's end, and from the messages' writing to that end."""

    slices: int
    loans: int
    fell_due: int
    late: int
    seconds: float
    end_to_end_seconds: float


def slices_done(engine: Engine, as_of: date) -> int:
    """Slices of ``as_of`` done: a slice's row is written in its own transaction, seen once committed."""
    return int(db.scalar(engine, "SELECT COUNT(*) FROM loan_servicing_runs WHERE as_of = :d", d=as_of) or 0)


def serviced(engine: Engine, as_of: date, sent_at: float) -> Serviced:
    """The run of ``as_of`` read back from loan_servicing_runs."""
    found = db.row(engine, "SELECT COUNT(*) AS slices, SUM(loans) AS loans, SUM(fell_due) AS fell_due, "
                           "SUM(late) AS late, UNIX_TIMESTAMP(MIN(started_at)) AS first, "
                           "MAX(UNIX_TIMESTAMP(started_at) + milliseconds / 1000) AS last "
                           "FROM loan_servicing_runs WHERE as_of = :d", d=as_of)
    seconds = float(found.last - found.first) if found.slices else 0.0
    return Serviced(int(found.slices), int(found.loans or 0), int(found.fell_due or 0), int(found.late or 0),
                    seconds, float(found.last) - sent_at if found.slices else 0.0)


def enqueue_day(database_url: str, as_of: date, slice_size: int) -> tuple[int, float]:
    """The day's SERVICE_LOANS messages, written to the outbox by the scheduler's use case. Returns how many
    and when (epoch seconds) they were committed."""
    from adapters.db.engine import build_engine, session_factory
    from adapters.db.outbox import new_message_id
    from adapters.db.uow import UnitOfWork
    from usecases.loan_servicing import enqueue_servicing

    engine = build_engine(database_url)
    try:
        clock = lambda: datetime.combine(as_of + timedelta(days=1), datetime.min.time(), timezone.utc) \
            + timedelta(hours=7)  # 01:00 in Mexico City the day after
        with UnitOfWork(session_factory(engine), clock, new_message_id) as uow:
            sent = enqueue_servicing(uow, as_of, slice_size, catch_up_days=0)
            uow.commit()
        return sent, time.time()
    finally:
        engine.dispose()


def lender_today() -> date:
    return datetime.now(ZoneInfo(MEXICO_CITY)).date()


def measure(run: Run) -> Row:
    """Write the book, send the day's slices, let the worker run them; the row from the slices' rows."""
    sizes = run.config.sizes
    ensure_running(run.bed, "web")
    ensure_stopped(run.bed, "scheduler")  # its hourly job would send the same day's slices
    stores = make_stores(run.bed, "loans", 1, lambda done: None, disbursement_mode="daily",
                         automation_enabled=False)
    store, option = stores.stores[0]
    run.reporter.phase(f"loan servicing: writing {sizes.loans:,} loans (INSERT … SELECT, {CHUNK:,} a statement)")
    started = time.monotonic()
    with run.reporter.counting("loans written", sizes.loans) as update:
        book = write_book(run.engine, (stores.merchant_id, store, option), sizes.loans, lender_today(), update)
    written = time.monotonic() - started
    ensure_running(run.bed, "worker", "relay")
    run.reporter.phase(f"loan servicing: the day {book.as_of} in slices of {sizes.loans_slice:,}, "
                       f"worker {run.config.processes} x {run.config.threads}")
    sent, sent_at = enqueue_day(run.bed.env["DISPERSA_DATABASE_URL"], book.as_of, sizes.loans_slice)
    wait_count(run.reporter, "slices serviced", sent, lambda: slices_done(run.engine, book.as_of),
               deadline=sizes.loans_deadline)
    return row_of(serviced(run.engine, book.as_of, sent_at), book, sent, written, run.raw_insert_rate)


def row_of(done: Serviced, book: Book, sent: int, written: float, raw_insert_rate: float | None) -> Row:
    """The row: loans per second over the slices' time, seconds for a million beside the target."""
    value = rate(done.loans, done.seconds)
    per_million = done.seconds * 1_000_000 / done.loans if done.loans else None
    row = Row(LOANS, TITLE, "loans/s", value, ratio(value, raw_insert_rate),
              figures={"seconds": round(done.seconds, 2), "s_per_million": per_million,
                       "end_to_end_s": round(done.end_to_end_seconds, 2)},
              thresholds=(TARGET,),
              note=f"{done.loans:,} of {book.loans:,} loans in {done.slices} of {sent} slices; "
                   f"{done.fell_due:,} installments fell due, {done.late:,} loans late",
              details={"loans": book.loans, "customers": book.customers, "as_of": book.as_of.isoformat(),
                       "slices_sent": sent, "slices_done": done.slices, "loans_serviced": done.loans,
                       "fell_due": done.fell_due, "late": done.late, "seconds": round(done.seconds, 2),
                       "end_to_end_seconds": round(done.end_to_end_seconds, 2),
                       "book_written_seconds": round(written, 1),
                       "ratio_is": "loans serviced per second / (a) inserts per second"})
    if done.slices < sent or done.loans < book.loans:
        row.status = INCOMPLETE
    return row
