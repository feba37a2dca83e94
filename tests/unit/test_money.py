"""Money: integer minor units with a currency; decimals only at the edges; one half-up rounding."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from domain.commission import split_credit
from domain.money import MAX_MINOR, BeyondBound, Money, MoneyError, bounded, parse_rate, round_half_up

BIGINT = 2**63 - 1
minor_amounts = st.integers(min_value=-MAX_MINOR, max_value=MAX_MINOR)
currencies = st.sampled_from(["MXN", "USD", "EUR"])


@pytest.mark.parametrize(("text", "minor"), [
    ("850", 85000), ("850.5", 85050), ("850.50", 85050), ("1.20", 120), ("0.01", 1), ("0", 0),
    (" 12.3 ", 1230), ("-4.05", -405), ("1.000", 100),
])
def test_parse(text: str, minor: int) -> None:
    assert Money.parse(text) == Money(minor, "MXN")


@pytest.mark.parametrize(("minor", "text"), [(120, "1.20"), (1, "0.01"), (0, "0.00"), (85000, "850.00"), (-405, "-4.05")])
def test_format_has_two_decimals(minor: int, text: str) -> None:
    assert Money(minor).to_decimal_string() == text
    assert str(Money(minor, "USD")) == f"{text} USD"


@given(minor_amounts, currencies)
def test_format_then_parse_round_trips(minor: int, currency: str) -> None:
    money = Money(minor, currency)
    assert Money.parse(money.to_decimal_string(), currency) == money


@given(st.integers(min_value=MAX_MINOR + 1, max_value=BIGINT * 10**9), st.booleans(), currencies)
def test_an_amount_beyond_the_bound_is_refused_as_it_is_read(minor: int, negative: bool, currency: str) -> None:
    with pytest.raises(BeyondBound):
        Money.parse(Money(-minor if negative else minor, currency).to_decimal_string(), currency)


@pytest.mark.parametrize(("text", "currency"), [("90071992547409.91", "MXN"), ("9007199254740.991", "KWD"),
                                                ("9007199254740991", "JPY"), ("-90071992547409.91", "USD")])
def test_the_bound_itself_is_read(text: str, currency: str) -> None:
    assert abs(Money.parse(text, currency).minor) == MAX_MINOR == 2**53 - 1


@pytest.mark.parametrize(("text", "currency"), [("90071992547409.92", "MXN"), ("9007199254740.992", "KWD"),
                                                ("9007199254740992", "JPY"), ("99999999999999999999", "USD")])
def test_one_minor_unit_beyond_the_bound_is_refused(text: str, currency: str) -> None:
    with pytest.raises(BeyondBound, match="beyond the largest amount"):
        Money.parse(text, currency)


def test_bounded_takes_the_bound_and_refuses_beyond_it() -> None:
    assert bounded(MAX_MINOR) == MAX_MINOR and bounded(-MAX_MINOR) == -MAX_MINOR
    for beyond in (MAX_MINOR + 1, -MAX_MINOR - 1):
        with pytest.raises(BeyondBound):
            bounded(beyond)


@pytest.mark.parametrize("text", ["0.001", "1.005", "850.505", "-0.001"])
def test_more_decimals_than_the_currency_has_are_rejected(text: str) -> None:
    with pytest.raises(MoneyError):
        Money.parse(text)


@pytest.mark.parametrize("text", ["", "abc", "1,50", "NaN", "Infinity", "-inf", "1.2.3",
                                  "\u0661\u0662\u0663", "\u0967\u0968.50", "\uff11\uff12", "12\u0663", "1.\u0665"])
def test_not_an_amount_is_rejected(text: str) -> None:
    with pytest.raises(MoneyError):
        Money.parse(text)


def test_unknown_currency_is_rejected() -> None:
    with pytest.raises(MoneyError):
        Money(100, "XXX")
    with pytest.raises(MoneyError):
        Money.parse("1.00", "BTC")


@pytest.mark.parametrize("value", [1.0, 0.5, Decimal("1"), "100", True, None])
def test_money_holds_integers_only(value: object) -> None:
    with pytest.raises(MoneyError):
        Money(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [0.035, 0.0, 1.0])
def test_rates_are_never_floats(value: float) -> None:
    with pytest.raises(MoneyError):
        parse_rate(value)  # type: ignore[arg-type]


def test_parse_refuses_a_float() -> None:
    with pytest.raises(MoneyError):
        Money.parse(0.1)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "rate"), [("0.035", Decimal("0.035")), ("0", Decimal(0)), ("1", Decimal(1)),
                                            (Decimal("0.16"), Decimal("0.16"))])
def test_parse_rate(text: str | Decimal, rate: Decimal) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["-0.01", "1.01", "abc", "NaN"])
def test_rate_outside_zero_to_one_is_rejected(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_rate(text)


def test_arithmetic_keeps_the_currency() -> None:
    assert Money(150) + Money(50) == Money(200)
    assert Money(150) - Money(200) == Money(-50)
    assert -Money(5, "USD") == Money(-5, "USD")
    assert Money.zero("EUR") == Money(0, "EUR")


@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: a - b])
def test_mixing_currencies_is_rejected(op) -> None:
    with pytest.raises(MoneyError):
        op(Money(100, "MXN"), Money(100, "USD"))


@pytest.mark.parametrize(("value", "rounded"), [
    (Decimal("0.5"), 1), (Decimal("1.5"), 2), (Decimal("2.5"), 3), (Decimal("2.4999"), 2), (Decimal("-0.5"), -1),
    (Decimal("-2.5"), -3), (Decimal("7"), 7),
])
def test_round_half_up_goes_away_from_zero_on_a_half(value: Decimal, rounded: int) -> None:
    assert round_half_up(value) == rounded


# --- split_credit ---------------------------------------------------------------------------------------------

rates = st.decimals(min_value=0, max_value=Decimal("0.5"), places=4)
tax_rates = st.sampled_from([Decimal(0), Decimal("0.08"), Decimal("0.16")]) | st.decimals(0, Decimal("0.3"), places=3)
credit_amounts = st.integers(min_value=0, max_value=10**12)


@given(credit_amounts, rates, tax_rates)
def test_split_parts_sum_to_the_amount(amount: int, rate: Decimal, tax_rate: Decimal) -> None:
    split = split_credit(Money(amount), rate, tax_rate)
    assert split.commission + split.tax + split.contribution == Money(amount)
    assert split.commission.minor >= 0 and split.tax.minor >= 0 and split.contribution.minor >= 0
    assert {split.commission.currency, split.tax.currency, split.contribution.currency} == {"MXN"}


def _half_up(value: Decimal) -> int:
    return int((value + Decimal("0.5")).to_integral_value(rounding="ROUND_FLOOR"))


@given(credit_amounts, rates, tax_rates)
def test_split_rounds_the_commission_once_and_taxes_the_rounded_commission(
        amount: int, rate: Decimal, tax_rate: Decimal) -> None:
    split = split_credit(Money(amount), rate, tax_rate)
    assert split.commission.minor == _half_up(Decimal(amount) * rate)
    assert split.tax.minor == _half_up(split.commission.minor * tax_rate)
    assert split.contribution.minor == amount - split.commission.minor - split.tax.minor


@pytest.mark.parametrize(("amount", "rate", "tax_rate", "commission", "tax", "contribution"), [
    (50, "0.01", "0", 1, 0, 49),            # 0.5 centavo rounds up
    (150, "0.01", "0", 2, 0, 148),          # 1.5 -> 2
    (250, "0.01", "0", 3, 0, 247),          # 2.5 -> 3 (not banker's 2)
    (49, "0.01", "0", 0, 0, 49),            # 0.49 -> 0
    (10000, "0.035", "0.16", 350, 56, 9594),
    (12345, "0.035", "0.16", 432, 69, 11844),  # commission 432.075 -> 432, tax 69.12 -> 69
    (100000, "0", "0.16", 0, 0, 100000),
    (625, "0.1", "0.16", 63, 10, 552),       # commission 62.5 -> 63, tax 10.08 -> 10
    (1127228, "0.0825", "0.16", 92996, 14879, 1019353),  # the audit's case: tax of the rounded commission
])
def test_split_examples(amount: int, rate: str, tax_rate: str, commission: int, tax: int, contribution: int) -> None:
    split = split_credit(Money(amount), Decimal(rate), Decimal(tax_rate))
    assert (split.commission.minor, split.tax.minor, split.contribution.minor) == (commission, tax, contribution)
    assert split.commission_rate == Decimal(rate) and split.tax_rate == Decimal(tax_rate)
