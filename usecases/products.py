"""Products (they group the stores' offers): create, edit, activate and deactivate; and the offers' own status
moves (an account executive enables a draft, a disabled offer issues no new loans)."""
from __future__ import annotations

from typing import Any

from domain.merchants import OfferAction, PaymentOption
from domain.money import MINOR_UNITS
from domain.products import PaymentFrequency, Product, ProductAction, ProductEditRefused, StatusMoveRefused
from usecases.catalog import Edited
from usecases.errors import Conflict, Invalid
from usecases.loan_days import lender_today
from usecases.ports import UnitOfWork

def _frequency(value: Any) -> PaymentFrequency:
    try:
        return PaymentFrequency(value)
    except ValueError:
        raise Invalid(f"payment_frequency is one of {[f.value for f in PaymentFrequency]}") from None


def create_product(uow: UnitOfWork, name: str, currency: str,
                   payment_frequency: str = PaymentFrequency.MONTHLY.value) -> Product:
    """Add an active product. Raises Invalid for an unsupported currency or frequency."""
    if currency not in MINOR_UNITS:
        raise Invalid(f"unsupported currency {currency!r}")
    product = uow.products.add(Product(name=name, currency=currency, payment_frequency=_frequency(payment_frequency),
                                       created_at=uow.clock()))
    uow.log("product_created", f"product {product.id} ({currency}, {product.payment_frequency.value}) created")
    return product


def update_product(uow: UnitOfWork, product_id: int, changes: dict[str, Any]) -> Edited[Product]:
    """Edit a product's name or payment frequency (its currency stays: its offers are in it); returns what
    changed as (old, new)."""
    product = uow.products.lock(product_id)
    cleaned = {**changes, **({"payment_frequency": _frequency(changes["payment_frequency"])}
                             if "payment_frequency" in changes else {})}
    try:
        return Edited(product, product.edit(cleaned))
    except ProductEditRefused as e:
        raise Invalid(str(e)) from None


def move_product(uow: UnitOfWork, product_id: int, action: ProductAction) -> Product:
    """Activate or deactivate a product. A repeat changes nothing; a move the table refuses is a Conflict
    naming the status and the moves it allows. An inactive product takes no new offers and issues no new loans."""
    product = uow.products.lock(product_id)
    try:
        changed = product.move(action)
    except StatusMoveRefused as e:
        raise Conflict(str(e)) from None
    if changed:
        uow.loans.add_product_change(product_id, product.status, lender_today(uow), uow.clock())
        uow.log(f"product_{product.status.value}", f"product {product_id} is {product.status.value}",
                level="WARNING" if not product.is_active else "INFO")
    return product


def move_offer(uow: UnitOfWork, option_id: int, action: OfferAction) -> PaymentOption:
    """Enable a draft offer or disable an enabled one. Enabling needs the offer's product active. A repeat
    changes nothing; a move the table refuses is a Conflict naming the status and the moves it allows."""
    option = uow.options.lock(option_id)
    if action == OfferAction.ENABLE and not uow.products.get(option.product_id or 0).is_active:
        raise Conflict(f"product {option.product_id} is inactive: its offers cannot be enabled")
    try:
        changed = option.move(action)
    except StatusMoveRefused as e:
        raise Conflict(str(e)) from None
    if changed:
        uow.log(f"offer_{option.status.value}", f"offer {option_id} of store {option.store_id} is "
                f"{option.status.value}", store_id=option.store_id)
    return option
