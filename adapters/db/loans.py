"""The loan book in Core: a loan's schedule and installments, its status history, its accepted payments as
the balances read them, and the product's inactive periods; and the standing of each installment written
back once a use case has computed it (domain.loan_balances)."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Sequence, TypeVar

from sqlalchemy import and_, case, func, insert, not_, select, update
from sqlalchemy import ColumnElement, Table
from sqlalchemy.orm import Session

from adapters.db import tables as t
from adapters.db.errors import insert_unless_present
from adapters.db.repositories import Repository
from domain.credits import Credit, CreditStatus
from domain.loan_balances import (
    Allocation, AppliedPayment, InterestState, LoanPosition, LoanRecord, Period, inactive_periods, loan_record,
)
from domain.loan_schedules import Installment
from domain.loan_requests import LoanRequest, LoanRequestStatus
from domain.loans import LoanStatusChange
from domain.products import ProductStatus
from domain.repayments import PaymentStatus

E = TypeVar("E")
C, Q = t.credits, t.loan_requests
I, H, R, A, P = t.loan_installments, t.loan_status_history, t.repayments, t.repayment_allocations, \
    t.product_status_history


class Loans:
    """What a loan is computed from and where its installments stand, one loan at a time (the daily servicing
    run works on them as a set, elsewhere)."""

    def __init__(self, session: Session):
        self._session = session

    def add_schedule(self, credit_id: int, schedule: Sequence[Installment]) -> None:
        """The schedule fixed at signature; nothing is due yet."""
        self._session.execute(insert(I), [
            {"credit_id": credit_id, "number": i.number, "scheduled_on": i.due_on, "due_on": i.due_on,
             "principal": i.principal, "interest": i.interest, "principal_paid": 0, "interest_paid": 0,
             "interest_state": InterestState.NOT_DUE} for i in schedule])

    def schedule(self, credit_id: int) -> tuple[Installment, ...]:
        rows = self._session.execute(select(I.c.number, I.c.scheduled_on, I.c.principal, I.c.interest)
                                     .where(I.c.credit_id == credit_id).order_by(I.c.number))
        return tuple(Installment(r.number, r.scheduled_on, r.principal, r.interest) for r in rows)

    def history(self, credit_id: int) -> list[LoanStatusChange]:
        rows = self._session.execute(select(H).where(H.c.credit_id == credit_id).order_by(H.c.id))
        return [LoanStatusChange(r.from_status, r.to_status, r.on, r.at, r.event, r.reason, r.actor, r.detail)
                for r in rows]

    def add_change(self, credit_id: int, change: LoanStatusChange, move_key: str | None = None) -> bool:
        """Record a status change; False (nothing written) when a change with ``move_key`` exists already."""
        values = {"credit_id": credit_id, "event": change.event, "from_status": change.from_status,
                  "to_status": change.to_status, "on": change.on, "at": change.at, "reason": change.reason,
                  "actor": change.actor, "detail": change.detail, "move_key": move_key}
        stmt = insert(H).values(**values)
        if move_key is None:
            self._session.execute(stmt)
            return True
        return insert_unless_present(self._session, stmt, lambda: self.moved(move_key)) is not None

    def moved(self, move_key: str) -> bool:
        """Whether a change with this key was recorded."""
        return self._session.scalar(select(H.c.id).where(H.c.move_key == move_key)) is not None

    def payments(self, credit_id: int) -> list[AppliedPayment]:
        """The loan's accepted payments (reversed ones too) with their allocations, in the order accepted."""
        rows = self._session.execute(
            select(R.c.id, R.c.amount, R.c.accepted_on, R.c.reversed_on)
            .where(R.c.credit_id == credit_id, R.c.payment_status.in_([PaymentStatus.ACCEPTED,
                                                                       PaymentStatus.REVERSED]))
            .order_by(R.c.id)).all()
        parts: dict[int, list[Allocation]] = defaultdict(list)
        for a in self._session.execute(select(A.c.repayment_id, A.c.installment, A.c.interest, A.c.principal)
                                       .where(A.c.credit_id == credit_id).order_by(A.c.installment)):
            parts[a.repayment_id].append(Allocation(a.installment, a.interest, a.principal))
        return [AppliedPayment(r.id, r.amount, r.accepted_on, tuple(parts[r.id]), r.reversed_on) for r in rows]

    def product_inactive(self, product_id: int | None) -> list[Period]:
        """The periods the product was inactive: from a day it was deactivated to the day it was activated."""
        if product_id is None:
            return []
        return inactive_periods((row.status == ProductStatus.ACTIVE, row.on) for row in self._session.execute(
            select(P.c.status, P.c.on).where(P.c.product_id == product_id).order_by(P.c.id)))

    def add_product_change(self, product_id: int, status: ProductStatus, on: date, at: datetime) -> None:
        self._session.execute(insert(P).values(product_id=product_id, status=status, on=on, at=at))

    def record(self, credit: Credit) -> LoanRecord:
        """Everything the loan's position is computed from."""
        assert credit.id is not None
        return loan_record(self.schedule(credit.id), self.history(credit.id), self.payments(credit.id),
                           self.product_inactive(credit.product_id), credit.status)

    def write_position(self, credit_id: int, position: LoanPosition) -> None:
        """Each installment's standing as of the position's day: its due date after freezes, what is paid of
        it, what became of its interest."""
        for row in position.installments:
            self._session.execute(update(I).where(I.c.credit_id == credit_id, I.c.number == row.number).values(
                due_on=row.due_on, principal_paid=row.principal_paid, interest_paid=row.interest_paid,
                interest_state=row.interest_state))


    def page(self, customer_id: int | None, status: CreditStatus | None, days_past_due: tuple[int, int] | None,
             offset: int, limit: int) -> tuple[list[Credit], int]:
        """One page of loans (credits with a customer), oldest first, and how many match: by customer, status
        and days past due (as last serviced, both ends included) when given."""
        where: list[ColumnElement[bool]] = [C.c.customer_id.is_not(None)]
        if customer_id is not None:
            where.append(C.c.customer_id == customer_id)
        if status is not None:
            where.append(C.c.status == status)
        if days_past_due is not None:
            where.append(C.c.days_past_due.between(*days_past_due))
        return _page(self._session, Credit, C, where, offset, limit)


