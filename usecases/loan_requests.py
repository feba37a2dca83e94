"""Pre-loans (seed 004): a customer's request for a loan at a store, pending until a person rejects it or its
completion signs the loan, through the credits' own origination rules, with its schedule fixed then.

A refusal is a decision, not a failed request: the request is kept as rejected with the reason, and the
refusal is handed back (``Decided.refusal``) for the caller to answer with once it has committed."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.credits import Credit
from domain.customers import OWN_LENDER, ActionRefused, Customer, CustomerAction
from domain.loan_requests import REJECTION_LENGTH, LoanRequest, LoanRequestError, LoanRequestStatus
from domain.loan_schedules import MAX_PAYMENTS, LoanTerms, ScheduleError, build_schedule
from domain.money import MAX_MINOR, within_bound
from domain.products import PaymentFrequency
from usecases import credits
from usecases.customers import CustomerRules, StatusConflict, apply_automatic_moves
from usecases.errors import Conflict, Invalid, UseCaseError
from usecases.loan_days import lender_today
from usecases.loan_positions import bring_up_to_date
from usecases.ports import UnitOfWork

EXTERNAL_ID_LENGTH = 64


@dataclass(frozen=True)
class Decided:
    """A request after a decision; ``refusal`` says why it was rejected just now (answered after commit)."""

    request: LoanRequest
    refusal: UseCaseError | None = None
    created: bool = False


def _checked_terms(external_id: Any, amount: Any, number_of_payments: Any) -> None:
    if not isinstance(external_id, str) or not external_id.strip() or len(external_id) > EXTERNAL_ID_LENGTH:
        raise Invalid(f"external_id is 1 to {EXTERNAL_ID_LENGTH} characters")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0 or not within_bound(amount):
        raise Invalid(f"amount is a positive integer in minor units, at most {MAX_MINOR}")
    if isinstance(number_of_payments, bool) or not isinstance(number_of_payments, int) \
            or not 1 <= number_of_payments <= MAX_PAYMENTS:
        raise Invalid(f"number_of_payments is an integer from 1 to {MAX_PAYMENTS}")


def _reason(text: str) -> str:
    """A refusal's words as the request keeps them: the answer carries them whole, the column 255 characters."""
    return text if len(text) <= REJECTION_LENGTH else text[:REJECTION_LENGTH - 1] + "…"


def _reject(uow: UnitOfWork, request: LoanRequest, refusal: UseCaseError) -> Decided:
    request.reject(_reason(str(refusal)), uow.clock())
    uow.log("loan_request_rejected", f"loan request {request.id} rejected", level="WARNING",
            details={"loan_request_id": request.id, "customer_id": request.customer_id,
                     "rejection": request.rejection})
    return Decided(request, refusal)


def _may_borrow(customer: Customer) -> StatusConflict | None:
    try:
        customer.require(CustomerAction.REQUEST_LOAN)
    except ActionRefused as e:
        return StatusConflict(str(e), e.status)
    return None


def request_loan(uow: UnitOfWork, customer_id: int, store_id: int, external_id: str, amount: int,
                 number_of_payments: int) -> Decided:
    """A customer's request, pending; rejected at once (and kept so) when the customer may not borrow.
    Idempotent on (lender, external_id): the same terms return the same request, other terms are a Conflict."""
    _checked_terms(external_id, amount, number_of_payments)
    existing = uow.loan_requests.by_external_id(OWN_LENDER, external_id)
    if existing is not None:
        if (existing.customer_id, existing.store_id, existing.amount, existing.number_of_payments) != (
                customer_id, store_id, amount, number_of_payments):
            raise Conflict(f"loan request {external_id!r} exists with other terms (loan request {existing.id})")
        return Decided(existing)
    customer = uow.customers.get(customer_id)
    store = uow.stores.get(store_id)
    request = uow.loan_requests.add(LoanRequest(OWN_LENDER, external_id, customer_id, store_id, amount,
                                                store.currency, number_of_payments, uow.clock()))
    uow.log("loan_request_created", f"loan request {request.id} of {amount} at store {store_id}",
            store_id=store_id, details={"loan_request_id": request.id, "customer_id": customer_id})
    refusal = _may_borrow(customer)
    if refusal is not None:
        return Decided(_reject(uow, request, refusal).request, refusal, created=True)
    return Decided(request, created=True)


