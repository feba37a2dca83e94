"""Repayments in Core: the pre-payment and its payment (one row), its allocations (written once, when it is
accepted: the unique key (repayment, installment) refuses a second) and its status history (appended)."""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Sequence, cast

from sqlalchemy import CursorResult, Row, func, insert, select, update
from sqlalchemy.orm import Session

from adapters.db import tables as t
from domain.errors import NotFound
from domain.loan_balances import Allocation
from domain.repayments import PaymentStatus, PrePaymentStatus, Repayment, RepaymentStatusChange

R, A, H, C = t.repayments, t.repayment_allocations, t.repayment_status_history, t.credits
PAYMENT_STATUSES = frozenset(s.value for s in PaymentStatus)


class Repayments:
    """Repayments, one row each; ``save`` writes what a move changed."""

    def __init__(self, session: Session):
        self._session = session

    def add(self, repayment: Repayment) -> Repayment:
        """A new pre-payment, in its loan's currency, with its history so far."""
        currency = select(C.c.currency).where(C.c.id == repayment.loan_id).scalar_subquery()
        result = cast(CursorResult[Any], self._session.execute(insert(R).values(
            lender=repayment.lender, external_id=repayment.external_id, credit_id=repayment.loan_id,
            amount=repayment.amount, currency=currency, channel=repayment.channel,
            recorded_by_operator=repayment.recorded_by_operator, status=repayment.status,
            requested_at=repayment.requested_at)))
        key = result.inserted_primary_key
        assert key is not None
        repayment.id = key[0]
        self._append_history(repayment, 0)
        return repayment

    def get(self, id_: int) -> Repayment:
        return self._one(id_, lock=False)

    def lock(self, id_: int) -> Repayment:
        return self._one(id_, lock=True)

    def _one(self, id_: int, lock: bool) -> Repayment:
        query = select(R).where(R.c.id == id_)
        row = self._session.execute(query.with_for_update() if lock else query).first()
        if row is None:
            raise NotFound(f"repayment {id_} does not exist")
        return self._loaded([row])[0]

    def by_external_id(self, lender: str, external_id: str) -> Repayment | None:
        row = self._session.execute(select(R).where(R.c.lender == lender, R.c.external_id == external_id)).first()
        return self._loaded([row])[0] if row is not None else None

    def page(self, loan_id: int | None, status: str | None, offset: int, limit: int) -> tuple[list[Repayment], int]:
        """One page, oldest first, and how many match: of one loan, in one status (a pre-payment's, or a
        payment's: accepted, reversed) when given."""
        where: list[Any] = []
        if loan_id is not None:
            where.append(R.c.credit_id == loan_id)
        if status in PAYMENT_STATUSES:
            where.append(R.c.payment_status == status)
        elif status is not None:
            where.append(R.c.status == status)
        total = self._session.scalar(select(func.count()).select_from(R).where(*where)) or 0
        rows = self._session.execute(select(R).where(*where).order_by(R.c.id).offset(offset).limit(limit)).all()
        return self._loaded(rows), total

    def save(self, repayment: Repayment) -> None:
        """Write the repayment's status, its payment's, the reversal, the history rows not written yet, and its
        allocations once it is accepted (once: a second insert of the same installment is refused)."""
        assert repayment.id is not None
        decided = next((h.at for h in repayment.history
                        if h.to_status in (PrePaymentStatus.REJECTED.value, PrePaymentStatus.COMPLETED.value)), None)
        reversed_at = next((h.at for h in repayment.history if h.to_status == PaymentStatus.REVERSED.value), None)
        self._session.execute(update(R).where(R.c.id == repayment.id).values(
            status=repayment.status, payment_status=repayment.payment_status, rejection=repayment.rejection,
            accepted_on=repayment.accepted_on, reversed_on=repayment.reversed_on,
            reversal_reason=repayment.reversal_reason, decided_at=decided, reversed_at=reversed_at))
        written = self._session.scalar(select(func.count()).select_from(H).where(H.c.repayment_id == repayment.id))
        self._append_history(repayment, written or 0)
        stored = self._session.scalar(select(func.count()).select_from(A).where(A.c.repayment_id == repayment.id))
        if repayment.allocations and not stored:
            self._session.execute(insert(A), [
                {"repayment_id": repayment.id, "credit_id": repayment.loan_id, "installment": a.installment,
                 "interest": a.interest, "principal": a.principal} for a in repayment.allocations])

    def _append_history(self, repayment: Repayment, written: int) -> None:
        rows = [{"repayment_id": repayment.id, "from_status": h.from_status, "to_status": h.to_status, "at": h.at,
                 "detail": h.detail} for h in repayment.history[written:]]
        if rows:
            self._session.execute(insert(H), rows)

    def _loaded(self, rows: Sequence[Row[Any]]) -> list[Repayment]:
        """The repayments of ``rows``, with their allocations and history (two queries for the lot)."""
        ids = [r.id for r in rows]
        parts: dict[int, list[Allocation]] = defaultdict(list)
        history: dict[int, list[RepaymentStatusChange]] = defaultdict(list)
        if ids:
            for a in self._session.execute(select(A).where(A.c.repayment_id.in_(ids)).order_by(A.c.installment)):
                parts[a.repayment_id].append(Allocation(a.installment, a.interest, a.principal))
            for h in self._session.execute(select(H).where(H.c.repayment_id.in_(ids)).order_by(H.c.id)):
                history[h.repayment_id].append(RepaymentStatusChange(h.from_status, h.to_status, h.at, h.detail))
        return [Repayment(
            loan_id=r.credit_id, amount=r.amount, channel=r.channel, requested_at=r.requested_at,
            external_id=r.external_id, recorded_by_operator=r.recorded_by_operator, lender=r.lender, status=r.status,
            payment_status=r.payment_status, accepted_on=r.accepted_on, allocations=tuple(parts[r.id]),
            rejection=r.rejection, reversed_on=r.reversed_on, reversal_reason=r.reversal_reason, id=r.id,
            history=history[r.id]) for r in rows]
