"""The catalogue's statuses: products (active, inactive) and offers (draft, enabled, disabled) move by their
transition tables; an offer issues loans only enabled, validated and under an active product; a merchant's
own partner key rejects, returns and delivers its own credits only, and only while the merchant is enabled."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from adapters.clock import ManualClock
from domain import clabe
from domain.access import ALLOWED, Action, Role, may
from domain.credits import CancellationReason, CreditStatus
from domain.merchants import OFFER_MOVES, MerchantStatus, OfferAction, OfferStatus, PaymentOption
from domain.products import (PRODUCT_MOVES, PaymentFrequency, Product, ProductAction, ProductEditRefused,
                             ProductStatus, StatusMoveRefused, allowed_actions)
from tests.fake_uow import FakeUnitOfWork
from usecases import catalog, credits, products
from usecases.errors import Conflict, Forbidden, Invalid, NotFound

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)

# every status x action: the status it leads to, or None when the table refuses it
PRODUCT_TABLE = {
    (ProductStatus.ACTIVE, ProductAction.ACTIVATE): ProductStatus.ACTIVE,  # a repeat changes nothing
    (ProductStatus.ACTIVE, ProductAction.DEACTIVATE): ProductStatus.INACTIVE,
    (ProductStatus.INACTIVE, ProductAction.ACTIVATE): ProductStatus.ACTIVE,
    (ProductStatus.INACTIVE, ProductAction.DEACTIVATE): ProductStatus.INACTIVE,
}
OFFER_TABLE = {
    (OfferStatus.DRAFT, OfferAction.ENABLE): OfferStatus.ENABLED,
    (OfferStatus.DRAFT, OfferAction.DISABLE): None,
    (OfferStatus.ENABLED, OfferAction.ENABLE): OfferStatus.ENABLED,
    (OfferStatus.ENABLED, OfferAction.DISABLE): OfferStatus.DISABLED,
    (OfferStatus.DISABLED, OfferAction.ENABLE): None,  # disabled is for good
    (OfferStatus.DISABLED, OfferAction.DISABLE): OfferStatus.DISABLED,
}


def test_the_tables_cover_every_status_and_action() -> None:
    assert set(PRODUCT_TABLE) == {(s, a) for s in ProductStatus for a in ProductAction}
    assert set(OFFER_TABLE) == {(s, a) for s in OfferStatus for a in OfferAction}
    assert set(PRODUCT_MOVES) == set(ProductAction) and set(OFFER_MOVES) == set(OfferAction)


@pytest.mark.parametrize(("status", "action"), list(PRODUCT_TABLE))
def test_a_product_moves_as_its_table_says(status: ProductStatus, action: ProductAction) -> None:
    product = Product("BNPL", "MXN", NOW, status=status, id=1)
    expected = PRODUCT_TABLE[(status, action)]
    assert product.move(action) == (expected != status)
    assert product.status == expected
    assert product.is_active == product.charges_interest == (expected == ProductStatus.ACTIVE)


@pytest.mark.parametrize(("status", "action"), list(OFFER_TABLE))
def test_an_offer_moves_as_its_table_says(status: OfferStatus, action: OfferAction) -> None:
    offer = PaymentOption(store_id=1, merchant_id=1, number_of_payments=3, merchant_commission=0,  # type: ignore[arg-type]
                          min_amount=1, max_amount=10, created_at=NOW, status=status, id=7)
    expected = OFFER_TABLE[(status, action)]
    if expected is None:
        with pytest.raises(StatusMoveRefused, match=f"offer 7 is {status.value}: it cannot {action.value}"):
            offer.move(action)
        assert offer.status == status
    else:
        assert offer.move(action) == (expected != status)
        assert offer.status == expected
    assert offer.issues_loans == (offer.status == OfferStatus.ENABLED)


def test_a_refusal_names_the_moves_the_status_allows() -> None:
    assert allowed_actions(OFFER_MOVES, OfferStatus.DRAFT) == ["enable"]
    assert allowed_actions(OFFER_MOVES, OfferStatus.DISABLED) == []
    with pytest.raises(StatusMoveRefused, match=r"allowed: none"):
        PaymentOption(store_id=1, merchant_id=1, number_of_payments=3, merchant_commission=0,  # type: ignore[arg-type]
                      min_amount=1, max_amount=10, created_at=NOW, status=OfferStatus.DISABLED).move(OfferAction.ENABLE)


def test_only_account_executives_and_admins_enable_offers() -> None:
    assert {r for r in Role if may(r, Action.ENABLE_OFFERS)} == {Role.ADMIN, Role.ACCOUNT_EXECUTIVE}
    assert {r for r in Role if may(r, Action.DISABLE_OFFERS)} == {Role.ADMIN, Role.ACCOUNT_EXECUTIVE, Role.OPERATOR}
    assert {r for r in Role if may(r, Action.HANDLE_CREDITS)} == {Role.ADMIN, Role.OPERATOR, Role.PARTNER}
    assert not may(Role.ACCOUNT_EXECUTIVE, Action.MANAGE_CATALOG) and not may(Role.ACCOUNT_EXECUTIVE, Action.VALIDATE)
    assert ALLOWED[Role.ACCOUNT_EXECUTIVE] >= {Action.READ}


def test_a_product_edits_its_name_and_frequency_only() -> None:
    product = Product("BNPL", "MXN", NOW)
    assert product.edit({"name": "BNPL", "payment_frequency": PaymentFrequency.WEEKLY}) == {
        "payment_frequency": (PaymentFrequency.MONTHLY, PaymentFrequency.WEEKLY)}
    with pytest.raises(ProductEditRefused, match="currency, status cannot be edited"):
        product.edit({"currency": "USD", "status": ProductStatus.INACTIVE})


# --- use cases on the fake unit of work -----------------------------------------------------------


def shop(uow: FakeUnitOfWork, currency: str = "MXN") -> tuple[int, int, int]:
    """A validated merchant and store with one validated 3-payment option, still a draft: (merchant, store, option)."""
    merchant = catalog.create_merchant(uow, "Muebles", currency=currency)
    store = catalog.create_store(uow, merchant.id, {"name": "Centro", "clabe": clabe.make("012", "180", "42"),  # type: ignore[arg-type]
                                                    "beneficiary_name": "Muebles Centro"})
    option = catalog.create_option(uow, store.id, {"number_of_payments": 3, "merchant_commission": "0.05",  # type: ignore[arg-type]
                                                   "min_amount": 1, "max_amount": 10**9})
    catalog.validate_option(uow, option.id)  # type: ignore[arg-type]
    catalog.validate_store(uow, store.id)  # type: ignore[arg-type]
    catalog.validate_merchant(uow, merchant.id)  # type: ignore[arg-type]
    return merchant.id, store.id, option.id  # type: ignore[return-value]


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork(ManualClock(NOW))


def test_a_new_offer_is_a_draft_under_its_currencys_default_product(uow: FakeUnitOfWork) -> None:
    _, store_id, option_id = shop(uow)
    option = uow.options.get(option_id)
    default = uow.products.get(option.product_id or 0)
    assert option.status == OfferStatus.DRAFT
    assert (default.currency, default.default_for_currency, default.payment_frequency) == ("MXN", "MXN",
                                                                                         PaymentFrequency.MONTHLY)
    second = catalog.create_option(uow, store_id, {"number_of_payments": 6, "merchant_commission": "0.05",
                                                   "min_amount": 1, "max_amount": 10})
    assert second.product_id == default.id and len(uow.products.all()) == 1


def test_an_offer_goes_under_an_active_product_of_the_stores_currency(uow: FakeUnitOfWork) -> None:
    _, store_id, _ = shop(uow)
    weekly = products.create_product(uow, "Semanal", "MXN", "weekly")
    dollars = products.create_product(uow, "Dollars", "USD")
    fields = {"number_of_payments": 6, "merchant_commission": "0.05", "min_amount": 1, "max_amount": 10}
    assert catalog.create_option(uow, store_id, {**fields, "product_id": weekly.id}).product_id == weekly.id
    with pytest.raises(Invalid, match="is in USD; store 1 is in MXN"):
        catalog.create_option(uow, store_id, {**fields, "product_id": dollars.id})
    with pytest.raises(NotFound):
        catalog.create_option(uow, store_id, {**fields, "product_id": 99})
    products.move_product(uow, weekly.id, ProductAction.DEACTIVATE)  # type: ignore[arg-type]
    with pytest.raises(Conflict, match="inactive: it takes no new offers"):
        catalog.create_option(uow, store_id, {**fields, "product_id": weekly.id})


def test_a_product_is_created_checked_and_edited(uow: FakeUnitOfWork) -> None:
    with pytest.raises(Invalid, match="unsupported currency"):
        products.create_product(uow, "X", "XXX")
    with pytest.raises(Invalid, match="payment_frequency is one of"):
        products.create_product(uow, "X", "MXN", "daily")
    product = products.create_product(uow, "BNPL", "MXN")
    assert (product.status, product.payment_frequency) == (ProductStatus.ACTIVE, PaymentFrequency.MONTHLY)
    edited = products.update_product(uow, product.id, {"payment_frequency": "biweekly"})  # type: ignore[arg-type]
    assert edited.changes == {"payment_frequency": (PaymentFrequency.MONTHLY, PaymentFrequency.BIWEEKLY)}
    with pytest.raises(Invalid, match="currency cannot be edited"):
        products.update_product(uow, product.id, {"currency": "USD"})  # type: ignore[arg-type]


def test_a_refused_move_is_a_conflict_that_changes_nothing(uow: FakeUnitOfWork) -> None:
    _, _, option_id = shop(uow)
    with pytest.raises(Conflict, match=r"offer 1 is draft: it cannot disable \(allowed: enable\)"):
        products.move_offer(uow, option_id, OfferAction.DISABLE)
    assert uow.options.get(option_id).status == OfferStatus.DRAFT
    products.move_offer(uow, option_id, OfferAction.ENABLE)
    products.move_offer(uow, option_id, OfferAction.DISABLE)
    with pytest.raises(Conflict, match="offer 1 is disabled"):
        products.move_offer(uow, option_id, OfferAction.ENABLE)
    assert uow.kinds() [-2:] == ["offer_enabled", "offer_disabled"]


def test_an_offer_of_an_inactive_product_cannot_be_enabled(uow: FakeUnitOfWork) -> None:
    _, _, option_id = shop(uow)
    products.move_product(uow, uow.options.get(option_id).product_id or 0, ProductAction.DEACTIVATE)
    with pytest.raises(Conflict, match="inactive: its offers cannot be enabled"):
        products.move_offer(uow, option_id, OfferAction.ENABLE)


def test_only_an_enabled_offer_of_an_active_product_issues_loans(uow: FakeUnitOfWork) -> None:
    _, store_id, option_id = shop(uow)
    with pytest.raises(Conflict, match="offer 1 is draft: it issues no new loans"):
        credits.originate(uow, store_id, "c-1", 1000, 3)
    products.move_offer(uow, option_id, OfferAction.ENABLE)
    assert credits.originate(uow, store_id, "c-1", 1000, 3).payment_option_id == option_id
    product_id = uow.options.get(option_id).product_id or 0
    products.move_product(uow, product_id, ProductAction.DEACTIVATE)
    with pytest.raises(Conflict, match=f"product {product_id} of offer 1 is inactive: it issues no new loans"):
        credits.originate(uow, store_id, "c-2", 1000, 3)
    products.move_product(uow, product_id, ProductAction.ACTIVATE)
    products.move_offer(uow, option_id, OfferAction.DISABLE)
    with pytest.raises(Conflict, match="offer 1 is disabled: it issues no new loans"):
        credits.originate(uow, store_id, "c-3", 1000, 3)
    assert [c.external_id for c in uow.credits.all()] == ["c-1"]
    credits.deliver(uow, 1)  # the disabled offer's loan goes on being serviced
    assert uow.credits.get(1).status == CreditStatus.ACTIVE


def test_a_disabled_offer_gives_way_to_an_enabled_one_of_lower_priority(uow: FakeUnitOfWork) -> None:
    _, store_id, first = shop(uow)
    second = catalog.create_option(uow, store_id, {"number_of_payments": 3, "merchant_commission": "0.07",
                                                   "min_amount": 1, "max_amount": 10**9, "priority": -1})
    catalog.validate_option(uow, second.id)  # type: ignore[arg-type]
    products.move_offer(uow, second.id, OfferAction.ENABLE)  # type: ignore[arg-type]
    assert credits.originate(uow, store_id, "c-1", 1000, 3).payment_option_id == second.id


def test_a_disabled_merchant_originates_nothing(uow: FakeUnitOfWork) -> None:
    merchant_id, store_id, option_id = shop(uow)
    products.move_offer(uow, option_id, OfferAction.ENABLE)
    catalog.update_merchant(uow, merchant_id, {"status": "disabled"})
    with pytest.raises(Forbidden, match="is not validated or is disabled"):
        credits.originate(uow, store_id, "c-1", 1000, 3)


@pytest.fixture
def signed(uow: FakeUnitOfWork) -> tuple[int, int, int]:
    """Two merchants, each with a signed credit: (merchant id, its credit id, the other merchant's credit id)."""
    merchant_id, store_id, option_id = shop(uow)
    products.move_offer(uow, option_id, OfferAction.ENABLE)
    other_merchant, other_store, other_option = shop(uow)
    products.move_offer(uow, other_option, OfferAction.ENABLE)
    own = credits.originate(uow, store_id, "own", 1000, 3)
    other = credits.originate(uow, other_store, "other", 1000, 3)
    return merchant_id, own.id, other.id  # type: ignore[return-value]


@pytest.mark.parametrize("reason", ["rejected", "returned"])
def test_a_merchant_rejects_or_returns_its_own_credit(uow: FakeUnitOfWork, signed: tuple[int, int, int],
                                                      reason: str) -> None:
    merchant_id, own, _ = signed
    assert credits.cancel(uow, own, reason, scope=merchant_id).cancellation_reason == CancellationReason(reason)


@pytest.mark.parametrize("reason", ["fraud", "death", "refinanced"])
def test_a_merchant_may_not_cancel_for_the_lenders_reasons(uow: FakeUnitOfWork, signed: tuple[int, int, int],
                                                           reason: str) -> None:
    merchant_id, own, _ = signed
    with pytest.raises(Forbidden, match="cancels only as rejected or returned"):
        credits.cancel(uow, own, reason, scope=merchant_id)
    assert uow.credits.get(own).status == CreditStatus.SIGNED
    assert credits.cancel(uow, own, reason).cancellation_reason == CancellationReason(reason)  # the lender may


def test_a_merchant_never_touches_another_merchants_credit(uow: FakeUnitOfWork, signed: tuple[int, int, int]) -> None:
    merchant_id, _, other = signed
    for attempt in (lambda: credits.cancel(uow, other, "rejected", scope=merchant_id),
                    lambda: credits.cancel(uow, other, "fraud", scope=merchant_id),
                    lambda: credits.deliver(uow, other, scope=merchant_id)):
        with pytest.raises(NotFound, match=f"credit {other} does not exist"):
            attempt()
    assert uow.credits.get(other).status == CreditStatus.SIGNED


def test_a_merchant_marks_delivery_of_its_own_credit(uow: FakeUnitOfWork, signed: tuple[int, int, int]) -> None:
    merchant_id, own, _ = signed
    assert credits.deliver(uow, own, scope=merchant_id).status == CreditStatus.ACTIVE


def test_a_disabled_merchant_neither_delivers_nor_cancels(uow: FakeUnitOfWork, signed: tuple[int, int, int]) -> None:
    merchant_id, own, _ = signed
    uow.merchants.get(merchant_id).status = MerchantStatus.DISABLED
    with pytest.raises(Forbidden, match="is disabled"):
        credits.deliver(uow, own, scope=merchant_id)
    with pytest.raises(Forbidden, match="is disabled"):
        credits.cancel(uow, own, "returned", scope=merchant_id)
    assert uow.credits.get(own).status == CreditStatus.SIGNED


def test_an_offers_status_and_product_move_only_by_their_own_operations(uow: FakeUnitOfWork) -> None:
    merchant_id, _, option_id = shop(uow)
    for field, value in (("status", "enabled"), ("product_id", 2)):
        with pytest.raises(Invalid, match=f"{field} cannot be edited"):
            catalog.update_option(uow, option_id, {field: value})
    assert uow.options.get(option_id).status == OfferStatus.DRAFT
    catalog.update_merchant(uow, merchant_id, {"status": "disabled"})  # a merchant's status is edited as before
    assert uow.merchants.get(merchant_id).status == MerchantStatus.DISABLED
