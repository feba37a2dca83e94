"""``dispersa demo``: a simulated week on the embedded stack (SQLite, in-process broker, worker threads).

Everything goes through the real use cases, outbox, relay and actors; only the clock is simulated.
"""
from __future__ import annotations

import os
import random
import secrets
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import dramatiq
from dramatiq.common import dq_name
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from adapters.bank.signer import generate_key_pair
from adapters.db.migrate import upgrade
from sandbox.config import SandboxConfig
from sandbox.scenarios import Scenario, scenario_named
from sandbox.server import SandboxServer
from adapters.sealing import KeysMissing, generate_key
from adapters.settings import Settings
from adapters.db import tables as db
from domain import clabe
from domain.credits import CancellationReason
from domain.identity import id_of
from domain.ledger import BalanceUpdateStatus, BalanceUpdateType, TransferStatus
from domain.merchants import OfferAction, Store
from domain.payment_orders import PaymentOrderStatus
from domain.stp import MEXICO_CITY
from usecases import catalog, commissions, credits as credit_cases, ledger, products, queries, reconciliation, scheduling
from usecases.verify import VerifyReport, verify_all
from bootstrap import Container, build_container, relay as relay_of, web_app
from adapters.clock import ManualClock
from adapters.loopback import LoopbackServer
from demo import bulk as demo_bulk
from demo import lender as demo_lender

MX = MEXICO_CITY
START = datetime(2026, 11, 24, 8, 0, tzinfo=MX)  # a Tuesday: the week reaches November's last day
HOURS = 7 * 24
LENDER_DAYS = demo_lender.DAYS
PHASES = ("ledger", "bank", "bulk", "dates", "tracking", "loans")
DEMO_PASSPHRASE = "demo-passphrase"


STORES: list[dict[str, Any]] = [
    {"merchant": 0, "name": "Centro (instant)", "disbursement_mode": "instant", "minimum_transfer": 0},
    {"merchant": 0, "name": "Norte (hourly)", "disbursement_mode": "hourly", "minimum_transfer": 500_000},
    {"merchant": 0, "name": "Sur (daily, approval)", "disbursement_mode": "daily", "time_of_day": "20:00",
     "requires_confirmation": True, "minimum_transfer": 100_000},
    {"merchant": 1, "name": "Bajio (weekly)", "disbursement_mode": "weekly", "weekday": 4, "time_of_day": "18:00",
     "minimum_transfer": 100_000},
    {"merchant": 1, "name": "Costa (monthly)", "disbursement_mode": "monthly", "day_of_month": 31,
     "time_of_day": "23:00", "minimum_transfer": 100_000},
    {"merchant": 1, "name": "Sierra (daily, manual)", "disbursement_mode": "daily", "time_of_day": "12:00",
     "automation_enabled": False},
]


@dataclass
class StoreRow:
    name: str
    mode: str
    balance: int
    pending: int
    in_transit: int
    paid_out: int
    transfers: Counter[str]


# One vocabulary for what became of a transfer, in the store table and the activity table alike.
OUTCOMES = ("paid", "returned", "bank cancelled", "bank refused", "treasury rejected", "held", "awaiting approval",
            "in flight")
OUTCOME_WORDS = ("paid: liquidated; returned: liquidated, then the money came back; bank cancelled / refused: "
                 "the bank never paid it; treasury rejected: refused at approval; held: not sent, the store "
                 "was not validated. What did not stay paid is pending again.")


def outcome_of(status: TransferStatus, reason: str | None) -> str:
    """What became of a transfer, in treasury's words."""
    reason = reason or ""
    if status == TransferStatus.APPLIED:
        return "paid"
    if status == TransferStatus.REJECTED:
        return "returned"
    if status == TransferStatus.WAITING_CONFIRMATION:
        return "awaiting approval"
    if status != TransferStatus.CANCELLED:
        return "in flight"
    if reason.startswith("rejected by treasury"):
        return "treasury rejected"
    if reason.startswith("STP refused"):
        return "bank refused"
    if reason.startswith(("held", "the payment order cannot")):
        return "held"
    return "bank cancelled"


