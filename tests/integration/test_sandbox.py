"""The STP sandbox over real HTTP on loopback: signatures, STP's error codes, queries, callbacks, scenarios."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from adapters.bank.signer import Signer, generate_key_pair
from sandbox import SandboxConfig, SandboxServer, Scenario
from domain import clabe, stp

REGISTRA = "/speiws/rest/ordenPago/registra"
CONSULTA = "/efws/API/consultaOrden"
CONCILIACION = "/efws/API/V2/conciliacion"
EMPRESA = "DISPERSA"
SECRET = "s3cret-hook"
ACCOUNT = clabe.make("012", "180", "00012345678")
MISSING_ACCOUNT = clabe.make("014", "180", "00000000001")
BLOCKED_RFC = "BLOQ800101AB1"
FAST = 8.0        # every scenario delay divided by 8
STILL = 1e-5      # so slow that nothing happens to an order during a test
CALLBACK_KEYS = {"id", "empresa", "folioOrigen", "estado", "causaDevolucion", "tsLiquidacion"}
ROOT = Path(__file__).resolve().parents[2]
HTTP = httpx.Client(timeout=10)     # one client: a new one per call costs a TLS context each time


@pytest.fixture(scope="module", autouse=True)
def close_http_client():
    yield
    HTTP.close()


@pytest.fixture(scope="module")
def keys() -> tuple[bytes, bytes]:
    return generate_key_pair(None)


@pytest.fixture(scope="module")
def signer(keys: tuple[bytes, bytes]) -> Signer:
    return Signer.from_pem(keys[0], None)


@pytest.fixture(autouse=True)
def no_thread_left_behind():
    yield
    left = [t.name for t in threading.enumerate() if t.name.startswith(("stp-sandbox", "test-webhook"))]
    assert left == []


@pytest.fixture
def start_sandbox(keys: tuple[bytes, bytes]):
    """Start sandboxes on free ports (public key, empresa, seed 1 and FAST unless overridden); all stopped after."""
    started: list[SandboxServer] = []

    def start(**overrides: Any) -> SandboxServer:
        fields: dict[str, Any] = dict(public_key_pem=keys[1], empresa=EMPRESA, seed=1, speed=FAST,
                                      missing_accounts=frozenset({MISSING_ACCOUNT}),
                                      pld_blocklist=frozenset({"PLD Rechazado", BLOCKED_RFC}))
        fields.update(overrides)
        started.append(SandboxServer(SandboxConfig(**fields)).start())
        return started[-1]

    yield start
    for server in started:
        server.stop()


class WebhookReceiver:
    """A local webhook: records every call (secret, body, answer) and fails the first ``failures`` with 500."""

    def __init__(self, failures: int = 0):
        self.calls: list[tuple[str | None, dict[str, Any], int]] = []
        self.failures = failures
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver._lock:
                    status = 500 if receiver.failures > 0 else 200
                    receiver.failures -= 1
                    receiver.calls.append((self.headers.get("X-Webhook-Secret"), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="test-webhook")
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/webhooks/stp/order-status"

    def estados_of(self, order_id: int) -> list[str]:
        """The estados accepted (answered 200) for one order, in the order they arrived."""
        with self._lock:
            return [body["estado"] for _, body, status in self.calls if body["id"] == order_id and status == 200]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@pytest.fixture
def webhook():
    receivers: list[WebhookReceiver] = []

    def start(failures: int = 0) -> WebhookReceiver:
        receivers.append(WebhookReceiver(failures))
        return receivers[-1]

    yield start
    for receiver in receivers:
        receiver.stop()


def order_fields(clave: str = "DSP0001", **changes: Any) -> dict[str, str]:
    """A valid order with STP's field rules applied; then ``changes`` as given (None removes a field)."""
    fields = stp.normalise_order({
        "institucionContraparte": "40012", "claveRastreo": clave, "monto": "1250.5", "folioOrigen": f"F{clave}",
        "nombreBeneficiario": "Ferretería Añil", "cuentaBeneficiario": ACCOUNT, "rfcCurpBeneficiario": "FEAN900101AB1",
        "conceptoPago": "Dispersión semanal", "referenciaNumerica": "1234567", "cuentaOrdenante": "646180000000000008",
        "nombreOrdenante": "DISPERSA SA DE CV", "rfcCurpOrdenante": "DIS200101AB1",
    }, EMPRESA)
    for name, value in changes.items():
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    return fields


def signed(signer: Signer, fields: dict[str, str]) -> dict[str, str]:
    return dict(fields, firma=signer.sign(stp.cadena_original(fields)))


