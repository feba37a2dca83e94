"""A tenant's bulk configuration: the Payment Hub EE stage keys (nested or dotted), each with a default,
and ``payment-modes``, the connector each payment mode a client may use is paid through."""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from domain import clabe
from domain.connectors import Connector
from domain.errors import DomainError

CONNECTORS = tuple(c.value for c in Connector)
FORMATTING_STANDARDS = ("DEFAULT", "GSMA")
ORDERING_FIELDS = ("id", "request_id", "payment_mode", "payer_identifier", "payee_identifier", "amount", "currency",
                   "program_shortcode", "cycle")
MAX_SUB_BATCH_SIZE = 100_000


class ConfigError(DomainError, ValueError):
    """A configuration key or value the bulk stages do not know; the message names it."""


@dataclass(frozen=True)
class BulkConfig:
    """Every stage's switch and setting. The defaults are what a tenant gets when it says nothing."""

    partylookup_enable: bool = True
    approval_enable: bool = False
    ordering_enable: bool = False
    ordering_field: str = "id"
    formatting_enable: bool = False
    formatting_standard: str = "DEFAULT"
    splitting_enable: bool = True
    splitting_sub_batch_size: int = 500
    mergeback_enable: bool = True
    success_threshold_check_enable: bool = False
    success_threshold_check_success_rate: Decimal = Decimal("0")  # percent of the rows, 0 to 100
    acknowledgement_enable: bool = False
    deduplication_enable: bool = False  # off: the seed's own sample file pays some rows twice on purpose
    dates_enable: bool = False  # the smart-date trial: files may carry delivery dates (X-Date-Type)
    # a dated batch waits, its rows showing both dates, until the tenant's own key confirms (or cancels) it
    dates_client_confirmation_enable: bool = False
    spei_funding_account: str = ""  # the tenant's own account at STP its SPEI rows are paid from; ours when empty
    spei_funding_name: str = ""
    payment_modes: Mapping[str, str] = field(default_factory=dict)

    def connector_of(self, payment_mode: str) -> Connector | None:
        """The connector a payment mode is paid through; None when the tenant has not configured it."""
        found = self.payment_modes.get(payment_mode.strip().lower())
        return Connector(found) if found else None

    def as_keys(self) -> dict[str, Any]:
        """The configuration under the seed's dotted keys, as the API shows it."""
        out: dict[str, Any] = {key: getattr(self, name) for key, name in KEYS.items()}
        out["success-threshold-check.success-rate"] = str(self.success_threshold_check_success_rate)
        out["payment-modes"] = dict(self.payment_modes)
        return out


KEYS = {  # the seed's dotted key -> the attribute
    "partylookup.enable": "partylookup_enable",
    "approval.enable": "approval_enable",
    "ordering.enable": "ordering_enable",
    "ordering.field": "ordering_field",
    "formatting.enable": "formatting_enable",
    "formatting.standard": "formatting_standard",
    "splitting.enable": "splitting_enable",
    "splitting.sub-batch-size": "splitting_sub_batch_size",
    "mergeback.enable": "mergeback_enable",
    "success-threshold-check.enable": "success_threshold_check_enable",
    "success-threshold-check.success-rate": "success_threshold_check_success_rate",
    "acknowledgement.enable": "acknowledgement_enable",
    "deduplication.enable": "deduplication_enable",
    "dates.enable": "dates_enable",
    "dates.client-confirmation.enable": "dates_client_confirmation_enable",
    "spei.funding-account": "spei_funding_account",
    "spei.funding-name": "spei_funding_name",
}


def _flatten(raw: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in raw.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and name != "payment-modes":
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ConfigError(f"{key} is true or false, not {value!r}")


def _ascii_digits(text: str) -> bool:
    """Whether ``text`` is written in 0-9 only (str.isdigit, int() and Decimal() take other scripts' digits)."""
    return text.isascii() and text.isdigit()


def _value(key: str, kind: Any, value: Any) -> Any:
    if kind is bool:
        return _bool(key, value)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, (int, str)) or not _ascii_digits(str(value).strip()):
            raise ConfigError(f"{key} is a whole number, not {value!r}")
        size = int(value)
        if not 1 <= size <= MAX_SUB_BATCH_SIZE:
            raise ConfigError(f"{key} is from 1 to {MAX_SUB_BATCH_SIZE}, not {size}")
        return size
    if kind is Decimal:
        try:
            rate = Decimal(str(value))
        except InvalidOperation:
            raise ConfigError(f"{key} is a percentage from 0 to 100, not {value!r}") from None
        if isinstance(value, bool) or not str(value).isascii() or not rate.is_finite() or not 0 <= rate <= 100:
            raise ConfigError(f"{key} is a percentage from 0 to 100, not {value!r}")
        return rate
    text = str(value).strip()
    if key == "spei.funding-account":
        if text and not clabe.is_valid(text):
            raise ConfigError(f"{key} is an 18-digit CLABE with a known bank and its check digit, not {value!r}")
        return text
    if key == "spei.funding-name":
        if len(text) > 120:
            raise ConfigError(f"{key} is at most 120 characters")
        return text
    choices = FORMATTING_STANDARDS if key == "formatting.standard" else ORDERING_FIELDS
    if (text.upper() if key == "formatting.standard" else text) not in choices:
        raise ConfigError(f"{key} is one of {', '.join(choices)}, not {value!r}")
    return text.upper() if key == "formatting.standard" else text


def _payment_modes(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ConfigError("payment-modes maps each payment mode to a connector, e.g. {spei: spei, gsma: gsma}")
    modes = {}
    for mode, connector in value.items():
        name, target = str(mode).strip().lower(), str(connector).strip().lower()
        if not name or len(name) > 32:
            raise ConfigError(f"payment mode {mode!r} is 1 to 32 characters")
        if target not in CONNECTORS:
            raise ConfigError(f"payment mode {mode!r} names connector {connector!r}; the connectors are "
                              f"{', '.join(CONNECTORS)}")
        modes[name] = target
    return modes


def parse_config(raw: Mapping[str, Any], base: BulkConfig | None = None) -> BulkConfig:
    """The configuration ``raw`` says (nested ``splitting: {enable: true}`` or dotted
    ``splitting.enable: true``), over ``base`` (the defaults when None). Raises ConfigError."""
    kinds = {f.name: f.type for f in fields(BulkConfig)}
    changes: dict[str, Any] = {}
    for key, value in _flatten(raw).items():
        if key == "payment-modes":
            changes["payment_modes"] = _payment_modes(value)
            continue
        name = KEYS.get(key)
        if name is None:
            raise ConfigError(f"unknown configuration key {key!r}; the keys are "
                              f"{', '.join([*KEYS, 'payment-modes'])}")
        kind = {"bool": bool, "int": int, "Decimal": Decimal, "str": str}[str(kinds[name])]
        changes[name] = _value(key, kind, value)
    return replace(base or BulkConfig(), **changes)
