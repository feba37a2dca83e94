"""The set-based servicing run against MariaDB equals the domain: for random loans (schedules of every
frequency, freezes, disputes, cancellations, product switches, payments and reversals as rows) serviced on
random days, some skipped, every stored installment and days past due equal
domain.loan_balances.position(record, as_of), and the customers' moves equal domain.customers'
automatic_events — the same scenario played on the fake unit of work, which runs the domain per loan."""
from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any, Callable

import pytest
from sqlalchemy import func, select, update

from adapters.db import tables as t
from bootstrap import build_container
from domain.credits import CreditStatus as L
from domain.customers import CustomerStatus
from domain.loan_balances import InterestState
from domain.loan_servicing import check_loan, check_paid_parts, check_stored
from domain.loans import LoanEvent
from tests.fake_uow import FakeUnitOfWork
from tests.servicing_factories import (
    FakePayments, SqlPayments, fake_tx, move_loan, new_customer, new_loan, open_book, pay, play_day, sql_shop, sql_tx, switch_product,
)
from usecases import loan_servicing

START = date(2026, 1, 5)
THRESHOLD = 30
CUSTOMER_MOVES = ("status", "held", "status_reason", "updated_at")


@pytest.fixture
def books(settings, clock):
    container = build_container(settings.model_copy(update={"broker": "stub"}), clock=clock)
    yield container
    container.engine.dispose()


