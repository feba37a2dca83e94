"""A store's trigger for one period: a transfer, or a recorded reason why not; the store as it is now
decides, before any amount."""
from __future__ import annotations

from dataclasses import replace

from hypothesis import given, strategies as st

from domain.schedules import DisbursementMode as M
from domain.triggers import NOT_VALIDATED, EvaluationOutcome as O, TriggerState, evaluate

PAYING = TriggerState(key="daily:2026-11-24", mode=M.DAILY, validated=True, automation=True, minimum=0,
                      pending_total=100)


def test_a_validated_automated_store_with_money_pays():
    assert evaluate(PAYING).outcome == O.TRANSFER


def test_an_unvalidated_store_is_held_whatever_it_owes():
    assert (evaluate(replace(PAYING, validated=False)).outcome, evaluate(replace(PAYING, validated=False)).reason) \
        == (O.HELD, NOT_VALIDATED)


def test_a_key_of_another_mode_is_skipped_with_the_reason():
    result = evaluate(replace(PAYING, key="instant:bu-7", mode=M.WEEKLY))
    assert result.outcome == O.SKIPPED and result.reason == "the store is weekly now: instant:bu-7 is not one of its periods"


def test_a_period_superseded_by_a_later_one_pays_nothing():
    result = evaluate(replace(PAYING, superseded_by="daily:2026-11-25"))
    assert result.outcome == O.SKIPPED and "daily:2026-11-25" in result.reason


def test_treasury_request_ignores_automation_and_mode_but_not_validation():
    manual = replace(PAYING, key="manual:20261124T100000:abc", mode=M.WEEKLY, automation=False)
    assert evaluate(manual).outcome == O.TRANSFER
    assert evaluate(replace(manual, validated=False)).outcome == O.HELD


@given(mode=st.sampled_from(list(M)), key_mode=st.sampled_from(list(M)), validated=st.booleans(),
       automation=st.booleans(), minimum=st.integers(0, 10**6), total=st.integers(-10**6, 10**6),
       superseded=st.booleans())
def test_an_evaluation_pays_only_when_every_rule_allows_and_always_says_why(
        mode, key_mode, validated, automation, minimum, total, superseded):
    state = TriggerState(key=f"{key_mode.value}:2026-11-24", mode=mode, validated=validated, automation=automation,
                         minimum=minimum, pending_total=total, superseded_by="later" if superseded else None)
    result = evaluate(state)
    pays = mode == key_mode and not superseded and validated and automation and total > 0 and total >= minimum
    assert (result.outcome == O.TRANSFER) == pays
    assert result.reason
    if result.outcome == O.HELD:
        assert not validated and mode == key_mode and not superseded
