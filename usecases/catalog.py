"""Merchants, stores and payment options: create, edit, validate (treasury)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from usecases.ports import UnitOfWork
from domain import clabe, masking, merchants as rules
from domain.access import Action, Role, a_key_of, may
from domain.commission import DEFAULT_MXN_TAX_RATE
from domain.dual_control import ACCOUNT_FIELDS, DualControlError, Person, require_second_person
from domain.merchants import PAYOUT_FIELDS, Change, CommissionTierRow, Merchant, MerchantStatus, PaymentOption, Store
from domain.money import MAX_MINOR, MINOR_UNITS, MoneyError, bounded, parse_rate, within_bound
from domain.sealed import refusal
from domain.schedules import DisbursementMode, ScheduleError
from domain.products import Product
from usecases.errors import Conflict, Forbidden, Invalid

E = TypeVar("E")


@dataclass(frozen=True)
class Edited(Generic[E]):
    """An edited entity and what changed in it, as (old, new) per field."""

    entity: E
    changes: dict[str, Change]

    def audit_details(self) -> dict[str, Any]:
        """The changes as the audit log keeps them: old and new per field, sorted by name, accounts and names
        masked."""
        return {"changes": {name: {"old": masking.field(name, old), "new": masking.field(name, new)}
                            for name, (old, new) in sorted(self.changes.items())}}

RATE_FIELDS = {"merchant_commission", "a0_interest_rate", "c3_interest_rate", "discount_percentage",
               "trial_commission", "tax_rate"}


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    """Turn edge values into domain values (rates to Decimal, modes to enums); reject what cannot be."""
    out = dict(fields)
    try:
        for name in RATE_FIELDS & out.keys():
            if out[name] is not None:
                out[name] = parse_rate(out[name])
    except MoneyError as e:
        raise Invalid(str(e)) from None
    if "disbursement_mode" in out:
        try:
            out["disbursement_mode"] = DisbursementMode(out["disbursement_mode"])
        except ValueError:
            raise Invalid(f"disbursement_mode is one of {[m.value for m in DisbursementMode]}") from None
    if isinstance(out.get("time_of_day"), str):
        try:
            out["time_of_day"] = time.fromisoformat(out["time_of_day"])
        except ValueError:
            raise Invalid("time_of_day is HH:MM") from None
    if "status" in out:
        try:
            out["status"] = MerchantStatus(out["status"])
        except ValueError:
            raise Invalid(f"status is one of {[m.value for m in MerchantStatus]}") from None
    if "timezone" in out:
        try:
            ZoneInfo(str(out["timezone"]))
        except Exception:
            raise Invalid(f"unknown time zone {out['timezone']!r}") from None
    if "currency" in out and out["currency"] not in MINOR_UNITS:
        raise Invalid(f"unsupported currency {out['currency']!r}")
    if "clabe" in out:
        try:
            clabe.validate(str(out["clabe"]))
        except clabe.InvalidClabe as e:
            raise Invalid(f"clabe: {e}") from None
    for name in ("minimum_transfer", "min_amount", "max_amount"):
        if name in out and (not isinstance(out[name], int) or out[name] < 0 or not within_bound(out[name])):
            raise Invalid(f"{name} is a non-negative integer amount in minor units, at most {MAX_MINOR}")
    return out


def _check_schedule(store: Store) -> None:
    try:
        _ = store.schedule
    except ScheduleError as e:
        raise Invalid(str(e)) from None


def create_merchant(uow: UnitOfWork, name: str, currency: str = "MXN", tax_rate: str | None = None,
                    tiers: list[dict[str, Any]] | None = None, timezone: str | None = None) -> Merchant:
    """Add a merchant, not validated; its tax rate defaults to 16 % for MXN and 0 for other currencies.
    Raises Invalid for a bad field or tier."""
    fields = _clean({"currency": currency, "tax_rate": tax_rate if tax_rate is not None else
                     (DEFAULT_MXN_TAX_RATE if currency == "MXN" else Decimal("0")),
                     **({"timezone": timezone} if timezone else {})})
    merchant = Merchant(name=name, created_at=uow.clock(), **fields)
    merchant.tiers = _tiers(tiers or [])
    return uow.merchants.add(merchant)


def _tiers(raw: list[dict[str, Any]]) -> list[CommissionTierRow]:
    try:
        tiers = [CommissionTierRow(merchant_id=0, min_origination=bounded(int(t["min_origination"]), "min_origination"),
                                   commission_rate=parse_rate(t["commission_rate"])) for t in raw]
    except (KeyError, TypeError, ValueError, MoneyError) as e:
        raise Invalid(f"tiers: each has min_origination and commission_rate ({e})") from None
    starts = [t.min_origination for t in tiers]
    if len(set(starts)) != len(starts):
        raise Invalid("tiers: each min_origination once")
    return tiers


def update_merchant(uow: UnitOfWork, merchant_id: int, changes: dict[str, Any]) -> Edited[Merchant]:
    """Edit a merchant's fields and, when ``tiers`` is given, replace its commission tiers; returns what
    changed as (old, new). A change of its fields needs treasury's validation again."""
    merchant = uow.merchants.lock(merchant_id)
    changes = dict(changes)
    tiers_changed: dict[str, Change] = {}
    if "tiers" in changes:
        old = [(t.min_origination, str(t.commission_rate)) for t in merchant.tiers]
        uow.merchants.replace_tiers(merchant, _tiers(changes.pop("tiers")))
        tiers_changed["tiers"] = (old, [(t.min_origination, str(t.commission_rate)) for t in merchant.tiers])
    changed = _edit(merchant, _clean(changes))
    return Edited(merchant, {**changed, **tiers_changed})


