"""A Mojaloop scheme through the SDK scheme adapter's outbound API: one synchronous ``POST /transfers``
(party lookup, quote and transfer in one call) and a lookup of the transfer.

The instruction's id travels as ``homeTransactionId``: asking twice books one transfer. The adapter
answers with the transfer's ``currentState``: COMPLETED is paid, ERROR_OCCURRED carries the scheme's
error (``lastError.mojaloopError.errorInformation``), anything else (WAITING_FOR_PARTY_ACCEPTANCE,
WAITING_FOR_QUOTE_ACCEPTANCE, ...) waits for a later word. The adapter reports a scheme error with HTTP
500 and the transfer's state; such an answer is a refusal for good when its FSPIOP error code is a
client, payer or payee error (3xxx, 4xxx, 5xxx), and leaves the payment in doubt otherwise (1xxx
communication, 2xxx server errors, or no code at all)."""
from __future__ import annotations

from typing import Any, Callable, Mapping
from urllib.parse import quote

import httpx

from domain.connectors import Answer, Outcome, Payment
from domain.money import Money, MoneyError

from .http import ProviderClient, is_refusal, json_body, text_of

TRANSFERS = "/transfers"
COMPLETED, ERROR_OCCURRED = "COMPLETED", "ERROR_OCCURRED"
DEFAULT_ID_TYPE = "MSISDN"
REFUSING_ERROR_FAMILIES = ("3", "4", "5")   # FSPIOP client, payer and payee errors


class MojaloopConnector:
    """Pays through a Mojaloop SDK scheme adapter at ``base_url``; ``acquire`` is called before each HTTP call."""

    def __init__(self, base_url: str, timeout_seconds: float, acquire: Callable[[], None] = lambda: None):
        self._client = ProviderClient(base_url, timeout_seconds, acquire)

    def close(self) -> None:
        """Free the HTTP connections."""
        self._client.close()

    def __enter__(self) -> MojaloopConnector:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def pay(self, payment: Payment) -> Answer:
        """``POST /transfers`` keyed by the instruction id, answered by the transfer's currentState (the
        reference is the scheme's transferId)."""
        try:
            body = transfer_body(payment)
        except MoneyError as e:
            return Answer.failed("INVALID_AMOUNT", str(e))
        try:
            response = self._client.call("POST", TRANSFERS, body=body)
        except httpx.HTTPError as e:
            return Answer.in_doubt(f"{type(e).__name__} calling the Mojaloop adapter")
        return _answer(response)

    def status(self, payment: Payment, reference: str | None = None) -> Answer:
        """``GET /transfers/{id}``: the transfer by its transferId when ``reference`` is known, else by
        the instruction's homeTransactionId.

        The real SDK scheme adapter looks transfers up by transferId only; the sandbox serves lookups by
        homeTransactionId too, which is all a retry after a timeout has. Keep the reference when known.
        "Not known" (404) is a failure for good only once the pay call has ended."""
        path = f"{TRANSFERS}/{quote(reference or payment.instruction_id, safe='')}"
        try:
            response = self._client.call("GET", path)
        except httpx.HTTPError as e:
            return Answer.in_doubt(f"{type(e).__name__} asking the Mojaloop adapter")
        if response.status_code == 404:
            return Answer.failed("404", "not known to the provider")
        return _answer(response)


    def confirm(self, payment: Payment, reference: str | None = None) -> Answer:
        """The scheme's own word on this instruction, to check a callback against: ``GET /transfers/{id}``
        by the transferId we recorded from our own call (``reference``), else by our homeTransactionId;
        never by an id a callback claimed."""
        return self.status(payment, reference)


def transfer_body(payment: Payment) -> dict[str, Any]:
    """The SDK's outbound transfer request for one payment (MoneyError if the amount cannot be paid)."""
    return {
        "homeTransactionId": payment.instruction_id,
        "from": {"idType": payment.payer_identifier_type.strip().upper() or DEFAULT_ID_TYPE,
                 "idValue": payment.payer_identifier},
        "to": {"idType": payment.payee_identifier_type.strip().upper() or DEFAULT_ID_TYPE,
               "idValue": payment.payee_identifier},
        "amountType": "SEND",
        "currency": payment.currency,
        "amount": scheme_amount(Money(payment.amount, payment.currency)),
        "transactionType": "TRANSFER",
        "note": payment.note,
    }


def scheme_amount(amount: Money) -> str:
    """The amount as FSPIOP writes it: major units, exact, without trailing zeros (``100.5``, ``100``)."""
    if amount.minor <= 0:
        raise MoneyError("a transfer pays a positive amount")
    text = amount.to_decimal_string()
    return text.rstrip("0").rstrip(".") if "." in text else text


def read_callback(body: Mapping[str, Any]) -> Answer:
    """A transfer's state reported to us (a transfer response, or an error transfer response with its
    ``transferState``), read as ``pay`` reads an answer. Raises ValueError for a body that is neither."""
    if _transfer_state(body) is None:
        raise ValueError("not a Mojaloop transfer state")
    return _read(200, body)


def _answer(response: httpx.Response) -> Answer:
    return _read(response.status_code, json_body(response))


def _read(status: int, body: Mapping[str, Any] | None) -> Answer:
    state = _transfer_state(body)
    if state is not None:
        current = text_of(state.get("currentState"))
        reference = text_of(state.get("transferId")) or None
        if current == COMPLETED and 200 <= status < 300:
            return Answer(Outcome.SUCCESS, reference)
        if current == ERROR_OCCURRED:
            code, description = _scheme_error(body or {}, state)
            if code[:1] in REFUSING_ERROR_FAMILIES and len(code) == 4:
                return Answer.failed(code, description or "the scheme refused the transfer", reference)
            return Answer.in_doubt(f"the transfer ended in ERROR_OCCURRED ({code or 'no code'}: {description})")
        if 200 <= status < 300:
            return Answer(Outcome.PENDING, reference)
    if is_refusal(status):
        error = body or {}
        code = text_of(error.get("statusCode")) or str(status)
        return Answer.failed(code, text_of(error.get("message")) or f"HTTP {status} from the Mojaloop adapter")
    return Answer.in_doubt(f"HTTP {status} from the Mojaloop adapter")


def _transfer_state(body: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The transfer as answered: the body itself, or the ``transferState`` of an error answer."""
    if body is None:
        return None
    nested = body.get("transferState")
    if isinstance(nested, Mapping):
        return nested
    return body if "currentState" in body else None


def _scheme_error(body: Mapping[str, Any], state: Mapping[str, Any]) -> tuple[str, str]:
    """The FSPIOP error code and description of a failed transfer, from its lastError (or the answer)."""
    last = state.get("lastError")
    if isinstance(last, Mapping):
        mojaloop_error = last.get("mojaloopError")
        info = mojaloop_error.get("errorInformation") if isinstance(mojaloop_error, Mapping) else None
        if isinstance(info, Mapping):
            return text_of(info.get("errorCode")), text_of(info.get("errorDescription"))
    return text_of(body.get("statusCode")), text_of(body.get("message"))
