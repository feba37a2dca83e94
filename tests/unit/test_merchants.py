"""The treasury's validation chain: option -> store -> merchant; any edit needs validating again."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from domain import clabe
from domain.merchants import (
    Merchant,
    MerchantStatus,
    PaymentOption,
    Store,
    ValidationError,
    edit,
    validate_merchant,
    validate_option,
    validate_store,
)
from domain.schedules import DisbursementMode

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)
GOOD_CLABE = clabe.make("646", "180", "00000000001")


def make_option(**fields: object) -> PaymentOption:
    base = dict(store_id=1, merchant_id=1, number_of_payments=6, merchant_commission=Decimal("0.05"),
                min_amount=100, max_amount=100_000, created_at=NOW, id=10)
    base.update(fields)
    return PaymentOption(**base)  # type: ignore[arg-type]


def make_store(**fields: object) -> Store:
    base = dict(merchant_id=1, name="Centro", clabe=GOOD_CLABE, created_at=NOW, id=1)
    base.update(fields)
    return Store(**base)  # type: ignore[arg-type]


def validated_chain() -> tuple[Merchant, Store, PaymentOption]:
    option = make_option()
    store = make_store(options=[option])
    merchant = Merchant(name="Muebles Sol", created_at=NOW, id=1, stores=[store])
    validate_option(option)
    validate_store(store)
    validate_merchant(merchant)
    return merchant, store, option


def test_new_things_start_unvalidated_and_a_new_merchant_cannot_originate() -> None:
    merchant = Merchant(name="Muebles Sol", created_at=NOW)
    assert not make_option().validated and not make_store().validated and not merchant.validated
    assert not merchant.can_originate
    assert merchant.tax_rate == Decimal("0.16") and merchant.currency == "MXN"


def test_the_whole_chain_validates_and_originates() -> None:
    merchant, store, option = validated_chain()
    assert option.validated and store.validated and merchant.validated
    assert merchant.can_originate


@pytest.mark.parametrize("bad", [{"min_amount": 100_001}, {"number_of_payments": 0}])
def test_an_inconsistent_option_is_not_validated(bad: dict[str, int]) -> None:
    option = make_option(**bad)
    with pytest.raises(ValidationError):
        validate_option(option)
    assert not option.validated


@pytest.mark.parametrize("account", ["", "123", GOOD_CLABE[:17] + str((int(GOOD_CLABE[17]) + 1) % 10),
                                     clabe.make("999", "180", "00000000001")])
def test_a_store_needs_a_valid_clabe(account: str) -> None:
    option = make_option()
    validate_option(option)
    store = make_store(clabe=account, options=[option])
    with pytest.raises(ValidationError, match="CLABE"):
        validate_store(store)
    assert not store.validated


def test_a_store_needs_a_validated_option() -> None:
    store = make_store(options=[make_option(), make_option(id=11)])
    with pytest.raises(ValidationError, match="option"):
        validate_store(store)
    store_without_options = make_store()
    with pytest.raises(ValidationError, match="option"):
        validate_store(store_without_options)
    validate_option(store.options[1])
    validate_store(store)
    assert store.validated


def test_a_merchant_needs_a_validated_store() -> None:
    store = make_store(options=[make_option()])
    merchant = Merchant(name="Muebles Sol", created_at=NOW, stores=[store])
    with pytest.raises(ValidationError, match="store"):
        validate_merchant(merchant)
    with pytest.raises(ValidationError):
        validate_merchant(Merchant(name="Vacío", created_at=NOW))
    assert not merchant.validated and not merchant.can_originate


@pytest.mark.parametrize(("which", "changes"), [
    ("option", {"merchant_commission": Decimal("0.04")}),
    ("option", {"max_amount": 50_000, "priority": 3}),
    ("store", {"clabe": clabe.make("012", "180", "00000000002")}),
    ("store", {"disbursement_mode": DisbursementMode.WEEKLY}),
    ("merchant", {"name": "Muebles Sol SA"}),
    ("merchant", {"tax_rate": Decimal("0.08")}),
])
def test_an_edit_resets_validated_of_what_was_edited(which: str, changes: dict[str, object]) -> None:
    merchant, store, option = validated_chain()
    entity = {"option": option, "store": store, "merchant": merchant}[which]
    edit(entity, changes)
    assert not entity.validated
    for name, value in changes.items():
        assert getattr(entity, name) == value
    others = [e for e in (merchant, store, option) if e is not entity]
    assert all(e.validated for e in others)


def test_editing_the_merchant_stops_origination_until_revalidated() -> None:
    merchant, _, _ = validated_chain()
    edit(merchant, {"name": "Otro"})
    assert not merchant.can_originate
    validate_merchant(merchant)
    assert merchant.can_originate


@pytest.mark.parametrize("name", ["id", "validated", "balance", "last_sequence", "no_such_field"])
def test_protected_or_unknown_fields_cannot_be_edited(name: str) -> None:
    _, store, _ = validated_chain()
    with pytest.raises(ValidationError):
        edit(store, {name: 99})
    assert store.validated and store.balance == 0 and store.last_sequence == 0 and store.id == 1


def test_a_rejected_edit_changes_nothing() -> None:
    _, store, _ = validated_chain()
    with pytest.raises(ValidationError):
        edit(store, {"clabe": "not a clabe", "balance": 10})
    assert store.clabe == GOOD_CLABE


def test_a_disabled_merchant_cannot_originate() -> None:
    merchant, _, _ = validated_chain()
    merchant.status = MerchantStatus.DISABLED
    assert merchant.validated and not merchant.can_originate
    merchant.status = MerchantStatus.ENABLED
    assert merchant.can_originate


def test_option_terms_carry_the_selection_fields() -> None:
    option = make_option(priority=4, is_active=False, is_in_trial_period=True, trial_commission=Decimal("0.01"),
                         end_of_trial_period=NOW, starting_time=NOW, ending_time=NOW)
    validate_option(option)
    terms = option.terms()
    assert (terms.id, terms.number_of_payments, terms.priority, terms.min_amount, terms.max_amount) == (10, 6, 4, 100, 100_000)
    assert terms.commission_rate == Decimal("0.05") and terms.validated and not terms.active
    assert terms.in_trial and terms.trial_commission_rate == Decimal("0.01") and terms.trial_ends_at == NOW
    assert terms.starts_at == NOW and terms.ends_at == NOW


def test_store_schedule_comes_from_its_fields() -> None:
    store = make_store(disbursement_mode=DisbursementMode.MONTHLY, day_of_month=31, timezone="America/Tijuana")
    schedule = store.schedule
    assert (schedule.mode, schedule.day_of_month, schedule.timezone) == (DisbursementMode.MONTHLY, 31, "America/Tijuana")