def create_store(uow: UnitOfWork, merchant_id: int, fields: dict[str, Any]) -> Store:
    """Add a store to a merchant, not validated, in the merchant's currency unless another is given.
    Raises Invalid for a bad field or schedule."""
    merchant = uow.merchants.get(merchant_id)
    fields = _clean(fields)
    fields.setdefault("currency", merchant.currency)
    try:
        store = Store(merchant_id=merchant_id, created_at=uow.clock(), **fields)
    except TypeError as e:
        raise Invalid(str(e)) from None
    _check_schedule(store)
    return uow.stores.add(store)


def update_store(uow: UnitOfWork, store_id: int, changes: dict[str, Any], role: Role,
                 by: Person | None = None) -> Edited[Store]:
    """Edit a store. Its bank details and approval switch are money decisions: a role that may not
    decide payouts (an operator) is refused them. Any change needs treasury's validation again,
    and until then the store is not paid. Dual control: the person who changes the bank details may
    neither validate them nor approve the first payout to a changed account."""
    store = uow.stores.lock(store_id)
    if "currency" in changes and changes["currency"] != store.currency and store.last_sequence:
        raise Invalid("a store with balance updates keeps its currency")
    cleaned = _clean(changes)
    differing = {name for name in cleaned if getattr(store, name) != cleaned[name]}
    money, other = sorted(differing & PAYOUT_FIELDS), sorted(differing - PAYOUT_FIELDS)
    if money and not may(role, Action.DECIDE_PAYOUTS):
        raise Forbidden(f"{', '.join(money)}: a store's bank details and approval switch are money decisions "
                        f"for treasury or admin; {a_key_of(role)} may not change them")
    if other and not may(role, Action.MANAGE_CATALOG):
        raise Forbidden(f"{', '.join(other)}: {a_key_of(role)} may change only a store's bank details and "
                        "approval switch")
    changed = _edit(store, cleaned)
    _check_schedule(store)
    if money and by is not None:
        store.details_changed_by_id = by.id
        if ACCOUNT_FIELDS & set(money):
            store.new_details_by_id = by.id
    if changed:
        uow.log("store_edited", f"store {store_id} edited ({', '.join(sorted(changed))}); it is not paid until "
                "treasury validates it again", level="WARNING" if money else "INFO", store_id=store_id,
                details={name: {"old": masking.field(name, old), "new": masking.field(name, new)}
                         for name, (old, new) in changed.items() if name in PAYOUT_FIELDS} or None)
    return Edited(store, changed)


