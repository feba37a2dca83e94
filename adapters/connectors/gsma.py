"""A GSMA Mobile Money API (v1.2) provider: a transfer to a mobile-money account, its request state, and
the provider's callback.

The instruction's id travels as ``X-CorrelationID``, the provider's idempotency key: asking twice books
one transfer. A provider answers a transfer asynchronously (202 and a request state, the final word in a
callback to ``X-Callback-URL`` or by polling) or at once (201 and the transaction). Codes of a refusal:
``pay`` gives the HTTP status as text ("422") with the GSMA error's ``errorDescription``; a request state,
a transaction or a callback that says failed gives the GSMA ``errorCode`` (or the transaction status)."""
from __future__ import annotations

from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any, Callable, Mapping
from urllib.parse import quote

import httpx

from domain.connectors import Answer, Outcome, Payment
from domain.money import Money, MoneyError

from .http import ProviderClient, is_refusal, json_body, text_of

TRANSFER = "/transactions/type/transfer"
REQUEST_STATES = "/requeststates"
TRANSACTIONS = "/transactions"
PAYEE_KEY = "msisdn"       # GSMA pays mobile numbers unless told otherwise
PAYER_KEY = "accountid"    # our disbursement account at the provider
FAILED_WORDS = frozenset({"failed", "rejected", "declined"})


class GsmaConnector:
    """Pays through a GSMA mobile-money provider at ``base_url``; ``acquire`` is called before each HTTP call."""

    def __init__(self, base_url: str, timeout_seconds: float, acquire: Callable[[], None] = lambda: None):
        self._client = ProviderClient(base_url, timeout_seconds, acquire)

    def close(self) -> None:
        """Free the HTTP connections."""
        self._client.close()

    def __enter__(self) -> GsmaConnector:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def pay(self, payment: Payment) -> Answer:
        """``POST /transactions/type/transfer`` keyed by the instruction id: PENDING with the provider's
        serverCorrelationId, SUCCESS with its transactionReference, FAILURE on a 4xx, in doubt otherwise."""
        now = _now()
        try:
            body = transfer_body(payment, now)
        except MoneyError as e:
            return Answer.failed("INVALID_AMOUNT", str(e))
        headers = {"X-CorrelationID": payment.instruction_id, "X-Date": format_datetime(now, usegmt=True)}
        if payment.callback_url:
            headers["X-Callback-URL"] = payment.callback_url
        try:
            response = self._client.call("POST", TRANSFER, body=body, headers=headers)
        except httpx.HTTPError as e:
            return Answer.in_doubt(f"{type(e).__name__} calling the GSMA provider")
        return _answer(response)

    def status(self, payment: Payment) -> Answer:
        """``GET /requeststates/{X-CorrelationID}``: where the transfer of this instruction stands.

        A real provider keys request states by its serverCorrelationId; the sandbox serves them by the
        client's X-CorrelationID too, which is what a retry after a timeout has. "Not known" (404) is a
        failure for good only once the pay call has ended: asked while it is still in progress, the
        provider may not have booked it yet."""
        return self._ask(REQUEST_STATES, payment.instruction_id, Answer.failed("404", "not known to the provider"))


    def confirm(self, payment: Payment, reference: str | None = None) -> Answer:
        """The provider's own word on this instruction, to check a callback against: its request state
        (by our X-CorrelationID, so that it is this row's transfer), and for a completed one
        ``GET /transactions/{transactionReference}``, which must show the transaction completed.
        ``reference`` (what a callback claimed) is not trusted to find anything."""
        state = self.status(payment)
        if state.outcome != Outcome.SUCCESS:
            return state
        if not state.reference:
            return Answer.in_doubt("the provider's request state is completed without its transaction reference")
        return self._ask(TRANSACTIONS, state.reference,
                         Answer.in_doubt(f"the provider knows no transaction {state.reference}"))

    def _ask(self, collection: str, identifier: str, not_known: Answer) -> Answer:
        """``GET {collection}/{identifier}`` read as an answer; ``not_known`` for a 404."""
        path = f"{collection}/{quote(identifier, safe='')}"
        try:
            response = self._client.call("GET", path, headers={"X-Date": format_datetime(_now(), usegmt=True)})
        except httpx.HTTPError as e:
            return Answer.in_doubt(f"{type(e).__name__} asking the GSMA provider")
        return not_known if response.status_code == 404 else _answer(response)


