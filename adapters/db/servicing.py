"""The daily servicing run in Core SQL: a slice of loans (a credit id range) carried from each loan's
``serviced_on`` to the as-of day as a set, and the customers' automatic moves that follow; and the loan book
read back in slices for ``loans verify``.

Why a handful of statements is enough (docs/loans.md, "The daily servicing run"): every use case that changes
a loan writes its position as of that day (usecases.loan_positions), so the stored installments equal
domain.loan_balances.position(record, serviced_on) and nothing in the record is dated after serviced_on.
From there to the as-of day the loan's status is constant, so only three things change: a frozen loan's
not-yet-due installments move by the days since serviced_on; installments falling due get the interest state
of that status; days past due grow. Product status changes are read as they stand.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any, Callable, Sequence, cast

from sqlalchemy import (
    CursorResult, Date, Integer, String, and_, case, cast as sql_cast, exists, func, insert, literal, or_, select,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from adapters.db import tables as t
from adapters.db.errors import insert_unless_present
from domain.credits import CreditStatus
from domain.customers import REGISTRATION_FIELDS, CustomerEvent, CustomerStatus
from domain.loan_balances import (
    Allocation, AppliedPayment, InterestState, inactive_periods, loan_record,
)
from domain.loan_schedules import Installment
from domain.loan_servicing import ServicedSlice, StoredInstallment, StoredLoan
from domain.loans import LoanStatusChange
from domain.products import ProductStatus
from domain.repayments import PaymentStatus

C, I, H, P = t.credits, t.loan_installments, t.loan_status_history, t.product_status_history
R, A, CU, CH, RUNS = t.repayments, t.repayment_allocations, t.customers, t.customer_status_history, \
    t.loan_servicing_runs
S = InterestState


class days_between(FunctionElement[int]):
    """Whole days from the second date to the first."""

    type = Integer()
    inherit_cache = True


class plus_days(FunctionElement[date]):
    """A date moved forward by a number of days."""

    type = Date()
    inherit_cache = True


def _dialect_sql(construct: type, templates: dict[str, str]) -> None:
    """Compile ``construct``'s two arguments into the template of each dialect ("" for any other)."""
    def compile_with(template: str) -> Callable[..., str]:
        def compiled(element: Any, compiler: SQLCompiler, **kw: Any) -> str:
            first, second = (compiler.process(c, **kw) for c in element.clauses)
            return template.format(first, second)
        return compiled
    for dialect, template in templates.items():
        compiles(construct, *([dialect] if dialect else []))(compile_with(template))


_dialect_sql(days_between, {"": "DATEDIFF({0}, {1})", "sqlite": "CAST(julianday({0}) - julianday({1}) AS INTEGER)"})
_dialect_sql(plus_days, {"": "DATE_ADD({0}, INTERVAL {1} DAY)", "sqlite": "date({0}, '+' || ({1}) || ' days')"})


def _state(value: InterestState) -> ColumnElement[Any]:
    return literal(value, I.c.interest_state.type)