ACTIVITY = (("originate", "credits originated"), ("deliver", "credits delivered"),
            ("cancel", "credits cancelled"), ("adjust", "treasury adjustments"),
            ("approved by treasury", "transfers treasury approved"),
            ("rejected by treasury", "transfers treasury rejected"),
            ("orders liquidated", "bank orders paid"), ("orders returned", "bank orders returned"),
            ("orders cancelled", "bank orders bank cancelled or refused"))


@dataclass
class DemoResult:
    rows: list[StoreRow]
    report: VerifyReport
    events: Counter[str] = field(default_factory=Counter)
    reconciliations: list[dict[str, Any]] = field(default_factory=list)
    batch: dict[str, Any] = field(default_factory=dict)
    payment: dict[str, Any] = field(default_factory=dict)
    lender: demo_lender.LenderResult | None = None

    @property
    def violations(self) -> list[str]:
        return self.report.violations

    @property
    def mismatches(self) -> int:
        return sum(r["mismatches"] for r in self.reconciliations)

    @property
    def ok(self) -> bool:
        return not self.violations and not self.mismatches and self.batch.get("status") == "completed" and (
            self.lender is not None and self.lender.ok)

    def print(self, console: Console) -> None:
        console.print(self._stores())
        console.print(self._transfers())
        console.print(self._activity())
        console.print(self._reconciliation())
        if self.batch:
            console.print(demo_bulk.summary_table(self.batch))
        if self.payment:
            console.print(demo_bulk.timeline_table(self.payment))
        for line in self.report.violations:
            console.print(f"[red]{line}[/red]")
        verdict = "[green]ledger check passed[/green]" if not self.violations else "[red]ledger check FAILED[/red]"
        console.print(f"{self.report.summary()} — {verdict}")
        if self.mismatches:
            console.print(f"[red]{self.mismatches} reconciliation mismatches with the bank[/red]")
        if self.lender is not None:  # the loan book's check ends the demo
            self.lender.print(console)

    def _stores(self) -> Table:
        table = Table(title="Stores after the simulated week (MXN)",
                      caption="balance = pending + in transit. Pending waits for the store's next transfer; in "
                              "transit is with the bank. Paid out: liquidated, less what came back.")
        table.add_column("store", ratio=1, overflow="fold")
        for col in ("balance", "pending", "in transit", "paid out"):
            table.add_column(col, justify="right", no_wrap=True)  # amounts are never cut
        for r in self.rows:
            table.add_row(r.name, _mxn(r.balance), _mxn(r.pending), _mxn(r.in_transit), _mxn(r.paid_out))
        return table

    def _transfers(self) -> Table:
        shown = [o for o in OUTCOMES if any(r.transfers[o] for r in self.rows)]
        table = Table(title="What became of each store's transfers", caption=OUTCOME_WORDS)
        table.add_column("store", no_wrap=True)
        for outcome in shown:
            table.add_column(outcome, justify="right", overflow="fold")
        for r in self.rows:
            table.add_row(r.name, *(str(r.transfers[o] or "") for o in shown))
        return table

    def _activity(self) -> Table:
        table = Table(title="The week's activity")
        table.add_column("what happened")
        table.add_column("how many", justify="right")
        for key, words in ACTIVITY:
            table.add_row(words, str(self.events.get(key, 0)))
        return table

    def _reconciliation(self) -> Table:
        table = Table(title="Each day reconciled with the bank's books (STP sandbox)")
        for col in ("operation date", "our orders", "bank orders", "matched", "mismatches"):
            table.add_column(col, justify="right")
        for r in self.reconciliations:
            day = r["operation_date"]
            table.add_row(f"{day[:4]}-{day[4:6]}-{day[6:]}", str(r["ledger_orders"]), str(r["bank_orders"]),
                          str(r["matched"]), str(r["mismatches"]))
        return table


def _mxn(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100:,}.{abs(minor) % 100:02d}"


def _data_keys(url: str) -> str:
    """A fresh SQLite file gets a key of its own; any other database the keys of the environment."""
    if url.startswith("sqlite:///"):
        return generate_key()
    keys = Settings().data_keys
    if not keys:
        raise KeysMissing("the demo on this database seals payee data: set DISPERSA_DATA_KEYS")
    return keys


def _fresh_sqlite(url: str) -> None:
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)


