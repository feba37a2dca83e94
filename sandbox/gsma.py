"""The sandbox's GSMA mobile-money provider (Mobile Money API v1.2): transfers, request states, transactions.

A transfer is keyed by its ``X-CorrelationID``. It is accepted with 202 and a pending request state;
unless its fate says otherwise it completes ``connector_callback_delay_seconds`` later, and then the
transaction object goes to ``X-Callback-URL`` (when given) as a signed ``PUT``. A repeat of the key
answers where the transfer stands: 202 pending, 201 with the completed transaction, or the 422 again.
"""
from __future__ import annotations

import itertools
import uuid
from typing import Any, Mapping

from domain.money import MoneyError

from .bank import Answer
from .callbacks import Callbacks
from .config import SandboxConfig
from .mobile_books import Conflict, Fate, MobileBooks, MobileTransfer, Stopping, Terms, read_amount

RAIL = "gsma"
PENDING, COMPLETED, FAILED = "pending", "completed", "failed"
INACTIVE_ACCOUNT = {"errorCategory": "businessRule", "errorCode": "inactiveAccount",
                    "errorDescription": "Inactive Account"}


def error(status: int, category: str, code: str, description: str) -> Answer:
    """A GSMA error object with its HTTP status."""
    return Answer(status, {"errorCategory": category, "errorCode": code, "errorDescription": description})


def _party(body: Mapping[str, Any], name: str) -> tuple[str, str]:
    parties = body.get(name)
    if not isinstance(parties, list) or not parties or not isinstance(parties[0], Mapping):
        raise ValueError(f"{name} must be a list of key and value")
    key, value = parties[0].get("key"), parties[0].get("value")
    if not isinstance(key, str) or not isinstance(value, str) or not key or not value:
        raise ValueError(f"{name} must be a list of key and value")
    return key, value


def read_transfer(body: Mapping[str, Any]) -> Terms:
    """The terms of a transfer request; ValueError (MoneyError included) says what is wrong."""
    amount = read_amount(body.get("amount"), body.get("currency"))
    payee_type, payee = _party(body, "creditParty")
    payer_type, payer = _party(body, "debitParty")
    if not isinstance(body.get("descriptionText", ""), str):
        raise ValueError("descriptionText must be text")
    return Terms(amount, payee_type, payee, payer_type, payer)


class GsmaProvider:
    """GSMA's paths as the sandbox plays them, on books shared with the Mojaloop adapter."""

    def __init__(self, config: SandboxConfig, books: MobileBooks, callbacks: Callbacks):
        self._config, self._books, self._callbacks = config, books, callbacks
        self._references = itertools.count(1)

    def transfer(self, correlation_id: str | None, callback_url: str | None,
                 body: Mapping[str, Any] | None) -> Answer:
        """``POST /transactions/type/transfer``."""
        if not correlation_id:
            return error(400, "validation", "mandatoryValueNotSupplied", "X-CorrelationID is required")
        if body is None:
            return error(400, "validation", "formatError", "the body must be a JSON object")
        try:
            terms = read_transfer(body)
        except (ValueError, MoneyError) as e:
            return error(400, "validation", "formatError", str(e))
        fate = Fate.of(terms.payee)
        if fate is Fate.UNAVAILABLE:
            return error(503, "internal", "serviceUnavailable", "the provider is unavailable; try again later")
        hang = self._config.connector_hang_seconds if fate is Fate.HANGS else 0.0
        try:
            transfer, new = self._books.take(RAIL, correlation_id, terms, hang_seconds=hang,
                                             make=lambda: self._book(correlation_id, callback_url, terms, fate, body))
        except Conflict:
            return error(409, "validation", "duplicateRequest",
                         f"X-CorrelationID {correlation_id} was used for another transfer")
        except Stopping:
            return error(503, "internal", "serviceUnavailable", "the sandbox is stopping")
        if new and transfer.state == PENDING and fate is not Fate.PENDING_FOR_EVER:
            self._callbacks.later(self._config.connector_callback_delay_seconds,
                                  lambda: self._complete(correlation_id))
        return self._answer(transfer)

    def request_state(self, identifier: str) -> Answer:
        """``GET /requeststates/{serverCorrelationId}`` (the sandbox also finds it by X-CorrelationID)."""
        transfer = self._books.find(RAIL, identifier)
        if transfer is None:
            return error(404, "identification", "requestStateNotFound", f"no request {identifier}")
        return Answer(200, request_state(transfer))

    def transaction(self, reference: str) -> Answer:
        """``GET /transactions/{transactionReference}``: a completed transfer."""
        transfer = self._books.find(RAIL, reference)
        if transfer is None or transfer.transaction_reference != reference:
            return error(404, "identification", "transactionNotFound", f"no transaction {reference}")
        return Answer(200, transaction(transfer))

    def _book(self, correlation_id: str, callback_url: str | None, terms: Terms, fate: Fate,
              body: Mapping[str, Any]) -> MobileTransfer:
        return MobileTransfer(RAIL, correlation_id, str(uuid.uuid4()), terms, fate,
                              FAILED if fate is Fate.INACTIVE else PENDING, dict(body), self._now(),
                              callback_url or "")

    def _answer(self, transfer: MobileTransfer) -> Answer:
        if transfer.state == FAILED:
            return Answer(422, dict(INACTIVE_ACCOUNT))
        if transfer.state == COMPLETED:
            return Answer(201, transaction(transfer))
        return Answer(202, request_state(transfer))

    def _complete(self, correlation_id: str) -> None:
        reference = f"REF-{next(self._references):010d}"

        def change(transfer: MobileTransfer) -> None:
            transfer.state, transfer.transaction_reference, transfer.completed_at = COMPLETED, reference, self._now()
        transfer = self._books.update(RAIL, correlation_id, change)
        if transfer.callback_url:
            copies = 2 if transfer.fate is Fate.DUPLICATE_CALLBACKS else 1
            self._callbacks.send(transfer.callback_url, transaction(transfer), {"X-CorrelationID": correlation_id},
                                 lambda *attempt: self._books.record_callback(RAIL, correlation_id, *attempt),
                                 copies, self._config.gsma_callback_secret)

    def _now(self) -> str:
        return self._config.clock().isoformat(timespec="milliseconds").replace("+00:00", "Z")


def request_state(transfer: MobileTransfer) -> dict[str, Any]:
    """The request state of a transfer, as GSMA's ``requeststates`` show it."""
    state: dict[str, Any] = {"serverCorrelationId": transfer.reference, "clientCorrelationId": transfer.key,
                             "status": transfer.state, "pollLimit": 100,
                             "notificationMethod": "callback" if transfer.callback_url else "polling"}
    if transfer.transaction_reference:
        state["objectReference"] = transfer.transaction_reference
    if transfer.state == FAILED:
        state["error"] = dict(INACTIVE_ACCOUNT)
    return state


def transaction(transfer: MobileTransfer) -> dict[str, Any]:
    """The transaction object of a completed transfer (what a callback carries)."""
    request = transfer.request
    return {"transactionReference": transfer.transaction_reference, "transactionStatus": transfer.state,
            "type": "transfer", "amount": request["amount"], "currency": request["currency"],
            "creditParty": request["creditParty"], "debitParty": request["debitParty"],
            "descriptionText": request.get("descriptionText", ""), "requestDate": request.get("requestDate"),
            "creationDate": transfer.created_at, "modificationDate": transfer.completed_at}
