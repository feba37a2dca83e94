"""STP's checks of a registra request: the firma first, then the fields, each with STP's code."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from adapters.bank.signer import Verifier
from domain import clabe
from domain.stp import CADENA_FIELDS, ERRORS, MONEY_FIELDS, OrderError, cadena_original, fold_text, \
    format_amount, is_tracking_key

MANDATORY = ("empresa", "claveRastreo", "institucionContraparte", "institucionOperante", "monto", "tipoPago",
             "tipoCuentaBeneficiario", "nombreBeneficiario", "cuentaBeneficiario", "rfcCurpBeneficiario",
             "conceptoPago", "referenciaNumerica")
# SPEI participant codes: a 2-digit kind (37 development bank, 40 bank, 90 other) + the 3-digit bank code.
INSTITUTION_KINDS = ("37", "40", "90")
ACCOUNT_LENGTHS = {"40": (18,), "3": (15, 16), "10": (10,)}
FIRMA_ERROR = "Error validando la firma"


@dataclass(frozen=True)
class Rejection:
    """STP's answer to an order it refuses: the code and its description."""

    code: int
    message: str


def text(value: Any) -> str:
    """A JSON value as STP reads it into its cadena (numbers keep the digits they were sent with)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def as_text_fields(body: Mapping[str, Any]) -> dict[str, str]:
    return {name: text(body.get(name)) for name in CADENA_FIELDS if text(body.get(name)) != ""}


def firma_is_valid(body: Mapping[str, Any], verifier: Verifier | None) -> bool:
    """Over the cadena as sent, or with amounts written with two decimals (what a signer does)."""
    if verifier is None:
        return True
    firma = text(body.get("firma"))
    fields = as_text_fields(body)
    if verifier.verify(cadena_original(fields), firma):
        return True
    try:
        formatted = dict(fields, **{m: format_amount(fields[m]) for m in MONEY_FIELDS if m in fields})
    except OrderError:
        return False
    return formatted != fields and verifier.verify(cadena_original(formatted), firma)


def reject(code: int, message: str | None = None) -> Rejection:
    return Rejection(code, message or ERRORS[code].message)


def check_fields(fields: Mapping[str, str], empresa: str, missing_accounts: frozenset[str],
                 pld_blocklist: frozenset[str]) -> Rejection | None:
    """The first rule the order breaks, in STP's order of checks, or None."""
    for name in MANDATORY:
        if not fields.get(name, "").strip():
            return reject(0, f"El campo {name} es obligatorio")
    if empresa and fields["empresa"] != empresa:
        return reject(0, f"La empresa {fields['empresa']} no es valida")
    if not is_tracking_key(fields["claveRastreo"]):
        return reject(-34)
    if not _amount_ok(fields["monto"]):
        return reject(-20)
    return (_institution(fields["institucionContraparte"]) or _account(fields, missing_accounts)
            or _pld(fields, pld_blocklist))


def _amount_ok(monto: str) -> bool:
    try:
        amount = Decimal(monto)
    except InvalidOperation:
        return False
    return amount.is_finite() and amount > 0 and amount == amount.quantize(Decimal("0.01"))


def _institution(code: str) -> Rejection | None:
    known = len(code) == 5 and code[:2] in INSTITUTION_KINDS and code[2:] in clabe.BANK_CODES
    return None if known else reject(-9)


def _account(fields: Mapping[str, str], missing_accounts: frozenset[str]) -> Rejection | None:
    account, kind = fields["cuentaBeneficiario"], fields["tipoCuentaBeneficiario"]
    if kind not in ACCOUNT_LENGTHS or len(account) not in ACCOUNT_LENGTHS[kind]:
        return reject(-11)
    if not account.isdigit() or account in missing_accounts or (kind == "40" and not clabe.is_valid(account)):
        return reject(-7)
    if kind == "40" and account[:3] != fields["institucionContraparte"][2:]:
        return reject(-22)
    if account == fields.get("cuentaOrdenante"):
        return reject(-24)
    return None


def _pld(fields: Mapping[str, str], blocklist: frozenset[str]) -> Rejection | None:
    blocked = {fold_text(entry).casefold() for entry in blocklist}
    for name in ("nombreBeneficiario", "rfcCurpBeneficiario"):
        if fold_text(fields.get(name, "")).casefold() in blocked:
            return reject(-200)
    return None
