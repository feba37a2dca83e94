"""The GSMA and Mojaloop connectors against the sandbox's mobile-money rails, over real HTTP on loopback."""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import socket
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import httpx
import pytest

from adapters.connectors import gsma, mojaloop
from adapters.connectors.gsma import GsmaConnector, read_callback
from adapters.connectors.mojaloop import MojaloopConnector
from domain.connectors import Answer, Outcome, Payment
from domain.money import Money
from sandbox import SandboxConfig, SandboxServer

SECRET = "mobile-money-hook"
HANG = 0.8          # the sandbox's hang for payees ending 2222
TIMEOUT = 0.3       # the connectors' timeout: shorter than the hang
DELAY = 0.05        # from a GSMA 202 to the transfer completing and its callback
_ids = itertools.count(1)


class CallbackReceiver:
    """A local callback URL: records every PUT (headers and exact body) and fails the first ``failures``."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], bytes, int]] = []
        self.failures = 0
        self._lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._lock:
                    status = 500 if receiver.failures > 0 else 200
                    receiver.failures -= 1
                    receiver.calls.append((dict(self.headers.items()), body, status))
                    receiver._lock.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="test-callback-receiver")
        self._thread.start()

    def url(self, instruction_id: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/callbacks/gsma/{instruction_id}"

    def of(self, instruction_id: str) -> list[tuple[dict[str, str], bytes, int]]:
        with self._lock:
            return [c for c in self.calls if c[0].get("X-CorrelationID") == instruction_id]

    def wait_for(self, instruction_id: str, count: int, timeout: float = 5.0) -> list[tuple[dict[str, str], bytes, int]]:
        with self._lock:
            self._lock.wait_for(lambda: len([c for c in self.calls if c[0].get("X-CorrelationID") == instruction_id])
                                >= count, timeout)
        return self.of(instruction_id)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    config = SandboxConfig(gsma_callback_secret=SECRET, connector_hang_seconds=HANG, connector_callback_delay_seconds=DELAY,
                           connector_callback_backoff_seconds=(0.05, 0.2))
    server = SandboxServer(config).start()
    yield server
    server.stop()
    left = [t.name for t in threading.enumerate() if t.name.startswith("stp-sandbox")]
    assert left == [], "the sandbox left threads behind"


@pytest.fixture(scope="module")
def receiver() -> Iterator[CallbackReceiver]:
    callbacks = CallbackReceiver()
    yield callbacks
    callbacks.stop()


@pytest.fixture
def calls() -> list[str]:
    """What the rate-limit hook saw: one entry per HTTP call."""
    return []


@pytest.fixture
def gsma_connector(sandbox: SandboxServer, calls: list[str]) -> Iterator[GsmaConnector]:
    with GsmaConnector(sandbox.url, TIMEOUT, acquire=lambda: calls.append("gsma")) as connector:
        yield connector


@pytest.fixture
def mojaloop_connector(sandbox: SandboxServer, calls: list[str]) -> Iterator[MojaloopConnector]:
    with MojaloopConnector(sandbox.url, TIMEOUT, acquire=lambda: calls.append("mojaloop")) as connector:
        yield connector


def payment(payee: str, amount: int = 123450, receiver: CallbackReceiver | None = None,
            id_type: str = "msisdn") -> Payment:
    """A payment of a fresh instruction (calling back to ``receiver`` when given)."""
    instruction_id = f"INS-{next(_ids):06d}"
    return Payment(instruction_id, id_type, payee, "accountid", "DISPERSA-01", amount, "MXN", "Pago de nómina",
                   receiver.url(instruction_id) if receiver else "")


def booked(sandbox: SandboxServer, rail: str, key: str) -> list[dict[str, Any]]:
    transfers = httpx.get(sandbox.url + "/_sandbox/mobile-money").json()["transfers"]
    return [t for t in transfers if t["rail"] == rail and t["key"] == key]


def wait_until_state(sandbox: SandboxServer, rail: str, key: str, state: str, timeout: float = 5.0) -> None:
    ok = sandbox.mobile_money.books.wait_for(
        lambda transfers: any(t.rail == rail and t.key == key and t.state == state for t in transfers), timeout)
    assert ok, f"{rail} transfer {key} never reached {state}"


def signed_well(headers: dict[str, str], body: bytes) -> bool:
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers.get("X-Callback-Signature", ""), expected)


def in_doubt(answer: Answer) -> bool:
    return answer.outcome is Outcome.PENDING and answer.retryable and answer.error_code == "CONNECTOR_UNAVAILABLE"


# -- amounts on the wire ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("minor", "currency", "gsma_text", "mojaloop_text"), [
    (123450, "MXN", "1234.50", "1234.5"), (100000, "MXN", "1000.00", "1000"), (1, "USD", "0.01", "0.01"),
    (1234, "JPY", "1234", "1234"), (1005, "KWD", "1.005", "1.005"), (10, "KWD", "0.010", "0.01"),
])
def test_amounts_go_as_exact_decimal_strings_in_major_units(minor, currency, gsma_text, mojaloop_text):
    p = Payment("INS-A", "msisdn", "5215512345678", "accountid", "ACC", minor, currency)
    assert gsma.transfer_body(p, datetime.now(timezone.utc))["amount"] == gsma_text
    assert mojaloop.transfer_body(p)["amount"] == mojaloop_text
    assert Money.parse(gsma_text, currency).minor == minor


def test_the_bodies_carry_the_parties_note_and_key_as_each_rail_names_them():
    p = Payment("INS-B", "MOSIP", "7700112233", "", "ACC-9", 500, "MXN", "bono")
    body = gsma.transfer_body(p, datetime.now(timezone.utc))
    assert body["creditParty"] == [{"key": "mosip", "value": "7700112233"}]
    assert body["debitParty"] == [{"key": "accountid", "value": "ACC-9"}]
    assert body["descriptionText"] == "bono" and body["currency"] == "MXN" and body["requestDate"].endswith("Z")
    body = mojaloop.transfer_body(p)
    assert body["homeTransactionId"] == "INS-B" and body["amountType"] == "SEND"
    assert body["to"] == {"idType": "MOSIP", "idValue": "7700112233"}
    assert body["from"] == {"idType": "MSISDN", "idValue": "ACC-9"}
    assert body["transactionType"] == "TRANSFER" and body["note"] == "bono"


def test_an_amount_that_cannot_be_paid_fails_without_a_call(gsma_connector, mojaloop_connector, calls):
    for connector in (gsma_connector, mojaloop_connector):
        answer = connector.pay(payment("5215512345678", amount=0))
        assert answer.outcome is Outcome.FAILURE and answer.error_code == "INVALID_AMOUNT"
    assert calls == []


# -- GSMA ------------------------------------------------------------------------------------------------

def test_gsma_accepts_then_completes_and_calls_back_signed(sandbox, receiver, gsma_connector, calls):
    p = payment("5215512345678", receiver=receiver)
    answer = gsma_connector.pay(p)
    assert answer.outcome is Outcome.PENDING and not answer.retryable
    server_id = answer.reference
    assert server_id and booked(sandbox, "gsma", p.instruction_id)[0]["reference"] == server_id
    assert calls == ["gsma"]

    [(headers, body, status)] = receiver.wait_for(p.instruction_id, 1)
    assert status == 200 and signed_well(headers, body)
    transaction = json.loads(body)
    assert transaction["transactionStatus"] == "completed" and transaction["amount"] == "1234.50"
    final = read_callback(transaction)
    assert final.outcome is Outcome.SUCCESS and final.reference == transaction["transactionReference"]

    assert gsma_connector.status(p) == Answer(Outcome.SUCCESS, final.reference)
    assert gsma_connector.pay(p) == Answer(Outcome.SUCCESS, final.reference)     # 201 with the transaction
    assert len(booked(sandbox, "gsma", p.instruction_id)) == 1
    looked_up = httpx.get(f"{sandbox.url}/transactions/{final.reference}").json()
    assert looked_up["transactionStatus"] == "completed"


def test_gsma_a_callback_without_a_2xx_is_tried_again(sandbox, receiver, gsma_connector):
    p = payment("5215512345679", receiver=receiver)
    receiver.failures = 2
    assert gsma_connector.pay(p).outcome is Outcome.PENDING
    delivered = receiver.wait_for(p.instruction_id, 3)
    assert [status for _, _, status in delivered] == [500, 500, 200]
    assert len({body for _, body, _ in delivered}) == 1 and all(signed_well(h, b) for h, b, _ in delivered)
    assert sandbox.mobile_money.wait_idle(5)
    assert booked(sandbox, "gsma", p.instruction_id)[0]["callbacks"] == [
        {"copy": 0, "attempts": 3, "delivered": True, "gave_up": False, "last_status": 200}]


def test_gsma_duplicate_callbacks_for_a_payee_ending_3333(sandbox, receiver, gsma_connector):
    p = payment("5215512343333", receiver=receiver)
    assert gsma_connector.pay(p).outcome is Outcome.PENDING
    delivered = receiver.wait_for(p.instruction_id, 2)
    assert len(delivered) == 2 and delivered[0][1] == delivered[1][1]
    assert all(signed_well(h, b) for h, b, _ in delivered)
    answers = [read_callback(json.loads(body)) for _, body, _ in delivered]
    assert answers[0] == answers[1] and answers[0].outcome is Outcome.SUCCESS
    assert len(booked(sandbox, "gsma", p.instruction_id)) == 1


def test_gsma_inactive_account_is_refused_with_422(sandbox, gsma_connector, receiver):
    p = payment("5215512340000", receiver=receiver)
    assert gsma_connector.pay(p) == Answer.failed("422", "Inactive Account")
    assert gsma_connector.pay(p) == Answer.failed("422", "Inactive Account")     # the booked answer again
    status = gsma_connector.status(p)
    assert status.outcome is Outcome.FAILURE and status.error_description == "Inactive Account"
    assert sandbox.mobile_money.wait_idle(5) and receiver.of(p.instruction_id) == []


def test_gsma_pending_for_ever_for_a_payee_ending_1111(sandbox, receiver, gsma_connector):
    p = payment("5215512341111", receiver=receiver)
    answer = gsma_connector.pay(p)
    assert answer.outcome is Outcome.PENDING and answer.reference and not answer.retryable
    time.sleep(DELAY * 4)
    assert gsma_connector.status(p) == Answer(Outcome.PENDING, answer.reference)
    assert receiver.of(p.instruction_id) == []


def test_gsma_timeout_is_in_doubt_and_a_later_call_answers_the_booked_transfer(sandbox, gsma_connector):
    p = payment("5215512342222")
    started = time.monotonic()
    first = gsma_connector.pay(p)
    assert in_doubt(first) and time.monotonic() - started < HANG
    assert gsma_connector.pay(replace(p, amount=1)).error_code == "409"     # at once, while the first hangs
    assert booked(sandbox, "gsma", p.instruction_id) == []     # not booked before the hang ends
    wait_until_state(sandbox, "gsma", p.instruction_id, "completed")
    again = gsma_connector.pay(p)
    assert again.outcome is Outcome.SUCCESS and again.reference
    assert gsma_connector.status(p) == again
    assert len(booked(sandbox, "gsma", p.instruction_id)) == 1


def test_gsma_a_repeat_books_nothing_new_and_a_conflicting_repeat_answers_409(sandbox, gsma_connector):
    p = payment("5215500001111")      # pending for ever: every repeat sees the same request state
    first = gsma_connector.pay(p)
    assert first.outcome is Outcome.PENDING and first.reference
    assert gsma_connector.pay(p) == first
    conflict = gsma_connector.pay(replace(p, amount=p.amount + 1))
    assert conflict.outcome is Outcome.FAILURE and conflict.error_code == "409"
    other_payee = gsma_connector.pay(replace(p, payee_identifier="5215512341113"))
    assert other_payee.error_code == "409"
    [transfer] = booked(sandbox, "gsma", p.instruction_id)
    assert transfer["reference"] == first.reference and transfer["amount"] == "1234.50"


def test_gsma_unknown_key_and_unavailable_provider(sandbox, gsma_connector):
    assert gsma_connector.status(payment("5215512345678")) == Answer.failed("404", "not known to the provider")
    assert in_doubt(gsma_connector.pay(payment("5215512345555")))


# -- Mojaloop --------------------------------------------------------------------------------------------

def test_mojaloop_completes_at_once(sandbox, mojaloop_connector, calls):
    p = payment("5215598765432")
    answer = mojaloop_connector.pay(p)
    assert answer.outcome is Outcome.SUCCESS and answer.reference
    assert mojaloop_connector.status(p, answer.reference) == answer
    assert mojaloop_connector.status(p) == answer      # by homeTransactionId, a sandbox convenience
    assert calls == ["mojaloop"] * 3
    [transfer] = booked(sandbox, "mojaloop", p.instruction_id)
    assert transfer["reference"] == answer.reference and transfer["state"] == "COMPLETED"


def test_mojaloop_other_identifier_types_are_upper_cased(sandbox, mojaloop_connector):
    p = payment("ABC-7788", id_type="account_id")
    assert mojaloop_connector.pay(p).outcome is Outcome.SUCCESS
    lookup = httpx.get(f"{sandbox.url}/transfers/{p.instruction_id}").json()
    assert lookup["to"]["idType"] == "ACCOUNT_ID" and lookup["amount"] == "1234.5"


def test_mojaloop_inactive_account_is_error_occurred(mojaloop_connector):
    p = payment("5215598760000")
    answer = mojaloop_connector.pay(p)
    assert (answer.outcome, answer.error_code, answer.error_description) == (Outcome.FAILURE, "5104",
                                                                             "Inactive Account")
    assert answer.reference and not answer.retryable
    assert mojaloop_connector.status(p, answer.reference) == answer


def test_mojaloop_waiting_for_quote_acceptance_is_pending(mojaloop_connector):
    p = payment("5215598761111")
    answer = mojaloop_connector.pay(p)
    assert answer.outcome is Outcome.PENDING and answer.reference and not answer.retryable
    assert mojaloop_connector.status(p, answer.reference) == answer


def test_mojaloop_timeout_is_in_doubt_and_a_later_call_answers_the_booked_transfer(sandbox, mojaloop_connector):
    p = payment("5215598762222")
    started = time.monotonic()
    assert in_doubt(mojaloop_connector.pay(p)) and time.monotonic() - started < HANG
    assert mojaloop_connector.pay(replace(p, amount=1)).error_code == "3106"     # at once, while the first hangs
    assert mojaloop_connector.status(p) == Answer.failed("404", "not known to the provider")   # still hanging
    wait_until_state(sandbox, "mojaloop", p.instruction_id, "COMPLETED")
    again = mojaloop_connector.pay(p)
    assert again.outcome is Outcome.SUCCESS and again.reference
    assert mojaloop_connector.status(p) == again
    assert len(booked(sandbox, "mojaloop", p.instruction_id)) == 1


def test_mojaloop_a_repeat_books_nothing_new_and_a_conflicting_repeat_answers_409(sandbox, mojaloop_connector):
    p = payment("5215598765433")
    first = mojaloop_connector.pay(p)
    assert mojaloop_connector.pay(p) == first
    conflict = mojaloop_connector.pay(replace(p, amount=p.amount + 100))
    assert conflict.outcome is Outcome.FAILURE and conflict.error_code == "3106"
    [transfer] = booked(sandbox, "mojaloop", p.instruction_id)
    assert transfer["reference"] == first.reference and transfer["amount"] == "1234.50"


def test_mojaloop_unknown_key_and_unavailable_adapter(mojaloop_connector):
    assert mojaloop_connector.status(payment("5215598765432")) == Answer.failed("404", "not known to the provider")
    assert in_doubt(mojaloop_connector.pay(payment("5215598765555")))


# -- faults and malformed requests -----------------------------------------------------------------------

def test_a_connection_refused_is_in_doubt_after_a_few_tries():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tries: list[int] = []
    for connector in (GsmaConnector(f"http://127.0.0.1:{port}", TIMEOUT, acquire=lambda: tries.append(1)),
                      MojaloopConnector(f"http://127.0.0.1:{port}", TIMEOUT, acquire=lambda: tries.append(1))):
        with connector:
            assert in_doubt(connector.pay(payment("5215512345678")))
    assert len(tries) == 6      # three tries each, every one through the rate limit


@pytest.mark.parametrize("body", [
    {"amount": 12.5, "currency": "MXN"},                    # a number, not a decimal string
    {"amount": "12.505", "currency": "MXN"},                # more decimals than the currency has
    {"amount": "-5", "currency": "MXN"},
    {"amount": "0", "currency": "MXN"},
    {"amount": "12.50", "currency": "XXX"},
    {"amount": "12.50", "currency": "MXN", "creditParty": []},
])
def test_gsma_malformed_bodies_answer_400(sandbox, body):
    full = {"creditParty": [{"key": "msisdn", "value": "5215512345678"}],
            "debitParty": [{"key": "accountid", "value": "ACC"}], **body}
    response = httpx.post(f"{sandbox.url}/transactions/type/transfer", json=full,
                          headers={"X-CorrelationID": f"BAD-{next(_ids)}"})
    assert response.status_code == 400 and response.json()["errorCategory"] == "validation"


def test_malformed_requests_answer_400(sandbox):
    good = {"creditParty": [{"key": "msisdn", "value": "5215512345678"}], "amount": "1.00", "currency": "MXN",
            "debitParty": [{"key": "accountid", "value": "ACC"}]}
    assert httpx.post(f"{sandbox.url}/transactions/type/transfer", json=good).status_code == 400   # no key
    assert httpx.post(f"{sandbox.url}/transactions/type/transfer", content=b"not json",
                      headers={"X-CorrelationID": "BAD-X"}).status_code == 400
    transfer = {"homeTransactionId": f"BAD-{next(_ids)}", "from": {"idType": "MSISDN", "idValue": "1"},
                "to": {"idType": "MSISDN", "idValue": "5215512345678"}, "amountType": "SEND", "currency": "MXN",
                "amount": "10", "transactionType": "TRANSFER"}
    for broken in ({"amount": 10}, {"amount": "1e3"}, {"to": "5215512345678"}, {"homeTransactionId": ""},
                   {"amountType": "BOTH"}):
        response = httpx.post(f"{sandbox.url}/transfers", json={**transfer, **broken})
        assert response.status_code == 400 and response.json()["statusCode"] == "3100"
    assert httpx.post(f"{sandbox.url}/transfers", content=b"[]").status_code == 400
    assert booked(sandbox, "mojaloop", transfer["homeTransactionId"]) == []


# -- callbacks read without the network ------------------------------------------------------------------

def test_read_callback_reads_failed_transactions_error_objects_and_request_states():
    assert read_callback({"transactionReference": "R1", "transactionStatus": "failed"}).outcome is Outcome.FAILURE
    refused = read_callback({"errorCategory": "businessRule", "errorCode": "inactiveAccount",
                             "errorDescription": "Inactive Account"})
    assert (refused.outcome, refused.error_code, refused.error_description) == (Outcome.FAILURE, "inactiveAccount",
                                                                                "Inactive Account")
    assert read_callback({"serverCorrelationId": "S1", "status": "completed", "objectReference": "R2"}) == \
        Answer(Outcome.SUCCESS, "R2")
    assert read_callback({"transactionReference": "R3", "transactionStatus": "pending"}) == \
        Answer(Outcome.PENDING, "R3")
    with pytest.raises(ValueError):
        read_callback({"hello": "world"})


def test_mojaloop_read_callback_reads_a_transfer_state():
    assert mojaloop.read_callback({"transferId": "T1", "currentState": "COMPLETED"}) == Answer(Outcome.SUCCESS, "T1")
    refused = mojaloop.read_callback({"statusCode": "5104", "transferState": {
        "transferId": "T2", "currentState": "ERROR_OCCURRED",
        "lastError": {"mojaloopError": {"errorInformation": {"errorCode": "5104", "errorDescription": "Inactive"}}}}})
    assert refused == Answer.failed("5104", "Inactive", "T2")
    assert mojaloop.read_callback({"transferId": "T3", "currentState": "WAITING_FOR_PARTY_ACCEPTANCE"}) == \
        Answer(Outcome.PENDING, "T3")
    with pytest.raises(ValueError):
        mojaloop.read_callback({"statusCode": "3100"})