def create_option(uow: UnitOfWork, store_id: int, fields: dict[str, Any]) -> PaymentOption:
    """Add a payment option (an offer) to a store, a draft not validated, under ``product_id`` or the store
    currency's default product. Raises Invalid for a bad field or a min amount above the max."""
    store = uow.stores.get(store_id)
    fields = _clean(fields)
    product = _product_for(uow, store, fields.pop("product_id", None))
    try:
        option = PaymentOption(store_id=store_id, merchant_id=store.merchant_id, created_at=uow.clock(),
                               product_id=product.id, **fields)
    except TypeError as e:
        raise Invalid(str(e)) from None
    _check_range(option)
    return uow.options.add(option)


def _product_for(uow: UnitOfWork, store: Store, product_id: int | None) -> Product:
    """The product a new offer goes under: the one named (in the store's currency, active), or the store
    currency's default product. NotFound for no such product, Invalid for another currency, Conflict for an
    inactive product."""
    if product_id is None:
        product = uow.products.default_for(store.currency, uow.clock())
    else:
        product = uow.products.get(product_id)
    if product.currency != store.currency:
        raise Invalid(f"product {product.id} is in {product.currency}; store {store.id} is in {store.currency}")
    if not product.is_active:
        raise Conflict(f"product {product.id} is inactive: it takes no new offers")
    return product


def update_option(uow: UnitOfWork, option_id: int, changes: dict[str, Any]) -> Edited[PaymentOption]:
    """Edit a payment option; returns what changed as (old, new). A change needs treasury's validation
    again."""
    option = uow.options.lock(option_id)
    changed = _edit(option, _clean(changes))
    _check_range(option)
    return Edited(option, changed)


def _check_range(option: PaymentOption) -> None:
    if option.min_amount > option.max_amount:
        raise Invalid("min_amount is above max_amount")


def _edit(entity: Merchant | Store | PaymentOption, changes: dict[str, Any]) -> dict[str, Change]:
    try:
        return rules.edit(entity, changes)
    except rules.ValidationError as e:
        raise Invalid(str(e)) from None


def validate_option(uow: UnitOfWork, option_id: int) -> PaymentOption:
    """Treasury validates a payment option; raises Conflict when its min amount is above its max or it has
    no payment."""
    option = uow.options.lock(option_id)
    _validate(rules.validate_option, option)
    return option


def validate_store(uow: UnitOfWork, store_id: int, by: Person | None = None) -> Store:
    """Treasury validates the store: from now on its payment orders carry these bank details. Bank details
    a person changed are validated by another person (Forbidden otherwise)."""
    store = uow.stores.lock(store_id)
    if refusal(store.clabe, store.beneficiary_name) is not None:
        raise Conflict(f"store {store_id}'s bank details cannot be read where they are kept (copied from another "
                       "store, or altered): enter them again before validating")
    if store.details_changed_by_id is not None and not store.validated:
        second_person(by, uow.people.get(store.details_changed_by_id),
                      f"store {store_id}'s bank details were changed", "a treasury or admin person")
    _validate(rules.validate_store, store)
    store.details_changed_by_id = None
    uow.log("store_validated", f"store {store_id} validated: payouts go to {masking.account(store.validated_clabe)} "
            f"({masking.name(store.payee_name)})", store_id=store_id, details=validated_details(store))
    return store


def validated_details(store: Store) -> dict[str, Any]:
    """What treasury validated of a store, as the audit keeps it (the account and name masked)."""
    return {"clabe": masking.account(store.validated_clabe),
            "beneficiary_name": masking.name(store.validated_beneficiary_name),
            "rfc_curp": store.validated_rfc_curp, "requires_confirmation": store.requires_confirmation}


def validate_merchant(uow: UnitOfWork, merchant_id: int) -> Merchant:
    """Treasury validates a merchant; raises Conflict when it has no validated store."""
    merchant = uow.merchants.lock(merchant_id)
    _validate(rules.validate_merchant, merchant)
    return merchant


def second_person(actor: Person | None, first: Person, rule: str, who_may: str) -> None:
    """Dual control at the edge: the same person twice is Forbidden, the message naming the rule and who may act."""
    try:
        require_second_person(actor, first, rule, who_may)
    except DualControlError as e:
        raise Forbidden(str(e)) from None


def _validate(rule: Any, entity: Any) -> None:
    """Treasury cannot validate what is not ready: a conflict with the entity's state (409), not bad input."""
    try:
        rule(entity)
    except rules.ValidationError as e:
        raise Conflict(str(e)) from None
