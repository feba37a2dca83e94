"""Reconciliation: our payment orders of a day against the bank's own list, order by order."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy import insert, select

from adapters.db.tables import reconciliation_mismatches, reconciliation_runs
from adapters.db.uow import UnitOfWork
from domain import stp
from domain.money import Money, MoneyError
from domain.payment_orders import STATUS_OF_OUTCOME, PaymentOrder, PaymentOrderStatus as S
from domain.stp import OrderOutcome
from usecases import steps



@dataclass(frozen=True)
class Mismatch:
    tracking_key: str
    kind: str
    ours: dict[str, Any] | None
    bank: dict[str, Any] | None


def _ours(order: PaymentOrder) -> dict[str, Any]:
    return {"status": order.status.value, "amount": order.amount, "bank_order_id": order.bank_order_id,
            "uetr": order.uetr}


def _bank(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row.get(k) for k in ("idEF", "claveRastreo", "monto", "estado", "causaDevolucion", "tsLiquidacion")}


def compare(orders: list[PaymentOrder], bank_rows: list[Mapping[str, Any]],
            estados: Mapping[str, OrderOutcome]) -> tuple[int, list[Mismatch]]:
    """(matched, mismatches). Orders the bank refused never reached its books and are not expected there."""
    bank_by_key = {str(r.get("claveRastreo")): r for r in bank_rows}
    mismatches: list[Mismatch] = []
    matched = 0
    for order in orders:
        row = bank_by_key.pop(order.tracking_key, None)
        if row is None:
            if order.bank_order_id is not None or order.status not in (S.CANCELLED, S.CREATED):
                mismatches.append(Mismatch(order.tracking_key, "missing_at_bank", _ours(order), None))
            continue
        found = []
        try:
            if Money.parse(str(row.get("monto")), order.currency).minor != order.amount:
                found.append("amount")
        except MoneyError:
            found.append("amount")
        estado = str(row.get("estado", ""))
        outcome = stp.outcome_of(estado, estados)
        if outcome is None and estado not in stp.IN_FLIGHT_ESTADOS:
            found.append("unknown_estado")
        elif outcome is None:
            if order.status not in (S.SENDING, S.SENT):
                found.append("status")
        elif STATUS_OF_OUTCOME[outcome] != order.status:
            found.append("status")
        bank_id = row.get("idEF")
        if bank_id and order.bank_order_id and str(bank_id) != str(order.bank_order_id):
            found.append("bank_order_id")
        for kind in found:
            mismatches.append(Mismatch(order.tracking_key, kind, _ours(order), _bank(row)))
        matched += not found
    for key, row in bank_by_key.items():
        mismatches.append(Mismatch(key, "unknown_to_us", None, _bank(row)))
    return matched, mismatches


def reconcile_day(uow: UnitOfWork, day: str, bank_rows: list[Mapping[str, Any]],
                  estados: Mapping[str, OrderOutcome]) -> int:
    """Record one run for ``day`` (YYYYMMDD) with every mismatch; returns the run id."""
    orders = list(uow.session.scalars(select(PaymentOrder).where(PaymentOrder.operation_date == day)))
    matched, mismatches = compare(orders, bank_rows, estados)
    run_id = uow.session.execute(insert(reconciliation_runs).values(
        operation_date=day, started_at=uow.clock(), bank_orders=len(bank_rows), ledger_orders=len(orders),
        matched=matched, mismatches=len(mismatches))).inserted_primary_key[0]
    by_key = {o.tracking_key: o for o in orders}
    for m in mismatches:
        uow.session.execute(insert(reconciliation_mismatches).values(
            run_id=run_id, tracking_key=m.tracking_key, kind=m.kind, ours=m.ours, bank=m.bank))
        if m.kind == "status" and m.tracking_key in by_key:  # ask the bank and apply what it says
            order_id = by_key[m.tracking_key].id
            uow.outbox.send(steps.SYNC_PAYMENT_ORDER, order_id, again=f"reconciliation-{run_id}")
    level = "ERROR" if mismatches else "INFO"
    uow.log("reconciliation", f"{day}: {len(orders)} ours, {len(bank_rows)} at the bank, {matched} matched, "
            f"{len(mismatches)} mismatches", level=level, details={"run_id": run_id})
    return run_id


def latest_run(uow: UnitOfWork, day: str) -> dict[str, Any] | None:
    run = uow.session.execute(select(reconciliation_runs).where(reconciliation_runs.c.operation_date == day)
                              .order_by(reconciliation_runs.c.id.desc()).limit(1)).mappings().first()
    if run is None:
        return None
    rows = uow.session.execute(select(reconciliation_mismatches).where(
        reconciliation_mismatches.c.run_id == run["id"]).order_by(reconciliation_mismatches.c.id)).mappings()
    return {**{k: v for k, v in run.items()}, "mismatch_list": [
        {"tracking_key": r["tracking_key"], "kind": r["kind"], "ours": r["ours"], "bank": r["bank"]} for r in rows]}