def reject(uow: UnitOfWork, request_id: int, reason: str) -> LoanRequest:
    """A person's rejection of a pending request, with its reason. Rejecting again with the same reason
    returns it unchanged; Conflict for a request decided otherwise."""
    request = uow.loan_requests.lock(request_id)
    if request.status == LoanRequestStatus.REJECTED and request.rejection == reason:
        return request
    try:
        request.reject(reason, uow.clock())
    except LoanRequestError as e:
        raise (Invalid(str(e)) if request.status == LoanRequestStatus.PENDING else Conflict(str(e))) from None
    uow.log("loan_request_rejected", f"loan request {request.id} rejected by a person",
            details={"loan_request_id": request.id, "customer_id": request.customer_id})
    return request


def complete(uow: UnitOfWork, request_id: int, rules: CustomerRules = CustomerRules()) -> Decided:
    """Sign the loan of a pending request: the customer may still borrow, the credits' origination rules
    accept it, and a schedule can carry its terms. Any refusal rejects the request (a Conflict; an Invalid
    for terms no schedule can carry). A completed request is returned as it is."""
    request = uow.loan_requests.lock(request_id)
    if request.status == LoanRequestStatus.COMPLETED:
        return Decided(request)
    if request.status != LoanRequestStatus.PENDING:
        raise Conflict(f"loan request {request_id} is {request.status.value}: only a pending one can be completed")
    customer = uow.customers.lock(request.customer_id)
    refusal: UseCaseError | None = _may_borrow(customer)
    if refusal is not None:
        return _reject(uow, request, refusal)
    try:
        credit = sign_loan(uow, request, customer)
    except (Conflict, Invalid) as e:
        return _reject(uow, request, e)
    except UseCaseError as e:  # a merchant or store that may not originate: the request's refusal, not the caller's
        return _reject(uow, request, Conflict(str(e)))
    assert credit.id is not None
    request.complete(credit.id, uow.clock())
    uow.log("loan_request_completed", f"loan request {request.id} signed as loan {credit.id}", credit_id=credit.id,
            store_id=credit.store_id, details={"loan_request_id": request.id, "customer_id": request.customer_id})
    bring_up_to_date(uow, credit, lender_today(uow))
    apply_automatic_moves(uow, request.customer_id, rules)
    return Decided(request)


def sign_loan(uow: UnitOfWork, request: LoanRequest, customer: Customer) -> Credit:
    """The request's credit, signed by the origination rules, with the customer's side and its schedule fixed
    now: the offer's rate for the customer's risk profile less its discount, its first payment's shift, the
    product's frequency. Conflict or Invalid (nothing written) when it cannot be."""
    if customer.risk_profile is None:
        raise Conflict(f"customer {customer.id} has no risk profile: scoring gives it before a loan")
    if uow.credits.by_external_id(request.external_id) is not None:
        raise Conflict(f"a credit with external_id {request.external_id!r} exists already")
    signature = credits.sign(uow, request.store_id, request.external_id, request.amount, request.number_of_payments)
    option, credit = signature.option, signature.credit
    product = uow.products.get(option.product_id or 0)
    signed_on = lender_today(uow)
    try:
        terms = LoanTerms.of_offer(request.amount, request.number_of_payments, signed_on, customer.risk_profile.value,
                                   option.a0_interest_rate, option.c3_interest_rate, option.discount_percentage,
                                   option.first_payment_month_shift, PaymentFrequency(product.payment_frequency))
        schedule = build_schedule(terms)
    except ScheduleError as e:
        raise Invalid(f"no schedule can carry these terms: {e}") from None
    credit.customer_id, credit.product_id, credit.risk_profile = customer.id, product.id, customer.risk_profile
    credit.annual_rate, credit.payment_frequency = terms.annual_rate, terms.frequency
    credit.grace_months, credit.status_on = terms.grace_months, signed_on
    credits.signed(uow, credit)
    assert credit.id is not None
    uow.loans.add_schedule(credit.id, schedule)
    return credit


# --- what a caller is shown ---------------------------------------------------------------------------------


def loan_request_view(request: LoanRequest) -> dict[str, Any]:
    """A request as the API answers it (the amount in minor units, with its currency)."""
    return {"id": request.id, "external_id": request.external_id, "customer_id": request.customer_id,
            "store_id": request.store_id, "amount": request.amount, "currency": request.currency,
            "number_of_payments": request.number_of_payments, "status": request.status.value,
            "rejection": request.rejection, "loan_id": request.credit_id, "created_at": request.created_at,
            "decided_at": request.decided_at}


def loan_requests_page(uow: UnitOfWork, customer_id: int | None, status: str | None, page: int,
                       per_page: int) -> dict[str, Any]:
    """One page of requests, oldest first: by customer and status when given."""
    found, total = uow.loan_requests.page(OWN_LENDER, customer_id, LoanRequestStatus(status) if status else None,
                                          (page - 1) * per_page, per_page)
    return {"items": [loan_request_view(r) for r in found], "page": page, "per_page": per_page, "total": total}