class LoanServicing:
    """The set-based run over a slice of loans and the customers' automatic moves after it."""

    def __init__(self, session: Session):
        self._session = session

    def claim(self, as_of: date, slice_number: int, started_at: datetime) -> bool:
        """Take the (as-of, slice) run; False when it was taken already (its row is the proof)."""
        stmt = insert(RUNS).values(as_of=as_of, slice=slice_number, started_at=started_at, milliseconds=0,
                                   loans=0, fell_due=0, late=0)
        return insert_unless_present(self._session, stmt, lambda: self.ran(as_of, slice_number)) is not None

    def ran(self, as_of: date, slice_number: int) -> bool:
        return self._session.scalar(select(RUNS.c.id).where(RUNS.c.as_of == as_of,
                                                            RUNS.c.slice == slice_number)) is not None

    def finish(self, as_of: date, slice_number: int, milliseconds: int, done: ServicedSlice) -> None:
        self._session.execute(update(RUNS).where(RUNS.c.as_of == as_of, RUNS.c.slice == slice_number).values(
            milliseconds=milliseconds, loans=done.loans, fell_due=done.fell_due, late=done.late))

    def last_loan_id(self) -> int:
        """The highest credit id that is a loan (0 without any): how far the slices go."""
        return int(self._session.scalar(select(func.max(C.c.id)).where(C.c.customer_id.isnot(None))) or 0)

    def last_run_day(self) -> date | None:
        """The latest as-of day any slice ran for."""
        return cast(date | None, self._session.scalar(select(func.max(RUNS.c.as_of))))

    def service(self, as_of: date, first_id: int, last_id: int) -> ServicedSlice:
        """Carry every loan of ids ``first_id``..``last_id`` serviced before ``as_of`` up to it."""
        due = self._session.scalar(select(func.min(C.c.serviced_on)).where(_behind(as_of, first_id, last_id)))
        if due is None:
            return ServicedSlice(0, 0, 0, 0)
        moved = self._rowcount(update(I).where(
            I.c.credit_id == C.c.id, _behind(as_of, first_id, last_id), C.c.status == CreditStatus.FROZEN,
            I.c.due_on > C.c.serviced_on).values(due_on=plus_days(I.c.due_on, days_between(literal(as_of, Date), C.c.serviced_on))))
        fell_due = self._rowcount(update(I).where(
            I.c.credit_id == C.c.id, _behind(as_of, first_id, last_id), I.c.interest_state == S.NOT_DUE,
            I.c.due_on > C.c.serviced_on, I.c.due_on <= as_of).values(interest_state=_falling_due_state()))
        loans = self._rowcount(update(C).where(_behind(as_of, first_id, last_id)).ordered_values(
            (C.c.days_past_due, _days_past_due(as_of)), (C.c.serviced_on, as_of)))
        late = int(self._session.scalar(select(func.count()).where(
            C.c.id.between(first_id, last_id), C.c.customer_id.isnot(None), C.c.serviced_on == as_of,
            C.c.days_past_due > 0)) or 0)
        return ServicedSlice(loans, fell_due, moved, late)

    def move_customers(self, first_id: int, last_id: int, threshold: int, at: datetime) -> int:
        """The automatic moves (domain.customers.automatic_events) of the customers with a loan in the slice, in
        the domain's order: registration completed, fell past due, cured. Each writes its status history row
        and its event. Returns how many moves were made."""
        worst = func.coalesce(select(func.max(C.c.days_past_due)).where(
            C.c.customer_id == CU.c.id, C.c.status != CreditStatus.CANCELLED).scalar_subquery(), 0)
        in_slice = exists().where(C.c.customer_id == CU.c.id, C.c.id.between(first_id, last_id))
        registered = and_(*(CU.c[name].isnot(None) for name in REGISTRATION_FIELDS), CU.c.risk_profile.isnot(None))
        moves = (
            (CustomerEvent.REGISTRATION_COMPLETED, CustomerStatus.UNREGISTERED, CustomerStatus.ENABLED, registered),
            (CustomerEvent.FELL_PAST_DUE, CustomerStatus.ENABLED, CustomerStatus.DISABLED, worst > threshold),
            (CustomerEvent.CURED, CustomerStatus.DISABLED, CustomerStatus.ENABLED,
             and_(worst <= threshold, CU.c.held.is_(False))),
        )
        made = 0
        for event, previous, status, condition in moves:
            due = and_(CU.c.status == previous, in_slice, condition)
            made += self._move(event, previous, status, due, at)
        return made

    def _move(self, event: CustomerEvent, previous: CustomerStatus, status: CustomerStatus,
              due: ColumnElement[bool], at: datetime) -> int:
        ev, was, now = (literal(v, CH.c[name].type) for v, name in ((event, "event"), (previous, "previous"),
                                                                    (status, "status")))
        self._session.execute(insert(CH).from_select(
            ["customer_id", "event", "previous", "status", "reason", "at"],
            select(CU.c.id, ev, was, now, literal(None, String), literal(at, CH.c.at.type)).where(due)))
        message = (literal("customer ", String) + sql_cast(CU.c.id, String)
                   + literal(f" {previous.value} -> {status.value} ({event.value})", String))
        details = func.json_object("customer_id", CU.c.id, "event", event.value, "previous", previous.value,
                                   "status", status.value)
        self._session.execute(insert(t.event_log).from_select(
            ["at", "level", "kind", "message", "details"],
            select(literal(at, t.event_log.c.at.type), literal("INFO", String), literal("customer_status_changed",
                                                                                        String),
                   message, details).where(due)))
        return self._rowcount(update(CU).where(due).values(status=status, status_reason=None, updated_at=at,
                                                             held=False))

    def _rowcount(self, stmt: Any) -> int:
        return cast(CursorResult[Any], self._session.execute(stmt)).rowcount

    # --- the loan book read back, a slice at a time (loans verify) -------------------------------------------

    def loan_count(self) -> int:
        return int(self._session.scalar(select(func.count()).where(C.c.customer_id.isnot(None))) or 0)

    def loan_ids_after(self, after: int, limit: int) -> list[int]:
        """The next ``limit`` loans' ids after ``after``, in order."""
        return list(self._session.scalars(select(C.c.id).where(C.c.customer_id.isnot(None), C.c.id > after)
                                          .order_by(C.c.id).limit(limit)))

    def stored_loans(self, credit_ids: Sequence[int]) -> list[StoredLoan]:
        """Each loan of ``credit_ids`` with its record and stored installments, in five reads."""
        ids = list(credit_ids)
        credits = self._session.execute(select(C.c.id, C.c.amount, C.c.status, C.c.serviced_on, C.c.days_past_due,
                                               C.c.product_id).where(C.c.id.in_(ids)).order_by(C.c.id)).all()
        schedules: dict[int, list[Installment]] = defaultdict(list)
        stored: dict[int, list[StoredInstallment]] = defaultdict(list)
        for r in self._session.execute(select(I).where(I.c.credit_id.in_(ids)).order_by(I.c.credit_id, I.c.number)):
            schedules[r.credit_id].append(Installment(r.number, r.scheduled_on, r.principal, r.interest))
            stored[r.credit_id].append(StoredInstallment(r.number, r.due_on, r.principal_paid, r.interest_paid,
                                                         r.interest_state))
        histories: dict[int, list[LoanStatusChange]] = defaultdict(list)
        for r in self._session.execute(select(H).where(H.c.credit_id.in_(ids)).order_by(H.c.id)):
            histories[r.credit_id].append(LoanStatusChange(r.from_status, r.to_status, r.on, r.at, r.event,
                                                           r.reason, r.actor, r.detail))
        payments = self._payments(ids)
        products = {r.product_id for r in credits if r.product_id is not None}
        changes: dict[int, list[tuple[bool, date]]] = defaultdict(list)
        for r in self._session.execute(select(P.c.product_id, P.c.status, P.c.on)
                                       .where(P.c.product_id.in_(products)).order_by(P.c.id)):
            changes[r.product_id].append((r.status == ProductStatus.ACTIVE, r.on))
        return [StoredLoan(r.id, r.amount, r.status, r.serviced_on, r.days_past_due,
                           loan_record(tuple(schedules[r.id]), histories[r.id], payments[r.id],
                                       inactive_periods(changes[r.product_id]) if r.product_id else [], r.status),
                           tuple(stored[r.id])) for r in credits]

    def _payments(self, ids: list[int]) -> dict[int, list[AppliedPayment]]:
        parts: dict[int, list[Allocation]] = defaultdict(list)
        for a in self._session.execute(select(A.c.repayment_id, A.c.installment, A.c.interest, A.c.principal)
                                       .where(A.c.credit_id.in_(ids)).order_by(A.c.repayment_id, A.c.installment)):
            parts[a.repayment_id].append(Allocation(a.installment, a.interest, a.principal))
        found: dict[int, list[AppliedPayment]] = defaultdict(list)
        for r in self._session.execute(select(R.c.id, R.c.credit_id, R.c.amount, R.c.accepted_on, R.c.reversed_on)
                                       .where(R.c.credit_id.in_(ids), R.c.payment_status.in_(
                                           [PaymentStatus.ACCEPTED, PaymentStatus.REVERSED])).order_by(R.c.id)):
            found[r.credit_id].append(AppliedPayment(r.id, r.amount, r.accepted_on, tuple(parts[r.id]),
                                                     r.reversed_on))
        return found


