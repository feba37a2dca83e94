"""Queries the use cases share; each returns mapped domain objects."""
from __future__ import annotations

from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.credits import Credit
from domain.ledger import BalanceUpdate, BalanceUpdateStatus, BalanceUpdateType, BankTransfer
from domain.merchants import Merchant, PaymentOption, Store
from domain.errors import NotFound

E = TypeVar("E")

NAMES = {Merchant: "merchant", Store: "store", PaymentOption: "payment option", Credit: "credit",
         BankTransfer: "transfer", BalanceUpdate: "balance update"}


def get(session: Session, cls: type[E], id_: int, lock: bool = False) -> E:
    """Load by id or raise NotFound; ``lock`` takes a row lock (SELECT ... FOR UPDATE)."""
    obj = session.get(cls, id_, with_for_update=lock, populate_existing=lock)
    if obj is None:
        raise NotFound(f"{NAMES.get(cls, cls.__name__)} {id_} does not exist")
    return obj


def lock_store(session: Session, store_id: int) -> Store:
    """The ledger lock: every append to a store's chain holds its row lock first."""
    return get(session, Store, store_id, lock=True)


def pending_updates(session: Session, store_id: int) -> list[BalanceUpdate]:
    return list(session.scalars(
        select(BalanceUpdate).where(BalanceUpdate.store_id == store_id,
                                    BalanceUpdate.status == BalanceUpdateStatus.PENDING)
        .order_by(BalanceUpdate.sequence)))


def credit_update(session: Session, credit_id: int, type_: BalanceUpdateType) -> BalanceUpdate | None:
    return session.scalars(select(BalanceUpdate).where(
        BalanceUpdate.credit_id == credit_id, BalanceUpdate.type == type_)).first()


def transfer_update(session: Session, transfer_id: int, type_: BalanceUpdateType) -> BalanceUpdate | None:
    return session.scalars(select(BalanceUpdate).where(
        BalanceUpdate.bank_transfer_id == transfer_id, BalanceUpdate.type == type_)).first()


def transfer_by_key(session: Session, store_id: int, trigger_key: str) -> BankTransfer | None:
    return session.scalars(select(BankTransfer).where(
        BankTransfer.store_id == store_id, BankTransfer.trigger_key == trigger_key)).first()


def totals_by_status(session: Session, store_id: int) -> dict[BalanceUpdateStatus, int]:
    rows = session.execute(
        select(BalanceUpdate.status, func.coalesce(func.sum(BalanceUpdate.amount), 0))
        .where(BalanceUpdate.store_id == store_id,
               BalanceUpdate.status.in_([BalanceUpdateStatus.PENDING, BalanceUpdateStatus.IN_TRANSIT]))
        .group_by(BalanceUpdate.status))
    totals = {BalanceUpdateStatus.PENDING: 0, BalanceUpdateStatus.IN_TRANSIT: 0}
    totals.update({status: int(total) for status, total in rows})
    return totals
