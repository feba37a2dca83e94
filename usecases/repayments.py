"""Repayments (seed 004, "Pre-Payments & Payments"): record a customer's payment to a loan as a pending
pre-payment, apply it in a step (complete and allocate, or reject with the reason), reject one by hand, and
reverse an accepted one. Whatever a payment or its reversal changes of the loan is written back in the same
transaction: the installments' standing, the settlement (or reopening) of the loan, the customer's automatic
moves."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.credits import Credit
from domain.customers import OWN_LENDER, CustomerAction
from domain.loan_balances import LoanPosition
from domain.loans import DETAIL_LENGTH
from domain.money import MAX_MINOR
from domain.repayments import (
    PaymentChannel, PaymentStatus, PrePaymentStatus, Repayment, RepaymentError, RepaymentStatusChange,
    ReversalReason, payment_refusal, settlement_event,
)
from usecases import customers, loan_status, steps
from usecases.customers import CustomerRules, StatusConflict
from usecases.errors import Conflict, Invalid
from usecases.loan_days import lender_today
from usecases.loan_positions import bring_up_to_date, current_position
from usecases.loans import loan
from usecases.ports import UnitOfWork

EXTERNAL_ID_LENGTH = 64
# what ``status=`` filters by: a pre-payment's status or its payment's
LISTED_STATUSES = tuple(s.value for s in PrePaymentStatus) + tuple(s.value for s in PaymentStatus)


@dataclass(frozen=True)
class RepaymentTerms:
    """What a payment is recorded with; the same external id with other terms is another payment (409)."""

    external_id: str
    loan_id: int
    amount: int
    channel: PaymentChannel
    recorded_by_operator: bool

    @classmethod
    def of(cls, fields: dict[str, Any]) -> RepaymentTerms:
        """The terms of a request's fields; Invalid for a missing or bad one."""
        external_id = fields.get("external_id")
        if not isinstance(external_id, str) or not external_id.strip() or len(external_id) > EXTERNAL_ID_LENGTH \
                or any(ord(c) < 32 or 127 <= ord(c) <= 159 for c in external_id):
            raise Invalid(f"external_id is text of 1 to {EXTERNAL_ID_LENGTH} characters, without control characters")
        loan_id, amount = _whole(fields.get("loan_id")), _whole(fields.get("amount"))
        if loan_id is None or loan_id < 1:
            raise Invalid("loan_id is a loan's id, a positive integer")
        if amount is None or not 0 < amount <= MAX_MINOR:
            raise Invalid(f"amount is an integer of minor units from 1 to {MAX_MINOR}")
        try:
            channel = PaymentChannel(fields.get("channel"))
        except ValueError:
            raise Invalid(f"channel is one of {[c.value for c in PaymentChannel]}") from None
        by_operator = fields.get("recorded_by_operator", False)
        if not isinstance(by_operator, bool):
            raise Invalid("recorded_by_operator is true or false")
        if by_operator and channel == PaymentChannel.AUTOMATIC:
            raise Invalid("an automatic payment is the platform's own collection; a payment made outside and "
                          "recorded by a person is voluntary")
        return cls(external_id, loan_id, amount, channel, by_operator)

    def matches(self, repayment: Repayment) -> bool:
        return (repayment.loan_id, repayment.amount, repayment.channel, repayment.recorded_by_operator) == (
            self.loan_id, self.amount, self.channel, self.recorded_by_operator)


def _whole(value: Any) -> int | None:
    """The value when it is an integer (not a boolean); None otherwise."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _product_active(uow: UnitOfWork, credit: Credit) -> bool:
    return credit.product_id is None or uow.products.get(credit.product_id).is_active


def _refusal(uow: UnitOfWork, credit: Credit, channel: PaymentChannel) -> str | None:
    """Why the loan cannot take this payment now, by its status, the channel and its product; None when it can."""
    return payment_refusal(credit.status, channel, _product_active(uow, credit))


def _customer_allows(uow: UnitOfWork, credit: Credit, by_operator: bool) -> None:
    """StatusConflict unless the customer's status lets it pay this way."""
    assert credit.customer_id is not None
    action = CustomerAction.PAY_RECORDED_BY_OPERATOR if by_operator else CustomerAction.PAY_OWN_CHANNEL
    customers.require(uow, credit.customer_id, action)


def _above_payoff(amount: int, now: LoanPosition) -> str | None:
    if amount > now.payoff:
        return f"a payment of {amount} is above what the loan owes today ({now.payoff})"
    return None


