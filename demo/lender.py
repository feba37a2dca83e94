"""The demo's lender part: months of a loan book on the embedded stack, day by day.

Customers are registered and scored, ask for loans (one refused), sign and receive them, pay (automatically,
voluntarily, through an operator), freeze, dispute, get a payment reversed, pay off, fall late, are disabled
and cured by the daily servicing run, and one is deleted while it still owes. Every step goes through the real
use cases and the ``loans`` queue's actors; the servicing run is sent each day the way the scheduler sends it.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, Callable

from rich.table import Table
from sqlalchemy import func, select

from adapters.clock import ManualClock
from adapters.db import tables as db
from bootstrap import Container
from domain.customers import with_check_digit
from domain.identity import id_of
from domain.loan_balances import Bucket
from domain.merchants import OfferAction
from domain.stp import MEXICO_CITY
from usecases import catalog, credits as credit_cases, customers, loan_requests, loan_servicing, loans, products
from usecases import repayments
from usecases.verify_loans import LoanBookReport, verify_loans

FIRST_DAY = date(2026, 12, 2)  # the day after the store week
DAYS = 106                      # long enough for a loan never paid to be over 90 days late
PRINCIPAL = 300_000


@dataclass
class LenderResult:
    buckets: dict[str, tuple[int, int]]
    customers: Counter[str]
    repayments: Counter[str]
    loans: Counter[str]
    report: LoanBookReport
    refusal: str
    deleted_pii: dict[str, Any]
    story: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.report.violations and all(b.value in self.buckets for b in Bucket)

    def print(self, console: Any) -> None:
        for line in self.story:
            console.print(line)
        table = Table(title=f"The loan book on {self.report.as_of}, by days past due (MXN)")
        for col in ("bucket", "loans", "principal outstanding"):
            table.add_column(col, justify="right")
        for bucket in Bucket:
            count, principal = self.buckets.get(bucket.value, (0, 0))
            table.add_row(bucket.value, str(count), f"{principal // 100:,}.{principal % 100:02d}")
        console.print(table)
        for title, counts in (("Customers by status", self.customers), ("Loans by status", self.loans),
                              ("Repayments by status", self.repayments)):
            t = Table(title=title)
            t.add_column("status")
            t.add_column("how many", justify="right")
            for status, n in sorted(counts.items()):
                t.add_row(status, str(n))
            console.print(t)
        for line in self.report.violations:
            console.print(f"[red]{line}[/red]")
        verdict = "[green]loan book check passed[/green]" if not self.report.violations else \
            "[red]loan book check FAILED[/red]"
        console.print(f"loans verify: {self.report.summary()} — {verdict}")


def _curp(n: int) -> str:
    return with_check_digit(f"LEND9001{n + 1:02d}MPLVMT0")


class Lender:
    """The months' story: what happens on which day, then the day's servicing run."""

    def __init__(self, container: Container, clock: ManualClock, store_id: int, settle: Callable[[], None]):
        self.c, self.clock, self.store_id, self.settle = container, clock, store_id, settle
        self.customer: dict[str, int] = {}
        self.loan: dict[str, int] = {}
        self.repayment: dict[str, int] = {}
        self.refusal = ""
        self.story: list[str] = []
        self.paid = 0

    def _at(self, day: int, hour: int) -> None:
        self.clock.now = datetime.combine(FIRST_DAY + timedelta(days=day), time(hour), MEXICO_CITY)

    def setup(self) -> None:
        """Two products (weekly, monthly) and an offer of each in the store, enabled by the account executive."""
        with self.c.uow() as uow:
            for frequency, payments in (("weekly", 12), ("monthly", 6)):
                product = products.create_product(uow, f"Crédito {frequency}", "MXN", frequency)
                option = catalog.create_option(uow, self.store_id, {
                    "product_id": product.id, "number_of_payments": payments, "merchant_commission": "0.04",
                    "min_amount": 10_000, "max_amount": 2_000_000, "priority": 20 if frequency == "weekly" else 30,
                    "identifier_code": f"L-{frequency}", "a0_interest_rate": Decimal("0.36"),
                    "c3_interest_rate": Decimal("0.60")})
                catalog.validate_option(uow, id_of(option))
                products.move_offer(uow, id_of(option), OfferAction.ENABLE)
            uow.commit()

    def register(self, name: str, complete: bool = True) -> None:
        with self.c.uow() as uow:
            fields: dict[str, Any] = {"external_id": f"lender-{name}", "first_name": name.capitalize()}
            if complete:
                fields |= {"last_name": "Demo", "phone": f"+5255{len(self.customer):08d}",
                           "email": f"{name}@correo.example", "address": "Av. Reforma 1",
                           "national_id": _curp(len(self.customer))}
            who = customers.create_customer(uow, fields)
            if complete:
                customers.score_customer(uow, id_of(who), "A0")
            uow.commit()
        self.customer[name] = id_of(who)

    def borrow(self, name: str, payments: int, label: str = "") -> None:
        """Request, complete (sign) and deliver a loan for the customer of that name."""
        with self.c.uow() as uow:
            made = loan_requests.request_loan(uow, self.customer[name], self.store_id, f"loan-{label or name}",
                                              PRINCIPAL,
                                              payments)
            if made.refusal is not None:
                self.refusal = str(made.refusal)
                uow.commit()
                return
            credit_id = loan_requests.complete(uow, id_of(made.request)).request.credit_id or 0
            credit_cases.deliver(uow, credit_id)
            uow.commit()
        self.loan[label or name] = credit_id

    def _due(self, name: str, number: int) -> int:
        with self.c.uow() as uow:
            return uow.loans.schedule(self.loan[name])[number - 1].amount

    def _payoff(self, name: str) -> int:
        with self.c.uow() as uow:
            return loans.position_of(uow, loans.loan(uow, self.loan[name]), None).payoff

    def pay(self, name: str, amount: int, channel: str = "voluntary", by_operator: bool = False,
            label: str = "") -> None:
        self.paid += 1
        with self.c.uow() as uow:
            made, _ = repayments.record(uow, {
                "external_id": f"pay-{name}-{self.paid}", "loan_id": self.loan[name], "amount": amount,
                "channel": channel, "recorded_by_operator": by_operator})
            uow.commit()
        self.repayment[label or f"{name}-{self.paid}"] = id_of(made)

    def pay_due(self, name: str, number: int) -> None:
        """The platform collects the installment on its day."""
        self.pay(name, self._due(name, number), "automatic", label=f"{name}-last" if number == 12 else "")

    def pay_off(self, name: str) -> None:
        self.pay(name, self._payoff(name))

    def move(self, name: str, event: str, reason: str | None = None) -> None:
        with self.c.uow() as uow:
            loans.move_loan(uow, self.loan[name], event, reason, rules=self.c.customer_rules)
            uow.commit()

    def reverse(self, key: str) -> None:
        with self.c.uow() as uow:
            repayments.reverse(uow, self.repayment[key], "refund", self.c.customer_rules)
            uow.commit()

    def delete(self, name: str) -> None:
        with self.c.uow() as uow:
            gone = customers.delete_customer(uow, self.customer[name], "asked to be forgotten", force=True,
                                             rules=self.c.customer_rules)
            uow.commit()
        self.story.append(f"customer {name} deleted while owing {gone.owed / 100:,.2f} MXN")

    def service(self, day: int) -> None:
        """The scheduler's servicing job early in the morning: the slices of the day that ended."""
        self._at(day, 1)
        s = self.c.settings
        with self.c.uow() as uow:
            loan_servicing.enqueue_servicing(uow, loan_servicing.servicing_day(uow), s.servicing_slice_size,
                                             s.scheduler_catch_up_limit)
            uow.commit()
        self.settle()

    def status(self, name: str) -> str:
        with self.c.uow() as uow:
            return uow.customers.get(self.customer[name]).status.value

    def plan(self) -> dict[int, list[Callable[[], None]]]:
        """What happens on which day (from FIRST_DAY)."""
        plan: dict[int, list[Callable[[], None]]] = {}

        def on(day: int, action: Callable[[], None]) -> None:
            plan.setdefault(day, []).append(action)

        for name in ("auto", "payoff", "frozen", "fraud", "cured", "gone", "never"):
            on(0, partial(self.register, name))
        on(0, lambda: self.register("walkin", complete=False))
        on(0, lambda: self.borrow("walkin", 12))  # refused: an unregistered customer may not borrow
        for name, payments in (("auto", 12), ("fraud", 12), ("cured", 12), ("never", 12)):
            on(0, partial(self.borrow, name, payments))
        for name in ("payoff", "frozen", "gone"):
            on(0, partial(self.borrow, name, 6))
        for number in range(1, 13):  # the platform collects each weekly installment on its day
            on(7 * number, partial(self.pay_due, "auto", number))
        on(86, partial(self.reverse, "auto-last"))  # the last collection given back: the paid loan reopens
        on(10, lambda: self.pay("payoff", 50_000))
        on(15, lambda: self.pay("payoff", 20_000, label="reversed"))
        on(16, lambda: self.reverse("reversed"))
        on(40, partial(self.pay_off, "payoff"))
        on(5, lambda: self.move("frozen", "freeze"))
        on(12, lambda: self.move("frozen", "unfreeze"))
        on(14, lambda: self.move("frozen", "open_dispute"))
        on(20, lambda: self.move("frozen", "resolve_dispute"))
        on(31, partial(self.pay, "frozen", 1_000))
        on(62, partial(self.pay, "frozen", 1_000))
        on(93, partial(self.pay_off, "frozen"))
        on(20, lambda: self.move("fraud", "cancel", "fraud"))
        on(0, lambda: self.borrow("fraud", 6, label="fraud-other"))
        on(22, lambda: self.story.append(f"on day 22 customer fraud is {self.status('fraud')}"))
        on(22, lambda: self.pay("fraud-other", 40_000, by_operator=True))
        on(45, lambda: self.story.append(f"on day 45 customer cured is {self.status('cured')} (a loan 38 days late)"))
        on(45, partial(self.pay_off, "cured"))
        on(30, lambda: self.delete("gone"))
        for day, name in ((25, "late61"), (55, "late31"), (75, "late16"), (90, "late1"), (100, "fresh")):
            on(day, partial(self.register, name))
            on(day, partial(self.borrow, name, 12 if name != "fresh" else 6))
        return plan

    def run(self, progress: Callable[[int, date], None]) -> None:
        self.setup()
        plan = self.plan()
        for day in range(DAYS):
            self.service(day)
            self._at(day, 10)
            for action in plan.get(day, []):
                action()
            self.settle()
            progress(day + 1, FIRST_DAY + timedelta(days=day))
        self.service(DAYS)
        self.story.append(f"refused request: {self.refusal}")
        self.story.append(f"customer cured is {self.status('cured')} again after paying")

    def result(self) -> LenderResult:
        report = verify_loans(self.c.uow)
        buckets: dict[str, tuple[int, int]] = {}
        with self.c.uow() as uow:
            ids = list(uow.session.scalars(select(db.credits.c.id).where(db.credits.c.customer_id.is_not(None))))
            statuses: Counter[str] = Counter()
            for credit_id in ids:
                credit = loans.loan(uow, credit_id)
                statuses[credit.status.value] += 1
                position = loans.position_of(uow, credit, None)
                count, principal = buckets.get(position.bucket.value, (0, 0))
                buckets[position.bucket.value] = (count + 1, principal + position.principal_outstanding)
            people = Counter({s.value: n for s, n in uow.session.execute(
                select(db.customers.c.status, func.count()).group_by(db.customers.c.status))})
            paid = Counter({f"{s.value}" + (f" ({p.value})" if p is not None else ""): n
                            for s, p, n in uow.session.execute(
                select(db.repayments.c.status, db.repayments.c.payment_status, func.count())
                .group_by(db.repayments.c.status, db.repayments.c.payment_status))})
            gone = uow.customers.get(self.customer["gone"])
            pii = {name: getattr(gone, name) for name in ("first_name", "last_name", "phone", "email", "address",
                                                          "national_id")}
        return LenderResult(buckets, people, paid, statuses, report, self.refusal, pii, self.story)


def run_lender(container: Container, clock: ManualClock, store_id: int, settle: Callable[[], None],
               progress: Callable[[int, date], None] = lambda n, day: None) -> LenderResult:
    lender = Lender(container, clock, store_id, settle)
    lender.run(progress)
    return lender.result()
