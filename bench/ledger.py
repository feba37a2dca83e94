"""Scenario 4, ``dispersa ledger verify`` per 100k balance updates: stores filled fast with valid ledger
chains (bulk INSERT ... SELECT of delivered credits and their contributions, chained as
``domain/invariants.py`` wants: sequences 1, 2, 3..., previous = prior new balance, the store's balance the
last new balance, every credit's contribution = amount - commission - tax as the domain splits it), then
the command timed as an operator runs it, on the whole bench database."""
from __future__ import annotations

import math
import re
import resource
import subprocess
import time
from dataclasses import dataclass
from typing import Any

from bench import db, machine
from bench.catalog import AMOUNTS, StoreSet, store_set
from bench.config import VERIFY
from bench.context import Run
from bench.processes import ensure_running
from bench.report import FAILED, Row
from bench.stats import per_unit, rate, ratio
from testbed import BIN, REPO

PER = 100_000
SUMMARY = re.compile(r"(\d+) stores, (\d+) balance updates, (\d+) transfers, \d+ batches, \d+ loans, (\d+) violations")

CREDITS_SQL = """
INSERT INTO credits (external_id, merchant_id, store_id, payment_option_id, amount, currency,
                     number_of_payments, commission_rate, tax_rate, commission, tax, contribution, status,
                     signed_at, delivered_at, disbursed)
SELECT CONCAT('bench-ledger-', :store, '-', nb.n), :merchant, :store, :option, a.amount, 'MXN', 6, :rate, :tax_rate,
       a.commission, a.tax, a.contribution, 'active', :at, :at, 0
FROM bench_numbers nb JOIN bench_amounts a ON a.k = nb.n % :amounts WHERE nb.n <= :per_store
"""
UPDATES_SQL = """
INSERT INTO balance_updates (store_id, type, status, amount, currency, previous_balance, new_balance, sequence,
                             credit_id, overwritten, created_at)
SELECT store_id, 'contribution', 'pending', contribution, 'MXN', running - contribution, running, seq, id, 0, :at
FROM (SELECT id, store_id, contribution, ROW_NUMBER() OVER (ORDER BY id) AS seq,
             SUM(contribution) OVER (ORDER BY id) AS running
      FROM credits WHERE store_id = :store) chain
"""
HISTORY_SQL = """
INSERT INTO balance_update_status_history (balance_update_id, previous_status, status, at)
SELECT id, NULL, 'pending', created_at FROM balance_updates WHERE store_id = :store
"""
STORE_SQL = """
UPDATE stores SET
  balance = (SELECT new_balance FROM balance_updates WHERE store_id = :store ORDER BY sequence DESC LIMIT 1),
  last_sequence = (SELECT MAX(sequence) FROM balance_updates WHERE store_id = :store)
WHERE id = :store
"""


def amounts_table(run: Run, stores: StoreSet) -> None:
    """``bench_amounts``: each amount the bench uses with the commission, tax and contribution the
    domain's ``split_credit`` gives it."""
    from domain.commission import split_credit
    from domain.money import Money

    db.execute(run.engine, "DROP TABLE IF EXISTS bench_amounts",
               "CREATE TABLE bench_amounts (k INT PRIMARY KEY, amount BIGINT NOT NULL, commission BIGINT NOT NULL, "
               "tax BIGINT NOT NULL, contribution BIGINT NOT NULL)")
    with run.engine.begin() as conn:
        for k, amount in enumerate(AMOUNTS):
            split = split_credit(Money(amount, "MXN"), stores.commission_rate, stores.tax_rate)
            conn.exec_driver_sql("INSERT INTO bench_amounts VALUES (%s, %s, %s, %s, %s)",
                                 (k, amount, split.commission.minor, split.tax.minor, split.contribution.minor))


def fill(run: Run, stores: StoreSet, per_store: int) -> None:
    """``per_store`` delivered credits and chained contributions on each store, in bulk."""
    db.ensure_numbers(run.engine, per_store)
    amounts_table(run, stores)
    at = db.utc_now().replace(tzinfo=None)
    with run.reporter.counting("stores filled", len(stores.stores)) as update:
        for done, (store, option) in enumerate(stores.stores, start=1):
            params: dict[str, Any] = {"store": store, "merchant": stores.merchant_id, "option": option, "at": at,
                                      "rate": format(stores.commission_rate, "f"),
                                      "tax_rate": format(stores.tax_rate, "f"), "amounts": len(AMOUNTS),
                                      "per_store": per_store}
            db.execute(run.engine, CREDITS_SQL, UPDATES_SQL, HISTORY_SQL, STORE_SQL, **params)
            update(done)


@dataclass(frozen=True)
class Verified:
    """One run of ``dispersa ledger verify``: its wall time, its CPU and MariaDB's meanwhile, its output."""

    seconds: float
    cpu_seconds: float
    mariadb_cpu_seconds: float
    done: subprocess.CompletedProcess[str]


def verify(run: Run) -> Verified:
    """``dispersa ledger verify`` on the bench database, timed from launch to exit."""
    children, services = resource.getrusage(resource.RUSAGE_CHILDREN), machine.cpu_snapshot({})
    started = time.perf_counter()
    done = subprocess.run([str(BIN / "dispersa"), "ledger", "verify"], cwd=REPO, env=run.bed.env,
                          capture_output=True, text=True, timeout=3600)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    mariadb = machine.cpu_seconds(services, machine.cpu_snapshot({}), "mariadbd")
    return Verified(seconds, cpu, mariadb, done)


def measure(run: Run) -> Row:
    """Fill, then time the check; the figure is seconds per 100k balance updates it went through."""
    sizes = run.config.sizes
    ensure_running(run.bed, "web")
    per_store = math.ceil(sizes.ledger_updates / sizes.stores)
    run.reporter.phase(f"ledger verify: filling {sizes.stores} stores with {per_store} contributions each")
    stores = store_set(run, "ledger", disbursement_mode="daily", automation_enabled=False)
    fill(run, stores, per_store)
    run.reporter.phase("ledger verify: running `dispersa ledger verify` on the bench database")
    with run.reporter.waiting("ledger verify"):
        verified = verify(run)
    return row_of(run, verified)


def row_of(run: Run, verified: Verified) -> Row:
    """The row of one verify run, from its summary line."""
    done = verified.done
    found = SUMMARY.search(done.stdout)
    if found is None:
        return Row(VERIFY, "4. ledger verify", "s per 100k BUs", status=FAILED,
                   note=f"exit {done.returncode}: {(done.stderr or done.stdout)[-300:]}")
    store_count, updates, transfers, violations = (int(g) for g in found.groups())
    seconds = verified.seconds
    return Row(VERIFY, "4. ledger verify", "s per 100k BUs", per_unit(seconds, updates, PER),
               ratio(rate(updates, seconds), run.raw_insert_rate), figures={"seconds": seconds},
               note=f"{updates:,} BUs, {store_count} stores; {violations} violations",
               details={"seconds": round(seconds, 2), "verify_process_cpu_seconds": round(verified.cpu_seconds, 2),
                        "mariadb_cpu_seconds": round(verified.mariadb_cpu_seconds, 2), "stores": store_count,
                        "balance_updates": updates, "transfers": transfers, "violations": violations,
                        "exit_code": done.returncode, "balance_updates_per_second": rate(updates, seconds),
                        "ratio_is": "balance updates checked per second / (a) inserts per second",
                        "first_violations": done.stdout.splitlines()[:10] if violations else []})
