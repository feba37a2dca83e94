"""Money as integer minor units with an ISO 4217 currency; decimals only at the edges."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from domain.currencies import EXPONENTS
from domain.errors import DomainError

# The currencies a merchant's ledger may keep; payments (bulk rows) may be in any ISO 4217 currency.
MINOR_UNITS = {"MXN": 2, "USD": 2, "EUR": 2}
# ASCII digits only: Python's \d, int() and Decimal() also read other scripts' digits (١٢٣ as 123)
AMOUNT_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
# The one bound of every amount that enters (files, API, CLI) and of every balance it builds: exact in a
# double, so in any JSON client, and far inside the BIGINT columns, which the database would otherwise clamp.
MAX_MINOR = 2**53 - 1


class MoneyError(DomainError, ValueError):
    """An amount or currency that cannot be money."""


class BeyondBound(MoneyError):
    """An amount beyond MAX_MINOR: well-formed, but more than any amount may be."""


def within_bound(minor: int) -> bool:
    """Whether an amount or a balance of ``minor`` units, either way, stays within MAX_MINOR."""
    return abs(minor) <= MAX_MINOR


def bounded(minor: int, what: str = "an amount") -> int:
    """``minor`` as it is when within the bound; MoneyError beyond it."""
    if not within_bound(minor):
        raise BeyondBound(f"{what} is at most {MAX_MINOR} minor units either way; {minor} is beyond it")
    return minor


def _exponent(currency: str) -> int:
    try:
        return EXPONENTS[currency]
    except (KeyError, TypeError):
        raise MoneyError(f"unknown currency {currency!r} (an ISO 4217 code such as MXN or USD)") from None


def exponent(currency: str) -> int:
    """How many decimals the currency's amounts have (ISO 4217); MoneyError for an unknown code."""
    return _exponent(currency)


@dataclass(frozen=True, order=True)
class Money:
    """An amount in minor units (centavos) of one currency."""

    minor: int
    currency: str = "MXN"

    def __post_init__(self) -> None:
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise MoneyError("money is integer minor units")
        _exponent(self.currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise MoneyError(f"cannot mix {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    @classmethod
    def zero(cls, currency: str = "MXN") -> Money:
        """Zero minor units of the currency."""
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str, currency: str = "MXN") -> Money:
        """Parse a decimal string such as ``850`` or ``850.50``; more decimals than the currency has is an error."""
        exp = _exponent(currency)
        if not isinstance(text, str) or not AMOUNT_TEXT.fullmatch(text.strip()):
            raise MoneyError(f"not an amount: {text!r} (write it like 850 or 850.50)")
        try:
            value = Decimal(text.strip())
        except InvalidOperation:
            raise MoneyError(f"not an amount: {text!r}") from None
        if not value.is_finite():
            raise MoneyError(f"not an amount: {text!r}")
        scaled = value.scaleb(exp)
        if scaled != scaled.to_integral_value():
            raise MoneyError(f"{text!r} has more than {exp} decimals")
        if not within_bound(int(scaled)):
            raise BeyondBound(f"{text.strip()} {currency} is beyond the largest amount, "
                             f"{cls(MAX_MINOR, currency).to_decimal_string()} {currency} ({MAX_MINOR} minor units)")
        return cls(int(scaled), currency)

    def to_decimal_string(self) -> str:
        """``1.20`` style, as STP and CSV files want it."""
        exp = _exponent(self.currency)
        return str(Decimal(self.minor).scaleb(-exp).quantize(Decimal(1).scaleb(-exp)))

    def __str__(self) -> str:
        return f"{self.to_decimal_string()} {self.currency}"


def round_half_up(value: Decimal) -> int:
    """Round a decimal amount of minor units to an integer, half away from zero."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_rate(text: str | Decimal) -> Decimal:
    """A rate such as ``0.035`` (3.5 %): a Decimal in [0, 1], never a float."""
    if isinstance(text, float):
        raise MoneyError("rates are decimal strings, not floats")
    try:
        rate = Decimal(str(text))
    except InvalidOperation:
        raise MoneyError(f"not a rate: {text!r}") from None
    if not rate.is_finite() or rate < 0 or rate > 1:
        raise MoneyError(f"a rate is between 0 and 1, got {text!r}")
    return rate
