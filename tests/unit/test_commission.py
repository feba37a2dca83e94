"""Which payment option applies to a credit, its commission rate, and the monthly tiers."""
from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from domain.commission import CommissionTier, NoApplicableOption, OptionTerms, select_option, tier_rate

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)


def option(id: int, **fields: object) -> OptionTerms:
    base = dict(number_of_payments=6, priority=0, min_amount=100, max_amount=100_000, commission_rate=Decimal("0.05"))
    base.update(fields)
    return OptionTerms(id=id, **base)  # type: ignore[arg-type]


def select(options: list[OptionTerms], payments: int = 6, amount: int = 5_000, at: datetime = NOW) -> int:
    return select_option(options, payments, amount, at).id


def test_highest_priority_wins() -> None:
    assert select([option(1, priority=1), option(2, priority=5), option(3, priority=3)]) == 2


def test_number_of_payments_must_match() -> None:
    assert select([option(1, number_of_payments=3, priority=9), option(2, number_of_payments=6)], payments=6) == 2
    with pytest.raises(NoApplicableOption):
        select([option(1, number_of_payments=3)], payments=12)


@pytest.mark.parametrize(("amount", "expected"), [(100, 1), (100_000, 1), (100_001, 2), (99, None), (500_001, None)])
def test_amount_range_is_inclusive(amount: int, expected: int | None) -> None:
    options = [option(1, priority=2), option(2, priority=1, min_amount=100_001, max_amount=500_000)]
    if expected is None:
        with pytest.raises(NoApplicableOption):
            select(options, amount=amount)
    else:
        assert select(options, amount=amount) == expected


@pytest.mark.parametrize(("at", "applies"), [
    (NOW - HOUR, True), (NOW - 2 * HOUR, True), (NOW + HOUR, False), (NOW - 3 * HOUR, False), (NOW, False),
])
def test_time_window_starts_inclusive_and_ends_exclusive(at: datetime, applies: bool) -> None:
    windowed = option(1, priority=9, starts_at=NOW - 2 * HOUR, ends_at=NOW)
    always = option(2, priority=0)
    assert select([windowed, always], at=at) == (1 if applies else 2)


def test_open_ended_windows() -> None:
    assert select([option(1, priority=9, starts_at=NOW - HOUR), option(2)]) == 1
    assert select([option(1, priority=9, ends_at=NOW + HOUR), option(2)]) == 1
    assert select([option(1, priority=9, starts_at=NOW + HOUR), option(2)]) == 2


@pytest.mark.parametrize("excluded", [{"validated": False}, {"active": False}])
def test_not_validated_or_inactive_options_never_apply(excluded: dict[str, bool]) -> None:
    assert select([option(1, priority=9, **excluded), option(2, priority=0)]) == 2
    with pytest.raises(NoApplicableOption):
        select([option(1, **excluded)])


def test_tie_goes_to_the_narrower_range_then_the_lowest_id() -> None:
    wide = option(1, min_amount=1, max_amount=1_000_000)
    narrow = option(7, min_amount=1_000, max_amount=10_000)
    same_as_narrow = option(4, min_amount=2_000, max_amount=11_000)
    assert select([wide, narrow]) == 7
    assert select([wide, narrow, same_as_narrow]) == 4


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=8, unique=True),
       st.randoms(use_true_random=False))
def test_selection_does_not_depend_on_order(specs: list[tuple[int, int]], rnd: random.Random) -> None:
    options = [option(i, priority=p, max_amount=10_000 + width * 1_000) for i, (p, width) in enumerate(specs, 1)]
    chosen = select(options)
    shuffled = options[:]
    rnd.shuffle(shuffled)
    assert select(shuffled) == chosen
    best = max(o.priority for o in options)
    assert next(o for o in options if o.id == chosen).priority == best


def test_nothing_to_choose_from() -> None:
    with pytest.raises(NoApplicableOption):
        select([])


def trial_option(**fields: object) -> OptionTerms:
    return option(1, commission_rate=Decimal("0.05"), in_trial=True, trial_commission_rate=Decimal("0.01"),
                  trial_ends_at=NOW, **fields)


def test_trial_commission_while_in_trial_then_the_regular_one() -> None:
    trial = trial_option()
    assert trial.rate_at(NOW - timedelta(seconds=1)) == Decimal("0.01")
    assert trial.rate_at(NOW) == Decimal("0.05")
    assert trial.rate_at(NOW + timedelta(days=30)) == Decimal("0.05")


def test_trial_without_end_or_without_trial_rate() -> None:
    assert replace(trial_option(), trial_ends_at=None).rate_at(NOW + timedelta(days=999)) == Decimal("0.01")
    assert replace(trial_option(), trial_commission_rate=None).rate_at(NOW - HOUR) == Decimal("0.05")
    assert replace(trial_option(), in_trial=False).rate_at(NOW - HOUR) == Decimal("0.05")


TIERS = [CommissionTier(0, Decimal("0.06")), CommissionTier(1_000_000, Decimal("0.05")),
         CommissionTier(10_000_000, Decimal("0.04"))]


@pytest.mark.parametrize(("origination", "rate"), [
    (0, "0.06"), (999_999, "0.06"), (1_000_000, "0.05"), (9_999_999, "0.05"), (10_000_000, "0.04"), (10**12, "0.04"),
])
def test_tier_rate_is_the_highest_tier_reached(origination: int, rate: str) -> None:
    assert tier_rate(TIERS, origination) == Decimal(rate)
    assert tier_rate(list(reversed(TIERS)), origination) == Decimal(rate)


def test_no_tier_reached_or_no_tiers() -> None:
    assert tier_rate(TIERS[1:], 999_999) is None
    assert tier_rate([], 10**9) is None
