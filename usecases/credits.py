"""Credits: originate at signature (commission fixed then), deliver, cancel."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from usecases.ports import UnitOfWork
from domain.commission import NoApplicableOption, select_option, split_credit
from domain.credits import MERCHANT_CANCELLATION_REASONS, CancellationReason, Credit, CreditError
from domain.identity import id_of
from domain.ledger import MAX_BALANCE
from domain.merchants import MerchantStatus, PaymentOption
from domain.money import MAX_MINOR, Money, within_bound
from domain.loans import LoanEvent
from usecases import loan_status, steps
from usecases.customers import CustomerRules
from usecases.loan_status import MoveBy
from usecases.errors import Conflict, Forbidden, Invalid, NotFound


def originate(uow: UnitOfWork, store_id: int, external_id: str, amount: int, number_of_payments: int) -> Credit:
    """A signed credit. Idempotent on ``external_id``: the same request returns the same credit."""
    existing = uow.credits.by_external_id(external_id)
    if existing is not None:
        if (existing.store_id, existing.amount, existing.number_of_payments) != (store_id, amount, number_of_payments):
            raise Conflict(f"credit {external_id!r} exists with other terms")
        return existing
    return signed(uow, sign(uow, store_id, external_id, amount, number_of_payments).credit)


@dataclass(frozen=True)
class Signature:
    """A credit the origination rules accept, not yet stored, and the offer that issues it."""

    credit: Credit
    option: PaymentOption


def sign(uow: UnitOfWork, store_id: int, external_id: str, amount: int, number_of_payments: int) -> Signature:
    """The origination rules, with or without a customer: the merchant and store may originate, an enabled
    offer of an active product fits the terms, and the commission (fixed now) leaves a contribution within
    the store's bounds. Forbidden, Conflict or Invalid otherwise; nothing is written."""
    if not isinstance(amount, int) or amount <= 0 or not within_bound(amount):
        raise Invalid(f"amount is a positive integer in minor units, at most {MAX_MINOR}")
    store = uow.stores.get(store_id)
    merchant = uow.merchants.get(store.merchant_id)
    if not merchant.can_originate:
        raise Forbidden(f"merchant {merchant.id} is not validated or is disabled: it cannot originate credits")
    if not store.validated:
        raise Forbidden(f"store {store_id} is not validated: it cannot originate credits")
    at = uow.clock()
    live = [o for o in store.options if _issues_loans(uow, o)]
    try:
        option = select_option([o.terms() for o in live], number_of_payments, amount, at)
    except NoApplicableOption as e:
        raise Conflict(_no_live_offer(uow, store.options, number_of_payments, amount, at)
                       or f"store {store_id}: {e}") from None
    split = split_credit(Money(amount, store.currency), option.rate_at(at), merchant.tax_rate)
    if split.contribution.minor < 0:
        raise Conflict(f"option {option.id}: commission plus tax exceed the amount")
    if abs(store.balance + split.contribution.minor) > MAX_BALANCE:
        raise Invalid(f"store {store_id}: this credit's contribution would take its balance beyond "
                      f"+/-{MAX_BALANCE}")
    credit = Credit(
        merchant_id=id_of(merchant), store_id=store_id, amount=amount, currency=store.currency,
        number_of_payments=number_of_payments, payment_option_id=option.id,
        commission_rate=split.commission_rate, tax_rate=split.tax_rate, commission=split.commission.minor,
        tax=split.tax.minor, contribution=split.contribution.minor, signed_at=at, external_id=external_id,
    )
    return Signature(credit, next(o for o in live if (o.id or 0) == option.id))


def signed(uow: UnitOfWork, credit: Credit) -> Credit:
    """Store a credit ``sign`` accepted, with its event."""
    uow.credits.add(credit)
    uow.log("credit_originated", f"credit {credit.id} of {credit.amount} at store {credit.store_id}",
            credit_id=credit.id, store_id=credit.store_id, reference=credit.external_id)
    return credit


