"""The proofs after the run: the ledger against the sandbox's own books, order by order (what the bank paid
is what the ledger disbursed, no order paid twice, nothing at the bank the ledger does not know); what
each store was owed against its balance and what the bank paid it (money lost or made up); the day's
reconciliation through the API; and ``dispersa ledger verify``."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from chaos.api import Api
from chaos.drive import Expected, StoreRef
from chaos.state import Observer
from testbed import Testbed

LIQUIDATED, CANCELLED, RETURNED = "LQ", "CN", "D"
# The bank's estado -> what our order and its transfer must say.
EXPECTED = {LIQUIDATED: ("liquidated", "applied"), CANCELLED: ("cancelled", "cancelled"),
            RETURNED: ("returned", "rejected")}
TRANSFER_IN_CONCEPT = re.compile(r"transferencia (\d+)", re.IGNORECASE)
OURS_SQL = """
SELECT po.tracking_key, po.status, po.amount, po.bank_transfer_id, po.beneficiary_account, t.status, t.store_id,
       COALESCE(d.amount, 0), COALESCE(o.amount, 0)
FROM payment_orders po
LEFT JOIN bank_transfers t ON t.id = po.bank_transfer_id
LEFT JOIN balance_updates d ON d.bank_transfer_id = po.bank_transfer_id AND d.type = 'disbursement'
LEFT JOIN balance_updates o ON o.bank_transfer_id = po.bank_transfer_id AND o.type = 'disbursement_override'
"""


@dataclass(frozen=True)
class OurOrder:
    """A payment order as the ledger has it, with what it disbursed net of any override."""

    tracking_key: str
    status: str
    amount: int
    transfer_id: int | None
    account: str
    transfer_status: str | None
    store_id: int | None
    disbursed: int  # net: what the ledger says left the store for this order

    @classmethod
    def of(cls, row: Any) -> OurOrder:
        """From a row of OURS_SQL."""
        key, status, amount, transfer_id, account, t_status, store_id, disbursement, override = row
        return cls(key, status, int(amount), transfer_id, account, t_status, store_id,
                   -(int(disbursement) + int(override)))


def cents(monto: Any) -> int:
    """STP's ``monto`` (a number of pesos) in centavos, exactly."""
    return int((Decimal(str(monto)) * 100).to_integral_value())


def bank_paid(order: dict[str, Any]) -> int:
    """What left our account for good with this bank order: its amount when liquidated, else nothing."""
    return cents(order["monto"]) if order.get("estado") == LIQUIDATED else 0


@dataclass
class BooksCheck:
    """The ledger against the bank's books."""

    compared: int = 0
    bank_orders: int = 0
    ledger_orders: int = 0
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    paid_twice: list[dict[str, Any]] = field(default_factory=list)
    sent_twice: list[dict[str, Any]] = field(default_factory=list)
    bank_paid: int = 0
    ledger_disbursed: int = 0
    stores: list[dict[str, Any]] = field(default_factory=list)

    @property
    def money_lost(self) -> int:
        """Σ over stores of owed − balance − paid by the bank (0 when nothing is lost or made up)."""
        return sum(s["lost"] for s in self.stores)

    def add(self, kind: str, key: str, **details: Any) -> None:
        """One difference between the ledger and the bank."""
        self.mismatches.append({"kind": kind, "tracking_key": key, **details})


def _compare_one(check: BooksCheck, bank: dict[str, Any] | None, ours: OurOrder | None) -> None:
    key = (ours.tracking_key if ours else str(bank and bank["claveRastreo"]))
    if ours is None:
        assert bank is not None
        check.add("unknown_to_ledger", key, bank_estado=bank.get("estado"), bank_amount=cents(bank["monto"]))
        return
    if bank is None:
        if ours.status not in ("cancelled", "created") or ours.disbursed:
            check.add("missing_at_bank", key, ours=ours.status, disbursed=ours.disbursed)
        return
    check.compared += 1
    estado, amount = bank.get("estado"), cents(bank["monto"])
    if amount != ours.amount:
        check.add("amount", key, ours=ours.amount, bank=amount)
    if estado not in EXPECTED:
        check.add("bank_in_flight", key, bank_estado=estado, ours=ours.status)
        return
    order_status, transfer_status = EXPECTED[estado]
    if ours.status != order_status or (ours.transfer_id is not None and ours.transfer_status != transfer_status):
        check.add("status", key, bank_estado=estado, order=ours.status, transfer=ours.transfer_status)
    if bank_paid(bank) != ours.disbursed:
        check.add("money", key, bank_paid=bank_paid(bank), ledger_disbursed=ours.disbursed)


def _twice(check: BooksCheck, books: list[dict[str, Any]]) -> None:
    """Bank orders that name the same transfer in their concept: sent twice, and paid twice when more
    than one of them was liquidated."""
    by_transfer: dict[int, list[dict[str, Any]]] = {}
    for order in books:
        found = TRANSFER_IN_CONCEPT.search(str(order.get("conceptoPago", "")))
        if found:
            by_transfer.setdefault(int(found.group(1)), []).append(order)
    for transfer_id, orders in sorted(by_transfer.items()):
        if len(orders) > 1:
            keys = [o["claveRastreo"] for o in orders]
            check.sent_twice.append({"transfer": transfer_id, "tracking_keys": keys})
            paid = [o["claveRastreo"] for o in orders if o.get("estado") == LIQUIDATED]
            if len(paid) > 1:
                check.paid_twice.append({"transfer": transfer_id, "tracking_keys": paid})


