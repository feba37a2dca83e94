"""Withdrawals out of the closed loop's wallets (one per tenant and reference, by a unique key) and a
wallet's entries, a page at a time."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from adapters.db import tables as t
from adapters.db.errors import insert_unless_present
from adapters.db.repositories import _wallet
from adapters.sealing import KEYRING
from domain.errors import NotFound
from domain.wallets import Wallet, WalletEntry, Withdrawal, WithdrawalStatus

WD, E = t.wallet_withdrawals, t.wallet_entries


class Withdrawals:
    """The wallets' withdrawals."""

    def __init__(self, session: Session):
        self._session = session

    def by_reference(self, tenant_id: int, reference: str) -> Withdrawal | None:
        row = self._session.execute(select(WD).where(WD.c.tenant_id == tenant_id, WD.c.reference == reference)).first()
        return None if row is None else _withdrawal(row)

    def of_order(self, payment_order_id: int) -> Withdrawal | None:
        row = self._session.execute(select(WD).where(WD.c.payment_order_id == payment_order_id)).first()
        return None if row is None else _withdrawal(row)

    def add(self, w: Withdrawal) -> bool:
        """Record it; False (nothing written) when its tenant has one of this reference already."""
        done = insert_unless_present(self._session, insert(WD).values(
            tenant_id=w.tenant_id, wallet_id=w.wallet_id, reference=w.reference, request_sha256=w.request_sha256,
            amount=w.amount, currency=w.currency, uetr=w.uetr, payment_order_id=w.payment_order_id,
            requested_by_key_id=w.requested_by_key_id, created_at=w.created_at, status=w.status),
            lambda: self.by_reference(w.tenant_id, w.reference) is not None)
        if done is None:
            return False
        key = done.inserted_primary_key
        w.id = int(key[0]) if key else None
        return True

    def by_uetr(self, uetr: str, lock: bool = False) -> Withdrawal:
        """The withdrawal of this order's UETR (its row locked when ``lock``); NotFound when there is none."""
        stmt = select(WD).where(WD.c.uetr == uetr)
        row = self._session.execute(stmt.with_for_update() if lock else stmt).first()
        if row is None:
            raise NotFound(f"withdrawal {uetr} does not exist")
        return _withdrawal(row)

    def save(self, w: Withdrawal) -> None:
        self._session.execute(update(WD).where(WD.c.id == w.id).values(status=w.status,
                                                                         decided_by_key_id=w.decided_by_key_id))

    def entries(self, wallet_ids: list[int], page: int, per_page: int) -> tuple[list[WalletEntry], int]:
        """A page of the entries of these wallets, the latest first, and how many there are."""
        touches = or_(E.c.debit_wallet_id.in_(wallet_ids), E.c.credit_wallet_id.in_(wallet_ids))
        total = self._session.execute(select(func.count()).select_from(E).where(touches)).scalar_one()
        rows = self._session.execute(select(E).where(touches).order_by(E.c.id.desc())
                                     .limit(per_page).offset((page - 1) * per_page))
        return [WalletEntry(r.debit_wallet_id, r.credit_wallet_id, int(r.amount), r.currency, r.reference, r.at, r.id)
                for r in rows], int(total)

    def wallets_of(self, tenant_id: int, owner: str) -> list[Wallet]:
        """The owner's wallets (one per currency), found by its digest under every data key."""
        w = t.wallets
        rows = self._session.execute(select(w).where(w.c.tenant_id == tenant_id,
                                                     w.c.owner_digest.in_(KEYRING.digests(owner))))
        return sorted((_wallet(r) for r in rows), key=lambda wallet: wallet.currency)

    def wallet(self, wallet_id: int) -> Wallet:
        """A wallet by its id (no lock)."""
        return _wallet(self._session.execute(select(t.wallets).where(t.wallets.c.id == wallet_id)).one())

    def owners(self, wallet_ids: set[int]) -> dict[int, str]:
        """The owners of these wallets, by id."""
        w = t.wallets
        return {r.id: r.owner for r in self._session.execute(select(w.c.id, w.c.owner, w.c.owner_digest).where(
            w.c.id.in_(sorted(wallet_ids))))} if wallet_ids else {}


def _withdrawal(r: Any) -> Withdrawal:
    return Withdrawal(r.tenant_id, r.wallet_id, r.reference, r.request_sha256, int(r.amount), r.currency, r.uetr,
                      r.created_at, r.requested_by_key_id, r.payment_order_id, r.id, WithdrawalStatus(r.status),
                      r.decided_by_key_id)



