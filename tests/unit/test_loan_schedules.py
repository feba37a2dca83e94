"""Loan schedules: hand-computed examples, the risk-profile rates, the calendar, and the properties every
schedule keeps (sums exact, equal installments but the last, due dates increasing)."""
from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from domain.loan_schedules import (
    RISK_PROFILES,
    Installment,
    LoanTerms,
    PaymentFrequency as F,
    ScheduleError,
    add_months,
    build_schedule,
    discounted,
    due_dates,
    periodic_rate,
    rate_for_profile,
)
from domain.money import MAX_MINOR


def test_ten_thousand_pesos_at_36_percent_in_twelve_months() -> None:
    """By hand: r = 0.36 / 12 = 0.03; 10 000 × 0.03 × 1.03^12 / (1.03^12 − 1) = 1 004.620 85 → 1 004.62;
    first interest 10 000 × 0.03 = 300.00; the last installment takes the rest: 975.37 + 29.26."""
    rows = build_schedule(LoanTerms(1_000_000, 12, date(2026, 1, 31), Decimal("0.36")))
    assert rows[0] == Installment(1, date(2026, 2, 28), 70_462, 30_000)
    assert rows[1] == Installment(2, date(2026, 3, 31), 72_576, 27_886)  # 929 538 × 0.03 = 27 886.14
    assert all(r.amount == 100_462 for r in rows[:-1])
    assert rows[-1] == Installment(12, date(2027, 1, 31), 97_537, 2_926)
    assert sum(r.principal for r in rows) == 1_000_000


def test_biweekly_uses_fourteen_days_of_a_360_day_year() -> None:
    """By hand: r = 0.36 × 14 / 360 = 0.014; 5 000 × 0.014 × 1.014^6 / (1.014^6 − 1) = 874.6397 → 874.64.
    Balances: 5 000 → 4 195.36 → 3 379.46 → 2 552.13 → 1 713.22 → 862.57; interest 1.4 % of each, half up."""
    rows = build_schedule(LoanTerms(500_000, 6, date(2026, 3, 1), Decimal("0.36"), F.BIWEEKLY))
    assert [r.interest for r in rows] == [7_000, 5_874, 4_731, 3_573, 2_399, 1_208]
    assert [r.amount for r in rows] == [87_464] * 5 + [87_465]
    assert [r.due_on for r in rows] == [date(2026, 3, 15), date(2026, 3, 29), date(2026, 4, 12), date(2026, 4, 26),
                                        date(2026, 5, 10), date(2026, 5, 24)]


def test_without_interest_the_last_weekly_installment_takes_the_centavo() -> None:
    rows = build_schedule(LoanTerms(100_000, 3, date(2026, 3, 1), Decimal("0"), F.WEEKLY))
    assert [(r.principal, r.interest, r.due_on) for r in rows] == [
        (33_333, 0, date(2026, 3, 8)), (33_333, 0, date(2026, 3, 15)), (33_334, 0, date(2026, 3, 22))]


def test_the_month_shift_delays_the_first_payment_without_interest_for_the_grace() -> None:
    plain = build_schedule(LoanTerms(1_000_000, 3, date(2026, 1, 15), Decimal("0.24")))
    shifted = build_schedule(LoanTerms(1_000_000, 3, date(2026, 1, 15), Decimal("0.24"), grace_months=2))
    assert [r.due_on for r in shifted] == [date(2026, 4, 15), date(2026, 5, 15), date(2026, 6, 15)]
    assert [(r.principal, r.interest) for r in shifted] == [(r.principal, r.interest) for r in plain]


@pytest.mark.parametrize("start, months, expected", [
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2028, 1, 31), 1, date(2028, 2, 29)),
    (date(2026, 1, 31), 2, date(2026, 3, 31)),
    (date(2026, 1, 31), 3, date(2026, 4, 30)),
    (date(2026, 12, 15), 1, date(2027, 1, 15)),
    (date(2026, 8, 31), 18, date(2028, 2, 29)),
])
def test_months_end_on_the_last_day_the_month_has(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


def test_monthly_due_dates_count_from_the_signature_day_not_from_the_last_due_date() -> None:
    assert due_dates(date(2026, 1, 31), 3, F.MONTHLY) == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]


def test_risk_profiles_run_from_the_a0_rate_to_the_c3_rate_in_equal_steps() -> None:
    a0, c3 = Decimal("0.30"), Decimal("0.48")
    assert RISK_PROFILES == ("A0", "A1", "A2", "A3", "B1", "B2", "B3", "C1", "C2", "C3")
    assert rate_for_profile("A0", a0, c3) == Decimal("0.300000")
    assert rate_for_profile("c3", a0, c3) == Decimal("0.480000")
    assert rate_for_profile("B1", a0, c3) == Decimal("0.380000")  # 0.30 + 0.18 × 4 / 9
    assert rate_for_profile("A1", a0, c3) == Decimal("0.320000")
    rates = [rate_for_profile(p, a0, c3) for p in RISK_PROFILES]
    assert rates == sorted(rates)


