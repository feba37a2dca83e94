"""Loan requests on the fake unit of work: pending until rejected or completed; completion signs the loan
through the credits' origination rules with its schedule fixed then; every refusal is kept as a rejection."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from domain.credits import CreditStatus
from domain.customers import CustomerStatus, with_check_digit
from domain.loan_requests import LoanRequestStatus
from domain.loan_schedules import rate_for_profile
from domain.merchants import MerchantStatus, OfferAction
from domain.products import PaymentFrequency, ProductAction
from tests.factories import validated_store
from tests.fake_uow import FakeUnitOfWork
from usecases import customers, loan_requests, products
from usecases.customers import StatusConflict
from usecases.errors import Conflict, Invalid

SIGNED_AT = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)  # 09:00 in Mexico City: business day 2026-11-23


class Clock:
    """A clock the test moves by whole days."""

    def __init__(self) -> None:
        self.now = SIGNED_AT

    def __call__(self) -> datetime:
        return self.now

    def days(self, n: int) -> None:
        self.now += timedelta(days=n)


@dataclass
class Book:
    """A fake unit of work with a validated store (3-payment offer at 30 % to 90 % a year) and its clock."""

    uow: FakeUnitOfWork
    clock: Clock
    store_id: int

    @property
    def option(self) -> Any:
        return self.uow.stores.get(self.store_id).options[0]


def book(**option: Any) -> Book:
    clock = Clock()
    uow = FakeUnitOfWork(clock=clock)
    store_id = validated_store(uow, options=(3,))  # type: ignore[arg-type]
    offer = uow.stores.get(store_id).options[0]
    offer.a0_interest_rate, offer.c3_interest_rate = Decimal("0.30"), Decimal("0.90")
    for name, value in option.items():
        setattr(offer, name, value)
    return Book(uow, clock, store_id)


def customer(b: Book, external_id: str = "cust-1", risk: str | None = "B2", **overrides: Any) -> int:
    """A registered customer, scored ``risk`` (enabled), or unregistered without a score."""
    fields = {"external_id": external_id, "first_name": "Itzel", "last_name": "Cuevas", "phone": "+525512345678",
              "email": f"{external_id}@correo.example", "address": "Av. Juarez 10, Puebla",
              "national_id": with_check_digit(f"CURI9001{10 + len(b.uow.customers.rows):02d}MPLVMT0"), **overrides}
    made = customers.create_customer(b.uow, fields)
    if risk is not None:
        customers.score_customer(b.uow, made.id or 0, risk)
    return made.id or 0


def request(b: Book, customer_id: int, external_id: str = "req-1", amount: int = 300_000,
            payments: int = 3) -> loan_requests.Decided:
    return loan_requests.request_loan(b.uow, customer_id, b.store_id, external_id, amount, payments)


def test_a_request_is_pending_and_its_completion_signs_the_loan_with_its_schedule() -> None:
    b = book(discount_percentage=Decimal("0.5"), first_payment_month_shift=1)
    who = customer(b)
    made = request(b, who)
    assert (made.request.status, made.refusal, made.created) == (LoanRequestStatus.PENDING, None, True)
    assert made.request.currency == "MXN"
    done = loan_requests.complete(b.uow, made.request.id or 0)
    assert (done.request.status, done.refusal) == (LoanRequestStatus.COMPLETED, None)
    credit = b.uow.credits.get(done.request.credit_id or 0)
    assert (credit.customer_id, credit.external_id, credit.status, credit.status_on) == (
        who, "req-1", CreditStatus.SIGNED, date(2026, 11, 23))
    expected_rate = rate_for_profile("B2", Decimal("0.30"), Decimal("0.90")) * Decimal("0.5")
    assert (credit.annual_rate, credit.risk_profile.value if credit.risk_profile else None) == (expected_rate, "B2")
    assert (credit.payment_frequency, credit.grace_months, credit.product_id) == (
        PaymentFrequency.MONTHLY, 1, b.option.product_id)
    assert credit.commission == 15_000  # fixed at signature: 5 % of 300,000
    schedule = b.uow.loans.schedule(credit.id or 0)
    assert [i.due_on for i in schedule] == [date(2027, 1, 23), date(2027, 2, 23), date(2027, 3, 23)]
    assert sum(i.principal for i in schedule) == 300_000 and all(i.interest > 0 for i in schedule)
    assert b.uow.loans.positions[credit.id or 0].principal_outstanding == 300_000  # brought up to date
    assert "credit_originated" in b.uow.kinds() and "loan_request_completed" in b.uow.kinds()
    again = loan_requests.complete(b.uow, made.request.id or 0)
    assert again.request.credit_id == credit.id and len(b.uow.credits.rows) == 1


def test_a_repeat_with_the_same_terms_is_the_same_request_and_other_terms_a_conflict() -> None:
    b = book()
    who = customer(b)
    first = request(b, who)
    repeat = request(b, who)
    assert repeat.request is first.request and not repeat.created
    with pytest.raises(Conflict, match="other terms"):
        request(b, who, amount=300_001)
    assert len(b.uow.loan_requests.rows) == 1


@pytest.mark.parametrize("external_id, amount, payments, words", [
    ("", 1000, 3, "external_id"), ("x" * 65, 1000, 3, "external_id"), ("r", 0, 3, "amount"),
    ("r", 2**53, 3, "amount"), ("r", True, 3, "amount"), ("r", 1000, 0, "number_of_payments"),
    ("r", 1000, 521, "number_of_payments"),
])
def test_bad_terms_are_invalid_and_record_nothing(external_id: str, amount: Any, payments: int, words: str) -> None:
    b = book()
    who = customer(b)
    with pytest.raises(Invalid, match=words):
        loan_requests.request_loan(b.uow, who, b.store_id, external_id, amount, payments)
    assert b.uow.loan_requests.rows == {}


def test_a_customer_who_may_not_borrow_is_refused_and_the_request_kept_rejected() -> None:
    b = book()
    who = customer(b, risk=None)  # unregistered: not scored
    made = request(b, who)
    assert made.request.status == LoanRequestStatus.REJECTED and made.created
    assert isinstance(made.refusal, StatusConflict)
    assert made.refusal.extra == {"status": "unregistered",
                                  "allowed_actions": ["complete_registration", "score", "update_details"]}
    assert "may not request loan" in (made.request.rejection or "")
    assert b.uow.loan_requests.get(made.request.id or 0).status == LoanRequestStatus.REJECTED
    with pytest.raises(Conflict, match="rejected"):
        loan_requests.complete(b.uow, made.request.id or 0)


def test_completion_checks_the_customer_again() -> None:
    b = book()
    who = customer(b)
    made = request(b, who)
    customers.move_customer(b.uow, who, "block", "documentos falsos")
    done = loan_requests.complete(b.uow, made.request.id or 0)
    assert done.request.status == LoanRequestStatus.REJECTED and isinstance(done.refusal, StatusConflict)
    assert done.refusal.extra["status"] == "blocked" and b.uow.credits.rows == {}


def _disable_merchant(b: Book) -> None:
    b.uow.merchants.get(b.uow.stores.get(b.store_id).merchant_id).status = MerchantStatus.DISABLED


def _disable_offer(b: Book) -> None:
    products.move_offer(b.uow, b.option.id, OfferAction.DISABLE)


def _deactivate_product(b: Book) -> None:
    products.move_product(b.uow, b.option.product_id, ProductAction.DEACTIVATE)


def _no_profile(b: Book) -> None:
    who = b.uow.loan_requests.get(1).customer_id
    b.uow.customers.get(who).risk_profile = None


@pytest.mark.parametrize("refuse, kind, words", [
    (_disable_merchant, Conflict, "disabled"),
    (_disable_offer, Conflict, "disabled: it issues no new loans"),
    (_deactivate_product, Conflict, "inactive"),
    (_no_profile, Conflict, "risk profile"),
    (lambda b: setattr(b.option, "first_payment_month_shift", 121), Invalid, "no schedule can carry"),
])
def test_every_refusal_at_completion_rejects_the_request_with_its_reason(refuse: Any, kind: type, words: str) -> None:
    b = book()
    made = request(b, customer(b))
    refuse(b)
    done = loan_requests.complete(b.uow, made.request.id or 0)
    assert type(done.refusal) is kind and words in str(done.refusal)
    assert done.request.status == LoanRequestStatus.REJECTED and words in (done.request.rejection or "")
    assert b.uow.credits.rows == {} and b.uow.loans.schedules == {}
    assert b.uow.outbox.messages == []


def test_terms_no_offer_fits_are_refused() -> None:
    b = book()
    made = request(b, customer(b), payments=5)
    done = loan_requests.complete(b.uow, made.request.id or 0)
    assert isinstance(done.refusal, Conflict) and done.request.status == LoanRequestStatus.REJECTED


def test_a_person_rejects_a_pending_request_once() -> None:
    b = book()
    made = request(b, customer(b))
    rejected = loan_requests.reject(b.uow, made.request.id or 0, "ingresos no comprobados")
    assert (rejected.status, rejected.rejection) == (LoanRequestStatus.REJECTED, "ingresos no comprobados")
    assert loan_requests.reject(b.uow, made.request.id or 0, "ingresos no comprobados") is rejected
    with pytest.raises(Conflict):
        loan_requests.reject(b.uow, made.request.id or 0, "otra razon")
    other = request(b, b.uow.loan_requests.get(1).customer_id, external_id="req-2")
    with pytest.raises(Invalid):
        loan_requests.reject(b.uow, other.request.id or 0, "x" * 256)
    loan_requests.complete(b.uow, other.request.id or 0)
    with pytest.raises(Conflict, match="completed"):
        loan_requests.reject(b.uow, other.request.id or 0, "tarde")


def test_a_credit_with_the_request_s_external_id_refuses_the_loan() -> None:
    from usecases import credits
    b = book()
    credits.originate(b.uow, b.store_id, "req-1", 1000, 3)
    made = request(b, customer(b))
    done = loan_requests.complete(b.uow, made.request.id or 0)
    assert isinstance(done.refusal, Conflict) and "exists already" in str(done.refusal)


def test_a_signed_loan_is_owed_so_deleting_its_customer_needs_force() -> None:
    b = book()
    who = customer(b)
    loan_requests.complete(b.uow, request(b, who).request.id or 0)
    with pytest.raises(Conflict, match="owes 300000"):
        customers.delete_customer(b.uow, who, "baja")
    assert customers.delete_customer(b.uow, who, "baja", force=True).customer.status == CustomerStatus.DELETED


def test_pages_filter_by_customer_and_status() -> None:
    b = book()
    first, second = customer(b), customer(b, "cust-2", risk=None)
    request(b, first, "a")
    request(b, second, "b")
    request(b, first, "c")
    page = loan_requests.loan_requests_page(b.uow, first, None, 1, 1)
    assert ([r["external_id"] for r in page["items"]], page["total"]) == (["a"], 2)
    rejected = loan_requests.loan_requests_page(b.uow, None, "rejected", 1, 50)
    assert [r["external_id"] for r in rejected["items"]] == ["b"]