def registra(server: SandboxServer, body: dict[str, Any], timeout: float = 10) -> httpx.Response:
    return HTTP.put(server.url + REGISTRA, json=body, timeout=timeout)


def send(server: SandboxServer, signer: Signer, clave: str = "DSP0001", **changes: Any) -> dict[str, Any]:
    response = registra(server, signed(signer, order_fields(clave, **changes)))
    assert response.status_code == 200, response.text
    return response.json()["resultado"]


def bank_id(server: SandboxServer, signer: Signer, clave: str, **changes: Any) -> int:
    answer = stp.read_registration({"resultado": send(server, signer, clave, **changes)})
    assert answer.error is None, answer.error
    return answer.order_id


def consult(server: SandboxServer, signer: Signer, clave: str, fecha: str = "") -> httpx.Response:
    body = {"empresa": EMPRESA, "claveRastreo": clave, "tipoOrden": "E",
            "firma": signer.sign(stp.cadena_consulta(EMPRESA, clave, "E", fecha))}
    if fecha:
        body["fechaOperacion"] = fecha
    return HTTP.post(server.url + CONSULTA, json=body)


def conciliate(server: SandboxServer, signer: Signer, fecha: str, page: int) -> httpx.Response:
    body = {"empresa": EMPRESA, "tipoOrden": "E", "fechaOperacion": fecha, "page": page,
            "firma": signer.sign(stp.cadena_conciliacion(EMPRESA, "E", fecha))}
    return HTTP.post(server.url + CONCILIACION, json=body)


def today_in_mexico() -> str:
    return datetime.now(ZoneInfo("America/Mexico_City")).strftime("%Y%m%d")


def settled(server: SandboxServer) -> None:
    assert server.wait_idle(20), "the sandbox did not finish its outcomes and callbacks"


# -- registra: signature and field rules -------------------------------------------------------------------

def test_a_signed_order_is_booked_in_flight_under_a_bank_id_of_seven_digits_or_more(start_sandbox, signer):
    server = start_sandbox(speed=STILL)
    order_id = bank_id(server, signer, "DSP0001")

    assert len(str(order_id)) >= 7
    [booked] = server.books.orders()
    assert (booked.id, booked.clave_rastreo, booked.estado) == (order_id, "DSP0001", "A")
    assert booked.fields["nombreBeneficiario"] == "Ferreteria Anil"
    assert booked.fields["monto"] == "1250.50"
    assert booked.fecha_operacion == today_in_mexico()
    assert abs(booked.ts_captura - time.time() * 1000) < 60_000


def test_the_orders_own_fecha_operacion_is_kept(start_sandbox, signer):
    server = start_sandbox(speed=STILL)
    bank_id(server, signer, "DSP0001", fechaOperacion="20261123")
    assert server.books.find(EMPRESA, "DSP0001").fecha_operacion == "20261123"


@pytest.mark.parametrize("tamper", ["other key", "changed amount", "no firma", "garbage"])
def test_a_bad_firma_answers_id_0_and_books_nothing(start_sandbox, signer, tamper):
    server = start_sandbox(speed=STILL)
    body = signed(signer, order_fields())
    if tamper == "other key":
        body = signed(Signer.from_pem(generate_key_pair(None)[0], None), order_fields())
    elif tamper == "changed amount":
        body["monto"] = "9999.00"
    elif tamper == "no firma":
        del body["firma"]
    else:
        body["firma"] = "not base64 at all!"

    response = registra(server, body)

    assert response.status_code == 200
    assert response.json() == {"resultado": {"id": 0, "descripcionError": "Error validando la firma"}}
    assert server.books.orders() == []


def test_amounts_sent_as_json_numbers_verify_as_signed_with_two_decimals(start_sandbox, signer):
    server = start_sandbox(speed=STILL)
    fields = order_fields(monto="1250.50")
    body = signed(signer, fields)
    raw = json.dumps(body).replace('"monto": "1250.50"', '"monto": 1250.5')

    response = HTTP.put(server.url + REGISTRA, content=raw, headers={"Content-Type": "application/json"})

    assert len(str(response.json()["resultado"]["id"])) >= 7


def test_without_a_public_key_any_firma_is_accepted(start_sandbox):
    server = start_sandbox(public_key_pem=None, speed=STILL)
    response = registra(server, dict(order_fields(), firma="whatever"))
    assert len(str(response.json()["resultado"]["id"])) >= 7


