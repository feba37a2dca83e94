"""Reconciliation: our payment orders of a day against the bank's own list of them, order by order."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping, Sequence

from domain import stp
from domain.money import Money, MoneyError
from domain.payment_orders import STATUS_OF_OUTCOME, PaymentOrder, PaymentOrderStatus as S
from domain.stp import OrderOutcome


@dataclass(frozen=True)
class Mismatch:
    """One difference between our order and the bank's: missing on either side, amount, status, ids."""

    tracking_key: str
    kind: str
    ours: dict[str, Any] | None
    bank: dict[str, Any] | None


def _ours(order: PaymentOrder) -> dict[str, Any]:
    return {"status": order.status.value, "amount": order.amount, "bank_order_id": order.bank_order_id,
            "uetr": order.uetr}


BANK_FIELDS = ("idEF", "claveRastreo", "monto", "estado", "causaDevolucion", "tsLiquidacion")


def _plain(value: Any) -> Any:
    """A value of the bank's row as JSON keeps it: its amounts arrive as Decimals (exact) and are kept as
    the decimal strings they were, as is anything else that is not a JSON scalar."""
    return value if value is None or isinstance(value, (bool, int, str)) else str(value)


def _bank(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(row.get(k)) for k in BANK_FIELDS}


def reconcilable(day: str, now: datetime) -> bool:
    """Whether ``day`` (YYYYMMDD) has begun at the bank: a day after today's operation date has no orders."""
    return day <= stp.operation_date(now)


def compare(orders: Sequence[PaymentOrder], bank_rows: Sequence[Mapping[str, Any]],
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
