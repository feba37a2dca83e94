"""The proofs after the run: the ledger against the sandbox's own books, order by order (what the bank paid
is what the ledger disbursed, no order paid twice, nothing at the bank the ledger does not know); what
each store was owed against its balance and what the bank paid it (money lost or made up); the bulk
batch against its plan, the wallet ledger and the bank (every row settled as the bank or the closed loop
says, none paid twice, the batch's totals the money that moved); the day's reconciliation through the
API; and ``dispersa ledger verify``."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from adapters.sealing import KEYRING
from chaos.api import Api
from chaos.drive import BulkDriven, Expected, StoreRef
from chaos.plan import BulkPlan
from chaos.state import Observer
from testbed import Testbed

LIQUIDATED, CANCELLED, RETURNED = "LQ", "CN", "D"
# The bank's estado -> what our order and its transfer must say.
EXPECTED = {LIQUIDATED: ("liquidated", "applied"), CANCELLED: ("cancelled", "cancelled"),
            RETURNED: ("returned", "rejected")}
TRANSFER_IN_CONCEPT = re.compile(r"transferencia (\d+)", re.IGNORECASE)
# A store's order disbursed what its balance updates say; a bulk row's order, the row's amount when the
# row is a success (and nothing otherwise).
OURS_SQL = """
SELECT po.tracking_key, po.status, po.amount, po.bank_transfer_id, po.beneficiary_account, t.status, t.store_id,
       COALESCE(d.amount, 0), COALESCE(o.amount, 0), po.source, i.status