def _issues_loans(uow: UnitOfWork, option: PaymentOption) -> bool:
    return option.issues_loans and uow.products.get(option.product_id or 0).is_active


def _no_live_offer(uow: UnitOfWork, options: list[PaymentOption], number_of_payments: int, amount: int,
                   at: datetime) -> str | None:
    """Why no offer issued the loan when the one that fits its terms may not: a draft or disabled offer, or
    an inactive product. None when no offer fits at all."""
    try:
        fits = select_option([o.terms() for o in options], number_of_payments, amount, at)
    except NoApplicableOption:
        return None
    option = next(o for o in options if o.id == fits.id)
    if not option.issues_loans:
        return f"offer {option.id} is {option.status.value}: it issues no new loans"
    return f"product {option.product_id} of offer {option.id} is inactive: it issues no new loans"


def _handled_credit(uow: UnitOfWork, credit_id: int, scope: int | None) -> Credit:
    """The credit to deliver or cancel, locked. A partner key (``scope``, its merchant) handles only its own
    merchant's (another's is NotFound, as a missing one) and only while its merchant is enabled (Forbidden)."""
    credit = uow.credits.lock(credit_id)
    if scope is None:
        return credit
    if credit.merchant_id != scope:
        raise NotFound(f"credit {credit_id} does not exist")
    if uow.merchants.get(scope).status != MerchantStatus.ENABLED:
        raise Forbidden(f"merchant {scope} is disabled: its key can neither deliver nor cancel credits")
    return credit


def deliver(uow: UnitOfWork, credit_id: int, scope: int | None = None, rules: CustomerRules = CustomerRules(),
            by: MoveBy = MoveBy()) -> Credit:
    """The store delivered the product: the credit contributes to the store's balance (next step). A partner
    key (``scope``) marks delivery of its own merchant's credits only. A loan becomes active: its move is
    written (usecases.loan_status)."""
    credit = _handled_credit(uow, credit_id, scope)
    if credit.delivered_at is not None:
        return credit
    made = loan_status.change(uow, credit, LoanEvent.DELIVER, by=by) if credit.is_loan else None
    try:
        credit.deliver(uow.clock())
    except CreditError as e:
        raise Conflict(str(e)) from None
    uow.outbox.send(steps.CONTRIBUTE, credit.id)
    if made is not None:
        loan_status.record(uow, credit, made, rules, by)
    return credit


def cancel(uow: UnitOfWork, credit_id: int, reason: str, scope: int | None = None,
           rules: CustomerRules = CustomerRules(), by: MoveBy = MoveBy()) -> Credit:
    """Cancel a credit for a reason (a CancellationReason value); a delivered credit's contribution is queued
    for compensation. Cancelling again for the same reason returns it unchanged. Raises Invalid for an
    unknown reason, Conflict for a paid credit or one cancelled for another reason. A partner key (``scope``)
    cancels only its own merchant's credits, and only as rejected or returned (Forbidden otherwise). A loan's
    cancellation is written as its move: what is not yet due is voided, and one for fraud blocks the
    customer."""
    try:
        why = CancellationReason(reason)
    except ValueError:
        raise Invalid(f"reason is one of {[r.value for r in CancellationReason]}") from None
    credit = _handled_credit(uow, credit_id, scope)
    if scope is not None and why not in MERCHANT_CANCELLATION_REASONS:
        raise Forbidden(f"a merchant's key cancels only as {' or '.join(sorted(r.value for r in MERCHANT_CANCELLATION_REASONS))}"
                        f"; {why.value} is for the lender")
    if credit.cancelled_at is not None and credit.cancellation_reason == why:
        return credit
    made = loan_status.change(uow, credit, LoanEvent.CANCEL, why, by) if credit.is_loan else None
    try:
        delivered = credit.cancel(why, uow.clock())
    except CreditError as e:
        raise Conflict(str(e)) from None
    if delivered:
        uow.outbox.send(steps.CANCEL_CREDIT, credit.id)
    if made is not None:
        loan_status.record(uow, credit, made, rules, by)
    return credit