def _stores(check: BooksCheck, books: list[dict[str, Any]], stores: list[StoreRef], owed: dict[int, int],
            balances: dict[int, int]) -> None:
    paid_to: dict[str, int] = {}
    for order in books:
        paid_to[order["cuentaBeneficiario"]] = paid_to.get(order["cuentaBeneficiario"], 0) + bank_paid(order)
    for store in stores:
        row: dict[str, Any] = {"store": store.id, "mode": store.plan.mode, "owed": owed.get(store.id, 0),
               "balance": balances.get(store.id, 0), "bank_paid": paid_to.get(store.clabe, 0)}
        row["lost"] = row["owed"] - row["balance"] - row["bank_paid"]
        check.stores.append(row)


def check_books(observer: Observer, books: list[dict[str, Any]], stores: list[StoreRef],
                owed: dict[int, int]) -> BooksCheck:
    """Order by order, the ledger against the bank's books; then each store's money."""
    ours = {o.tracking_key: o for o in map(OurOrder.of, observer.rows(OURS_SQL))}
    bank = {str(o["claveRastreo"]): o for o in books}
    check = BooksCheck(bank_orders=len(bank), ledger_orders=len(ours))
    for key in sorted(set(ours) | set(bank)):
        _compare_one(check, bank.get(key), ours.get(key))
    check.bank_paid = sum(bank_paid(o) for o in books)
    check.ledger_disbursed = sum(o.disbursed for o in ours.values())
    _twice(check, books)
    balances = {int(i): int(b) for i, b in observer.rows("SELECT id, balance FROM stores")}
    _stores(check, books, stores, owed, balances)
    return check


@dataclass
class AcknowledgedCheck:
    """What the API acknowledged against what the database holds: credits originated, delivered and
    cancelled, and each store's adjustments. Anything acknowledged and missing is a lost write."""

    counts: dict[str, int] = field(default_factory=dict)
    lost: dict[str, list[int]] = field(default_factory=dict)


def check_acknowledged(observer: Observer, expected: Expected) -> AcknowledgedCheck:
    """Every credit and adjustment the API acknowledged is in the database as acknowledged."""
    rows = observer.rows("SELECT id, delivered_at IS NOT NULL, status FROM credits")
    known = {int(i) for i, _, _ in rows}
    delivered = {int(i) for i, d, _ in rows if d}
    cancelled = {int(i) for i, _, status in rows if status == "cancelled"}
    adjusted = {int(store): int(total) for store, total in observer.rows(
        "SELECT store_id, SUM(amount) FROM balance_updates WHERE type = 'adjustment' GROUP BY store_id")}
    check = AcknowledgedCheck(counts={"credits acknowledged": len(expected.contributions),
                                      "deliveries acknowledged": len(expected.delivered),
                                      "cancellations acknowledged": len(expected.cancelled)})
    lost = {"credits": set(expected.contributions) - known, "deliveries": expected.delivered - delivered,
            "cancellations": expected.cancelled - cancelled,
            "adjustments (stores)": {s for s, total in expected.adjustments.items() if adjusted.get(s, 0) != total}}
    check.lost = {what: sorted(ids) for what, ids in lost.items() if ids}
    return check


@dataclass
class Reconciliation:
    """One day's reconciliation run, as GET /reconciliations/{date} shows it."""

    day: str
    bank_orders: int
    ledger_orders: int
    matched: int
    mismatches: list[dict[str, Any]]


def reconcile(api: Api, day: str, timeout: float) -> Reconciliation:
    """POST /reconciliations/{day} (YYYY-MM-DD) and wait for the run it asked for."""
    asked = datetime.now(timezone.utc).replace(microsecond=0)
    api.call("POST", f"/reconciliations/{day}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = api.call("GET", f"/reconciliations/{day}", expect=(200, 404))
        if answer.status_code == 200:
            run = answer.json()
            if _parse_time(run["started_at"]) >= asked:
                return Reconciliation(day, run["bank_orders"], run["ledger_orders"], run["matched"],
                                      run["mismatch_list"])
        time.sleep(1.0)
    raise TimeoutError(f"the reconciliation of {day} asked at {asked:%H:%M:%S} UTC did not run within {timeout:.0f}s")


def _parse_time(value: str) -> datetime:
    at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def operation_days(observer: Observer, books: list[dict[str, Any]]) -> list[str]:
    """Every operation day (YYYY-MM-DD) either side has orders on."""
    days = {str(d) for (d,) in observer.rows("SELECT DISTINCT operation_date FROM payment_orders")}
    days |= {str(o.get("fechaOperacion")) for o in books if o.get("fechaOperacion")}
    return sorted(f"{d[:4]}-{d[4:6]}-{d[6:8]}" for d in days if len(d) == 8)


@dataclass
class LedgerVerify:
    """``dispersa ledger verify``: its exit code, summary line and violations."""

    exit_code: int
    summary: str
    violations: list[str]


def ledger_verify(bed: Testbed) -> LedgerVerify:
    """Run ``dispersa ledger verify`` in the testbed's environment, as an operator would."""
    done = bed.run_status("dispersa", "ledger", "verify")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    errors = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("database:")]
    summary = lines[-1] if lines else " ".join(errors)[-500:] or f"exit {done.returncode}, no output"
    return LedgerVerify(done.returncode, summary, lines[:-1])
