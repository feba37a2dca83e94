"""A bulk payment file, row by row: the Payment Hub EE CSV columns (in any order) and JSON items, each
read into an instruction draft, or into the reason it cannot be paid.

A header that cannot be read fails the whole file (400); a bad row fails only itself, with an error
code and a description, and the other rows go on."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from domain.errors import DomainError
from domain.money import AMOUNT_TEXT, BeyondBound, Money, MoneyError, exponent

COLUMNS = ("id", "request_id", "payment_mode", "payer_identifier_type", "payer_identifier", "payee_identifier_type",
           "payee_identifier", "amount", "currency", "note", "program_shortcode", "cycle")
OPTIONAL = ("date",)  # the smart-date RFC's column: a delivery or an execution date, as the batch declares
REQUIRED = ("id", "payment_mode", "payee_identifier_type", "payee_identifier", "amount", "currency")
RESULT_COLUMNS = COLUMNS + ("status", "error_code", "error_description")
UNSPLIT = "unsplit"  # the field that keeps a row that does not split into the columns, as written
ITEM_ERROR = "item_error"  # a raw batch's CSV only: why its item is not a payment (it was not a JSON object)
FIELD_LIMITS = {"id": 64, "request_id": 64, "payment_mode": 32, "payer_identifier_type": 32, "payer_identifier": 64,
                "payee_identifier_type": 32, "payee_identifier": 64, "amount": 32, "currency": 3, "note": 255,
                "program_shortcode": 32, "cycle": 32, "date": 10, ITEM_ERROR: 255}


class FileError(DomainError, ValueError):
    """The file as a whole cannot be read: no header, an unknown or a missing column, no rows."""


class RowErrorCode(str, enum.Enum):
    """Why a row fails before any money moves."""

    MISSING_FIELD = "MISSING_FIELD"
    FIELD_TOO_LONG = "FIELD_TOO_LONG"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    AMOUNT_PRECISION = "AMOUNT_PRECISION"
    NON_POSITIVE_AMOUNT = "NON_POSITIVE_AMOUNT"
    AMOUNT_TOO_LARGE = "AMOUNT_TOO_LARGE"
    UNKNOWN_CURRENCY = "UNKNOWN_CURRENCY"
    WRONG_COLUMN_COUNT = "WRONG_COLUMN_COUNT"
    NOT_A_PAYMENT = "NOT_A_PAYMENT"  # a raw batch's item that is not a JSON object


@dataclass(frozen=True)
class RowFailure:
    """A row that cannot become a payment, and why."""

    code: RowErrorCode
    description: str


@dataclass(frozen=True)
class InstructionDraft:
    """One row as the file gave it (texts kept as written, for the result file), its amount read exactly
    when it could be, and the failure that stops it when there is one."""

    row: int  # 0-based, in the file's order
    fields: Mapping[str, str]
    amount: Money | None
    failure: RowFailure | None = None

    @property
    def payment_mode(self) -> str:
        """The payment mode, in lower case (``SPEI`` and ``spei`` are one mode)."""
        return self.fields.get("payment_mode", "").strip().lower()


@dataclass(frozen=True)
class Header:
    """Where each known column is in the file's rows."""

    positions: Mapping[str, int]
    width: int


UNDATED = ("the file has the column date, and the tenant is outside the dates trial (dates.enable is off): send "
           "it without the date column, or ask for the dates trial")


def read_header(names: Sequence[str], dated: bool = False, items: bool = False) -> Header:
    """The file's first line. Raises FileError for an empty header, an unknown, repeated or missing column,
    and for a date column in a file that is not ``dated`` (its tenant is outside the dates trial): a column
    the client sent is never dropped. ``items``: the CSV a raw batch's JSON items became, which may say
    why an item is not a payment (ITEM_ERROR); a client's own file may not."""
    cleaned = [n.strip().lstrip("\ufeff").strip().lower() for n in names]
    if not any(cleaned):
        raise FileError("the file is empty: its first line must name the columns "
                        f"({','.join(COLUMNS)})")
    unknown = [n or "(blank)" for n in cleaned if n not in COLUMNS + OPTIONAL + ((ITEM_ERROR,) if items else ())]
    if unknown:
        raise FileError(f"unknown column(s): {', '.join(unknown)[:200]}; the columns are {','.join(COLUMNS)}")
    repeated = sorted({n for n in cleaned if cleaned.count(n) > 1})
    if repeated:
        raise FileError(f"column(s) named twice: {', '.join(repeated)}")
    missing = [n for n in REQUIRED if n not in cleaned]
    if missing:
        raise FileError(f"missing required column(s): {', '.join(missing)}")
    if not dated and "date" in cleaned:
        raise FileError(UNDATED)
    return Header({name: i for i, name in enumerate(cleaned)}, len(cleaned))


