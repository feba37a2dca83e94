"""Loans for the servicing run's tests, made directly (not through the loan use cases of issue 17's other
parts): customers, credits with the loan's fields, schedules, status changes and payments as rows, each change
ending as every use case ends, with the loan brought up to date on its day. Works on the SQL unit of work and
on the fake alike, so one seeded scenario can be played on both.

``random_book`` plays a seeded scenario: loans signed over a few weeks, then day by day freezes, disputes,
cancellations, payments, reversals and product switches, with the servicing run on some days (skipping
others) — the run's equivalence test checks every loan after each run."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Protocol

from sqlalchemy import insert, update

from adapters.db import tables as t
from domain.credits import CancellationReason, Credit, CreditStatus as L
from domain.customers import Customer, CustomerStatus
from domain.loan_balances import AppliedPayment, position
from domain.loan_schedules import LoanTerms, build_schedule
from domain.loans import LoanEvent, dry_run, move
from domain.products import PaymentFrequency, ProductStatus
from domain.repayments import allocate, settlement_event
from tests.factories import validated_store
from usecases import products
from usecases.loan_positions import bring_up_to_date

_customers = iter(range(1, 10**9))


@dataclass(frozen=True)
class Shop:
    """Where the loans are signed: the merchant, store, offer and product their credits point to."""

    merchant_id: int
    store_id: int
    option_id: int
    product_id: int


def at_noon(day: date) -> datetime:
    return datetime.combine(day, time(18, 0), tzinfo=timezone.utc)  # noon in Mexico City


def new_customer(uow: Any, registered: bool = True, status: CustomerStatus = CustomerStatus.ENABLED,
                 held: bool = False) -> int:
    n = next(_customers)
    fields: dict[str, Any] = dict(first_name="Ana", last_name="López", phone="5512345678",
                                  email=f"ana{n}@example.com", address="Calle 1", national_id=None,
                                  risk_profile="B1") if registered else {"first_name": "Ana"}
    customer = Customer(external_id=f"cust-{n}", created_at=uow.clock(), status=status, held=held, **fields)
    if registered:
        customer.national_id = f"CURP{n:014d}"
    uow.customers.add(customer)
    assert customer.id is not None
    return customer.id


def new_loan(uow: Any, shop: Shop, customer_id: int, signed_on: date, principal: int = 600_000,
             payments: int = 6, rate: str = "0.36", frequency: PaymentFrequency = PaymentFrequency.MONTHLY,
             external_id: str | None = None) -> Credit:
    """An active loan signed (and delivered) on ``signed_on``, its schedule written and brought up to date."""
    credit = Credit(merchant_id=shop.merchant_id, store_id=shop.store_id, amount=principal, currency="MXN",
                    number_of_payments=payments, payment_option_id=shop.option_id, commission_rate=Decimal("0.05"),
                    tax_rate=Decimal("0.16"), commission=principal // 20, tax=principal // 125,
                    contribution=principal - principal // 20 - principal // 125, signed_at=at_noon(signed_on),
                    external_id=external_id or f"loan-{uow.new_id()}", status=L.ACTIVE,
                    delivered_at=at_noon(signed_on), customer_id=customer_id, product_id=shop.product_id,
                    risk_profile="B1", annual_rate=Decimal(rate), payment_frequency=frequency, grace_months=0,
                    status_on=signed_on)
    uow.credits.add(credit)
    assert credit.id is not None
    uow.loans.add_schedule(credit.id, build_schedule(LoanTerms(principal, payments, signed_on, Decimal(rate),
                                                               frequency)))
    bring_up_to_date(uow, credit, signed_on)
    return credit


def move_loan(uow: Any, credit: Credit, event: LoanEvent, on: date,
              reason: CancellationReason | None = None) -> bool:
    """The move, as a use case makes it: its history row, the credit's status, the loan up to date.
    False (nothing done) when the table refuses it."""
    if not dry_run(credit.status, event, reason).allowed:
        return False
    assert credit.id is not None
    change, _ = move(credit.id, credit.status, event, on, at_noon(on), reason, last_on=credit.status_on)
    uow.loans.add_change(credit.id, change)
    credit.status, credit.status_on = change.to_status, on
    if event == LoanEvent.CANCEL:
        credit.cancellation_reason, credit.cancelled_at = reason, at_noon(on)
    bring_up_to_date(uow, credit, on)
    return True


class PaymentRows(Protocol):
    """Where accepted payments go: the repayments tables (SQL) or the fake loans' list."""

    def accept(self, uow: Any, credit_id: int, payment: AppliedPayment) -> int: ...

    def reverse(self, uow: Any, credit_id: int, payment_id: int, on: date) -> None: ...


