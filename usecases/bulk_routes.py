"""Payment routing: an amount split among payees (vendors, beneficiaries) becomes a one-off batch. The
parts must add up to the amount exactly, in its currency."""
from __future__ import annotations

from typing import Any, Mapping

from domain.bulk_config import BulkConfig
from domain.money import BeyondBound, Money, MoneyError


class RouteError(ValueError):
    """The route cannot be paid as given; the message says why."""


class AmountBeyondBound(RouteError):
    """An amount of the route is beyond the largest amount (domain.money.MAX_MINOR)."""


def _mode(config: BulkConfig, given: str | None) -> str:
    if given:
        if config.connector_of(given) is None:
            raise RouteError(f"payment mode {given!r} is not configured for this tenant")
        return given
    for mode, connector in config.payment_modes.items():
        if connector == "closedloop":
            return mode
    raise RouteError("give payment_mode: the tenant has no payment mode paid through the closed loop")


def items(config: BulkConfig, route: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The route's parts as the items of a raw batch. Raises RouteError when they do not add up."""
    currency = str(route["currency"]).upper()
    try:
        whole = Money.parse(str(route["amount"]), currency)
        parts = []
        for i, part in enumerate(route["transfers"]):
            if str(part["currency"]).upper() != currency:
                raise RouteError(f"transfers[{i}] is in {part['currency']}, the route in {currency}")
            parts.append(Money.parse(str(part["amount"]), currency))
    except BeyondBound as e:
        raise AmountBeyondBound(str(e)) from None
    except MoneyError as e:
        raise RouteError(str(e)) from None
    total = sum(parts, Money.zero(currency))
    if total != whole:
        raise RouteError(f"the transfers add up to {total.to_decimal_string()} {currency}, not "
                         f"{whole.to_decimal_string()}: they must add up to the amount exactly")
    mode = _mode(config, route.get("payment_mode"))
    return [{"id": i, "paymentMode": mode, "amount": str(part["amount"]), "currency": currency,
             "creditParty": [{"key": "accountnumber", "value": part["account"]}],
             "descriptionText": note_of(part.get("notes"))} for i, part in enumerate(route["transfers"])]


def note_of(notes: Any) -> str:
    """A part's note: its text, or of an object (the seed's ``{"branch": ..., "name": ...}``) the payee's
    name, which a SPEI order carries; an object without one gives its members as ``key: value``."""
    if isinstance(notes, Mapping):
        return str(notes["name"]) if notes.get("name") else "; ".join(f"{k}: {v}" for k, v in notes.items())
    return str(notes or "")