@pytest.mark.parametrize("profile", ["", "D0", "A4", "B0", "AA", None])
def test_an_unknown_risk_profile_is_refused(profile: str) -> None:
    with pytest.raises(ScheduleError):
        rate_for_profile(profile, Decimal("0.3"), Decimal("0.5"))


def test_the_discount_is_a_fraction_of_the_rate() -> None:
    assert discounted(Decimal("0.36"), Decimal("0.25")) == Decimal("0.27")
    assert discounted(Decimal("0.36"), Decimal("1")) == 0
    with pytest.raises(ScheduleError):
        discounted(Decimal("0.36"), Decimal("1.5"))


def test_terms_of_an_offer_take_profile_and_discount() -> None:
    terms = LoanTerms.of_offer(1_000_000, 12, date(2026, 1, 31), "B1", Decimal("0.30"), Decimal("0.48"),
                               Decimal("0.10"), 1, F.WEEKLY)
    assert terms.annual_rate == Decimal("0.342") and terms.grace_months == 1 and terms.frequency == F.WEEKLY


def test_periodic_rates() -> None:
    assert periodic_rate(Decimal("0.36"), F.MONTHLY) == Decimal("0.03")
    assert periodic_rate(Decimal("0.36"), F.BIWEEKLY) == Decimal("0.014")
    assert periodic_rate(Decimal("0.36"), F.WEEKLY) == Decimal("0.007")


@pytest.mark.parametrize("terms", [
    LoanTerms(0, 3, date(2026, 1, 1), Decimal("0.3")),
    LoanTerms(MAX_MINOR + 1, 3, date(2026, 1, 1), Decimal("0.3")),
    LoanTerms(1000, 0, date(2026, 1, 1), Decimal("0.3")),
    LoanTerms(1000, 521, date(2026, 1, 1), Decimal("0.3")),
    LoanTerms(1000, 3, date(2026, 1, 1), Decimal("-0.1")),
    LoanTerms(1000, 3, date(2026, 1, 1), Decimal("1.1")),
    LoanTerms(1000, 3, date(2026, 1, 1), Decimal("NaN")),
    LoanTerms(1000, 3, date(2026, 1, 1), Decimal("0.3"), grace_months=-1),
])
def test_terms_no_schedule_can_carry_are_refused(terms: LoanTerms) -> None:
    with pytest.raises(ScheduleError):
        build_schedule(terms)


def test_a_schedule_beyond_the_bound_is_refused() -> None:
    with pytest.raises(ScheduleError):
        build_schedule(LoanTerms(MAX_MINOR, 24, date(2026, 1, 1), Decimal("1")))


terms_strategy = st.builds(
    LoanTerms,
    principal=st.integers(min_value=1, max_value=10**12),
    number_of_payments=st.integers(min_value=1, max_value=60),
    signed_on=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    annual_rate=st.decimals(min_value=0, max_value=1, places=4),
    frequency=st.sampled_from(F),
    grace_months=st.integers(min_value=0, max_value=6),
)


@settings(max_examples=400)
@given(terms=terms_strategy)
def test_every_schedule_adds_up(terms: LoanTerms) -> None:
    rows = build_schedule(terms)
    assert len(rows) == terms.number_of_payments
    assert sum(r.principal for r in rows) == terms.principal
    assert all(r.interest >= 0 and r.principal >= 0 for r in rows)
    assert [r.number for r in rows] == list(range(1, len(rows) + 1))
    assert all(a.due_on < b.due_on for a, b in zip(rows, rows[1:]))
    assert rows[0].due_on > terms.signed_on


@settings(max_examples=400)
@given(terms=terms_strategy)
def test_installments_are_equal_but_the_last_which_stays_close(terms: LoanTerms) -> None:
    if terms.principal < 100 * terms.number_of_payments:
        terms = LoanTerms(terms.principal + 100 * terms.number_of_payments, terms.number_of_payments,
                          terms.signed_on, terms.annual_rate, terms.frequency, terms.grace_months)
    rows = build_schedule(terms)
    first = rows[0].amount
    assert all(r.amount == first for r in rows[:-1])
    # each rounding (installment, each interest) is at most half a centavo, carried forward at the periodic rate
    rate = periodic_rate(terms.annual_rate, terms.frequency)
    bound = (len(rows) + 1) * (1 + rate) ** len(rows)
    assert abs(rows[-1].amount - first) <= bound


@given(start=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)), months=st.integers(0, 120))
def test_adding_months_keeps_the_day_or_takes_the_months_last(start: date, months: int) -> None:
    later = add_months(start, months)
    assert (later.year - start.year) * 12 + later.month - start.month == months
    last_day = calendar.monthrange(later.year, later.month)[1]
    assert later.day == min(start.day, last_day)