MANDATORY = ["claveRastreo", "monto", "cuentaBeneficiario", "nombreBeneficiario", "institucionContraparte",
             "conceptoPago", "empresa", "rfcCurpBeneficiario", "referenciaNumerica"]


@pytest.mark.parametrize("field", MANDATORY)
def test_a_missing_mandatory_field_answers_0_naming_it(start_sandbox, signer, field):
    server = start_sandbox(speed=STILL)
    result = send(server, signer, **{field: None})
    assert result == {"id": 0, "descripcionError": f"El campo {field} es obligatorio"}
    assert server.books.orders() == []


def test_another_empresa_answers_0(start_sandbox, signer):
    server = start_sandbox(speed=STILL)
    assert send(server, signer, empresa="OTRA")["id"] == 0
    assert server.books.orders() == []


WRONG_CHECK_DIGIT = ACCOUNT[:17] + str((int(ACCOUNT[17]) + 1) % 10)
RULES = [
    ({"claveRastreo": "DSP-0001"}, -34), ({"claveRastreo": "A" * 31}, -34), ({"claveRastreo": "Ñu01"}, -34),
    ({"monto": "0.00"}, -20), ({"monto": "-10.00"}, -20), ({"monto": "10.234"}, -20), ({"monto": "diez"}, -20),
    ({"institucionContraparte": "40999"}, -9), ({"institucionContraparte": "12012"}, -9),
    ({"institucionContraparte": "4001"}, -9),
    ({"tipoCuentaBeneficiario": "5"}, -11), ({"tipoCuentaBeneficiario": "3"}, -11),
    ({"tipoCuentaBeneficiario": "10"}, -11), ({"cuentaBeneficiario": ACCOUNT[:16]}, -11),
    ({"cuentaBeneficiario": WRONG_CHECK_DIGIT}, -7), ({"cuentaBeneficiario": "999" + ACCOUNT[3:]}, -7),
    ({"cuentaBeneficiario": MISSING_ACCOUNT, "institucionContraparte": "40014"}, -7),
    ({"institucionContraparte": "40014"}, -22), ({"institucionContraparte": "90646"}, -22),
    ({"cuentaOrdenante": ACCOUNT}, -24),
    ({"nombreBeneficiario": "PLD RECHAZADO"}, -200), ({"nombreBeneficiario": "pld rechazado"}, -200),
    ({"rfcCurpBeneficiario": BLOCKED_RFC}, -200),
]


@pytest.mark.parametrize(("changes", "code"), RULES)
def test_each_broken_rule_answers_stps_code_and_message(start_sandbox, signer, changes, code):
    server = start_sandbox(speed=STILL)
    result = send(server, signer, **changes)

    assert result == {"id": code, "descripcionError": stp.ERRORS[code].message}
    assert stp.read_registration({"resultado": result}).error.fault == stp.Fault.PERMANENT
    assert server.books.orders() == []


def test_a_valid_card_or_phone_account_is_accepted(start_sandbox, signer):
    server = start_sandbox(speed=STILL)
    bank_id(server, signer, "DSP0001", cuentaBeneficiario="4152313456789012", tipoCuentaBeneficiario="3")
    bank_id(server, signer, "DSP0002", cuentaBeneficiario="5512345678", tipoCuentaBeneficiario="10")
    assert [o.fields["tipoCuentaBeneficiario"] for o in server.books.orders()] == ["3", "10"]


def test_a_reused_tracking_key_answers_minus_1_and_keeps_the_first_order(start_sandbox, signer):
    server = start_sandbox(speed=STILL)
    first = bank_id(server, signer, "DSP0001")

    result = send(server, signer, "DSP0001", monto="10.00")

    assert result == {"id": -1, "descripcionError": "La clave de rastreo DSP0001 ya fue utilizada"}
    assert stp.read_registration({"resultado": result}).error.fault == stp.Fault.EXISTS
    [booked] = server.books.orders()
    assert (booked.id, booked.fields["monto"]) == (first, "1250.50")


