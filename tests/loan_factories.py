"""A loan made directly through the unit of work (the fake or MariaDB's): an enabled, scored customer; a
credit signed at a validated store with the loan's terms set; its schedule; and the DELIVER change that makes
it active. The caller commits (MariaDB)."""
from __future__ import annotations

import itertools
import string
from decimal import Decimal
from typing import Any

from domain.credits import Credit, CreditStatus
from domain.customers import RiskProfile, with_check_digit
from domain.loan_schedules import LoanTerms, build_schedule
from domain.products import PaymentFrequency
from tests.factories import validated_store
from usecases import credits, customers
from usecases.loan_days import lender_today
from usecases.ports import UnitOfWork

_serial = itertools.count(1)
CONSONANTS = "BCDFGHJKLMNPQRSTVWXYZ"


def _letters(n: int, alphabet: str, width: int) -> str:
    return "".join(alphabet[(n // len(alphabet) ** i) % len(alphabet)] for i in range(width))


def enabled_customer(uow: Any) -> int:
    """A customer registered whole and scored B2: enabled. Its external id and CURP are no other's."""
    n = next(_serial)
    tag = _letters(n, string.ascii_uppercase, 3)
    curp = with_check_digit(f"{tag[0]}A{tag[1:]}900101HDF{_letters(n, CONSONANTS, 3)}0")
    made = customers.create_customer(uow, {
        "external_id": f"loan-customer-{n}", "first_name": "Citlali", "last_name": "Ixtlan", "phone": "5512345678",
        "email": f"citlali{n}@correo.example", "address": "Calle Ahuehuete 12, CDMX", "national_id": curp})
    assert made.id is not None
    customers.score_customer(uow, made.id, RiskProfile.B2.value)
    return made.id


def active_loan(uow: Any, principal: int = 300_000, payments: int = 3, annual_rate: str = "0.36",
                customer_id: int | None = None, store_id: int | None = None) -> Credit:
    """A loan signed and delivered today (the lender's business day): active, its schedule stored, its
    customer enabled (a new one unless ``customer_id``)."""
    u: UnitOfWork = uow
    store_id = store_id or validated_store(uow, options=(payments,))
    customer_id = customer_id or enabled_customer(uow)
    credit = credits.originate(u, store_id, f"loan-{next(_serial)}", principal, payments)
    assert credit.id is not None
    option = u.options.get(credit.payment_option_id)
    today = lender_today(u)
    credit.customer_id, credit.product_id, credit.risk_profile = customer_id, option.product_id, RiskProfile.B2
    credit.annual_rate, credit.payment_frequency, credit.grace_months = (Decimal(annual_rate),
                                                                         PaymentFrequency.MONTHLY, 0)
    u.loans.add_schedule(credit.id, build_schedule(LoanTerms(principal, payments, today, Decimal(annual_rate))))
    credits.deliver(u, credit.id)  # a loan's delivery writes its history and brings it up to date
    assert (credit.status, credit.status_on) == (CreditStatus.ACTIVE, today)
    return credit
