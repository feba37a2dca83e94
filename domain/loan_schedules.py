"""A loan's repayment schedule, fixed at signature: equal installments (French amortisation) at the offer's
rate for the customer's risk profile, less the offer's discount, at the product's payment frequency.

Conventions (docs/loans.md says why):
- rates are annual and nominal; the periodic rate is the annual rate times the period's days over a 360-day
  year: 30 days for a month (30/360), 14 for a biweekly period, 7 for a week;
- a risk profile A0 … C3 is a grade on a line from the offer's ``a0_interest_rate`` (A0, the best) to its
  ``c3_interest_rate`` (C3, the worst), each grade of the scoring process one equal step further;
- ``discount_percentage`` is a fraction (0.25 = 25 %) taken off that annual rate;
- ``first_payment_month_shift`` months of grace come before the first period; the grace bears no interest;
- the installment is rounded once, half up, to the minor unit; each period's interest on the balance is
  rounded the same way; the last installment takes whatever principal is left.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from domain.customers import RiskProfile
from domain.errors import DomainError
from domain.money import MAX_MINOR, round_half_up
from domain.products import PaymentFrequency

YEAR_DAYS = 360
RATE_QUANTUM = Decimal("0.000001")  # a rate for a risk profile is kept to a ten-thousandth of a percentage point
MAX_PAYMENTS = 520  # ten years of weekly payments
MAX_GRACE_MONTHS = 120


class ScheduleError(DomainError, ValueError):
    """Terms no schedule can be built from."""


PERIOD_DAYS = {PaymentFrequency.MONTHLY: 30, PaymentFrequency.BIWEEKLY: 14, PaymentFrequency.WEEKLY: 7}

# The grades of the scoring process (domain.customers.RiskProfile), best first: A0 is the offer's a0 rate,
# C3 its c3 rate.
RISK_PROFILES: tuple[str, ...] = tuple(profile.value for profile in RiskProfile)


def rate_for_profile(risk_profile: str, a0_rate: Decimal, c3_rate: Decimal) -> Decimal:
    """The annual rate an offer gives a customer of ``risk_profile``: A0 gets the a0 rate, C3 the c3 rate, and
    each grade between one equal step along the line between them. ScheduleError for an unknown profile."""
    profile = (risk_profile or "").strip().upper()
    if profile not in RISK_PROFILES:
        raise ScheduleError(f"unknown risk profile {risk_profile!r}; one of {', '.join(RISK_PROFILES)}")
    rank = RISK_PROFILES.index(profile)
    rate = a0_rate + (c3_rate - a0_rate) * rank / (len(RISK_PROFILES) - 1)
    return rate.quantize(RATE_QUANTUM, rounding=ROUND_HALF_UP)


def discounted(annual_rate: Decimal, discount: Decimal) -> Decimal:
    """The annual rate less the offer's discount, a fraction of the rate itself (0.25 takes a quarter off)."""
    if not Decimal(0) <= discount <= Decimal(1):
        raise ScheduleError(f"a discount is a fraction between 0 and 1, got {discount}")
    return annual_rate * (1 - discount)


def periodic_rate(annual_rate: Decimal, frequency: PaymentFrequency) -> Decimal:
    """The rate of one period: the annual rate times the period's days over 360."""
    return annual_rate * PERIOD_DAYS[frequency] / YEAR_DAYS


def add_months(day: date, months: int) -> date:
    """``day`` so many months later; a day the month lacks becomes its last (31 January + 1 month = 28 or 29
    February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_dates(signed_on: date, count: int, frequency: PaymentFrequency, grace_months: int = 0) -> list[date]:
    """The due dates of ``count`` installments: one period after signature (after the grace months), then one
    each period. Monthly dates are counted from the signature day each time, so 31 January gives 28 February
    and then 31 March."""
    start = add_months(signed_on, grace_months)
    if frequency == PaymentFrequency.MONTHLY:
        return [add_months(start, k) for k in range(1, count + 1)]
    step = timedelta(days=PERIOD_DAYS[frequency])
    return [start + step * k for k in range(1, count + 1)]


@dataclass(frozen=True)
class Installment:
    """One scheduled payment: its number (from 1), due date, and its split into interest and principal."""

    number: int
    due_on: date
    principal: int
    interest: int

    @property
    def amount(self) -> int:
        return self.principal + self.interest


@dataclass(frozen=True)
class LoanTerms:
    """What a schedule is built from, all fixed at signature."""

    principal: int
    number_of_payments: int
    signed_on: date
    annual_rate: Decimal  # after the risk profile and the discount
    frequency: PaymentFrequency = PaymentFrequency.MONTHLY
    grace_months: int = 0

    @classmethod
    def of_offer(cls, principal: int, number_of_payments: int, signed_on: date, risk_profile: str,
                 a0_interest_rate: Decimal, c3_interest_rate: Decimal, discount_percentage: Decimal,
                 first_payment_month_shift: int, frequency: PaymentFrequency = PaymentFrequency.MONTHLY) -> LoanTerms:
        """The terms an offer gives a customer of ``risk_profile``."""
        rate = discounted(rate_for_profile(risk_profile, a0_interest_rate, c3_interest_rate), discount_percentage)
        return cls(principal, number_of_payments, signed_on, rate, frequency, first_payment_month_shift)


def equal_installment(principal: int, rate: Decimal, count: int) -> int:
    """The French installment P·r / (1 − (1 + r)^−n), rounded half up once; P / n without interest."""
    if rate == 0:
        return round_half_up(Decimal(principal) / count)
    growth = (1 + rate) ** count
    return round_half_up(Decimal(principal) * rate * growth / (growth - 1))


def build_schedule(terms: LoanTerms) -> tuple[Installment, ...]:
    """The schedule of ``terms``: equal installments, the last one absorbing what rounding left, so the
    principal parts sum exactly to the principal. ScheduleError for terms no schedule can carry."""
    _check(terms)
    rate = periodic_rate(terms.annual_rate, terms.frequency)
    installment = equal_installment(terms.principal, rate, terms.number_of_payments)
    dates = due_dates(terms.signed_on, terms.number_of_payments, terms.frequency, terms.grace_months)
    balance, rows = terms.principal, []
    for number, due_on in enumerate(dates, start=1):
        interest = round_half_up(balance * rate)
        principal = balance if number == len(dates) else min(max(installment - interest, 0), balance)
        rows.append(Installment(number, due_on, principal, interest))
        balance -= principal
    if sum(r.amount for r in rows) > MAX_MINOR:
        raise ScheduleError(f"the schedule's total is beyond {MAX_MINOR} minor units")
    return tuple(rows)


def _check(terms: LoanTerms) -> None:
    if not 0 < terms.principal <= MAX_MINOR:
        raise ScheduleError(f"a loan's principal is between 1 and {MAX_MINOR} minor units, got {terms.principal}")
    if not 1 <= terms.number_of_payments <= MAX_PAYMENTS:
        raise ScheduleError(f"a loan has 1 to {MAX_PAYMENTS} payments, got {terms.number_of_payments}")
    if not 0 <= terms.grace_months <= MAX_GRACE_MONTHS:
        raise ScheduleError(f"the first payment's shift is 0 to {MAX_GRACE_MONTHS} months, got {terms.grace_months}")
    if not terms.annual_rate.is_finite() or not Decimal(0) <= terms.annual_rate <= Decimal(1):
        raise ScheduleError(f"an annual rate is between 0 and 1, got {terms.annual_rate}")