def test_malformed_json_is_refused(start_sandbox):
    server = start_sandbox(speed=STILL)
    response = HTTP.put(server.url + REGISTRA, content=b"{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert server.books.orders() == []


# -- consultaOrden and conciliacion -------------------------------------------------------------------------

def test_consulta_answers_a_booked_order_with_its_fields_and_state(start_sandbox, signer):
    server = start_sandbox(speed=STILL)
    order_id = bank_id(server, signer, "DSP0001")

    for fecha in ("", today_in_mexico()):
        response = consult(server, signer, "DSP0001", fecha)
        assert response.status_code == 200
        body = response.json()
        assert (body["estado"], body["mensaje"]) == (0, "Datos consultados correctamente")
        answer = body["respuesta"]
        assert (answer["idEF"], answer["claveRastreo"], answer["estado"]) == (order_id, "DSP0001", "A")
        assert answer["cuentaBeneficiario"] == ACCOUNT and answer["monto"] == 1250.5
        assert answer["tsCaptura"] == server.books.get(order_id).ts_captura
        assert answer["tsLiquidacion"] is None and answer["causaDevolucion"] is None
        assert stp.outcome_of(answer["estado"]) is None


@pytest.mark.parametrize(("clave", "fecha"), [("DSP9999", ""), ("DSP0001", "20200101")])
def test_consulta_of_an_unknown_order_answers_400_estado_6(start_sandbox, signer, clave, fecha):
    server = start_sandbox(speed=STILL)
    bank_id(server, signer, "DSP0001")

    response = consult(server, signer, clave, fecha)

    assert response.status_code == 400
    assert response.json() == {"estado": 6, "mensaje": "No se encontraron datos relacionados"}


def test_consulta_and_conciliacion_check_their_firma(start_sandbox, signer):
    server = start_sandbox(speed=STILL)
    bank_id(server, signer, "DSP0001")
    consulta = {"empresa": EMPRESA, "claveRastreo": "DSP0001", "tipoOrden": "E",
                "firma": signer.sign(stp.cadena_consulta(EMPRESA, "DSP0002", "E"))}
    conciliacion = {"empresa": EMPRESA, "tipoOrden": "E", "fechaOperacion": today_in_mexico(), "page": 1,
                    "firma": signer.sign(stp.cadena_conciliacion(EMPRESA, "E", "20200101"))}

    for path, body in ((CONSULTA, consulta), (CONCILIACION, conciliacion)):
        response = HTTP.post(server.url + path, json=body)
        assert response.status_code == 400
        assert response.json()["mensaje"] == "Error validando la firma"


def test_conciliacion_lists_the_days_orders_page_by_page(start_sandbox, signer):
    server = start_sandbox(speed=STILL, page_size=2)
    today = today_in_mexico()
    ids = [bank_id(server, signer, f"DSP{n:04d}") for n in range(5)]
    bank_id(server, signer, "DSPOTHER", fechaOperacion="20200101")

    pages = [conciliate(server, signer, today, page).json() for page in (1, 2, 3, 4)]

    assert [len(p["datos"]) for p in pages] == [2, 2, 1, 0]
    assert all((p["estado"], p["total"]) == (0, 5) for p in pages)
    assert [p["page"] for p in pages] == [1, 2, 3, 4]
    assert [d["idEF"] for p in pages for d in p["datos"]] == ids
    assert {d["estado"] for p in pages for d in p["datos"]} == {"A"}
    other_day = conciliate(server, signer, "20200101", 1).json()
    assert [d["claveRastreo"] for d in other_day["datos"]] == ["DSPOTHER"]


# -- callbacks ---------------------------------------------------------------------------------------------

OUTCOMES = [
    (Scenario("t-liquidated"), ["LQ"]),
    (Scenario("t-cancelled", liquidated=0, cancelled=1), ["CN"]),
    (Scenario("t-returned", liquidated=0, returned=1), ["D"]),
    (Scenario("t-late-return", late_return=1), ["LQ", "D"]),
]


@pytest.mark.parametrize(("scenario", "estados"), OUTCOMES, ids=[s.name for s, _ in OUTCOMES])
def test_each_outcome_is_reported_to_the_webhook_with_the_secret(start_sandbox, signer, webhook, scenario, estados):
    receiver = webhook()
    server = start_sandbox(scenario=scenario, webhook_url=receiver.url, webhook_secret=SECRET)
    order_id = bank_id(server, signer, "DSP0001")
    settled(server)

    assert receiver.estados_of(order_id) == estados
    for secret, body, _ in receiver.calls:
        assert secret == SECRET
        assert set(body) == CALLBACK_KEYS
        assert (body["empresa"], body["folioOrigen"]) == (EMPRESA, "FDSP0001")
        assert (body["causaDevolucion"] is not None) == (body["estado"] == "D")
    booked = server.books.get(order_id)
    assert booked.estado == estados[-1]
    assert [(d.estado, d.attempts, d.delivered) for d in booked.deliveries] == [(e, 1, True) for e in estados]
    last = receiver.calls[-1][1]
    assert last["tsLiquidacion"] == booked.ts_liquidacion
    assert (booked.ts_liquidacion is not None) == ("LQ" in estados)
    assert consult(server, signer, "DSP0001").json()["respuesta"]["estado"] == estados[-1]


def test_mixed_and_late_returns_scenarios_produce_every_outcome(start_sandbox, signer, webhook):
    receivers = webhook(), webhook()
    mixed, late = (start_sandbox(scenario=name, seed=3, webhook_url=r.url, webhook_secret=SECRET)
                   for name, r in zip(("mixed", "late-returns"), receivers))
    for server in (mixed, late):
        for n in range(12):
            bank_id(server, signer, f"DSP{n:04d}")
    settled(mixed)
    settled(late)

    assert {o.estado for o in mixed.books.orders()} == {"LQ", "CN", "D"}
    returned_late = [o for o in late.books.orders() if o.estado == "D"]
    assert returned_late and len(returned_late) < 12
    assert all(o.ts_liquidacion < o.ts_devolucion for o in returned_late)
    for server, receiver in zip((mixed, late), receivers):
        for order in server.books.orders():
            assert receiver.estados_of(order.id)[-1] == order.estado


def test_the_words_style_spells_the_outcomes(start_sandbox, signer, webhook):
    receiver = webhook()
    server = start_sandbox(scenario=Scenario("t-words", late_return=1), estado_style="words",
                           webhook_url=receiver.url, webhook_secret=SECRET)
    order_id = bank_id(server, signer, "DSP0001")
    settled(server)

    assert receiver.estados_of(order_id) == ["Liquidacion", "Devolucion"]
    assert consult(server, signer, "DSP0001").json()["respuesta"]["estado"] == "Devolucion"
    assert server.books.get(order_id).estado == "D"


def test_duplicates_deliver_every_callback_two_or_three_times(start_sandbox, signer, webhook):
    receiver = webhook()
    server = start_sandbox(scenario="duplicates", webhook_url=receiver.url, webhook_secret=SECRET)
    ids = [bank_id(server, signer, f"DSP{n:04d}") for n in range(6)]
    settled(server)

    for order_id in ids:
        order = server.books.get(order_id)
        received = receiver.estados_of(order_id)
        for estado in set(received):
            assert received.count(estado) in (2, 3)
            assert received.count(estado) == sum(1 for d in order.deliveries if d.estado == estado and d.delivered)
        assert received[-1] == order.estado


def test_a_failing_webhook_is_retried_until_it_answers(start_sandbox, signer, webhook):
    receiver = webhook(failures=3)
    server = start_sandbox(scenario="webhook-down", webhook_url=receiver.url, webhook_secret=SECRET)
    order_id = bank_id(server, signer, "DSP0001")
    settled(server)

    assert [status for _, body, status in receiver.calls if body["id"] == order_id] == [500, 500, 500, 200]
    [delivery] = server.books.get(order_id).deliveries
    assert (delivery.attempts, delivery.delivered, delivery.last_status) == (4, True, 200)


def test_the_books_settle_even_when_the_webhook_never_answers(start_sandbox, signer):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}/hook"
    server = start_sandbox(scenario=Scenario("t-give-up", webhook_attempts=3), webhook_url=nowhere)
    order_id = bank_id(server, signer, "DSP0001")
    settled(server)

    booked = server.books.get(order_id)
    assert booked.estado == "LQ"
    [delivery] = booked.deliveries
    assert (delivery.attempts, delivery.delivered, delivery.gave_up, delivery.last_status) == (3, False, True, None)


