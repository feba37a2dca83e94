"""The sandbox's Mojaloop SDK scheme adapter (outbound API): synchronous transfers and their lookup.

A transfer is keyed by its ``homeTransactionId`` and answered at once with its ``currentState``: 200
COMPLETED, 200 WAITING_FOR_QUOTE_ACCEPTANCE (pending for ever), or, as the SDK reports a scheme error,
500 with an error transfer response whose ``transferState`` is ERROR_OCCURRED and whose lastError
carries FSPIOP error 5104 "Inactive Account". A repeat of the key answers the booked transfer again.
"""
from __future__ import annotations

import uuid
from typing import Any, Mapping

from domain.money import MoneyError

from .bank import Answer
from .config import SandboxConfig
from .mobile_books import Conflict, Fate, MobileBooks, MobileTransfer, Stopping, Terms, read_amount

RAIL = "mojaloop"
COMPLETED, ERROR_OCCURRED = "COMPLETED", "ERROR_OCCURRED"
WAITING = "WAITING_FOR_QUOTE_ACCEPTANCE"
INACTIVE_ACCOUNT = {"errorCode": "5104", "errorDescription": "Inactive Account"}
PAYEE_FSP = "sandboxpayeefsp"
AMOUNT_TYPES = ("SEND", "RECEIVE")


def error(status: int, code: str, message: str) -> Answer:
    """The SDK's error answer: an FSPIOP status code and a message."""
    return Answer(status, {"statusCode": code, "message": message})


def _party(body: Mapping[str, Any], name: str) -> tuple[str, str]:
    party = body.get(name)
    if not isinstance(party, Mapping):
        raise ValueError(f"{name} must be an object with idType and idValue")
    id_type, id_value = party.get("idType"), party.get("idValue")
    if not isinstance(id_type, str) or not isinstance(id_value, str) or not id_type or not id_value:
        raise ValueError(f"{name} must be an object with idType and idValue")
    return id_type, id_value


def read_transfer(body: Mapping[str, Any]) -> tuple[str, Terms]:
    """The homeTransactionId and terms of a transfer request; ValueError says what is wrong."""
    key = body.get("homeTransactionId")
    if not isinstance(key, str) or not key:
        raise ValueError("homeTransactionId is required")
    if body.get("amountType") not in AMOUNT_TYPES:
        raise ValueError(f"amountType must be one of {', '.join(AMOUNT_TYPES)}")
    if not isinstance(body.get("transactionType"), str):
        raise ValueError("transactionType is required")
    amount = read_amount(body.get("amount"), body.get("currency"))
    payer_type, payer = _party(body, "from")
    payee_type, payee = _party(body, "to")
    return key, Terms(amount, payee_type, payee, payer_type, payer)


class MojaloopAdapter:
    """The SDK scheme adapter's outbound ``/transfers`` as the sandbox plays it."""

    def __init__(self, config: SandboxConfig, books: MobileBooks):
        self._config, self._books = config, books

    def transfer(self, body: Mapping[str, Any] | None) -> Answer:
        """``POST /transfers``."""
        if body is None:
            return error(400, "3101", "Malformed syntax: the body must be a JSON object")
        try:
            key, terms = read_transfer(body)
        except (ValueError, MoneyError) as e:
            return error(400, "3100", f"Generic validation error: {e}")
        fate = Fate.of(terms.payee)
        if fate is Fate.UNAVAILABLE:
            return error(503, "2003", "Service currently unavailable")
        hang = self._config.connector_hang_seconds if fate is Fate.HANGS else 0.0
        try:
            transfer, _ = self._books.take(RAIL, key, terms, hang_seconds=hang,
                                           make=lambda: self._book(key, terms, fate, body))
        except Conflict:
            return error(409, "3106", f"Modified request: homeTransactionId {key} was used for another transfer")
        except Stopping:
            return error(503, "2003", "Service currently unavailable: the sandbox is stopping")
        if transfer.state == ERROR_OCCURRED:
            return Answer(500, {"statusCode": INACTIVE_ACCOUNT["errorCode"],
                                "message": INACTIVE_ACCOUNT["errorDescription"], "transferState": view(transfer)})
        return Answer(200, view(transfer))

    def lookup(self, identifier: str) -> Answer:
        """``GET /transfers/{transferId}`` (the sandbox also finds it by homeTransactionId)."""
        transfer = self._books.find(RAIL, identifier)
        if transfer is None:
            return error(404, "3208", f"Transfer ID not found: {identifier}")
        return Answer(200, view(transfer))

    def _book(self, key: str, terms: Terms, fate: Fate, body: Mapping[str, Any]) -> MobileTransfer:
        state = {Fate.INACTIVE: ERROR_OCCURRED, Fate.PENDING_FOR_EVER: WAITING}.get(fate, COMPLETED)
        now = self._now()
        return MobileTransfer(RAIL, key, str(uuid.uuid4()), terms, fate, state, dict(body), now,
                              completed_at=now if state == COMPLETED else None)

    def _now(self) -> str:
        return self._config.clock().isoformat(timespec="milliseconds").replace("+00:00", "Z")


def view(transfer: MobileTransfer) -> dict[str, Any]:
    """The SDK's transfer response: the request as sent, the transferId and the currentState."""
    request = transfer.request
    shown: dict[str, Any] = {
        "transferId": transfer.reference, "homeTransactionId": transfer.key,
        "from": request["from"], "to": dict(request["to"], fspId=PAYEE_FSP),
        "amountType": request["amountType"], "currency": request["currency"], "amount": request["amount"],
        "transactionType": request["transactionType"], "note": request.get("note", ""),
        "currentState": transfer.state, "initiatedTimestamp": transfer.created_at,
    }
    if transfer.state == COMPLETED:
        shown["fulfil"] = {"body": {"transferState": "COMMITTED", "completedTimestamp": transfer.completed_at}}
    if transfer.state == ERROR_OCCURRED:
        shown["lastError"] = {"httpStatusCode": 500,
                              "mojaloopError": {"errorInformation": dict(INACTIVE_ACCOUNT)}}
    return shown
