"""STP's protocol rules: the cadena original, field rules, answers, error codes, callbacks, signing."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
from hypothesis import given, strategies as st

from adapters.bank.signer import Signer, Verifier, generate_key_pair
from domain import clabe, stp
from domain.payment_orders import (
    PaymentOrder, PaymentOrderError, PaymentOrderStatus as S, PaymentSource, numeric_reference, spei_institution,
    tracking_key,
)

AT = datetime(2026, 11, 22, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def keys() -> tuple[Signer, Verifier]:
    private, public = generate_key_pair("secreto")
    return Signer.from_pem(private, "secreto"), Verifier.from_pem(public)


def test_cadena_has_34_fields_in_stps_order_with_absent_fields_empty():
    order = {name: f"v{i}" for i, name in enumerate(stp.CADENA_FIELDS)}
    cadena = stp.cadena_original(order)
    assert cadena.startswith("||") and cadena.endswith("||")
    assert cadena[2:-2].split("|") == [f"v{i}" for i in range(34)]
    assert stp.cadena_original({"empresa": "ACME"}) == "||" + "|".join(
        "ACME" if n == "empresa" else "" for n in stp.CADENA_FIELDS) + "||"


def test_field_rules_fold_cut_format_and_default():
    order = stp.normalise_order({
        "nombreBeneficiario": "  Compañía Ñandú de Mérida y Asociados Sociedad Anónima  ",
        "conceptoPago": "Pago de crédito número 12",
        "monto": "1.2", "cuentaBeneficiario": "646180123456789013", "claveRastreo": "X1",
    }, empresa="EMPRESA")
    assert order["nombreBeneficiario"] == "Compania Nandu de Merida y Asociados So"[:39].strip()
    assert len(order["nombreBeneficiario"]) <= 39 and order["nombreBeneficiario"].isascii()
    assert order["conceptoPago"] == "Pago de credito numero 12"
    assert order["monto"] == "1.20"
    assert order["tipoCuentaBeneficiario"] == "40"
    assert order["empresa"] == "EMPRESA"
    assert (order["institucionOperante"], order["tipoCuentaOrdenante"], order["tipoPago"], order["topologia"],
            order["medioEntrega"], order["prioridad"]) == ("90646", "40", "1", "T", "3", "0")


@pytest.mark.parametrize("account,kind", [("6" * 18, "40"), ("4" * 16, "3"), ("4" * 15, "3"), ("5" * 10, "10")])
def test_account_type_follows_the_accounts_length(account, kind):
    assert stp.normalise_order({"cuentaBeneficiario": account})["tipoCuentaBeneficiario"] == kind


def test_given_account_type_is_kept_and_unknown_lengths_are_refused():
    assert stp.normalise_order({"cuentaBeneficiario": "1" * 18, "tipoCuentaBeneficiario": "3"})[
        "tipoCuentaBeneficiario"] == "3"
    with pytest.raises(stp.OrderError):
        stp.normalise_order({"cuentaBeneficiario": "12345"})


def test_float_amounts_are_refused():
    with pytest.raises(stp.OrderError):
        stp.format_amount(1.2)


def test_an_id_of_more_than_three_digits_is_the_bank_order_id():
    assert stp.read_registration({"resultado": {"id": 1234}}) == stp.RegistrationAnswer(1234, None)
    assert stp.read_registration({"resultado": {"id": 123}}).error.code == 123


@pytest.mark.parametrize("code,fault", [
    (0, stp.Fault.PERMANENT), (-1, stp.Fault.EXISTS), (-7, stp.Fault.PERMANENT), (-9, stp.Fault.PERMANENT),
    (-11, stp.Fault.PERMANENT), (-20, stp.Fault.PERMANENT), (-22, stp.Fault.PERMANENT), (-24, stp.Fault.PERMANENT),
    (-34, stp.Fault.PERMANENT), (-200, stp.Fault.PERMANENT), (-99, stp.Fault.TRANSIENT),
])
def test_every_error_code_has_its_meaning(code, fault):
    answer = stp.read_registration({"resultado": {"id": code, "descripcionError": "texto de STP"}})
    assert answer.order_id is None
    assert answer.error.fault == fault
    assert answer.error.message == "texto de STP"


def test_unreadable_answers_are_errors():
    with pytest.raises(stp.OrderError):
        stp.read_registration({"resultado": {}})


@pytest.mark.parametrize("estado,outcome", [
    ("LQ", "liquidated"), ("Liquidada", "liquidated"), ("Liquidacion", "liquidated"), ("Success", "liquidated"),
    ("CN", "cancelled"), ("Cancelada", "cancelled"), ("Cancelacion", "cancelled"), ("Cancel", "cancelled"),
    ("D", "returned"), ("Devuelta", "returned"), ("Devolucion", "returned"), ("Refund", "returned"),
])
def test_default_estados(estado, outcome):
    assert stp.outcome_of(estado).value == outcome


def test_unknown_estado_maps_to_nothing_and_mapping_is_configurable():
    assert stp.outcome_of("XX") is None
    assert stp.outcome_of("XX", {"XX": stp.OrderOutcome.RETURNED}) == stp.OrderOutcome.RETURNED


def test_signature_verifies_with_the_public_key_and_fails_on_any_change(keys):
    signer, verifier = keys
    cadena = stp.cadena_original(stp.normalise_order({"claveRastreo": "ABC", "monto": "10"}, "E"))
    firma = signer.sign(cadena)
    assert verifier.verify(cadena, firma)
    assert not verifier.verify(cadena.replace("10.00", "11.00"), firma)
    assert not verifier.verify(cadena, "bm90IGEgc2lnbmF0dXJl")
    assert not verifier.verify(cadena, "not base64 at all!")


def test_consulta_and_conciliacion_cadenas():
    assert stp.cadena_consulta("E", "CLAVE1", "E", "20261122") == "||E|CLAVE1|E|20261122||"
    assert stp.cadena_consulta("E", "CLAVE1", "E") == "||E|CLAVE1|E|||"
    assert stp.cadena_conciliacion("E", "E", "20261122") == "||E|E|20261122||"


@given(st.uuids(version=4), st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", max_size=6))
def test_tracking_keys_are_short_alphanumeric_and_fixed_by_the_uetr(uetr, prefix):
    key = tracking_key(prefix, str(uetr))
    assert stp.is_tracking_key(key)
    assert key == tracking_key(prefix, str(uetr))
    assert 1_000_000 <= numeric_reference(str(uetr)) <= 9_999_999


def test_tracking_key_prefix_must_be_alphanumeric():
    with pytest.raises(PaymentOrderError):
        tracking_key("D-S", str(uuid.uuid4()))


def test_spei_institution_of_a_clabe():
    assert spei_institution(clabe.make("012", "180", "1")) == "40012"
    assert spei_institution(clabe.make("646", "180", "1")) == "90646"


def _order() -> PaymentOrder:
    uetr = str(uuid.uuid4())
    return PaymentOrder(uetr=uetr, tracking_key=tracking_key("T", uetr), source=PaymentSource.BANK_TRANSFER,
                        amount=100, currency="MXN", beneficiary_account=clabe.make("646", "1", "1"),
                        beneficiary_name="x", beneficiary_rfc_curp="", beneficiary_institution="90646",
                        concept="c", numeric_reference=1234567, operation_date="20261122", created_at=AT)


def test_order_state_machine():
    order = _order()
    with pytest.raises(PaymentOrderError):
        order.move_to(S.LIQUIDATED, AT)
    order.move_to(S.SENDING, AT)
    order.accepted(12345678, AT)
    assert (order.status, order.bank_order_id) == (S.SENT, 12345678)
    order.accepted(999999, AT)  # a second answer changes nothing
    assert order.bank_order_id == 12345678
    order.move_to(S.LIQUIDATED, AT)
    order.move_to(S.RETURNED, AT)
    for final in (S.LIQUIDATED, S.SENT, S.CANCELLED):
        with pytest.raises(PaymentOrderError):
            order.move_to(final, AT)
    assert [h.status for h in order.history] == [S.SENDING, S.SENT, S.LIQUIDATED, S.RETURNED]


def test_the_registration_body_uses_the_json_types_stp_documents():
    from decimal import Decimal
    import json

    order = stp.normalise_order({"institucionContraparte": "40012", "empresa": "DISPERSA", "claveRastreo": "DSP1",
                                 "monto": "1.2", "cuentaBeneficiario": "012180000000000000",
                                 "nombreBeneficiario": "Ana", "referenciaNumerica": "1234567",
                                 "conceptoPago": "Pago", "rfcCurpBeneficiario": "ND"})
    body = json.loads(stp.registration_body(order, "FIRMA"), parse_float=Decimal)
    assert body["monto"] == Decimal("1.20") and b'"monto": 1.20' in stp.registration_body(order, "FIRMA")
    assert (body["tipoPago"], body["tipoCuentaBeneficiario"], body["referenciaNumerica"], body["prioridad"],
            body["medioEntrega"]) == (1, 40, 1234567, 0, 3)
    assert (body["institucionContraparte"], body["claveRastreo"], body["firma"]) == ("40012", "DSP1", "FIRMA")
    # the cadena the firma covers reads the same whichever type carried each value
    assert stp.cadena_original({k: str(v) for k, v in body.items()}) == stp.cadena_original(order)


def test_the_client_sends_that_body(tmp_path):
    import httpx

    from adapters.bank.signer import Signer, generate_key_pair
    from adapters.bank.stp_client import StpClient

    private, _ = generate_key_pair("x")
    (tmp_path / "k.pem").write_bytes(private)
    seen = []

    def bank(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"resultado": {"id": 12345678}})

    client = StpClient("http://stp", "http://stp", "DISPERSA", Signer.from_file(str(tmp_path / "k.pem"), "x"), 5,
                       transport=httpx.MockTransport(bank))
    order = stp.normalise_order({"monto": "942", "cuentaBeneficiario": "012180000000000000",
                                 "tipoCuentaBeneficiario": "40", "referenciaNumerica": "7654321"})
    assert client.register(order).order_id == 12345678
    raw = seen[0].content
    assert seen[0].headers["content-type"] == "application/json"
    assert b'"monto": 942.00' in raw and b'"tipoCuentaBeneficiario": 40' in raw and b'"referenciaNumerica": 7654321' in raw


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("outcome", list(stp.OrderOutcome))
def test_a_cancellation_or_return_needs_the_banks_word_unless_the_order_is_settled_back(status, outcome):
    order = _order()
    order.status = status
    expected = outcome != stp.OrderOutcome.LIQUIDATED and status not in (S.CANCELLED, S.RETURNED)
    assert order.needs_confirmation(outcome) is expected


def test_a_callback_is_stored_with_payee_data_masked_and_unknown_fields_dropped():
    stored = stp.callback_as_stored({
        "id": 1, "estado": "D", "folioOrigen": "DSP1", "causaDevolucion": "Cuenta cancelada", "monto": "10.00",
        "cuentaBeneficiario": "646180110400000007", "nombreBeneficiario": "Juana Perez", "rfcCurpOrdenante": None,
        "cuentaOrdenante": "646180500000000004", "direccion": "Calle Falsa 123", "telefono": 5512345678})
    assert stored == {"id": 1, "estado": "D", "folioOrigen": "DSP1", "causaDevolucion": "Cuenta cancelada",
                      "monto": "10.00", "cuentaBeneficiario": "**************0007", "nombreBeneficiario": "J*** P***",
                      "rfcCurpOrdenante": None, "cuentaOrdenante": "**************0004"}
    assert stp.callback_as_stored(stored) == stored  # masking twice changes nothing


@pytest.mark.parametrize("value", ["\u0661\u0662\u0663", "1\u0662.50"])
def test_an_amount_in_other_digits_is_not_an_stp_amount(value: str) -> None:
    with pytest.raises(stp.OrderError):
        stp.format_amount(value)


@pytest.mark.parametrize("given, read", [
    (123, 123), ("123", 123), (2**63 - 1, 2**63 - 1),
    ("١٢٣", None), ("１２３", None), ("12.5", None), (12.0, None), (True, None), (0, None), (-5, None),
    (2**63, None), (str(2**63), None), ("", None), (None, None), ("12 ", None),
])
def test_an_order_id_from_the_bank_is_an_ascii_number_the_column_holds(given: object, read: int | None) -> None:
    assert stp.bank_order_id(given) == read