class SqlPayments:
    """Payments as rows of repayments and repayment_allocations."""

    def accept(self, uow: Any, credit_id: int, payment: AppliedPayment) -> int:
        at = at_noon(payment.accepted_on)
        result = uow.session.execute(insert(t.repayments).values(
            lender="own", external_id=f"pay-{uow.new_id()}", credit_id=credit_id, amount=payment.amount,
            currency="MXN", channel="voluntary", recorded_by_operator=False, status="completed",
            payment_status="accepted", accepted_on=payment.accepted_on, requested_at=at, decided_at=at))
        payment_id = int(result.inserted_primary_key[0])
        uow.session.execute(insert(t.repayment_allocations), [
            {"repayment_id": payment_id, "credit_id": credit_id, "installment": a.installment,
             "interest": a.interest, "principal": a.principal} for a in payment.allocations])
        return payment_id

    def reverse(self, uow: Any, credit_id: int, payment_id: int, on: date) -> None:
        uow.session.execute(update(t.repayments).where(t.repayments.c.id == payment_id).values(
            payment_status="reversed", reversed_on=on, reversal_reason="refund", reversed_at=at_noon(on)))


@dataclass
class FakePayments:
    """Payments in the fake loans' list."""

    ids: Any = field(default_factory=lambda: iter(range(1, 10**9)))

    def accept(self, uow: Any, credit_id: int, payment: AppliedPayment) -> int:
        payment_id = next(self.ids)
        uow.loans.applied.setdefault(credit_id, []).append(
            AppliedPayment(payment_id, payment.amount, payment.accepted_on, payment.allocations))
        return payment_id

    def reverse(self, uow: Any, credit_id: int, payment_id: int, on: date) -> None:
        payments = uow.loans.applied[credit_id]
        payments[:] = [AppliedPayment(p.payment_id, p.amount, p.accepted_on, p.allocations, on)
                       if p.payment_id == payment_id else p for p in payments]


def pay(uow: Any, rows: PaymentRows, credit: Credit, on: date, amount: int) -> int | None:
    """An accepted payment of up to ``amount`` (at most what is owed), allocated as the domain does; the loan
    settles when it owes nothing. None when nothing is owed or the loan takes no payment."""
    assert credit.id is not None
    if credit.status not in (L.ACTIVE, L.FROZEN, L.IN_DISPUTE):
        return None
    now = position(uow.loans.record(credit), on)
    amount = min(amount, now.payoff)
    if amount <= 0:
        return None
    payment_id = rows.accept(uow, credit.id, AppliedPayment(None, amount, on, allocate(now, amount)))
    _settle(uow, credit, on)
    return payment_id


def reverse(uow: Any, rows: PaymentRows, credit: Credit, payment_id: int, on: date) -> None:
    assert credit.id is not None
    rows.reverse(uow, credit.id, payment_id, on)
    _settle(uow, credit, on)


def _settle(uow: Any, credit: Credit, on: date) -> None:
    event = settlement_event(credit.status, position(uow.loans.record(credit), on))
    if event is not None:
        move_loan(uow, credit, event, on)
    else:
        bring_up_to_date(uow, credit, on)


def switch_product(uow: Any, product_id: int, active: bool, on: date) -> None:
    uow.loans.add_product_change(product_id, ProductStatus.ACTIVE if active else ProductStatus.INACTIVE, on,
                                 at_noon(on))


# --- transactions on MariaDB and on the fake -------------------------------------------------------------------

def sql_tx(container: Any) -> Callable[[Callable[[Any], Any]], Any]:
    def tx(fn: Callable[[Any], Any]) -> Any:
        with container.uow() as uow:
            done = fn(uow)
            uow.commit()
            return done
    return tx


def fake_tx(fake: Any) -> Callable[[Callable[[Any], Any]], Any]:
    return lambda fn: fn(fake)


