"""Loans (seed 004's "Loans – Credits"): a person's moves (freeze, unfreeze, open and resolve a dispute,
cancel with a reason), what a move would do, and what a loan is as of a business day: its terms, status,
balances, days past due, schedule and history. A loan is a credit with a customer; any other credit is not
one, and is answered as a missing loan."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.credits import CancellationReason, Credit, CreditStatus
from domain.loan_balances import Bucket, LoanPosition, bucket_of, days_in, position
from domain.loans import AUTOMATIC_EVENTS, DETAIL_LENGTH, LoanEvent, LoanStatusChange, Outcome, dry_run
from usecases import credits, loan_status
from usecases.customers import CustomerRules
from usecases.errors import Invalid, NotFound
from usecases.loan_days import lender_today
from usecases.loan_status import MoveBy, person_events
from usecases.ports import UnitOfWork

PERSON_EVENTS = tuple(e for e in LoanEvent if e not in AUTOMATIC_EVENTS)


def loan(uow: UnitOfWork, loan_id: int, lock: bool = False) -> Credit:
    """The credit that is loan ``loan_id``; NotFound for a missing credit or one without a customer alike."""
    try:
        credit = uow.credits.lock(loan_id) if lock else uow.credits.get(loan_id)
    except NotFound:
        credit = None
    if credit is None or not credit.is_loan:
        raise NotFound(f"loan {loan_id} does not exist")
    return credit


def _event(event: str) -> LoanEvent:
    try:
        made = LoanEvent(event)
    except ValueError:
        made = LoanEvent.DELIVER
    if made not in PERSON_EVENTS:
        raise Invalid(f"event is one of {', '.join(e.value for e in PERSON_EVENTS)} (delivery, settlement and "
                      "reopening are the platform's own)")
    return made


def _reason(reason: str | None) -> CancellationReason | None:
    if reason is None:
        return None
    try:
        return CancellationReason(reason)
    except ValueError:
        raise Invalid(f"reason is one of {', '.join(r.value for r in CancellationReason)} (a cancellation's)") from None


def _detail(detail: str | None) -> str | None:
    if detail is not None and (not isinstance(detail, str) or not detail.strip() or len(detail) > DETAIL_LENGTH):
        raise Invalid(f"detail is 1 to {DETAIL_LENGTH} characters")
    return detail


@dataclass(frozen=True)
class LoanMove:
    """A person's move made (or found made already, by its key): the loan after it and its history row."""

    loan: Credit
    change: LoanStatusChange | None


def move_loan(uow: UnitOfWork, loan_id: int, event: str, reason: str | None = None, detail: str | None = None,
              rules: CustomerRules = CustomerRules(), by: MoveBy = MoveBy()) -> LoanMove:
    """A person's (or a step's) move of a loan. A cancellation goes through the credits' own, so that a
    delivered credit's contribution is compensated. Invalid for an automatic or unknown event or a bad reason;
    LoanMoveRefused (409, naming the status and the events it allows) when the status refuses it. A move
    whose ``by.move_key`` was recorded already changes nothing."""
    made, why = _event(event), _reason(reason)
    by = MoveBy(by.actor, _detail(detail), by.move_key)
    credit = loan(uow, loan_id, lock=True)
    if by.move_key is not None and uow.loans.moved(by.move_key):
        return LoanMove(credit, None)
    if made == LoanEvent.CANCEL:
        if why is None:
            raise loan_status.LoanMoveRefused(dry_run(credit.status, made).refusal or "", credit.status)
        if credit.status == CreditStatus.CANCELLED:  # a repeat is refused here; credits.cancel would return it
            raise loan_status.LoanMoveRefused(dry_run(credit.status, made, why).refusal or "", credit.status)
        cancelled = credits.cancel(uow, loan_id, why.value, rules=rules, by=by)
        return LoanMove(cancelled, uow.loans.history(loan_id)[-1])
    change = loan_status.change(uow, credit, made, why, by)
    loan_status.record(uow, credit, change, rules, by)
    return LoanMove(credit, change[0])


def move_details(moved: LoanMove) -> dict[str, Any]:
    """A move as the audit log keeps it: the event, the statuses, the reason and detail."""
    row = moved.change
    if row is None:
        return {"status": moved.loan.status.value, "repeat": True}
    return {"event": row.event.value, "from_status": row.from_status.value, "to_status": row.to_status.value,
            "on": row.on.isoformat(), "reason": row.reason.value if row.reason else None, "detail": row.detail}