def record(uow: UnitOfWork, fields: dict[str, Any]) -> tuple[Repayment, bool]:
    """A customer's payment, recorded pending and applied by the next step; returns it and whether it is new.
    The same external id with the same terms returns the first one. Conflict (nothing written) when the
    customer's status, the loan's status, the channel, the product or the amount (above the payoff today)
    refuses it; Invalid for bad input; NotFound for a loan that does not exist."""
    terms = RepaymentTerms.of(fields)
    existing = uow.repayments.by_external_id(OWN_LENDER, terms.external_id)
    if existing is not None:
        if not terms.matches(existing):
            raise Conflict(f"repayment {terms.external_id!r} exists with other terms (repayment {existing.id})")
        return existing, False
    credit = loan(uow, terms.loan_id)
    _customer_allows(uow, credit, terms.recorded_by_operator)
    refusal = _refusal(uow, credit, terms.channel) or _above_payoff(
        terms.amount, current_position(uow, credit, lender_today(uow)))
    if refusal:
        raise Conflict(f"loan {credit.id}: {refusal}")
    at = uow.clock()
    repayment = Repayment(loan_id=credit.id, amount=terms.amount, channel=terms.channel, requested_at=at,
                          external_id=terms.external_id, recorded_by_operator=terms.recorded_by_operator,
                          history=[RepaymentStatusChange(None, PrePaymentStatus.PENDING.value, at)])
    uow.repayments.add(repayment)
    uow.outbox.send(steps.APPLY_REPAYMENT, repayment.id)
    uow.log("repayment_recorded", f"repayment {repayment.id} of {terms.amount} to loan {credit.id} "
            f"({terms.channel.value})", details=_details(repayment), credit_id=credit.id)
    return repayment, True


def _details(repayment: Repayment, **more: Any) -> dict[str, Any]:
    return {"repayment_id": repayment.id, "loan_id": repayment.loan_id, "amount": repayment.amount,
            "channel": repayment.channel.value, "recorded_by_operator": repayment.recorded_by_operator, **more}


def _locked(uow: UnitOfWork, repayment_id: int) -> tuple[Repayment, Credit]:
    """The repayment and its loan, the loan locked first (every writer of a loan locks it first), then the
    repayment read again under that lock."""
    loan_id = uow.repayments.get(repayment_id).loan_id
    assert loan_id is not None
    credit = uow.credits.lock(loan_id)
    return uow.repayments.lock(repayment_id), credit


def apply(uow: UnitOfWork, repayment_id: int, rules: CustomerRules) -> Repayment:
    """The step: a pending repayment is checked again (its customer, its loan's status and product, what the
    loan owes today may have changed) and completed, paying the oldest due installment first, or rejected
    with the reason. Anything but a pending one is left as it is (the step is idempotent)."""
    repayment, credit = _locked(uow, repayment_id)
    if repayment.status != PrePaymentStatus.PENDING:
        return repayment
    on, at = lender_today(uow), uow.clock()
    why = _customer_refusal(uow, credit, repayment.recorded_by_operator)
    if why is None:
        try:
            repayment.complete(current_position(uow, credit, on), on, at, _product_active(uow, credit))
        except RepaymentError as refused:
            why = str(refused)
    if why is not None:
        return _rejected(uow, repayment, why[:DETAIL_LENGTH], at)
    uow.repayments.save(repayment)
    _settle_or_reopen(uow, credit, on, f"repayment {repayment.id}", rules)
    uow.log("repayment_accepted", f"repayment {repayment.id} of {repayment.amount} applied to loan {credit.id}",
            details=_details(repayment, allocations=[vars(a) for a in repayment.allocations]), credit_id=credit.id)
    assert credit.customer_id is not None
    customers.apply_automatic_moves(uow, credit.customer_id, rules)
    return repayment


def _customer_refusal(uow: UnitOfWork, credit: Credit, by_operator: bool) -> str | None:
    try:
        _customer_allows(uow, credit, by_operator)
    except StatusConflict as refused:
        return str(refused)
    return None


def _rejected(uow: UnitOfWork, repayment: Repayment, why: str, at: datetime) -> Repayment:
    repayment.reject(why, at)
    uow.repayments.save(repayment)
    uow.log("repayment_rejected", f"repayment {repayment.id} rejected: {why}", details=_details(repayment, reason=why),
            credit_id=repayment.loan_id)
    return repayment