class Demo:
    """Drives the week: origination, delivery, cancellation, adjustments, approvals, scheduler ticks."""

    def __init__(self, container: Container, clock: ManualClock, rng: random.Random, bank: SandboxServer):
        self.c, self.clock, self.rng, self.bank = container, clock, rng, bank
        self.relays = {queue: relay_of(container, (queue,)) for queue in PHASES}
        self.events: Counter[str] = Counter()
        self.store_ids: list[int] = []

    def _phase(self, queue: str) -> int:
        """Publish one queue's messages and let its worker finish them (retries included)."""
        moved = 0
        while published := self.relays[queue].drain():
            moved += published
            stub: Any = self.c.broker  # the in-process broker's join takes fail_fast; the base class's does not
            stub.join(queue, fail_fast=True)
            stub.join(dq_name(queue), fail_fast=True)
        return moved

    def settle(self) -> None:
        """Until nothing is left to do: the ledger's work first, then the bank's (orders out, the bank's
        callbacks in). One queue at a time, each worked by one thread, so that the same seed plays the
        same week: no bank answer races an evaluation."""
        while True:
            moved = self._phase("loans")
            moved += self._phase("ledger")
            moved += self._phase("bulk")
            moved += self._phase("bank")
            if not self.bank.wait_idle(30):
                raise RuntimeError("the STP sandbox did not finish its callbacks in 30 s")
            moved += self._phase("bank")
            moved += self._phase("bulk")
            moved += self._phase("tracking")
            if not moved:
                return

    def setup(self) -> None:
        with self.c.uow() as uow:
            merchants = [
                catalog.create_merchant(uow, "Muebles del Norte", tiers=[
                    {"min_origination": 0, "commission_rate": "0.045"},
                    {"min_origination": 50_000_000, "commission_rate": "0.035"}]),
                catalog.create_merchant(uow, "Electro Sur"),
            ]
            for i, spec in enumerate(STORES):
                spec = dict(spec)
                merchant = merchants[spec.pop("merchant")]
                spec.setdefault("automation_enabled", True)
                store = catalog.create_store(uow, id_of(merchant), {
                    "clabe": clabe.make("646", "180", f"{i + 1:011d}"), "beneficiary_name": spec["name"], **spec})
                for n, rate, priority in ((3, "0.04", 0), (6, "0.05", 0), (12, "0.06", 0), (6, "0.03", 10)):
                    promo = priority > 0
                    option = catalog.create_option(uow, id_of(store), {
                        "number_of_payments": n, "merchant_commission": rate, "min_amount": 50_000 if promo else 10_000,
                        "max_amount": 2_000_000, "priority": priority, "is_promo": promo,
                        "identifier_code": f"S{store.id}-{n}{'P' if promo else ''}",
                        "can_commission_be_auto_updated": not promo,
                        "is_in_trial_period": promo, "trial_commission": "0.02" if promo else None,
                        "end_of_trial_period": START.astimezone(timezone.utc) + timedelta(days=3) if promo else None})
                    catalog.validate_option(uow, id_of(option))
                    products.move_offer(uow, id_of(option), OfferAction.ENABLE)
                catalog.validate_store(uow, id_of(store))
                self.store_ids.append(id_of(store))
            for merchant in merchants:
                catalog.validate_merchant(uow, id_of(merchant))
            uow.commit()

    def plan(self, n: int) -> dict[int, list[tuple[str, Any]]]:
        """What happens in which simulated hour."""
        plan: dict[int, list[tuple[str, Any]]] = {}
        for i in range(n):
            hour = self.rng.randrange(HOURS - 2)
            spec = (f"demo-{i:05d}", self.rng.choice(self.store_ids), self.rng.randrange(10_000, 1_500_000),
                    self.rng.choice((3, 6, 6, 12)))
            plan.setdefault(hour, []).append(("originate", spec))
            roll = self.rng.random()
            deliver_at = hour + self.rng.randrange(1, 12)
            if roll < 0.9 and deliver_at < HOURS:
                plan.setdefault(deliver_at, []).append(("deliver", spec[0]))
            if roll < 0.06 or roll > 0.96:  # some cancelled after delivery, some before it
                cancel_at = min(HOURS - 1, hour + self.rng.randrange(2, 72))
                plan.setdefault(cancel_at, []).append(("cancel", spec[0]))
        for hour in self.rng.sample(range(HOURS), 4):
            plan.setdefault(hour, []).append(("adjust", (self.rng.choice(self.store_ids),
                                                         self.rng.choice((-25_000, 15_000, 40_000)))))
        return plan

    def run_action(self, kind: str, arg: Any) -> None:
        with self.c.uow() as uow:
            if kind == "originate":
                external_id, store_id, amount, payments = arg
                credit_cases.originate(uow, store_id, external_id, amount, payments)
            elif kind == "adjust":
                store_id, amount = arg
                ledger.adjust(uow, store_id, amount, admin_id=1, note="demo adjustment by treasury")
            else:
                credit = uow.credits.by_external_id(arg)
                assert credit is not None, f"the demo originated {arg} before acting on it"
                if kind == "cancel":
                    credit_cases.cancel(uow, id_of(credit), self.rng.choice(list(CancellationReason)).value)
                elif credit.cancelled_at is not None:  # cancelled before it could be delivered
                    return
                else:
                    credit_cases.deliver(uow, id_of(credit))
            uow.commit()
        self.events[kind] += 1

    def treasury_review(self) -> None:
        """Treasury approves what has waited two hours, and refuses every fifth one."""
        cutoff = self.clock() - timedelta(hours=2)
        with self.c.uow() as uow:
            waiting = list(uow.session.scalars(select(db.bank_transfers.c.id).where(
                db.bank_transfers.c.status == TransferStatus.WAITING_CONFIRMATION,
                db.bank_transfers.c.created_at <= cutoff)))
        for transfer_id in waiting:
            with self.c.uow() as uow:
                if transfer_id % 5 == 0:
                    ledger.reject_transfer(uow, transfer_id, "treasury asked for the invoice first")
                    self.events["rejected by treasury"] += 1
                else:
                    ledger.approve_transfer(uow, transfer_id, self.c.payout_config)
                    self.events["approved by treasury"] += 1
                uow.commit()

    def run(self, n: int, progress: Callable[[int, datetime], None]) -> None:
        plan = self.plan(n)
        commissions_done = False
        for hour in range(HOURS):
            self.clock.now = START.astimezone(timezone.utc) + timedelta(hours=hour)
            for kind, arg in plan.get(hour, []):
                self.run_action(kind, arg)
            self.settle()
            with self.c.uow() as uow:
                scheduling.enqueue_due_triggers(uow, self.clock(), self.c.settings.scheduler_catch_up_limit)
                uow.commit()
            self.settle()
            self.treasury_review()
            local = self.clock.now.astimezone(MX)
            if not commissions_done and local.day == 1 and local.time() >= time(2):
                with self.c.uow() as uow:
                    commissions.enqueue_monthly_commissions(uow, self.clock())
                    uow.commit()
                commissions_done = True
            self.settle()
            progress(hour + 1, local)

    def reconcile(self) -> None:
        """Every day with orders, against the bank's conciliation list, as the daily job does."""
        self.reconciliations: list[dict[str, Any]] = []
        with self.c.uow() as uow:
            days = sorted(set(uow.session.scalars(select(db.payment_orders.c.operation_date))))
        for day in days:
            bank_rows = self.c.stp_client.day_orders(day)
            with self.c.uow() as uow:
                reconciliation.reconcile_day(uow, day, bank_rows, self.c.payout_config.estados)
                uow.commit()
            with self.c.uow() as uow:
                run = queries.latest_reconciliation(uow, day)
            assert run is not None, "the run was recorded just before"
            self.reconciliations.append(run)
        with self.c.uow() as uow:
            for status, n in uow.session.execute(select(db.payment_orders.c.status, func.count())
                                                 .group_by(db.payment_orders.c.status)):
                self.events[f"orders {PaymentOrderStatus(status).value}"] = n

    def rows(self) -> list[StoreRow]:
        out = []
        with self.c.uow() as uow:
            for store in uow.session.scalars(select(Store).order_by(db.stores.c.id)):
                store_id = id_of(store)
                totals = queries.totals_by_status(uow, store_id)
                transfers = Counter(outcome_of(TransferStatus(status), reason) for status, reason in uow.session.execute(
                    select(db.bank_transfers.c.status, db.bank_transfers.c.status_reason)
                    .where(db.bank_transfers.c.store_id == store_id)))
                paid_out = -int(uow.session.execute(
                    select(func.coalesce(func.sum(db.balance_updates.c.amount), 0)).where(
                        db.balance_updates.c.store_id == store_id, db.balance_updates.c.type.in_(
                            [BalanceUpdateType.DISBURSEMENT, BalanceUpdateType.DISBURSEMENT_OVERRIDE]))).scalar() or 0)
                out.append(StoreRow(store.name, store.disbursement_mode.value, store.balance,
                                    totals[BalanceUpdateStatus.PENDING], totals[BalanceUpdateStatus.IN_TRANSIT],
                                    paid_out, transfers))
        return out