def service(tx: Callable[[Callable[[Any], Any]], Any], as_of: date, size: int) -> None:
    def run(uow: Any) -> None:
        last = uow.servicing.last_loan_id()
        for number in range((last + size - 1) // size):
            loan_servicing.service_slice(uow, as_of, number, size, THRESHOLD)
    tx(run)


def stored_state(tx: Callable[[Callable[[Any], Any]], Any], ids: list[int]) -> list[Any]:
    def read(uow: Any) -> list[Any]:
        return [(s.credit_id, s.status, s.serviced_on, s.days_past_due, s.installments)
                for s in uow.servicing.stored_loans(ids)]
    return tx(read)


def customer_statuses(tx: Callable[[Callable[[Any], Any]], Any], ids: list[int]) -> list[Any]:
    return tx(lambda uow: [(i, uow.customers.get(i).status, uow.customers.get(i).held) for i in ids])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_set_based_run_equals_the_domain_on_random_loans_and_days(books, seed):
    sql, fake = sql_tx(books), FakeUnitOfWork()
    shop = sql_shop(books)
    played = {}
    for name, tx, rows in (("sql", sql, SqlPayments()), ("fake", fake_tx(fake), FakePayments())):
        rng = random.Random(seed)
        book = open_book(tx, shop, rng, START, loans=24)
        size = rng.choice((5, 7, 50))
        day = START + timedelta(days=21)
        runs = 0
        while day < START + timedelta(days=400):
            play_day(tx, rows, shop, rng, book, day)
            if rng.random() < 0.45:  # the run for a day may come before or after the next day's changes
                service(tx, day, size)
                runs += 1
                if name == "sql":
                    _assert_each_loan_as_the_domain(tx, book.loans, day)
            day += timedelta(days=rng.choice((1, 1, 2, 5, 17)))
        service(tx, day, size)
        _assert_each_loan_as_the_domain(tx, book.loans, day)
        played[name] = (stored_state(tx, book.loans), customer_statuses(tx, book.customers), runs)
    assert played["sql"][0] == played["fake"][0]
    assert played["sql"][1] == played["fake"][1]
    assert played["sql"][2] > 5


def _assert_each_loan_as_the_domain(tx: Callable[[Callable[[Any], Any]], Any], ids: list[int], day: date) -> None:
    def check(uow: Any) -> None:
        for loan in uow.servicing.stored_loans(ids):
            assert loan.serviced_on is not None and loan.serviced_on >= day, loan.credit_id
            assert list(check_stored(loan)) == [], loan.credit_id
            assert list(check_paid_parts(loan)) == [], loan.credit_id
            assert check_loan(loan, day) == []
    tx(check)


def test_catching_up_several_days_equals_running_each_day(books):
    sql = sql_tx(books)
    shop = sql_shop(books)
    rng = random.Random(7)
    book = open_book(sql, shop, rng, START, loans=20)
    for day in (START + timedelta(days=25), START + timedelta(days=40)):
        play_day(sql, SqlPayments(), shop, rng, book, day)
    snapshot = _tables(books)
    for offset in range(41, 120):
        service(sql, START + timedelta(days=offset), 8)
    daily = stored_state(sql, book.loans)
    _restore(books, snapshot)
    service(sql, START + timedelta(days=119), 8)
    assert stored_state(sql, book.loans) == daily


def test_a_slice_runs_once_per_day(books):
    sql = sql_tx(books)
    shop = sql_shop(books)
    customer = sql(lambda uow: new_customer(uow))
    credit_id = sql(lambda uow: new_loan(uow, shop, customer, START).id)
    as_of = START + timedelta(days=45)
    first = sql(lambda uow: loan_servicing.service_slice(uow, as_of, 0, 100, THRESHOLD))
    assert first is not None and first.done.loans == 1 and first.done.fell_due == 1 and first.done.late == 1
    with books.engine.begin() as conn:  # as if the loan were back a day: a second run would move it again
        conn.execute(update(t.credits).where(t.credits.c.id == credit_id).values(serviced_on=as_of - timedelta(1)))
    assert sql(lambda uow: loan_servicing.service_slice(uow, as_of, 0, 100, THRESHOLD)) is None
    with books.engine.connect() as conn:
        runs = conn.execute(select(t.loan_servicing_runs)).all()
    assert [(r.as_of, r.slice, r.loans, r.fell_due, r.late) for r in runs] == [(as_of, 0, 1, 1, 1)]


def test_a_frozen_loan_moves_its_deadlines_and_a_dispute_charges_inactive_interest(books):
    sql = sql_tx(books)
    shop = sql_shop(books)
    customer = sql(lambda uow: new_customer(uow))
    frozen = sql(lambda uow: new_loan(uow, shop, customer, START, payments=3).id)
    disputed = sql(lambda uow: new_loan(uow, shop, customer, START, payments=3).id)
    sql(lambda uow: move_loan(uow, uow.credits.lock(frozen), LoanEvent.FREEZE, START + timedelta(days=10)))
    sql(lambda uow: move_loan(uow, uow.credits.lock(disputed), LoanEvent.OPEN_DISPUTE, START + timedelta(days=10)))
    service(sql, START + timedelta(days=40), 10)
    with books.engine.connect() as conn:
        rows = conn.execute(select(t.loan_installments).order_by(t.loan_installments.c.id)).all()
    by_loan = {(r.credit_id, r.number): r for r in rows}
    assert by_loan[(frozen, 1)].due_on == by_loan[(frozen, 1)].scheduled_on + timedelta(days=30)
    assert by_loan[(frozen, 1)].interest_state == InterestState.NOT_DUE
    assert by_loan[(disputed, 1)].interest_state == InterestState.INACTIVE
    assert sql(lambda uow: (uow.credits.get(frozen).days_past_due, uow.credits.get(disputed).days_past_due)) \
        == (0, 9)  # the dispute's installment fell due 31 days after signing: its principal is late


def test_the_customers_moves_are_the_domains_each_with_its_history_and_event(books):
    sql = sql_tx(books)
    shop = sql_shop(books)
    late = sql(lambda uow: new_customer(uow))
    held = sql(lambda uow: new_customer(uow, status=CustomerStatus.DISABLED, held=True))
    cured = sql(lambda uow: new_customer(uow, status=CustomerStatus.DISABLED))
    newcomer = sql(lambda uow: new_customer(uow, status=CustomerStatus.UNREGISTERED))
    for customer in (late, held, newcomer):
        sql(lambda uow: new_loan(uow, shop, customer, START))
    sql(lambda uow: new_loan(uow, shop, cured, START + timedelta(days=40)))
    service(sql, START + timedelta(days=31 + 31), 10)  # the first installment is 31 days late
    statuses = dict((i, s) for i, s, _ in customer_statuses(sql, [late, held, cured, newcomer]))
    assert statuses == {late: CustomerStatus.DISABLED, held: CustomerStatus.DISABLED,
                        cured: CustomerStatus.ENABLED, newcomer: CustomerStatus.DISABLED}
    with books.engine.connect() as conn:
        history = conn.execute(select(t.customer_status_history.c.customer_id, t.customer_status_history.c.event)
                               .order_by(t.customer_status_history.c.id)).all()
        events = conn.execute(select(t.event_log.c.message, t.event_log.c.details).where(
            t.event_log.c.kind == "customer_status_changed").order_by(t.event_log.c.id)).all()
    assert sorted(history) == sorted([(newcomer, "registration_completed"), (late, "fell_past_due"),
                                      (newcomer, "fell_past_due"), (cured, "cured")])
    assert len(events) == 4
    assert f"customer {cured} disabled -> enabled (cured)" in [e.message for e in events]
    assert {"customer_id": late, "event": "fell_past_due", "previous": "enabled", "status": "disabled"} in [
        e.details for e in events]


def test_a_payment_cures_the_loan_and_the_next_run_enables_its_customer(books):
    sql = sql_tx(books)
    shop = sql_shop(books)
    customer = sql(lambda uow: new_customer(uow))
    credit_id = sql(lambda uow: new_loan(uow, shop, customer, START).id)
    service(sql, START + timedelta(days=70), 10)
    assert customer_statuses(sql, [customer])[0][1] == CustomerStatus.DISABLED
    sql(lambda uow: pay(uow, SqlPayments(), uow.credits.lock(credit_id), START + timedelta(days=71), 10**9))
    service(sql, START + timedelta(days=72), 10)
    assert customer_statuses(sql, [customer])[0][1] == CustomerStatus.ENABLED
    assert sql(lambda uow: uow.credits.get(credit_id).status) == L.PAID


def test_an_inactive_product_waives_the_interest_falling_due(books):
    sql = sql_tx(books)
    shop = sql_shop(books)
    customer = sql(lambda uow: new_customer(uow))
    credit_id = sql(lambda uow: new_loan(uow, shop, customer, START, payments=3).id)
    sql(lambda uow: switch_product(uow, shop.product_id, False, START + timedelta(days=20)))
    sql(lambda uow: switch_product(uow, shop.product_id, True, START + timedelta(days=40)))
    service(sql, START + timedelta(days=70), 10)
    with books.engine.connect() as conn:
        states = conn.execute(select(t.loan_installments.c.interest_state).where(
            t.loan_installments.c.credit_id == credit_id).order_by(t.loan_installments.c.number)).scalars().all()
    assert states == [InterestState.WAIVED, InterestState.ACTIVE, InterestState.NOT_DUE]


def _tables(container: Any) -> dict[str, list[dict[str, Any]]]:
    names = ("credits", "loan_installments", "customers", "customer_status_history", "loan_servicing_runs")
    with container.engine.connect() as conn:
        return {n: [dict(r._mapping) for r in conn.execute(select(t.metadata.tables[n]))] for n in names}


def _restore(container: Any, snapshot: dict[str, list[dict[str, Any]]]) -> None:
    with container.engine.begin() as conn:
        for name in ("customer_status_history", "loan_servicing_runs"):
            conn.execute(t.metadata.tables[name].delete())
        for name, rows in snapshot.items():
            table = t.metadata.tables[name]
            for row in rows:
                if name in ("customer_status_history", "loan_servicing_runs"):
                    conn.execute(table.insert().values(**row))
                else:  # what the run changes (a customer's sealed data stays as it is)
                    changed = {k: v for k, v in row.items() if name != "customers" or k in CUSTOMER_MOVES}
                    conn.execute(update(table).where(table.c.id == row["id"]).values(**changed))
        assert conn.scalar(select(func.count()).select_from(t.loan_servicing_runs)) == len(
            snapshot["loan_servicing_runs"])