def _behind(as_of: date, first_id: int, last_id: int) -> ColumnElement[bool]:
    """The slice's loans not yet serviced up to ``as_of``."""
    return and_(C.c.id.between(first_id, last_id), C.c.customer_id.isnot(None), C.c.serviced_on < as_of)


def _falling_due_state() -> ColumnElement[Any]:
    """The interest state of an installment falling due after serviced_on (the status constant since then):
    waived when the product was inactive at the start of its due day, or its own principal (or the whole
    loan's) is repaid; inactive in a dispute; active otherwise."""
    product_inactive = select(P.c.status).where(P.c.product_id == C.c.product_id, P.c.on < I.c.due_on) \
        .order_by(P.c.id.desc()).limit(1).scalar_subquery() == literal(ProductStatus.INACTIVE, P.c.status.type)
    other = I.alias("other")
    whole_repaid = ~exists().where(other.c.credit_id == I.c.credit_id, other.c.principal_paid < other.c.principal)
    own_repaid = and_(I.c.principal > 0, I.c.principal_paid >= I.c.principal)
    return case((or_(product_inactive, own_repaid, whole_repaid), _state(S.WAIVED)),
                (C.c.status == CreditStatus.IN_DISPUTE, _state(S.INACTIVE)), else_=_state(S.ACTIVE))


def _days_past_due(as_of: date) -> ColumnElement[int]:
    """Days past due as of ``as_of``: a cancelled loan's count stopped on its cancellation day; a loan late at
    serviced_on stays late on the same installment; any other is late on the oldest installment due since
    serviced_on with principal or active interest left."""
    owing = and_(I.c.credit_id == C.c.id, I.c.due_on >= C.c.serviced_on, I.c.due_on <= as_of, or_(
        and_(I.c.interest_state != S.VOID, I.c.principal_paid < I.c.principal),
        and_(I.c.interest_state == S.ACTIVE, I.c.interest_paid < I.c.interest)))
    oldest = select(func.min(I.c.due_on)).where(owing).scalar_subquery()
    return case((C.c.status == CreditStatus.CANCELLED, C.c.days_past_due),
                (C.c.days_past_due > 0, C.c.days_past_due + days_between(literal(as_of, Date), C.c.serviced_on)),
                else_=func.coalesce(days_between(literal(as_of, Date), oldest), 0))