def test_out_of_order_a_callback_can_beat_the_registra_answer(start_sandbox, signer, webhook):
    receiver = webhook()
    server = start_sandbox(scenario=Scenario("t-early", early_callback=1), webhook_url=receiver.url,
                           webhook_secret=SECRET)
    order_id = bank_id(server, signer, "DSP0001")

    assert receiver.estados_of(order_id) == ["LQ"]      # already there when the answer arrived
    settled(server)


def test_out_of_order_a_return_can_be_reported_before_its_liquidation(start_sandbox, signer, webhook):
    receiver = webhook()
    server = start_sandbox(scenario=Scenario("t-shuffled", late_return=1, shuffle=1), webhook_url=receiver.url,
                           webhook_secret=SECRET)
    order_id = bank_id(server, signer, "DSP0001")
    settled(server)

    assert receiver.estados_of(order_id) == ["D", "LQ"]
    booked = server.books.get(order_id)
    assert booked.estado == "D" and booked.ts_liquidacion < booked.ts_devolucion


# -- transport faults ---------------------------------------------------------------------------------------

def test_errors_5xx_answer_503_without_booking_the_order(start_sandbox, signer):
    server = start_sandbox(scenario="errors-5xx", seed=4, speed=STILL)
    statuses = {}
    for n in range(12):
        clave = f"DSP{n:04d}"
        statuses[clave] = registra(server, signed(signer, order_fields(clave))).status_code

    assert set(statuses.values()) == {200, 503}
    assert {o.clave_rastreo for o in server.books.orders()} == {k for k, s in statuses.items() if s == 200}
    refused = next(k for k, s in statuses.items() if s == 503)
    for _ in range(30):
        response = registra(server, signed(signer, order_fields(refused)))
        if response.status_code == 200:
            break
    assert len(str(response.json()["resultado"]["id"])) >= 7     # not -1: the 503 booked nothing