def preview_move(uow: UnitOfWork, loan_id: int, event: str, reason: str | None = None) -> dict[str, Any]:
    """What a person's move would do to the loan now, changing nothing."""
    made, why = _event(event), _reason(reason)
    credit = loan(uow, loan_id)
    outcome: Outcome = dry_run(credit.status, made, why)
    return {"loan_id": loan_id, "event": made.value, "status": credit.status.value, "allowed": outcome.allowed,
            "to_status": outcome.to_status.value if outcome.to_status else None, "refusal": outcome.refusal,
            "allowed_events": person_events(credit.status)}


# --- reads ------------------------------------------------------------------------------------------------


def _terms(credit: Credit) -> dict[str, Any]:
    return {"principal": credit.amount, "number_of_payments": credit.number_of_payments,
            "annual_rate": credit.annual_rate, "risk_profile": credit.risk_profile.value if credit.risk_profile
            else None, "payment_frequency": credit.payment_frequency.value if credit.payment_frequency else None,
            "grace_months": credit.grace_months, "product_id": credit.product_id,
            "payment_option_id": credit.payment_option_id, "commission": credit.commission}


def loan_summary(credit: Credit) -> dict[str, Any]:
    """A loan in a list: who, where, its status and how late it was when last serviced."""
    return {"id": credit.id, "external_id": credit.external_id, "customer_id": credit.customer_id,
            "merchant_id": credit.merchant_id, "store_id": credit.store_id, "amount": credit.amount,
            "currency": credit.currency, "status": credit.status.value, "status_on": credit.status_on,
            "cancellation_reason": credit.cancellation_reason.value if credit.cancellation_reason else None,
            "signed_at": credit.signed_at, "delivered_at": credit.delivered_at, "cancelled_at": credit.cancelled_at,
            "serviced_on": credit.serviced_on, "days_past_due": credit.days_past_due,
            "bucket": bucket_of(credit.days_past_due).value}


def loans_page(uow: UnitOfWork, customer_id: int | None, status: str | None, bucket: str | None, page: int,
               per_page: int) -> dict[str, Any]:
    """One page of loans, oldest first: by customer, status and bucket (as last serviced) when given."""
    days = days_in(Bucket(bucket)) if bucket else None
    found, total = uow.loans.page(customer_id, CreditStatus(status) if status else None, days,
                                  (page - 1) * per_page, per_page)
    return {"items": [loan_summary(c) for c in found], "page": page, "per_page": per_page, "total": total}


def position_of(uow: UnitOfWork, credit: Credit, as_of: date | None) -> LoanPosition:
    """The loan as of the end of ``as_of`` (the lender's today when not given), computed from its record."""
    return position(uow.loans.record(credit), as_of or lender_today(uow))


def loan_view(uow: UnitOfWork, loan_id: int, as_of: date | None = None) -> dict[str, Any]:
    """A loan: its terms, status and customer, and its balances as of a day."""
    credit = loan(uow, loan_id)
    now = position_of(uow, credit, as_of)
    balances = {name: getattr(now, name) for name in (
        "principal", "principal_repaid", "principal_outstanding", "interest_charged", "interest_repaid",
        "interest_due", "interest_inactive", "payoff", "days_past_due")}
    return {**loan_summary(credit), "terms": _terms(credit), "as_of": now.as_of,
            "position": {**balances, "status": now.status.value, "bucket": now.bucket.value}}


def schedule_view(uow: UnitOfWork, loan_id: int, as_of: date | None = None) -> dict[str, Any]:
    """Each installment as of a day: its due date after freezes, its parts, what became of its interest and
    what is paid of it."""
    credit = loan(uow, loan_id)
    now = position_of(uow, credit, as_of)
    return {"loan_id": loan_id, "currency": credit.currency, "as_of": now.as_of, "installments": [
        {"number": i.number, "scheduled_on": i.scheduled_on, "due_on": i.due_on, "principal": i.principal,
         "interest": i.interest, "interest_state": i.interest_state.value, "principal_paid": i.principal_paid,
         "interest_paid": i.interest_paid, "void": i.void} for i in now.installments]}


def history_view(uow: UnitOfWork, loan_id: int) -> dict[str, Any]:
    """The loan's status changes, oldest first."""
    loan(uow, loan_id)
    return {"loan_id": loan_id, "items": [
        {"event": c.event.value, "from_status": c.from_status.value, "to_status": c.to_status.value, "on": c.on,
         "at": c.at, "reason": c.reason.value if c.reason else None, "actor": c.actor, "detail": c.detail}
        for c in uow.loans.history(loan_id)]}
