"""STP's SPEI order protocol, as rules: field order and normalisation, the cadena original,
the meaning of answers and error codes, and the states its callbacks report."""
from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass
import json
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from domain import masking
from domain.errors import DomainError
from domain.schedules import DEFAULT_TIMEZONE

# SPEI's days are Mexico City days: an order's operation date, the day a reconciliation covers.
MEXICO_CITY = ZoneInfo(DEFAULT_TIMEZONE)

# STP's fixed order of the 34 fields of an outgoing order's cadena original.
CADENA_FIELDS = (
    "institucionContraparte", "empresa", "fechaOperacion", "folioOrigen", "claveRastreo", "institucionOperante",
    "monto", "tipoPago", "tipoCuentaOrdenante", "nombreOrdenante", "cuentaOrdenante", "rfcCurpOrdenante",
    "tipoCuentaBeneficiario", "nombreBeneficiario", "cuentaBeneficiario", "rfcCurpBeneficiario",
    "emailBeneficiario", "tipoCuentaBeneficiario2", "nombreBeneficiario2", "cuentaBeneficiario2",
    "rfcCurpBeneficiario2", "conceptoPago", "conceptoPago2", "claveCatUsuario1", "claveCatUsuario2", "clavePago",
    "referenciaCobranza", "referenciaNumerica", "tipoOperacion", "topologia", "usuario", "medioEntrega",
    "prioridad", "iva",
)
TEXT_FIELDS = ("nombreOrdenante", "nombreBeneficiario", "nombreBeneficiario2", "conceptoPago", "conceptoPago2")
MONEY_FIELDS = ("monto", "iva")
# The JSON types STP documents for registra: amounts are numbers, these codes integers, the rest text.
INTEGER_FIELDS = ("tipoPago", "tipoCuentaOrdenante", "tipoCuentaBeneficiario", "tipoCuentaBeneficiario2",
                  "referenciaNumerica", "medioEntrega", "prioridad")
DEFAULTS = {"institucionOperante": "90646", "tipoCuentaOrdenante": "40", "tipoPago": "1", "topologia": "T",
            "medioEntrega": "3", "prioridad": "0"}
ACCOUNT_TYPE_BY_LENGTH = {18: "40", 16: "3", 15: "3", 10: "10"}
TEXT_LIMIT = 39
TRACKING_KEY_LIMIT = 30
RFC_CURP_LIMIT = 18


class OrderError(DomainError, ValueError):
    """An order that cannot be sent as given."""


def fold_text(value: Any, limit: int = TEXT_LIMIT) -> str:
    """ASCII-fold (``Añil Ávila`` -> ``Anil Avila``), strip, cut to STP's limit."""
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode("ascii")
    return " ".join(text.split())[:limit].strip()


def format_amount(value: Any) -> str:
    """Two decimals, as STP wants. Takes a JSON number read exactly (a Decimal), a decimal string or an
    integer of units; never a binary float, which may already have lost the cents."""
    if isinstance(value, float):
        raise OrderError("amounts are exact decimals (read JSON numbers with parse_float=Decimal), not floats")
    text = str(value)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise OrderError(f"monto {value!r} is not an amount") from None
    if not text.isascii() or not amount.is_finite():  # Decimal() also reads other scripts' digits
        raise OrderError(f"monto {value!r} is not an amount")
    return str(amount.quantize(Decimal("0.01")))


BANK_ORDER_ID_LIMIT = 2**63 - 1  # the column that keeps it is a signed BIGINT


def bank_order_id(value: Any) -> int | None:
    """STP's id of an order as a callback or consultaOrden gives it (a number, or its text in ASCII digits), or
    None when it is none: other scripts' digits, a bool, a fraction, zero or less, or beyond the column."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and 0 < value <= BANK_ORDER_ID_LIMIT else None


def account_type(account: str) -> str:
    """STP's account type code for an account, by its length; raises OrderError for a length STP has none for."""
    try:
        return ACCOUNT_TYPE_BY_LENGTH[len(account)]
    except KeyError:
        raise OrderError(f"no account type for an account of {len(account)} digits") from None


def is_tracking_key(key: str) -> bool:
    """Whether the key is 1 to 30 ASCII letters and digits, as STP takes a tracking key."""
    return 0 < len(key) <= TRACKING_KEY_LIMIT and key.isascii() and key.isalnum()