def _bank_scenario() -> Scenario:
    """Mostly liquidations, some cancellations and returns (a few long after liquidation), duplicates."""
    return scenario_named("mixed").with_(liquidated=0.8, cancelled=0.1, returned=0.1, late_return=0.1,
                                         duplicate=0.2, shuffle=0.1)


def run_demo(database_url: str, n_credits: int, seed: int,
             progress: Callable[[int, datetime], None] = lambda hour, at: None,
             lender_progress: Callable[[int, date], None] = lambda day, on: None) -> DemoResult:
    """The simulated week, then the lender's months; ``progress(hour, local time)`` after each of the week's
    HOURS hours, ``lender_progress(day, date)`` after each of the lender's LENDER_DAYS days."""
    _fresh_sqlite(database_url)
    upgrade(database_url)
    clock = ManualClock(START)
    with tempfile.TemporaryDirectory(prefix="dispersa-demo-") as keys:
        private, public = generate_key_pair(DEMO_PASSPHRASE)
        key_path = Path(keys) / "stp.pem"
        key_path.write_bytes(private)
        secret, gsma_secret = secrets.token_hex(16), secrets.token_hex(16)
        settings = Settings(database_url=database_url, broker="stub", redis_url="", max_retries=8,  # type: ignore[call-arg]
                            min_backoff_ms=20, max_backoff_ms=200, stp_private_key_path=str(key_path),
                            stp_passphrase=DEMO_PASSPHRASE, webhook_secret=secret,
                            gsma_callback_secret=gsma_secret,
                            bulk_storage_dir=str(Path(keys) / "batches"), data_keys=_data_keys(database_url),
                            _env_file=None)
        container = build_container(settings, clock=clock)
        web = LoopbackServer(web_app(container), name="demo-web").start()
        bank = SandboxServer(SandboxConfig(public_key_pem=public, empresa=settings.stp_empresa,
                                           webhook_url=web.url + "/webhooks/stp/order-status",
                                           webhook_secret=secret, gsma_callback_secret=gsma_secret,
                                           scenario=_bank_scenario(), seed=seed,
                                           speed=10, clock=clock)).start()
        container.settings = settings.model_copy(update={
            "stp_base_url": bank.url, "stp_efws_url": bank.url, "gsma_base_url": bank.url,
            "mojaloop_base_url": bank.url, "public_url": web.url})
        # one thread over the phases' queues: a phase runs alone (its queue is drained and joined before the
        # next), its messages one at a time
        worker = dramatiq.Worker(container.broker, queues=set(PHASES), worker_threads=1)
        worker.start()
        try:
            demo = Demo(container, clock, random.Random(seed), bank)
            demo.setup()
            demo.run(n_credits, progress)
            demo.reconcile()
            rows = demo.rows()
            batch = demo_bulk.run_batch(container, web.url, demo.settle)
            payment = demo_bulk.first_payment(container, web.url)
            lender = demo_lender.run_lender(container, clock, demo.store_ids[-1], demo.settle,
                                            lender_progress)
        finally:
            worker.stop()
            bank.stop()
            web.stop()
    report = verify_all(container.sessions)
    report.loans, report.loan_violations = lender.report.loans, len(lender.report.violations)
    report.violations.extend(lender.report.violations)  # as the daily ledger check counts them
    return DemoResult(rows, report, demo.events, demo.reconciliations, batch, payment, lender)
