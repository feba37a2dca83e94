"""Builders for a validated merchant, store and payment option, through the real use cases."""
from __future__ import annotations

from typing import Any

from adapters.db.uow import UnitOfWork
from domain import clabe
from domain.merchants import OfferAction
from usecases import catalog, products

_next_account = iter(range(1, 10**9))


def validated_store(uow: UnitOfWork, *, commission: str = "0.05", tax_rate: str | None = None,
                    options: tuple[int, ...] = (3, 6, 12), **store_fields: Any) -> int:
    """A merchant with one validated store offering ``options`` (number of payments); returns the store id."""
    merchant = catalog.create_merchant(uow, "Test Merchant", tax_rate=tax_rate)
    fields = {"name": "Test Store", "clabe": clabe.make("646", "180", f"{next(_next_account):011d}"),
              "beneficiary_name": "Tienda de Prueba", "disbursement_mode": "daily", "automation_enabled": True,
              "minimum_transfer": 0}
    fields.update(store_fields)
    store = catalog.create_store(uow, merchant.id, fields)
    for n in options:
        option = catalog.create_option(uow, store.id, {
            "number_of_payments": n, "merchant_commission": commission, "min_amount": 1, "max_amount": 10**9})
        catalog.validate_option(uow, option.id)
        products.move_offer(uow, option.id, OfferAction.ENABLE)  # type: ignore[arg-type]
    catalog.validate_store(uow, store.id)
    catalog.validate_merchant(uow, merchant.id)
    return store.id