class LoanRequests(Repository[LoanRequest]):
    """Pre-loans, one per lender and external id."""

    entity, name = LoanRequest, "loan request"

    def by_external_id(self, lender: str, external_id: str) -> LoanRequest | None:
        return self._session.scalars(select(LoanRequest).where(Q.c.lender == lender,
                                                               Q.c.external_id == external_id)).first()

    def page(self, lender: str, customer_id: int | None, status: LoanRequestStatus | None, offset: int,
             limit: int) -> tuple[list[LoanRequest], int]:
        """One page, oldest first, and how many match: by customer and status when given."""
        where = [Q.c.lender == lender]
        if customer_id is not None:
            where.append(Q.c.customer_id == customer_id)
        if status is not None:
            where.append(Q.c.status == status)
        return _page(self._session, LoanRequest, Q, where, offset, limit)


def _page(session: Session, entity: type[E], table: Table, where: Sequence[ColumnElement[bool]], offset: int,
          limit: int) -> tuple[list[E], int]:
    """One page of ``entity`` by id, oldest first, and how many match ``where``."""
    total = session.scalar(select(func.count()).select_from(table).where(*where)) or 0
    return list(session.scalars(select(entity).where(*where).order_by(table.c.id).offset(offset).limit(limit))), total


class CustomerLoans:
    """The loan book as the customers' rules ask it (usecases.ports.CustomerLoans), read from the installments
    and credits in the asking transaction, so that it sees the loan changes made before in it."""

    def __init__(self, session: Session):
        self._session = session

    def outstanding(self, customer_id: int) -> int:
        """Principal neither repaid nor voided (a cancelled loan's installments falling due after its
        cancellation day), and active interest unpaid, over the customer's loans."""
        self._session.flush()
        voided = and_(C.c.status == CreditStatus.CANCELLED, I.c.due_on > C.c.status_on)
        principal = func.coalesce(func.sum(case((not_(voided), I.c.principal - I.c.principal_paid), else_=0)), 0)
        interest = func.coalesce(func.sum(case((I.c.interest_state == InterestState.ACTIVE,
                                                I.c.interest - I.c.interest_paid), else_=0)), 0)
        row = self._session.execute(select(principal, interest).select_from(I.join(C, C.c.id == I.c.credit_id))
                                    .where(C.c.customer_id == customer_id)).one()
        return int(row[0]) + int(row[1])

    def max_days_past_due(self, customer_id: int) -> int:
        """The most days past due of the customer's loans not cancelled, as last serviced: a cancelled loan
        takes no payment, so it could never be cured (the daily servicing run reads the same)."""
        self._session.flush()
        return int(self._session.scalar(select(func.coalesce(func.max(C.c.days_past_due), 0))
                                        .where(C.c.customer_id == customer_id,
                                               C.c.status != CreditStatus.CANCELLED)) or 0)
