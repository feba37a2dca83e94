"""How values leave the API: JSON (integer minor units, decimal-string rates, ISO times) and the report's CSV."""
from __future__ import annotations

import enum
import json
from datetime import date, datetime, time
from decimal import Decimal
from functools import partial
from typing import Any

import falcon
import falcon.media

from adapters.csv_export import CsvExport
from domain.money import Money
from usecases.queries import TransferReport


def encode(value: Any) -> Any:
    """json.dumps ``default``: rates stay exact as strings; a float never gets here (money is integers)."""
    if isinstance(value, Decimal):
        return format(value, "f")  # fixed point: 0.00000000001, never 1E-11
    if isinstance(value, (datetime, date)):  # a business day (a loan's due date) as YYYY-MM-DD
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="minutes" if not value.second and not value.microsecond else "auto")
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


dumps = partial(json.dumps, default=encode, ensure_ascii=False)


def dumps_line(value: Any) -> str:
    """A JSON body ends with a newline, so that `curl` output reads one answer per line."""
    return dumps(value) + "\n"


def jsonable(value: Any) -> Any:
    """The same value as plain JSON types (for JSON columns such as the audit log's details)."""
    return json.loads(dumps(value))


def json_handler() -> falcon.media.JSONHandler:
    return falcon.media.JSONHandler(dumps=dumps_line)


REPORT_COLUMNS = ("transfer_id", "tracking_key", "bank_order_id", "liquidated_at", "balance_update_id", "sequence",
                  "type", "credit_id", "credit_external_id", "currency", "amount", "commission", "tax", "net", "note")
MONEY_COLUMNS = ("amount", "commission", "tax", "net")


def report_csv(report: TransferReport) -> str:
    """One line per balance update and a last ``total`` line; amounts as decimal strings (850.50). Written by
    the one CSV export writer: an external id or a note a client typed never runs as a formula."""
    t = report.transfer
    head = {"transfer_id": t["id"], "tracking_key": t["tracking_key"] or "", "bank_order_id": t["bank_order_id"] or "",
            "liquidated_at": t["liquidated_at"].isoformat() if t["liquidated_at"] else "",
            "currency": report.currency}

    def money(minor: int) -> str:
        return Money(minor, report.currency).to_decimal_string()

    out = CsvExport()
    out.row(REPORT_COLUMNS)
    for row in report.rows:
        line = {**head, "balance_update_id": row.balance_update_id, "sequence": row.sequence, "type": row.type,
                "credit_id": row.credit_id or "", "credit_external_id": row.credit_external_id, "note": row.note}
        line.update({name: money(getattr(row, name)) for name in MONEY_COLUMNS})
        out.row(line.get(name) for name in REPORT_COLUMNS)
    totals = report.totals
    total = {**head, "type": "total", **{name: money(totals[name]) for name in MONEY_COLUMNS}}
    out.row(total.get(name) for name in REPORT_COLUMNS)
    return out.take()