def sql_shop(container: Any) -> Shop:
    with container.uow() as uow:
        store_id = validated_store(uow, options=(6,))
        store = uow.stores.get(store_id)
        option = store.options[0]
        product_id = option.product_id or products.create_product(uow, "BNPL", "MXN").id
        shop = Shop(store.merchant_id, store_id, option.id, product_id)
        uow.commit()
    return shop


# --- a seeded scenario ----------------------------------------------------------------------------------------

Transaction = Callable[[Callable[[Any], Any]], Any]  # runs fn(uow) in one committed unit of work


@dataclass
class Book:
    """What a scenario made: its loans' and customers' ids, and the payments standing on each loan."""

    loans: list[int] = field(default_factory=list)
    customers: list[int] = field(default_factory=list)
    standing: dict[int, list[int]] = field(default_factory=dict)
    product_active: bool = True


# (registered, status, held): mostly enabled customers, and every case of the automatic moves
CUSTOMER_KINDS = ((True, CustomerStatus.ENABLED, False),) * 4 + (
    (True, CustomerStatus.DISABLED, True), (True, CustomerStatus.DISABLED, False),
    (True, CustomerStatus.UNREGISTERED, False), (False, CustomerStatus.UNREGISTERED, False),
    (True, CustomerStatus.BLOCKED, True))
EVENTS = (LoanEvent.FREEZE, LoanEvent.UNFREEZE, LoanEvent.OPEN_DISPUTE, LoanEvent.RESOLVE_DISPUTE)


def open_book(tx: Transaction, shop: Shop, rng: random.Random, start: date, loans: int) -> Book:
    """``loans`` loans of random terms signed over the first three weeks, for a few customers."""
    book = Book()

    def make(uow: Any) -> None:
        book.customers = [new_customer(uow, *rng.choice(CUSTOMER_KINDS)) for _ in range(max(1, loans // 3))]
        for n in range(loans):
            frequency = rng.choice(list(PaymentFrequency))
            credit = new_loan(uow, shop, rng.choice(book.customers), start + timedelta(days=rng.randrange(21)),
                              principal=rng.randrange(50_000, 2_000_000), payments=rng.randrange(2, 13),
                              rate=rng.choice(("0", "0.30", "0.48")), frequency=frequency,
                              external_id=f"loan-{n}")
            assert credit.id is not None
            book.loans.append(credit.id)
            book.standing[credit.id] = []
    tx(make)
    return book


def play_day(tx: Transaction, rows: PaymentRows, shop: Shop, rng: random.Random, book: Book, day: date) -> None:
    """One business day of random changes, each in its own transaction as the use cases make them."""
    if rng.random() < 0.08:
        book.product_active = not book.product_active
        tx(lambda uow: switch_product(uow, shop.product_id, book.product_active, day))
    for credit_id in rng.sample(book.loans, k=max(1, len(book.loans) // 4)):
        if not _signed_by(tx, credit_id, day):
            continue
        roll = rng.random()
        if roll < 0.25:
            event = rng.choice(EVENTS)
            tx(lambda uow: move_loan(uow, uow.credits.lock(credit_id), event, day))
        elif roll < 0.30:
            reason = rng.choice(list(CancellationReason))
            tx(lambda uow: move_loan(uow, uow.credits.lock(credit_id), LoanEvent.CANCEL, day, reason))
        elif roll < 0.75:
            amount = rng.choice((rng.randrange(1, 50_000), rng.randrange(50_000, 400_000), 10**9))
            paid = tx(lambda uow: pay(uow, rows, uow.credits.lock(credit_id), day, amount))
            if paid is not None:
                book.standing[credit_id].append(paid)
        elif book.standing[credit_id]:
            payment_id = book.standing[credit_id].pop(rng.randrange(len(book.standing[credit_id])))
            tx(lambda uow: reverse(uow, rows, uow.credits.lock(credit_id), payment_id, day))


def _signed_by(tx: Transaction, credit_id: int, day: date) -> bool:
    """Whether the loan exists on ``day`` (it is signed on its status day at the latest) and was not serviced
    past it (a change is never dated before the day its loan was brought up to)."""
    def check(uow: Any) -> bool:
        credit = uow.credits.get(credit_id)
        return credit.status_on <= day and (credit.serviced_on is None or credit.serviced_on <= day)
    return bool(tx(check))