def normalise_order(fields: Mapping[str, Any], empresa: str | None = None) -> dict[str, str]:
    """Apply STP's field rules: defaults, folded texts, two-decimal amounts, account types from length."""
    order = {k: ("" if v is None else str(v)) for k, v in fields.items() if k in CADENA_FIELDS}
    if empresa:
        order["empresa"] = empresa
    for name, default in DEFAULTS.items():
        if not order.get(name):
            order[name] = default
    for name in TEXT_FIELDS:
        if order.get(name):
            order[name] = fold_text(order[name])
    for name in MONEY_FIELDS:
        if order.get(name):
            order[name] = format_amount(fields[name])
    for account, kind in (("cuentaBeneficiario", "tipoCuentaBeneficiario"),
                          ("cuentaBeneficiario2", "tipoCuentaBeneficiario2")):
        if order.get(account) and not order.get(kind):
            order[kind] = account_type(order[account])
    if order.get("cuentaOrdenante") and not fields.get("tipoCuentaOrdenante"):
        order["tipoCuentaOrdenante"] = account_type(order["cuentaOrdenante"])
    return order


def cadena_original(order: Mapping[str, str]) -> str:
    """``||`` + the 34 fields in STP's order joined by ``|`` + ``||``; absent fields empty."""
    return "||" + "|".join(str(order.get(name, "") or "") for name in CADENA_FIELDS) + "||"


def registration_body(order: Mapping[str, str], firma: str) -> bytes:
    """registra's JSON body with the types STP documents: ``"monto": 1.20`` a number (written with the
    two decimals the cadena signed), the account types and references integers, everything else text."""
    members = []
    for name in CADENA_FIELDS:
        value = order.get(name)
        if value in (None, ""):
            continue
        if name in MONEY_FIELDS:
            literal = format_amount(value)
        elif name in INTEGER_FIELDS and str(value).isascii() and str(value).isdigit():
            literal = str(int(str(value)))
        else:
            literal = json.dumps(str(value), ensure_ascii=False)
        members.append(f"{json.dumps(name)}: {literal}")
    members.append(f'"firma": {json.dumps(firma)}')
    return ("{" + ", ".join(members) + "}").encode()


def cadena_consulta(empresa: str, clave_rastreo: str, tipo_orden: str, fecha_operacion: str = "") -> str:
    """The cadena signed for ``consultaOrden``: ``||empresa|claveRastreo|tipoOrden|fechaOperacion||``."""
    return f"||{empresa}|{clave_rastreo}|{tipo_orden}|{fecha_operacion}||"


def cadena_conciliacion(empresa: str, tipo_orden: str, fecha_operacion: str = "") -> str:
    """The cadena signed for ``V2/conciliacion``: ``||empresa|tipoOrden|fechaOperacion||``."""
    return f"||{empresa}|{tipo_orden}|{fecha_operacion}||"


class Fault(str, enum.Enum):
    """What an STP error code means for us."""

    EXISTS = "exists"          # the tracking key was used: the order is there, query it
    PERMANENT = "permanent"    # the order can never go as it is: cancel it
    TRANSIENT = "transient"    # try again later


@dataclass(frozen=True)
class StpError:
    """An error code STP answered to an order, with its message and what it means for us."""

    code: int
    message: str
    fault: Fault
    # The refusal is about the beneficiary (its account or an anti-money-laundering check): another
    # order to the same payee would be refused the same way until a person looks at it.
    about_beneficiary: bool = False


ERRORS = {
    0: StpError(0, "Error validando la firma / dato obligatorio", Fault.PERMANENT),
    -1: StpError(-1, "La clave de rastreo ya fue utilizada", Fault.EXISTS),
    -7: StpError(-7, "La cuenta no existe", Fault.PERMANENT, about_beneficiary=True),
    -9: StpError(-9, "La institucion no es valida", Fault.PERMANENT, about_beneficiary=True),
    -11: StpError(-11, "El tipo de cuenta no es valido", Fault.PERMANENT, about_beneficiary=True),
    -20: StpError(-20, "El monto no es valido", Fault.PERMANENT),
    -22: StpError(-22, "La cuenta no pertenece a la institucion", Fault.PERMANENT, about_beneficiary=True),
    -24: StpError(-24, "Cuenta igual a la cuenta ordenante", Fault.PERMANENT, about_beneficiary=True),
    -34: StpError(-34, "La clave de rastreo no es valida", Fault.PERMANENT),
    -200: StpError(-200, "Se rechaza por PLD", Fault.PERMANENT, about_beneficiary=True),
}


