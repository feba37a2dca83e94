"""Commission on a credit: the applicable payment option, and the split of the amount."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Iterable, Sequence

from domain.errors import DomainError
from domain.money import Money, round_half_up

DEFAULT_MXN_TAX_RATE = Decimal("0.16")


@dataclass(frozen=True)
class OptionTerms:
    """What the selection needs to know of a payment option."""

    id: int
    number_of_payments: int
    priority: int
    min_amount: int
    max_amount: int
    commission_rate: Decimal
    validated: bool = True
    active: bool = True
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    in_trial: bool = False
    trial_commission_rate: Decimal | None = None
    trial_ends_at: datetime | None = None

    def matches(self, number_of_payments: int, amount: int, at: datetime) -> bool:
        """Whether the option fits a credit: validated, active, the same number of payments, the amount
        (centavos) within [min, max], and ``at`` within [starts_at, ends_at) where those are set."""
        return (
            self.validated
            and self.active
            and self.number_of_payments == number_of_payments
            and self.min_amount <= amount <= self.max_amount
            and (self.starts_at is None or self.starts_at <= at)
            and (self.ends_at is None or at < self.ends_at)
        )

    def rate_at(self, at: datetime) -> Decimal:
        """The trial commission while the trial lasts, the option's own after."""
        trial_running = self.in_trial and (self.trial_ends_at is None or at < self.trial_ends_at)
        if trial_running and self.trial_commission_rate is not None:
            return self.trial_commission_rate
        return self.commission_rate


class NoApplicableOption(DomainError, LookupError):
    """No validated, active option of the store fits the credit."""


def select_option(options: Iterable[OptionTerms], number_of_payments: int, amount: int, at: datetime) -> OptionTerms:
    """Highest priority wins; ties go to the narrower amount range, then the lowest id."""
    candidates = [o for o in options if o.matches(number_of_payments, amount, at)]
    if not candidates:
        raise NoApplicableOption(f"no validated option for {number_of_payments} payments and amount {amount}")
    return min(candidates, key=lambda o: (-o.priority, o.max_amount - o.min_amount, o.id))


@dataclass(frozen=True)
class CommissionSplit:
    """How a credit's amount divides: what the store receives and what we keep."""

    amount: Money
    commission_rate: Decimal
    tax_rate: Decimal
    commission: Money
    tax: Money
    contribution: Money


def split_credit(amount: Money, commission_rate: Decimal, tax_rate: Decimal) -> CommissionSplit:
    """Round once per number: the commission is the amount times the rate, rounded half-up to the
    minor unit; the tax is that rounded commission times the tax rate, rounded half-up; the store
    receives the rest. So tax = round(commission x tax rate) exactly, and the three parts sum to the amount."""
    commission = round_half_up(Decimal(amount.minor) * commission_rate)
    tax = round_half_up(Decimal(commission) * tax_rate)
    return CommissionSplit(
        amount=amount,
        commission_rate=commission_rate,
        tax_rate=tax_rate,
        commission=Money(commission, amount.currency),
        tax=Money(tax, amount.currency),
        contribution=Money(amount.minor - commission - tax, amount.currency),
    )


@dataclass(eq=False)
class CommissionUpdate:
    """The monthly commission update of one merchant and month, made once: what it found and changed."""

    merchant_id: int
    month: str
    origination: int
    commission_rate: Decimal | None
    options_updated: int
    at: datetime
    id: int | None = None


@dataclass(frozen=True)
class CommissionTier:
    """A merchant's commission for a month whose origination reached ``min_origination``."""

    min_origination: int
    commission_rate: Decimal


def tier_rate(tiers: Sequence[CommissionTier], origination: int) -> Decimal | None:
    """The rate of the highest tier the origination reaches, None when it reaches none."""
    reached = [t for t in tiers if origination >= t.min_origination]
    return max(reached, key=lambda t: t.min_origination).commission_rate if reached else None