def parse_amount(text: str, currency: str) -> Money | RowFailure:
    """A decimal amount in major units (``850``, ``850.50``) as exact minor units of its currency. Written
    with more decimals than the currency has (``850.505`` USD, ``850.00`` JPY), it fails."""
    try:
        places = exponent(currency)
    except MoneyError:
        return RowFailure(RowErrorCode.UNKNOWN_CURRENCY, f"unknown currency {currency!r} (an ISO 4217 code)")
    written = text.strip()
    if not AMOUNT_TEXT.fullmatch(written):
        return RowFailure(RowErrorCode.INVALID_AMOUNT, f"amount {text!r} is not a decimal number like 850.50")
    decimals = len(written.partition(".")[2])
    if decimals > places:
        return RowFailure(RowErrorCode.AMOUNT_PRECISION, f"amount {text!r} has {decimals} decimals; {currency} "
                          f"has {places}")
    try:
        money = Money.parse(written, currency)
    except BeyondBound as e:
        return RowFailure(RowErrorCode.AMOUNT_TOO_LARGE, str(e))
    if money.minor <= 0:
        return RowFailure(RowErrorCode.NON_POSITIVE_AMOUNT, f"amount {text!r} is not above zero")
    return money


def _draft(row: int, fields: dict[str, str]) -> InstructionDraft:
    for name in REQUIRED:
        if not fields.get(name, "").strip():
            return InstructionDraft(row, fields, None, RowFailure(RowErrorCode.MISSING_FIELD, f"{name} is empty"))
    for name, value in fields.items():
        if len(value) > FIELD_LIMITS[name]:
            return InstructionDraft(row, fields, None, RowFailure(
                RowErrorCode.FIELD_TOO_LONG, f"{name} is longer than {FIELD_LIMITS[name]} characters"))
    amount = parse_amount(fields["amount"], fields["currency"].strip().upper())
    if isinstance(amount, RowFailure):
        return InstructionDraft(row, fields, None, amount)
    return InstructionDraft(row, fields, amount)


def read_row(header: Header, values: Sequence[str], row: int) -> InstructionDraft:
    """One CSV row under its header: a draft, failed with its reason when it cannot be paid. A row that does
    not split into the columns (a ``;`` file, a comma in a name) is kept whole under UNSPLIT, sealed and
    never shown like a payee's account: which of its texts is the account or the name cannot be told."""
    if len(values) != header.width:
        return InstructionDraft(row, {UNSPLIT: ",".join(values)}, None, RowFailure(
            RowErrorCode.WRONG_COLUMN_COUNT, f"{len(values)} values for {header.width} columns; the row is kept "
                                             "sealed and not shown"))
    fields = {name: values[i] for name, i in header.positions.items()}
    if fields.get(ITEM_ERROR):
        return InstructionDraft(row, fields, None, RowFailure(RowErrorCode.NOT_A_PAYMENT, fields[ITEM_ERROR]))
    return _draft(row, fields)


def _party(parties: Any) -> tuple[str, str]:
    if isinstance(parties, list) and parties and isinstance(parties[0], Mapping):
        return str(parties[0].get("key", "")), str(parties[0].get("value", ""))
    return "", ""


def _json_kind(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return "null" if value is None else str(value).lower()
    if isinstance(value, (int, float)):
        return "a number"
    return "a string" if isinstance(value, str) else "an array" if isinstance(value, list) else "not an object"


def read_item(item: Any, row: int) -> InstructionDraft:
    """One item of a JSON batch (``creditParty`` is the payee, ``debitParty`` the payer, ``subType`` an
    older name of ``paymentMode``), read like a CSV row."""
    if not isinstance(item, Mapping):
        why = f"item {row} is {_json_kind(item)}, not a payment object"
        return InstructionDraft(row, {"id": str(row), ITEM_ERROR: why}, None,
                                RowFailure(RowErrorCode.NOT_A_PAYMENT, why))
    payee_type, payee = _party(item.get("creditParty"))
    payer_type, payer = _party(item.get("debitParty"))
    fields = {
        "id": str(item.get("id", row)), "request_id": str(item.get("requestId", "") or ""),
        "payment_mode": str(item.get("paymentMode") or item.get("subType") or ""),
        "payer_identifier_type": payer_type, "payer_identifier": payer,
        "payee_identifier_type": payee_type, "payee_identifier": payee,
        "amount": str(item.get("amount", "")), "currency": str(item.get("currency", "")),
        "note": str(item.get("descriptionText", "") or ""), "program_shortcode": "", "cycle": "",
    }
    return _draft(row, fields)


def result_row(fields: Mapping[str, str], status: str, error_code: str = "", error_description: str = "") -> list[str]:
    """The row of the result file: the input columns as written, then status, error code and description."""
    return [str(fields.get(name, "")) for name in COLUMNS] + [status, error_code, error_description]
