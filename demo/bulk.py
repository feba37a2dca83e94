"""The demo's bulk batch: a payroll tenant sends one file with every payment mode (SPEI, the closed loop,
GSMA mobile money, Mojaloop) through the API, and its summary is shown as the tenant reads it."""
from __future__ import annotations

from typing import Any, Callable

import httpx
from rich.table import Table

from bootstrap import Container
from domain import clabe
from usecases import access, tenants

TENANT = "demo-payroll"
MODES = {"nomina": "spei", "monedero": "closedloop", "movil": "gsma", "mojaloop": "mojaloop"}
ROWS = (  # payment mode, payee type, payee, amount, currency, note
    ("nomina", "clabe", clabe.make("012", "180", "00000000101"), "12500.00", "MXN", "Ana Torres"),
    ("nomina", "clabe", clabe.make("014", "320", "00000000202"), "9800.50", "MXN", "Luis Campos"),
    ("nomina", "clabe", clabe.make("072", "580", "00000000303"), "15200.00", "MXN", "Marta Ruiz"),
    ("monedero", "accountid", "empleado-104", "3200.00", "MXN", "Vales de despensa"),
    ("monedero", "accountid", "empleado-105", "2950.25", "MXN", "Vales de despensa"),
    ("movil", "msisdn", "254700001234", "1500", "KES", "Field allowance"),
    ("movil", "msisdn", "254700000000", "1500", "KES", "Field allowance (inactive account)"),
    ("mojaloop", "msisdn", "254711112345", "2200", "KES", "Contractor"),
    ("mojaloop", "msisdn", "254722223456", "1800", "KES", "Contractor"),
)


def csv_file() -> bytes:
    """The file, in the seed's columns."""
    lines = ["id,request_id,payment_mode,payer_identifier_type,payer_identifier,payee_identifier_type,"
             "payee_identifier,amount,currency,note,program_shortcode,cycle"]
    for i, (mode, kind, payee, amount, currency, note) in enumerate(ROWS):
        lines.append(f"{i},,{mode},,,{kind},{payee},{amount},{currency},{note},PAYROLL,2026-12")
    return ("\n".join(lines) + "\n").encode()


def setup(container: Container) -> dict[str, str]:
    """The tenant, its key and its funded float; the headers its calls carry."""
    with container.uow() as uow:
        made = tenants.put(uow, TENANT, {"payment-modes": MODES, "partylookup.enable": False,
                                         "splitting.sub-batch-size": 2})
        key = tenants.key_for(uow, made.tenant)
        tenants.fund(uow, TENANT, "50000", "MXN")
        uow.commit()
    return {"Authorization": f"Bearer {key}", "Platform-TenantId": TENANT}


def run_batch(container: Container, api: str, settle: Callable[[], None]) -> dict[str, Any]:
    """Submit the file as the seed's curl does, let the workers pay it, and read its summary."""
    headers = setup(container)
    answer = httpx.post(f"{api}/batchtransactions", params={"type": "csv"}, headers={
        **headers, "X-CorrelationID": "demo-payroll-2026-12", "filename": "nomina-diciembre.csv"},
        files={"data": ("nomina-diciembre.csv", csv_file(), "text/csv")}, timeout=30)
    answer.raise_for_status()
    batch_id = answer.json()["batch_id"]
    for _ in range(10):
        settle()
        summary: dict[str, Any] = httpx.get(f"{api}/api/v1/batchtransactions/{batch_id}", headers=headers,
                                            timeout=30).json()
        if summary["status"] in ("completed", "failed"):
            break
    return summary


def first_payment(container: Container, api: str) -> dict[str, Any]:
    """The batch's first SPEI row as its tracking shows it (by its UETR), through the API."""
    with container.uow() as uow:
        row = uow.instructions.page(uow.batches.page(None, 0, 1, "createdAt", True)[0][0].id or 0, -1, 1)[0]
        key = access.create_api_key(uow, "admin", label="demo: tracking", owner="demo@dispersa.invalid")
        uow.commit()
    answer = httpx.get(f"{api}/api/v1/payments/{row.uetr}", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    answer.raise_for_status()
    return dict(answer.json())


def timeline_table(payment: dict[str, Any]) -> Table:
    """One payment's timeline, event by event."""
    table = Table(title=f"One payment by its UETR ({payment['status']}): {payment['amount']} {payment['currency']} "
                        f"to {payment['payee_account']} over {payment['rail']}")
    for column in ("event", "what it means"):
        table.add_column(column)
    for e in payment["timeline"]:
        table.add_row(e["event"], MEANINGS.get(e["event"], "") + (f": {e['reason']}" if e.get("reason") else ""))
    return table


MEANINGS = {"initiated": "the row became a payment, its UETR fixed", "dates_computed": "its execution and delivery "
            "dates", "sent": "handed to the bank under its tracking key", "accepted": "the bank gave its order id",
            "liquidated": "paid into the payee's account", "cancelled": "the bank never paid it",
            "returned": "the money came back", "failed": "it could not be paid"}


def summary_table(summary: dict[str, Any]) -> Table:
    """The batch and its sub-batches, as counts and amounts."""
    table = Table(title=f"Bulk batch {summary['request_id']} ({summary['status']}): every payment mode")
    for column in ("sub-batch", "payment mode", "connector", "rows", "successful", "failed", "ongoing",
                   "paid", "failed amount"):
        table.add_column(column, justify="right" if column in ("rows", "successful", "failed", "ongoing")
                         else "left")
    for sub in summary["subBatches"]:
        currency = sub["currency"] or ""
        table.add_row(str(sub["subBatchId"]), sub["paymentMode"], sub["connector"] or "", str(sub["total"]),
                      str(sub["successful"]), str(sub["failed"]), str(sub["ongoing"]),
                      f"{sub['successfulAmount']} {currency}", f"{sub['failedAmount']} {currency}")
    table.add_row("all", f"{len(summary['subBatches'])} sub-batches", "", str(summary["total"]),
                  str(summary["successful"]),
                  str(summary["failed"]), str(summary["ongoing"]), f"{summary['successPercentage']} %",
                  f"{summary['failPercentage']} %", style="bold")
    return table
