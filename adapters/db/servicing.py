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
    CursorResult, Date, Integer, and_, case, exists, func, insert, literal, or_, select,
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
from domain.customers import REGISTRATION_FIELDS, TRANSITIONS, CustomerEvent, CustomerStatus, automatic_events
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
# Installments by due day: a slice's falling due and newly late are found through it, whatever the
# optimizer guesses (a join led by credits made it scan the index once per loan).
DUE_DAY_INDEX = "FORCE INDEX (ix_loan_installments_due_on_credit_id)"


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
        """Take the (as-of, slice) run; False when it was taken already (its row is the proof). Opening the
        slice's transaction, it makes it READ COMMITTED: slices run side by side share customers, and at
        REPEATABLE READ every customer row their set statements read would stay locked until commit."""
        if not self._session.in_transaction() and self._session.get_bind().dialect.name in ("mysql", "mariadb"):
            self._session.connection(execution_options={"isolation_level": "READ COMMITTED"})
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
        """Carry every loan of ids ``first_id``..``last_id`` serviced before ``as_of`` up to it: a frozen
        loan's installments not yet due move by the days since serviced_on; installments falling due get their
        interest state; a loan late on serviced_on is as many days later, one that was not is late on the
        oldest installment fallen due since with something payable left."""
        behind = _behind(as_of, first_id, last_id)
        since = self._session.scalar(select(func.min(C.c.serviced_on)).where(behind))
        if since is None:
            return ServicedSlice(0, 0, 0, 0)
        ours = and_(I.c.credit_id == C.c.id, I.c.credit_id.between(first_id, last_id), behind)
        day = literal(as_of, Date)
        moved = self._rowcount(update(I).where(
            ours, C.c.status == CreditStatus.FROZEN, I.c.due_on > C.c.serviced_on).values(
            due_on=plus_days(I.c.due_on, days_between(day, C.c.serviced_on))))
        falling = list(self._session.scalars(select(I.c.id).join(C, C.c.id == I.c.credit_id).where(
            I.c.due_on > since, I.c.due_on <= as_of, I.c.credit_id.between(first_id, last_id), behind,
            I.c.interest_state == S.NOT_DUE, I.c.due_on > C.c.serviced_on).with_hint(I, DUE_DAY_INDEX, "mysql")
            .with_hint(I, DUE_DAY_INDEX, "mariadb")))
        fell_due = sum(self._rowcount(update(I).where(ours, I.c.id.in_(ids)).values(
            interest_state=_falling_due_state())) for ids in _chunks(falling))
        newly_late = 0
        for oldest, ids in self._newly_late(as_of, since, first_id, last_id).items():
            newly_late += sum(self._rowcount(update(C).where(
                C.c.id.in_(chunk), behind, C.c.days_past_due == 0, C.c.status != CreditStatus.CANCELLED,
                C.c.serviced_on <= oldest).ordered_values(
                (C.c.days_past_due, days_between(day, literal(oldest, Date))), (C.c.serviced_on, as_of)))
                for chunk in _chunks(ids))
        later = case((and_(C.c.days_past_due > 0, C.c.status != CreditStatus.CANCELLED),
                      C.c.days_past_due + days_between(day, C.c.serviced_on)), else_=C.c.days_past_due)
        loans = newly_late + self._rowcount(update(C).where(behind).ordered_values(
            (C.c.days_past_due, later), (C.c.serviced_on, as_of)))
        late = int(self._session.scalar(select(func.count()).where(
            C.c.id.between(first_id, last_id), C.c.customer_id.isnot(None), C.c.serviced_on == as_of,
            C.c.days_past_due > 0)) or 0)
        return ServicedSlice(loans, fell_due, moved, late)

    def move_customers(self, first_id: int, last_id: int, threshold: int, at: datetime) -> int:
        """The automatic moves (domain.customers.automatic_events) of the customers with a loan in the slice:
        registration completed, fell past due (a loan not cancelled more than ``threshold`` days past due),
        cured. The customers due a move are found in one read, locked in id order (slices side by side share
        customers), and moved with their status history rows and events in one statement each. Returns how
        many moves were made."""
        due = self._moves_due(first_id, last_id, threshold)
        if not due:
            return 0
        locked = dict(self._session.execute(select(CU.c.id, CU.c.status).where(CU.c.id.in_(list(due)))
                                            .order_by(CU.c.id).with_for_update()).all())
        moves = {i: events for i, (status, events) in due.items() if locked.get(i) == status}
        history, logged, final = [], [], defaultdict(list)
        for customer_id, (status, events) in sorted(due.items()):
            if customer_id not in moves:
                continue  # moved by someone else since it was read: its own use case applied the rules
            for event in events:
                target = TRANSITIONS[event][1]
                history.append({"customer_id": customer_id, "event": event, "previous": status, "status": target,
                                "reason": None, "at": at})
                logged.append({"at": at, "level": "INFO", "kind": "customer_status_changed",
                               "message": f"customer {customer_id} {status.value} -> {target.value} ({event.value})",
                               "details": {"customer_id": customer_id, "event": event.value,
                                           "previous": status.value, "status": target.value}})
                status = target
            final[status].append(customer_id)
        if not history:
            return 0
        self._session.execute(insert(CH), history)
        self._session.execute(insert(t.event_log), logged)
        for status, ids in final.items():
            self._session.execute(update(CU).where(CU.c.id.in_(ids)).values(
                status=status, status_reason=None, updated_at=at, held=False))
        return len(history)

    def _moves_due(self, first_id: int, last_id: int, threshold: int
                   ) -> dict[int, tuple[CustomerStatus, list[CustomerEvent]]]:
        """The customers of the slice's loans due an automatic move, with their status and the events due.
        Only two kinds can be: an enabled customer with one of the slice's loans past the threshold (a loan
        crosses it in its own slice's run, so that run moves its customer), and a customer not enabled
        (unregistered, disabled): their worst days past due over every loan not cancelled decide."""
        slice_loans = and_(C.c.id.between(first_id, last_id), C.c.customer_id.isnot(None))
        past_due = select(C.c.customer_id).where(slice_loans, C.c.days_past_due > threshold,
                                                 C.c.status != CreditStatus.CANCELLED).distinct().subquery("late")
        ours = select(C.c.customer_id).where(slice_loans).distinct().subquery("ours")
        other = C.alias("other")
        worst = func.coalesce(select(func.max(other.c.days_past_due)).where(
            other.c.customer_id == CU.c.id, other.c.status != CreditStatus.CANCELLED).scalar_subquery(), 0)
        registered = and_(*(CU.c[name].isnot(None) for name in REGISTRATION_FIELDS), CU.c.risk_profile.isnot(None))
        read = select(CU.c.id, CU.c.status, CU.c.held, worst.label("worst"),
                      case((registered, True), else_=False).label("registered"))
        rows = [*self._session.execute(read.join(past_due, past_due.c.customer_id == CU.c.id)
                                       .where(CU.c.status == CustomerStatus.ENABLED)),
                *self._session.execute(read.join(ours, ours.c.customer_id == CU.c.id).where(
                    CU.c.status.in_([CustomerStatus.UNREGISTERED, CustomerStatus.DISABLED])))]
        due = {r.id: (r.status, automatic_events(r.status, bool(r.registered), int(r.worst), threshold, False,
                                                 r.held)) for r in rows}
        return {i: (status, events) for i, (status, events) in due.items() if events}

    def _newly_late(self, as_of: date, since: date, first_id: int, last_id: int) -> dict[date, list[int]]:
        """The slice's loans with something payable left on an installment due from ``since`` to ``as_of``,
        by their oldest such due date (read without locks; the update checks each loan again)."""
        found: dict[date, list[int]] = defaultdict(list)
        for credit_id, oldest in self._session.execute(_oldest_owing(as_of, since, first_id, last_id)):
            found[oldest].append(credit_id)
        return found

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


def _chunks(ids: list[int], size: int = 5_000) -> list[list[int]]:
    return [ids[n:n + size] for n in range(0, len(ids), size)]


def _oldest_owing(as_of: date, since: date, first_id: int, last_id: int) -> Any:
    """Per loan of the slice, the oldest installment due from ``since`` to ``as_of`` with principal or active
    interest left (a loan not late on its serviced_on owes nothing due before it: no older one counts)."""
    return select(I.c.credit_id, func.min(I.c.due_on).label("due_on")).where(
        I.c.credit_id.between(first_id, last_id), I.c.due_on.between(since, as_of), or_(
            and_(I.c.interest_state != S.VOID, I.c.principal_paid < I.c.principal),
            and_(I.c.interest_state == S.ACTIVE, I.c.interest_paid < I.c.interest))
    ).group_by(I.c.credit_id).with_hint(I, DUE_DAY_INDEX, "mysql").with_hint(I, DUE_DAY_INDEX, "mariadb")
