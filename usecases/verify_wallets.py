"""The closed loop's side of ``dispersa ledger verify``: its wallets' books (domain.wallets.check_books),
its entries one by one (domain.wallets.check_entries), and the SPEI payouts wallet against the payment
orders it paid for (the tenants' SPEI rows and the wallets' withdrawals that were not cancelled or
returned), a tenant and a currency at a time."""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import func, or_, select, union_all
from sqlalchemy.orm import Session

from adapters.db import tables as db
from domain.payment_orders import PaymentOrderStatus
from domain.wallets import SPEI_PAYOUTS, Wallet, WalletEntry, WalletTotals, check_books, check_entries

W, E, O, I, B, WD = db.wallets, db.wallet_entries, db.payment_orders, db.instructions, db.batches, db.wallet_withdrawals
BACK = (PaymentOrderStatus.CANCELLED.value, PaymentOrderStatus.RETURNED.value)


def check_wallets(session: Session) -> list[str]:
    """Every violation of the closed loop's books (an empty list when they hold)."""
    out = [*_entries(session), *_withdrawals(session)]
    groups = session.execute(select(W.c.tenant_id, W.c.currency).distinct().order_by(W.c.tenant_id, W.c.currency))
    for tenant_id, currency in groups.all():
        totals = _totals(session, tenant_id, currency)
        out.extend(check_books(totals))
        out.extend(_payouts(session, tenant_id, currency, totals))
    return out


def _wallet(r: Any) -> Wallet:
    return Wallet(r.tenant_id, r.owner, r.currency, int(r.balance), r.id)


def _totals(session: Session, tenant_id: int, currency: str) -> list[WalletTotals]:
    """The wallets of one tenant in one currency, each with the sums of its entries."""
    ids = select(W.c.id).where(W.c.tenant_id == tenant_id, W.c.currency == currency)
    legs = union_all(
        select(E.c.credit_wallet_id.label("wallet_id"), E.c.amount.label("came_in"),
               (E.c.amount * 0).label("went_out")).where(E.c.credit_wallet_id.in_(ids)),
        select(E.c.debit_wallet_id, E.c.amount * 0, E.c.amount).where(E.c.debit_wallet_id.in_(ids))).subquery()
    sums = select(legs.c.wallet_id, func.sum(legs.c.came_in).label("came_in"),
                  func.sum(legs.c.went_out).label("went_out")).group_by(legs.c.wallet_id).subquery()
    rows = session.execute(select(W, func.coalesce(sums.c.came_in, 0).label("came_in"),
                                  func.coalesce(sums.c.went_out, 0).label("went_out"))
                           .select_from(W.outerjoin(sums, sums.c.wallet_id == W.c.id))
                           .where(W.c.tenant_id == tenant_id, W.c.currency == currency).order_by(W.c.id))
    return [WalletTotals(_wallet(r), int(r.came_in), int(r.went_out)) for r in rows]


def _entries(session: Session) -> Iterable[str]:
    """The entries that are not a positive amount between two wallets of one tenant in their currency."""
    debit, credit = W.alias("debit"), W.alias("credit")
    odd = session.execute(select(E, debit.c.id.label("d"), credit.c.id.label("c")).select_from(
        E.outerjoin(debit, debit.c.id == E.c.debit_wallet_id).outerjoin(credit, credit.c.id == E.c.credit_wallet_id))
        .where(or_(E.c.amount <= 0, E.c.debit_wallet_id == E.c.credit_wallet_id, debit.c.id.is_(None),
                   credit.c.id.is_(None), debit.c.tenant_id != credit.c.tenant_id,
                   debit.c.currency != credit.c.currency, E.c.currency != debit.c.currency, credit.c.outside))
        .order_by(E.c.id)).all()
    if not odd:
        return []
    ids = {r.d for r in odd if r.d is not None} | {r.c for r in odd if r.c is not None}
    wallets = {r.id: _wallet(r) for r in session.execute(select(W).where(W.c.id.in_(ids)))}
    entries = [WalletEntry(r.debit_wallet_id, r.credit_wallet_id, int(r.amount), r.currency, r.reference, r.at, r.id)
               for r in odd]
    return check_entries(entries, wallets)


def _payouts(session: Session, tenant_id: int, currency: str, totals: list[WalletTotals]) -> Iterable[str]:
    """The SPEI payouts wallet holds what its payment orders paid out and the bank did not give back."""
    payouts = [t.wallet for t in totals if t.wallet.owner == SPEI_PAYOUTS]
    if not payouts:
        return []
    rows = select(O.c.amount).select_from(
        O.join(I, I.c.payment_order_id == O.c.id).join(B, B.c.id == I.c.batch_pk)
        .join(E, E.c.reference == I.c.instruction_id)).where(B.c.tenant_id == tenant_id)
    withdrawals = select(O.c.amount).select_from(O.join(WD, WD.c.payment_order_id == O.c.id)).where(
        WD.c.tenant_id == tenant_id)
    ordered = union_all(*(q.where(O.c.currency == currency, O.c.status.not_in(BACK)) for q in (rows, withdrawals)))
    expected = int(session.execute(select(func.coalesce(func.sum(ordered.subquery().c.amount), 0))).scalar_one())
    held = sum(w.balance for w in payouts)
    if held == expected:
        return []
    return [f"tenant {tenant_id}'s {currency} SPEI payouts wallet holds {held}; its payment orders not cancelled "
            f"or returned pay {expected}"]



def _withdrawals(session: Session, chunk: int = 1000) -> Iterable[str]:
    """Each withdrawal paid out of its wallet by exactly its one entry, and given back (once) exactly when its
    order was cancelled or returned."""
    rows = session.execute(select(WD.c.reference, WD.c.uetr, WD.c.amount, O.c.status).select_from(
        WD.join(O, O.c.id == WD.c.payment_order_id)).order_by(WD.c.id)).all()
    for start in range(0, len(rows), chunk):
        some = rows[start:start + chunk]
        names = [f"withdrawal:{r.uetr}{end}" for r in some for end in ("", ":back")]
        entries = dict(session.execute(select(E.c.reference, E.c.amount).where(E.c.reference.in_(names))).all())
        for reference, uetr, amount, status in some:
            paid, back = entries.get(f"withdrawal:{uetr}"), entries.get(f"withdrawal:{uetr}:back")
            if paid != amount or (back is not None) != (status in BACK) or back not in (None, amount):
                order = PaymentOrderStatus(status).value
                yield (f"withdrawal {reference} ({uetr}, {amount}, order {order}): paid out by "
                       f"{'no' if paid is None else paid} entry, given back by {'no' if back is None else back} entry")
