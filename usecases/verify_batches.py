"""The bulk side of ``dispersa ledger verify``: each batch's rows against its own counts and against the
money that moved. No row is paid twice (one wallet entry or one payment order at most), every closed-loop
success has exactly its wallet entry, every SPEI success exactly one liquidated order, and a finished
batch has no row still on its way. Each row's amount is the one its row as sent reads, and each payment
order's the one of its row."""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import JSON, Integer, and_, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from adapters.db import tables as db
from adapters.sealing import KEYRING
from domain.bulk_files import RowFailure, parse_amount
from domain.tenants import FLOAT

I, B, S, E, O, W = db.instructions, db.batches, db.sub_batches, db.wallet_entries, db.payment_orders, db.wallets
FINAL = ("success", "failure")
# The rows a float has paid: closed-loop successes, and SPEI rows handed to the bank and not given back
# (a cancelled or returned one failed, and its money came back to the float).
PAID_FROM_FLOAT = or_(and_(I.c.connector == "closedloop", I.c.status == "success"),
                      and_(I.c.connector == "spei", I.c.payment_order_id.is_not(None), I.c.status != "failure"))


def batch_keys(session: Session) -> list[int]:
    """Every batch's primary key, oldest first."""
    return list(session.scalars(select(B.c.id).order_by(B.c.id)))


def check_batch(session: Session, batch_pk: int) -> list[str]:
    """The violations of one batch (an empty list when its books hold)."""
    batch = session.execute(select(B).where(B.c.id == batch_pk)).one()
    name = f"batch {batch.batch_id}"
    out: list[str] = []
    rows, settled = session.execute(select(func.count(), func.coalesce(func.sum(
        (I.c.status.in_(FINAL)).cast(Integer)), 0)).where(I.c.batch_pk == batch_pk)).one()
    if batch.status not in ("queued",) and rows != batch.rows:
        out.append(f"{name}: {rows} instructions, the batch counts {batch.rows} rows")
    if batch.status in ("completed", "failed") and settled != rows:
        out.append(f"{name} is {batch.status} with {rows - settled} row(s) still on their way")
    planned = session.execute(select(func.coalesce(func.sum(S.c.rows), 0)).where(S.c.batch_pk == batch_pk)).scalar()
    numbered = session.execute(select(func.count()).where(I.c.batch_pk == batch_pk, I.c.sub_batch.is_not(None))
                               ).scalar()
    if planned != numbered:
        out.append(f"{name}: its sub-batches hold {planned} rows, {numbered} rows are numbered into them")
    out.extend(_amounts(session, name, batch_pk))
    out.extend(_order_amounts(session, name, batch_pk))
    out.extend(_closed_loop(session, name, batch_pk))
    out.extend(_spei(session, name, batch_pk))
    return out


def _amounts(session: Session, name: str, batch_pk: int) -> Iterable[str]:
    """Rows whose amount is not the one their row as sent reads (parsed by the rule that read it then)."""
    sent = type_coerce(I.c.fields, JSON)
    rows = session.execute(select(I.c.row, I.c.amount, I.c.currency, sent["amount"].as_string(),
                                  sent["currency"].as_string()).where(
        I.c.batch_pk == batch_pk, or_(I.c.amount.is_not(None), I.c.status == "success")).order_by(I.c.row)
        .execution_options(yield_per=10_000))
    for row, amount, currency, written, written_currency in rows:
        read = parse_amount(written or "", (written_currency or "").strip().upper())
        if isinstance(read, RowFailure) or (read.minor, read.currency) != (amount, currency):
            yield (f"{name} row {row}: its amount is {amount} {currency} minor units, its row as sent reads "
                   f"{written!r} {written_currency!r}")


def _order_amounts(session: Session, name: str, batch_pk: int) -> Iterable[str]:
    """Payment orders of the batch's rows for another amount than their row's."""
    rows = session.execute(select(I.c.row, I.c.amount, I.c.currency, O.c.tracking_key, O.c.amount, O.c.currency)
                           .select_from(I.join(O, O.c.uetr == I.c.uetr)).where(
        I.c.batch_pk == batch_pk, or_(O.c.amount != I.c.amount, O.c.currency != I.c.currency)))
    for row, amount, currency, tracking_key, ordered, order_currency in rows:
        yield (f"{name} row {row} ({amount} {currency}) has payment order {tracking_key} for "
               f"{ordered} {order_currency}")