def transfer_body(payment: Payment, now: datetime) -> dict[str, Any]:
    """The GSMA transfer request for one payment; the amount in major units, exact (MoneyError if it cannot be)."""
    amount = Money(payment.amount, payment.currency)
    if amount.minor <= 0:
        raise MoneyError("a transfer pays a positive amount")
    return {
        "amount": amount.to_decimal_string(),
        "currency": payment.currency,
        "type": "transfer",
        "creditParty": [{"key": payment.payee_identifier_type.strip().lower() or PAYEE_KEY,
                         "value": payment.payee_identifier}],
        "debitParty": [{"key": payment.payer_identifier_type.strip().lower() or PAYER_KEY,
                        "value": payment.payer_identifier}],
        "descriptionText": payment.note,
        "requestDate": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


def read_callback(body: Mapping[str, Any]) -> Answer:
    """The provider's callback: a transaction object (transactionStatus completed or failed), a request
    state, or a GSMA error object. Raises ValueError for a body that is none of them."""
    answer = _read_object(body)
    if answer is None:
        raise ValueError("not a GSMA transaction, request state or error object")
    return answer


def _answer(response: httpx.Response) -> Answer:
    status, body = response.status_code, json_body(response)
    if 200 <= status < 300:
        answer = _read_object(body) if body is not None else None
        return answer or Answer.in_doubt(f"HTTP {status} from the GSMA provider without a transaction or state")
    if is_refusal(status):
        return Answer.failed(str(status), _error_description(body) or f"HTTP {status} from the GSMA provider")
    return Answer.in_doubt(f"HTTP {status} from the GSMA provider")


def _read_object(body: Mapping[str, Any]) -> Answer | None:
    if "transactionStatus" in body:
        return _transaction(body)
    if "status" in body and ("serverCorrelationId" in body or "objectReference" in body):
        return _request_state(body)
    if "errorCode" in body or "errorCategory" in body:
        return Answer.failed(text_of(body.get("errorCode")) or "error", _error_description(body) or "refused")
    return None


def _transaction(body: Mapping[str, Any]) -> Answer:
    word = text_of(body.get("transactionStatus")).strip().lower()
    reference = text_of(body.get("transactionReference")) or None
    if word == "completed":
        return Answer(Outcome.SUCCESS, reference)
    if word in FAILED_WORDS:
        error = _error_of(body)
        return Answer.failed(text_of(error.get("errorCode")) or word,
                             _error_description(error) or f"the provider reports the transaction {word}", reference)
    return Answer(Outcome.PENDING, reference)


def _request_state(body: Mapping[str, Any]) -> Answer:
    word = text_of(body.get("status")).strip().lower()
    server_id = text_of(body.get("serverCorrelationId")) or None
    if word == "completed":
        return Answer(Outcome.SUCCESS, text_of(body.get("objectReference")) or server_id)
    if word in FAILED_WORDS:
        error = _error_of(body)
        return Answer.failed(text_of(error.get("errorCode")) or word,
                             _error_description(error) or "the provider reports the request failed", server_id)
    return Answer(Outcome.PENDING, server_id)


def _error_of(body: Mapping[str, Any]) -> Mapping[str, Any]:
    error = body.get("error")
    return error if isinstance(error, Mapping) else {}


def _error_description(error: Mapping[str, Any] | None) -> str:
    if not error:
        return ""
    return text_of(error.get("errorDescription")) or text_of(error.get("errorCode"))


def _now() -> datetime:
    return datetime.now(timezone.utc)
