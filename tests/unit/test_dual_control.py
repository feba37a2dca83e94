"""Dual control's rules (domain) and its use cases on the fake unit of work: people, not keys; the limits
of adjustments and transfers at the limit and one past it; a held adjustment decided once."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, strategies as st

from domain import dual_control as dc
from domain.dual_control import AdjustmentRequest, AdjustmentStatus, DualControlError, Person
from domain.ledger import TransferStatus
from domain.payment_orders import Ordering
from tests.factories import validated_store
from tests.fake_uow import FakeUnitOfWork
from usecases import access, catalog, ledger
from usecases.errors import Conflict, Forbidden, Invalid
from usecases.payouts import PayoutConfig

ANA, LUIS = Person(1, "ana@example.com"), Person(2, "luis@example.com")


def test_an_owner_is_an_email_address_lower_cased():
    assert dc.owner_email("  Ana@Example.COM ") == "ana@example.com"
    for bad in ("", "ana", "ana@", "@example.com", "ana@example", "a na@example.com", "ana@exa\x1bmple.com",
                "x" * 65 + "@example.com", "ana@" + "a" * 250 + ".com"):
        with pytest.raises(dc.InvalidOwner):
            dc.owner_email(bad)


def test_the_same_person_twice_is_refused_naming_the_rule_and_who_may_act():
    with pytest.raises(DualControlError) as refused:
        dc.require_second_person(Person(1, "ana@example.com"), ANA, "store 3's bank details were changed",
                                 "a treasury or admin person")
    assert str(refused.value) == ("dual control: store 3's bank details were changed by ana@example.com; a "
                                  "treasury or admin person other than ana@example.com must do this")
    dc.require_second_person(LUIS, ANA, "x", "y")
    dc.require_second_person(None, ANA, "x", "y")  # the system's own steps are no person
    dc.require_second_person(LUIS, None, "x", "y")


def test_transfer_approval_reasons_at_the_limit_and_one_past_it():
    assert dc.transfer_approval_reasons(False, 1000, 1000, False) == []
    assert dc.transfer_approval_reasons(False, 1001, 1000, False) == [dc.large_transfer(1000)]
    assert dc.transfer_approval_reasons(False, 10**12, None, False) == []
    assert dc.transfer_approval_reasons(True, 1, 1000, True) == [dc.STORE_CONFIRMATION, dc.FIRST_PAYOUT]


@given(amount=st.integers(-10**9, 10**9).filter(bool), alone=st.integers(0, 10**9), limit=st.integers(1, 10**9))
def test_an_adjustment_waits_exactly_when_it_or_the_days_sum_passes_the_limit(amount, alone, limit):
    held = dc.adjustment_hold_reason(amount, alone, limit) is not None
    assert held == (abs(amount) > limit or alone + abs(amount) > limit)
    assert dc.adjustment_hold_reason(amount, alone, None) is None


@given(st.lists(st.sampled_from([AdjustmentStatus.APPROVED, AdjustmentStatus.REJECTED]), min_size=1, max_size=4))
def test_a_held_adjustment_is_decided_once(decisions):
    request = AdjustmentRequest(1, 5, "MXN", "why", ANA.id, datetime_now())
    request.decide(decisions[0], LUIS, datetime_now())
    for later in decisions[1:]:
        with pytest.raises(dc.AdjustmentMoveError):
            request.decide(later, LUIS, datetime_now())
    assert request.status == decisions[0] and request.decided_by_id == LUIS.id


def datetime_now() -> datetime:
    return datetime(2026, 12, 7, 18, 0, tzinfo=timezone.utc)


# --- use cases on the fake unit of work -----------------------------------------------------------

def config(limit: int | None = None) -> PayoutConfig:
    return PayoutConfig(Ordering("DISPERSA", "646180000000000000", "Dispersa", ""), "DSP", {}, 3, limit)


def test_keys_belong_to_people_and_two_keys_of_one_person_are_one_person():
    uow = FakeUnitOfWork()
    first = access.create_api_key(uow, "admin", owner="Ana@Example.com")
    second = access.create_api_key(uow, "treasury", owner="ana@example.com")
    a, b = access.authenticate(uow, first), access.authenticate(uow, second)
    assert a and b and a.key_id != b.key_id and a.person == b.person == Person(1, "ana@example.com")
    with pytest.raises(Invalid, match="owner must be the e-mail address"):
        access.create_api_key(uow, "admin", owner="ana")


def test_changed_details_are_validated_and_first_paid_by_another_person():
    uow = FakeUnitOfWork()
    store_id = validated_store(uow, disbursement_mode="instant")
    for person in (ANA, LUIS):
        uow.people.get_or_add(person.email, uow.clock())
    catalog.update_store(uow, store_id, {"beneficiary_name": "Otra"}, access.Role.TREASURY, ANA)
    with pytest.raises(Forbidden, match="other than ana@example.com"):
        catalog.validate_store(uow, store_id, ANA)
    catalog.validate_store(uow, store_id, LUIS)
    ledger.adjust(uow, store_id, 500, None, None)
    ledger.evaluate_trigger(uow, store_id, "manual:first", config())
    [transfer] = uow.transfers.all()
    assert transfer.status == TransferStatus.WAITING_CONFIRMATION and transfer.approval_reason == dc.FIRST_PAYOUT
    assert "transfer_held_for_approval" in uow.kinds("ALERT")
    with pytest.raises(Forbidden):
        ledger.approve_transfer(uow, transfer.id, config(), ANA)
    ledger.approve_transfer(uow, transfer.id, config(), LUIS)
    assert transfer.status == TransferStatus.SENDING and transfer.approved_by_id == LUIS.id
    assert uow.stores.get(store_id).new_details_by_id is None


def test_a_held_adjustment_is_approved_by_another_person_once():
    uow = FakeUnitOfWork()
    store_id = validated_store(uow)
    for person in (ANA, LUIS):
        uow.people.get_or_add(person.email, uow.clock())
    assert ledger.adjust(uow, store_id, 100, None, None, by=ANA, approval_above=100).id is not None
    held = ledger.adjust(uow, store_id, 1, None, None, by=ANA, approval_above=100)
    assert isinstance(held, AdjustmentRequest) and "adjustment_held" in uow.kinds("ALERT")
    with pytest.raises(Forbidden):
        ledger.approve_adjustment(uow, held.id, ANA)
    ledger.approve_adjustment(uow, held.id, LUIS)
    assert held.status == AdjustmentStatus.APPROVED and held.balance_update_id is not None
    with pytest.raises(Conflict):
        ledger.reject_adjustment(uow, held.id, LUIS, "late")
    assert uow.stores.get(store_id).balance == 101