def _settle_or_reopen(uow: UnitOfWork, credit: Credit, on: date, cause: str, rules: CustomerRules) -> LoanPosition:
    """The loan's move by itself after a payment or a reversal (settled once it owes nothing, reopened when a
    paid loan owes again, once per cause), then its installments written as of ``on``."""
    event = settlement_event(credit.status, current_position(uow, credit, on))
    if event is None:
        return bring_up_to_date(uow, credit, on)
    by = loan_status.MoveBy(actor="system", detail=cause, move_key=f"{event.value}:{cause.replace(' ', ':')}")
    return loan_status.record(uow, credit, loan_status.change(uow, credit, event, by=by), rules, by)


def reject(uow: UnitOfWork, repayment_id: int, reason: Any) -> Repayment:
    """A person rejects a pending repayment, with the reason. Rejecting it again for the same reason returns it
    unchanged; Conflict for one that is not pending."""
    if not isinstance(reason, str) or not reason.strip() or len(reason) > DETAIL_LENGTH:
        raise Invalid(f"reason is text of 1 to {DETAIL_LENGTH} characters")
    repayment, _ = _locked(uow, repayment_id)
    if repayment.status == PrePaymentStatus.REJECTED and repayment.rejection == reason:
        return repayment
    if repayment.status != PrePaymentStatus.PENDING:
        raise Conflict(f"repayment {repayment_id} is {repayment.status.value}: only a pending one is rejected")
    return _rejected(uow, repayment, reason, uow.clock())


def reverse(uow: UnitOfWork, repayment_id: int, reason: Any, rules: CustomerRules) -> Repayment:
    """Give an accepted payment back (fraud, dispute, refund, rejection, business rule): from today what it
    paid is owed again, installment by installment; a paid loan it leaves owing is reopened. Reversing it
    again for the same reason returns it unchanged; Conflict for one that is not accepted."""
    try:
        why = ReversalReason(reason)
    except ValueError:
        raise Invalid(f"reason is one of {[r.value for r in ReversalReason]}") from None
    repayment, credit = _locked(uow, repayment_id)
    if repayment.payment_status == PaymentStatus.REVERSED and repayment.reversal_reason == why:
        return repayment
    on, at = lender_today(uow), uow.clock()
    try:
        repayment.reverse(why, on, at)
    except RepaymentError as e:
        raise Conflict(str(e)) from None
    uow.repayments.save(repayment)
    _settle_or_reopen(uow, credit, on, f"reversal {repayment.id}", rules)
    uow.log("repayment_reversed", f"repayment {repayment.id} of {repayment.amount} to loan {credit.id} reversed "
            f"({why.value})", details=_details(repayment, reason=why.value), credit_id=credit.id)
    assert credit.customer_id is not None
    customers.apply_automatic_moves(uow, credit.customer_id, rules)
    return repayment


# --- what a caller is shown -------------------------------------------------------------------------------


def repayment_view(repayment: Repayment, detail: bool = False) -> dict[str, Any]:
    """A repayment as shown; ``detail`` adds its allocations and status history."""
    shown: dict[str, Any] = {
        "id": repayment.id, "external_id": repayment.external_id, "loan_id": repayment.loan_id,
        "amount": repayment.amount, "channel": repayment.channel.value,
        "recorded_by_operator": repayment.recorded_by_operator, "status": repayment.status.value,
        "payment_status": repayment.payment_status.value if repayment.payment_status else None,
        "rejection": repayment.rejection, "accepted_on": _day(repayment.accepted_on),
        "reversed_on": _day(repayment.reversed_on),
        "reversal_reason": repayment.reversal_reason.value if repayment.reversal_reason else None,
        "requested_at": repayment.requested_at}
    if detail:
        shown["allocations"] = [{"installment": a.installment, "interest": a.interest, "principal": a.principal}
                                for a in repayment.allocations]
        shown["history"] = [{"from_status": h.from_status, "to_status": h.to_status, "at": h.at, "detail": h.detail}
                            for h in repayment.history]
    return shown


def _day(day: date | None) -> str | None:
    return day.isoformat() if day else None


def repayments_page(uow: UnitOfWork, loan_id: int | None, status: str | None, page: int,
                    per_page: int) -> dict[str, Any]:
    """One page of repayments, oldest first: of one loan and in one status when given."""
    if loan_id is not None:
        loan(uow, loan_id)
    found, total = uow.repayments.page(loan_id, status, (page - 1) * per_page, per_page)
    return {"items": [repayment_view(r) for r in found], "page": page, "per_page": per_page, "total": total}