def test_timeouts_book_the_order_then_answer_too_late(start_sandbox, signer):
    server = start_sandbox(scenario=Scenario("t-timeout", timeout=1), hang_seconds=30, speed=STILL)
    body = signed(signer, order_fields("DSP0001"))

    with pytest.raises(httpx.ReadTimeout):
        registra(server, body, timeout=0.5)

    assert server.books.wait_for(lambda orders: len(orders) == 1, timeout=5)
    assert consult(server, signer, "DSP0001").json()["respuesta"]["estado"] == "A"
    retry = registra(server, body, timeout=5).json()["resultado"]
    assert retry == {"id": -1, "descripcionError": "La clave de rastreo DSP0001 ya fue utilizada"}
    assert len(server.books.orders()) == 1


def test_the_timeouts_scenario_eventually_answers(start_sandbox, signer):
    server = start_sandbox(scenario="timeouts", seed=2, hang_seconds=0.3)
    results = [send(server, signer, f"DSP{n:04d}")["id"] for n in range(6)]
    assert all(len(str(r)) >= 7 for r in results)
    settled(server)
    assert {o.estado for o in server.books.orders()} == {"LQ"}


# -- repeatability, the debug view, the process ---------------------------------------------------------------

def _run_chaos(start_sandbox, signer, receiver: WebhookReceiver, seed: int) -> list[Any]:
    server = start_sandbox(scenario="chaos", seed=seed, hang_seconds=0, webhook_url=receiver.url,
                           webhook_secret=SECRET)
    answers = [(r.status_code, r.json().get("resultado")) for r in
               (registra(server, signed(signer, order_fields(f"DSP{n:04d}"))) for n in range(10))]
    settled(server)
    books = [(o.id, o.clave_rastreo, o.estado, o.causa_devolucion, [(d.estado, d.copy) for d in o.deliveries])
             for o in server.books.orders()]
    server.stop()
    return [answers, books]


def test_a_seed_repeats_the_run(start_sandbox, signer, webhook):
    receiver = webhook()
    first = _run_chaos(start_sandbox, signer, receiver, seed=5)
    again = _run_chaos(start_sandbox, signer, receiver, seed=5)
    other = _run_chaos(start_sandbox, signer, receiver, seed=6)

    assert first == again
    assert first != other
    assert {s for s, _ in first[0]} == {200, 503}


def test_the_debug_view_lists_orders_with_their_deliveries(start_sandbox, signer, webhook):
    receiver = webhook(failures=1)
    server = start_sandbox(webhook_url=receiver.url, webhook_secret=SECRET)
    order_id = bank_id(server, signer, "DSP0001")
    settled(server)

    view = HTTP.get(server.url + "/_sandbox/books").json()

    [order] = view["orders"]
    assert (order["idEF"], order["claveRastreo"], order["estado"]) == (order_id, "DSP0001", "LQ")
    assert [(d["estado"], d["attempts"], d["delivered"]) for d in order["deliveries"]] == [("LQ", 2, True)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_sandbox_serves_until_sigterm(tmp_path, keys, signer):
    key_file = tmp_path / "public.pem"
    key_file.write_bytes(keys[1])
    port = _free_port()
    code = ("from sandbox.server import run_sandbox; "
            f"run_sandbox({port}, {str(key_file)!r}, 'DISPERSA', None, None, 'happy', 3)")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        body = signed(signer, order_fields("DSP0001"))
        for _ in range(150):
            try:
                response = HTTP.put(f"http://127.0.0.1:{port}{REGISTRA}", json=body)
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert len(str(response.json()["resultado"]["id"])) >= 7
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
