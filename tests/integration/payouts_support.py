"""What the payout tests share: a store paid to a known account, keys of named people, delivered credits
and their evaluation, and the store's transfers, on the test database."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from domain import clabe
from domain.ledger import BalanceUpdate, BankTransfer
from domain.merchants import Store
from tests.factories import validated_store
from usecases import access, credits as credit_cases, ledger

ORIGINAL = clabe.make("012", "180", "00000000042")
ATTACKER = clabe.make("072", "180", "00000000666")
SECOND = "luis@tests.example"  # a second treasury person: the one who changes details may not validate them


def key(container, role: str, owner: str | None = None) -> dict[str, str]:
    with container.uow() as uow:
        token = access.create_api_key(uow, role, owner=owner or f"{role}@tests.example")
        uow.commit()
    return {"Authorization": f"Bearer {token}"}


def new_store(container, **fields: Any) -> int:
    with container.uow() as uow:
        store_id = validated_store(uow, **{"clabe": ORIGINAL, "beneficiary_name": "Tienda Original",
                                           "disbursement_mode": "instant", **fields})
        uow.commit()
    return store_id


def store(container, store_id: int) -> Store:
    with container.uow() as uow:
        return uow.session.get(Store, store_id)


def delivered(container, store_id: int, external_id: str, amount: int = 100_000) -> int:
    """A delivered credit and its contribution; returns the contribution's id."""
    with container.uow() as uow:
        credit = credit_cases.originate(uow, store_id, external_id, amount, 3)
        credit_cases.deliver(uow, credit.id)
        uow.commit()
    with container.uow() as uow:
        ledger.contribute(uow, credit.id)
        uow.commit()
        return uow.session.scalars(select(BalanceUpdate.id).where(BalanceUpdate.credit_id == credit.id)).one()


def evaluate(container, store_id: int, period_key: str) -> str:
    with container.uow() as uow:
        outcome = ledger.evaluate_trigger(uow, store_id, period_key, container.payout_config)
        uow.commit()
    return outcome


def transfers(container, store_id: int) -> list[BankTransfer]:
    with container.uow() as uow:
        return list(uow.session.scalars(select(BankTransfer).where(BankTransfer.store_id == store_id)
                                        .order_by(BankTransfer.id)))