def _closed_loop(session: Session, name: str, batch_pk: int) -> Iterable[str]:
    entries = select(E.c.reference, func.count().label("n"), func.sum(E.c.amount).label("paid")).group_by(
        E.c.reference).subquery()
    rows = session.execute(select(I.c.row, I.c.status, I.c.amount, entries.c.n, entries.c.paid).select_from(
        I.outerjoin(entries, entries.c.reference == I.c.instruction_id)).where(
        I.c.batch_pk == batch_pk, I.c.connector == "closedloop",
        ((I.c.status == "success") & (func.coalesce(entries.c.paid, -1) != I.c.amount))
        | ((I.c.status != "success") & entries.c.n.is_not(None))))
    for row, status, amount, n, paid in rows:
        yield (f"{name} row {row} ({status.value}, {amount}) has {n or 0} wallet entries paying {paid or 0}")


def _spei(session: Session, name: str, batch_pk: int) -> Iterable[str]:
    orders = select(O.c.uetr, func.count().label("n"),
                    func.sum((O.c.status == "liquidated").cast(Integer)).label("liquidated")).group_by(
        O.c.uetr).subquery()
    rows = session.execute(select(I.c.row, I.c.status, orders.c.n, orders.c.liquidated).select_from(
        I.outerjoin(orders, orders.c.uetr == I.c.uetr)).where(
        I.c.batch_pk == batch_pk, I.c.connector == "spei",
        (func.coalesce(orders.c.n, 0) > 1)
        | and_(I.c.status == "success", func.coalesce(orders.c.liquidated, 0) != 1)))
    for row, status, n, liquidated in rows:
        yield f"{name} row {row} ({status.value}) has {n or 0} payment orders, {liquidated or 0} liquidated"


def check_floats(session: Session) -> list[str]:
    """Each tenant's float, per currency, against its own entries (what came in less what went out) and
    against its business: its fundings less the rows it paid (closed-loop successes, SPEI rows handed to
    the bank and not cancelled or returned)."""
    out: list[str] = []
    outside = select(W.c.id).where(W.c.outside)  # fundings come out of the tenants' outside accounts
    floats = session.execute(select(W.c.id, W.c.tenant_id, W.c.currency, W.c.balance, db.tenants.c.name).join(
        db.tenants, db.tenants.c.id == W.c.tenant_id).where(W.c.owner_digest.in_(KEYRING.digests(FLOAT)))
        .order_by(W.c.id))
    for wallet_id, tenant_id, currency, balance, tenant in floats:
        name = f"tenant {tenant}'s {currency} float ({balance})"
        came_in, went_out, funded = session.execute(select(
            func.coalesce(func.sum((E.c.credit_wallet_id == wallet_id).cast(Integer) * E.c.amount), 0),
            func.coalesce(func.sum((E.c.debit_wallet_id == wallet_id).cast(Integer) * E.c.amount), 0),
            func.coalesce(func.sum(and_(E.c.credit_wallet_id == wallet_id, E.c.debit_wallet_id.in_(outside))
                                   .cast(Integer) * E.c.amount), 0)).where(
            or_(E.c.credit_wallet_id == wallet_id, E.c.debit_wallet_id == wallet_id))).one()
        paid = session.execute(select(func.coalesce(func.sum(I.c.amount), 0)).select_from(
            I.join(B, B.c.id == I.c.batch_pk)).where(B.c.tenant_id == tenant_id, I.c.currency == currency,
                                                     PAID_FROM_FLOAT)).scalar_one()
        if balance != came_in - went_out:
            out.append(f"{name}: its entries bring in {came_in} and take out {went_out}")
        if balance != funded - paid:
            out.append(f"{name}: funded {funded}, its rows paid {paid}: it should hold {funded - paid}")
    return out