FROM payment_orders po
LEFT JOIN bank_transfers t ON t.id = po.bank_transfer_id
LEFT JOIN balance_updates d ON d.bank_transfer_id = po.bank_transfer_id AND d.type = 'disbursement'
LEFT JOIN balance_updates o ON o.bank_transfer_id = po.bank_transfer_id AND o.type = 'disbursement_override'
LEFT JOIN instructions i ON i.uetr = po.uetr
"""
BULK_ROW = "bulk_row"


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
        key, status, amount, transfer_id, account, t_status, store_id, disbursement, override, source, row_status = row
        if source == BULK_ROW:
            return cls(key, status, int(amount), None, account, None, None,
                       int(amount) if row_status == "success" else 0)
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


# The bank's final estado -> the error code a failed SPEI row must carry (LQ: the row is a success).
BULK_FAILURE_OF = {CANCELLED: "CANCELLED", RETURNED: "RETURNED"}
BULK_ROWS_SQL = """
SELECT i.row, i.connector, i.status, i.amount, i.instruction_id, i.uetr, i.error_code, po.tracking_key, po.status
FROM instructions i LEFT JOIN payment_orders po ON po.uetr = i.uetr
WHERE i.batch_pk = :batch ORDER BY i.row
"""
WALLET_SQL = """
SELECT e.reference, COUNT(*), SUM(e.amount), SUM(CASE WHEN e.debit_wallet_id = :float_id THEN e.amount ELSE 0 END)
FROM wallet_entries e JOIN instructions i ON i.instruction_id = e.reference
WHERE i.batch_pk = :batch GROUP BY e.reference
"""


def minor(amount: Any) -> int:
    """An amount of the bulk API (a decimal string in pesos) in centavos; 0 when there is none."""
    return cents(amount) if amount not in (None, "") else 0


@dataclass
class BulkCheck:
    """The bulk batch, as the API answered and as the books hold it: its rows against the plan, the bank
    and the closed loop; rows paid twice; and its totals against the money that moved."""

    tenant: str
    batch_id: str | None
    status: str | None = None  # as GET /api/v1/batchtransactions/{id} says at the end
    rows: int = 0  # in the file
    spei_rows: int = 0
    closedloop_rows: int = 0
    api: dict[str, Any] = field(default_factory=dict)  # the summary's counts and amounts (minor units)
    by_status: dict[str, int] = field(default_factory=dict)  # "<connector> <status>" -> rows
    failed_rows: dict[str, int] = field(default_factory=dict)  # "<connector> <error code>" -> rows
    submitted: int | None = None
    again: int | None = None
    same_batch_again: bool = False
    conflict: int | None = None
    tenant_batches: int = 0
    row_mismatches: list[dict[str, Any]] = field(default_factory=list)
    paid_twice: int = 0
    sent_twice: int = 0
    twice: list[dict[str, Any]] = field(default_factory=list)
    orphan_orders: int = 0  # bulk payment orders of no row
    planned_total: int = 0
    closedloop_success: int = 0  # Σ of the closed-loop rows that succeeded (the rows)
    closedloop_success_api: int = 0  # ... as the summary's sub-batches say
    closedloop_entries: int = 0  # Σ of the wallet entries paying the batch's rows out of the float
    float_funded: int = 0
    float_balance: int = 0
    float_credits: int = 0  # Σ of the wallet entries into the float from outside (the funding)
    spei_success: int = 0  # Σ of the SPEI rows that succeeded (the rows)
    spei_success_api: int = 0
    bank_liquidated: int = 0  # Σ of the bank's liquidated orders of the batch's rows (its books)
    in_flight_seconds: tuple[float, float | None] | None = None  # submitted .. completed, seconds into the run
    faults_in_flight: dict[str, int] = field(default_factory=dict)  # faults injected meanwhile, by kind

    @property
    def float_decrease(self) -> int:
        """What left the float: funded − balance."""
        return self.float_funded - self.float_balance

    def problems(self) -> list[str]:
        """Why the batch fails the run (empty when it holds)."""
        out = []
        if self.batch_id is None:
            return ["the bulk batch was not submitted"]
        if self.status != "completed":
            out.append(f"bulk batch {self.batch_id} is {self.status}, not completed")
        if self.submitted not in (200, 202):
            out.append(f"the bulk submission answered {self.submitted}")
        if self.again != 200 or not self.same_batch_again:
            out.append(f"the same file under the same X-CorrelationID answered {self.again}"
                       f"{'' if self.same_batch_again else ' with another batch_id'}")
        if self.conflict != 409:
            out.append(f"other content under the same X-CorrelationID answered {self.conflict}, not 409")
        if self.tenant_batches != 1:
            out.append(f"the bulk tenant has {self.tenant_batches} batches, not 1")
        a = self.api
        if (a.get("total"), a.get("ongoing"), a.get("totalAmount")) != (self.rows, 0, self.planned_total) or \
                (a.get("successful") or 0) + (a.get("failed") or 0) != self.rows:
            out.append(f"the bulk summary counts {a}, the file has {self.rows} rows of {self.planned_total}")
        if self.row_mismatches:
            out.append(f"{len(self.row_mismatches)} bulk rows whose status is not the bank's or the closed loop's")
        if self.paid_twice or self.sent_twice or self.orphan_orders:
            out.append(f"bulk rows paid twice: {self.paid_twice}, sent twice: {self.sent_twice}, payment orders of "
                       f"no row: {self.orphan_orders}")
        closed = {self.closedloop_success, self.closedloop_success_api, self.closedloop_entries}
        if len(closed) != 1:
            out.append(f"closed loop: rows {self.closedloop_success}, summary {self.closedloop_success_api}, wallet "
                       f"entries {self.closedloop_entries}: not equal")
        if self.float_decrease != self.closedloop_success + self.spei_success:
            out.append(f"the float decreased {self.float_decrease}, its rows paid {self.closedloop_success} in the "
                       f"closed loop and {self.spei_success} over SPEI")
        if self.float_credits != self.float_funded:
            out.append(f"the float was funded {self.float_funded}, its wallet entries credit {self.float_credits}")
        if len({self.spei_success, self.spei_success_api, self.bank_liquidated}) != 1:
            out.append(f"SPEI: rows {self.spei_success}, summary {self.spei_success_api}, liquidated by the bank "
                       f"{self.bank_liquidated}: not equal")
        return out


def _bulk_api(check: BulkCheck, summary: dict[str, Any]) -> None:
    check.status = summary.get("status")
    check.api = {k: summary.get(k) for k in ("total", "successful", "failed", "ongoing")}
    for k in ("totalAmount", "successfulAmount", "failedAmount", "pendingAmount"):
        check.api[k] = minor(summary.get(k))
    for sub in summary.get("subBatches") or ():
        paid = minor(sub.get("successfulAmount"))
        if sub.get("connector") == "closedloop":
            check.closedloop_success_api += paid
        elif sub.get("connector") == "spei":
            check.spei_success_api += paid


def _bulk_twice(check: BulkCheck, what: str, row: int, **details: Any) -> None:
    check.twice.append({"row": row, "what": what, **details})


def _bulk_rows(check: BulkCheck, observer: Observer, plan: BulkPlan, batch_pk: int, float_id: int,
               books: list[dict[str, Any]]) -> None:
    by_key: dict[str, list[dict[str, Any]]] = {}
    by_account: dict[str, list[dict[str, Any]]] = {}
    for order in books:
        by_key.setdefault(str(order["claveRastreo"]), []).append(order)
        by_account.setdefault(str(order.get("cuentaBeneficiario")), []).append(order)
    orders_per_uetr = {str(u): int(n) for u, n in observer.rows(
        "SELECT po.uetr, COUNT(*) FROM payment_orders po JOIN instructions i ON i.uetr = po.uetr "
        "WHERE i.batch_pk = :batch GROUP BY po.uetr", batch=batch_pk)}
    entries = {str(r): (int(n), int(paid or 0), int(from_float or 0)) for r, n, paid, from_float in observer.rows(
        WALLET_SQL, batch=batch_pk, float_id=float_id)}
    planned = {r.row: r for r in plan.rows}
    seen = set()
    for row, connector, status, amount, instruction_id, uetr, code, key, order_status in observer.rows(
            BULK_ROWS_SQL, batch=batch_pk):
        seen.add(row)
        check.by_status[f"{connector} {status}"] = check.by_status.get(f"{connector} {status}", 0) + 1
        if status == "failure":
            check.failed_rows[f"{connector} {code}"] = check.failed_rows.get(f"{connector} {code}", 0) + 1
        want = planned.get(row)
        if want is None or (want.connector, want.amount) != (connector, amount):
            check.row_mismatches.append({"row": row, "kind": "not as planned", "connector": connector,
                                         "amount": amount, "planned": want and (want.connector, want.amount)})
            continue
        if connector == "closedloop":
            n, paid, from_float = entries.get(str(instruction_id), (0, 0, 0))
            if n > 1:
                check.paid_twice += 1
                _bulk_twice(check, "wallet entries", row, entries=n)
            if status == "success":
                check.closedloop_success += amount
            check.closedloop_entries += from_float
            if status != "success" or (n, paid, from_float) != (1, amount, amount):
                check.row_mismatches.append({"row": row, "kind": "closed loop", "status": status, "error": code,
                                             "entries": n, "paid": paid, "from_float": from_float})
            continue
        at_bank = by_key.get(str(key), []) if key else []
        to_account = by_account.get(want.payee, [])
        liquidated = [o for o in to_account if o.get("estado") == LIQUIDATED]
        if orders_per_uetr.get(str(uetr), 0) > 1 or len(at_bank) > 1 or len(liquidated) > 1:
            check.paid_twice += 1
            _bulk_twice(check, "paid twice", row, orders=orders_per_uetr.get(str(uetr), 0), at_bank=len(at_bank),
                        liquidated_to_its_clabe=len(liquidated))
        elif len(to_account) > 1:
            check.sent_twice += 1
            _bulk_twice(check, "sent twice", row, tracking_keys=[o["claveRastreo"] for o in to_account])
        check.bank_liquidated += sum(cents(o["monto"]) for o in at_bank if o.get("estado") == LIQUIDATED)
        if status == "success":
            check.spei_success += amount
        estado = at_bank[0].get("estado") if len(at_bank) == 1 else None
        agrees = (status == "success" and estado == LIQUIDATED and cents(at_bank[0]["monto"]) == amount) or (
            status == "failure" and estado in BULK_FAILURE_OF and code == BULK_FAILURE_OF[estado]) or (
            status == "failure" and not at_bank and order_status in (None, "cancelled"))
        if not agrees:
            check.row_mismatches.append({"row": row, "kind": "spei", "status": status, "error": code,
                                         "tracking_key": key, "order": order_status, "bank_estado": estado,
                                         "bank_orders": len(at_bank)})
    for row in sorted(set(planned) - seen):
        check.row_mismatches.append({"row": row, "kind": "missing", "planned": planned[row].connector})


def check_bulk(observer: Observer, books: list[dict[str, Any]], plan: BulkPlan, driven: BulkDriven) -> BulkCheck:
    """The bulk batch against its plan, the API's answers, the wallet ledger and the bank's books."""
    check = BulkCheck(plan.tenant, driven.batch_id, rows=len(plan.rows), spei_rows=plan.count("spei"),
                      closedloop_rows=plan.count("closedloop"), submitted=driven.submitted, again=driven.again,
                      same_batch_again=driven.batch_id is not None and driven.again_batch_id == driven.batch_id,
                      conflict=driven.conflict, planned_total=plan.total(), float_funded=driven.funded)
    batches = {str(b): int(pk) for pk, b in observer.rows(
        "SELECT b.id, b.batch_id FROM batches b JOIN tenants t ON t.id = b.tenant_id WHERE t.name = :tenant",
        tenant=plan.tenant)}
    check.tenant_batches = len(batches)
    check.orphan_orders = int(observer.scalar(
        "SELECT COUNT(*) FROM payment_orders po LEFT JOIN instructions i ON i.uetr = po.uetr "
        "WHERE po.source = :bulk AND i.id IS NULL", bulk=BULK_ROW) or 0)
    wallet = observer.rows("SELECT w.id, w.balance FROM wallets w JOIN tenants t ON t.id = w.tenant_id "
                           "WHERE t.name = :tenant AND w.owner_digest = :float AND w.currency = 'MXN'",
                           tenant=plan.tenant, float=KEYRING.digest("float"))
    float_id, check.float_balance = (int(wallet[0][0]), int(wallet[0][1])) if wallet else (0, 0)
    check.float_credits = int(observer.scalar("SELECT COALESCE(SUM(amount), 0) FROM wallet_entries "
                                              "WHERE credit_wallet_id = :w AND debit_wallet_id IN "
                                              "(SELECT id FROM wallets WHERE outside)",  # the fundings
                                              w=float_id) or 0)
    _bulk_api(check, driven.summary)
    if driven.batch_id in batches:
        _bulk_rows(check, observer, plan, batches[str(driven.batch_id)], float_id, books)
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