@dataclass(frozen=True)
class RegistrationAnswer:
    """STP's answer to ``ordenPago/registra``: the bank's order id, or an error."""

    order_id: int | None
    error: StpError | None


def read_registration(body: Mapping[str, Any]) -> RegistrationAnswer:
    """An id of more than 3 digits is the bank's order id; otherwise it is an error code."""
    result = body.get("resultado") or {}
    try:
        id_ = int(result["id"])
    except (KeyError, TypeError, ValueError):
        raise OrderError(f"unreadable STP answer: {dict(body)!r}") from None
    if len(str(abs(id_))) > 3:
        return RegistrationAnswer(id_, None)
    description = str(result.get("descripcionError") or "")
    known = ERRORS.get(id_)
    fault = known.fault if known else Fault.TRANSIENT
    return RegistrationAnswer(None, StpError(id_, description or (known.message if known else "unknown"), fault,
                                             known.about_beneficiary if known else False))


class OrderOutcome(str, enum.Enum):
    """What the bank reports became of an order: liquidated (paid), cancelled or returned."""

    LIQUIDATED = "liquidated"
    CANCELLED = "cancelled"
    RETURNED = "returned"


DEFAULT_ESTADOS = {
    "LQ": OrderOutcome.LIQUIDATED, "Liquidada": OrderOutcome.LIQUIDATED, "Liquidacion": OrderOutcome.LIQUIDATED,
    "Success": OrderOutcome.LIQUIDATED,
    "CN": OrderOutcome.CANCELLED, "Cancelada": OrderOutcome.CANCELLED, "Cancelacion": OrderOutcome.CANCELLED,
    "Cancel": OrderOutcome.CANCELLED,
    "D": OrderOutcome.RETURNED, "Devuelta": OrderOutcome.RETURNED, "Devolucion": OrderOutcome.RETURNED,
    "Refund": OrderOutcome.RETURNED,
}


# A status callback's fields as stored: what we read and need, and STP's documented fields that hold no
# payee data, are kept; the payee's account, name and RFC/CURP are masked; anything else is dropped.
CALLBACK_FIELDS = frozenset({
    "id", "empresa", "folioOrigen", "estado", "causaDevolucion", "tsLiquidacion", "tsDevolucion", "tsCaptura",
    "fechaOperacion", "claveRastreo", "monto", "tipoPago", "institucionOrdenante", "institucionBeneficiaria",
    "referenciaNumerica"})
CALLBACK_ACCOUNTS = frozenset({"cuentaBeneficiario", "cuentaBeneficiario2", "cuentaOrdenante",
                               "rfcCurpBeneficiario", "rfcCurpBeneficiario2", "rfcCurpOrdenante"})
CALLBACK_NAMES = frozenset({"nombreBeneficiario", "nombreBeneficiario2", "nombreOrdenante"})


def callback_as_stored(body: Mapping[str, Any]) -> dict[str, Any]:
    """A status callback as it may be kept and shown: payee data masked, fields we do not know dropped."""
    stored: dict[str, Any] = {}
    for key, value in body.items():
        if key in CALLBACK_FIELDS:
            stored[key] = value
        elif key in CALLBACK_ACCOUNTS:
            stored[key] = masking.account(str(value)) if value is not None else None
        elif key in CALLBACK_NAMES:
            stored[key] = masking.name(str(value)) if value is not None else None
    return stored


# What an order still in flight shows in queries and conciliation (accepted, not yet settled).
IN_FLIGHT_ESTADOS = frozenset({"A"})


def outcome_of(estado: str, mapping: Mapping[str, OrderOutcome] = DEFAULT_ESTADOS) -> OrderOutcome | None:
    """The outcome an estado reports, or None for an estado we do not know (or one still in flight)."""
    return mapping.get(str(estado).strip())


def operation_date(at: datetime) -> str:
    """STP's operation date (YYYYMMDD) of an instant: its day in Mexico City."""
    return at.astimezone(MEXICO_CITY).strftime("%Y%m%d")


def bank_time(epoch_ms: object) -> datetime | None:
    """STP's ts* fields (epoch milliseconds) as a UTC time; None when absent or unreadable."""
    try:
        return datetime.fromtimestamp(int(str(epoch_ms)) / 1000, tz=timezone.utc) if epoch_ms else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None
