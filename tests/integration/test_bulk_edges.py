"""The edges of bulk files and of reading them (issue 16, Files), on MariaDB, RabbitMQ and Redis through the
HTTP API: result cells that cannot run in a spreadsheet, rows that do not split kept sealed, an
unterminated quote refused, raw items that are not payments failed one by one, amounts in ASCII digits
only, Payment Hub EE's own scenarios and examples, blank SPEI payee names, and nothing told about a batch
or a payment to a key that may not read it."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
from falcon import testing

from bootstrap import Container, web_app
from domain.tenants import FLOAT
from tests.integration.bulk_support import HEADER, Bulk, balance, close, make_bulk, new_key, process, summary, tenant
from tests.integration.helpers import count, database_at, rows
from tests.integration.test_bulk_inputs import (
    OPEN_LOOP, csv_file, line, nothing_changed, refused, result_of, route, upload,
)
from tests.integration.test_cli_batch import dispersa, env, ibank  # noqa: F401 (env and ibank are fixtures)
from tests.integration.test_tenants import cli

pytestmark = pytest.mark.integration

ARABIC_123 = "\u0661\u0662\u0663"  # ١٢٣


# --- 1. formula cells -------------------------------------------------------------------------------

def test_result_cells_that_a_spreadsheet_would_run_are_written_as_text_and_numbers_stay_numbers(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", OPEN_LOOP, "100")
    formulas = ['"=HYPERLINK(""http://x.example"",""pay"")"', "+1+1", "-2+3", "@SUM(A1)", '"\tcell"', '"\rcell"']
    content = csv_file(*(f"{i},r{i},slcb,accountNumber,p{i},accountNumber,w{i},10,USD,{note},MDM,1"
                         for i, note in enumerate(formulas)),
                       "6,=cmd|' /C calc'!A0,slcb,accountNumber,p6,accountNumber,w6,-5,USD,Pay 6,MDM,-1")
    answer = upload(client, headers, content)
    assert answer.status_code == 202, answer.text
    process(container)
    result = result_of(client, headers, answer.json["batch_id"])
    assert [r["note"] for r in result[:6]] == [
        "'=HYPERLINK(\"http://x.example\",\"pay\")", "'+1+1", "'-2+3", "'@SUM(A1)", "'\tcell", "'\rcell"]
    assert result[6]["request_id"] == "'=cmd|' /C calc'!A0"
    assert (result[6]["amount"], result[6]["cycle"], result[6]["error_code"]) == ("-5", "-1", "NON_POSITIVE_AMOUNT")


# --- 2. rows that do not split ----------------------------------------------------------------------

SECRET_ROW = "1;r1;slcb;accountNumber;003001003874120160;accountNumber;646180110400000007;10;USD;Juana Secreta;MDM;1"


def test_a_row_that_does_not_split_into_the_columns_is_sealed_at_rest_and_never_shown(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", OPEN_LOOP, "100")
    answer = upload(client, headers, csv_file(line(0, "a", "10"), SECRET_ROW, line(2, "b", "10") + ",Pedro, Oculto"))
    assert answer.status_code == 202, answer.text
    process(container)
    batch_id = answer.json["batch_id"]
    stored = " ".join(r.fields for r in rows(container, "SELECT CAST(fields AS CHAR) AS fields FROM instructions"))
    shown = (client.simulate_get(f"/api/v1/batchtransactions/{batch_id}/result", headers=headers).text +
             client.simulate_get(f"/api/v1/batchtransactions/{batch_id}/detail", headers=headers).text)
    for secret in ("646180110400000007", "Juana", "Secreta", "Pedro", "Oculto"):
        assert secret not in stored, secret
        assert secret not in shown, secret
    result = result_of(client, headers, batch_id)
    assert [(r["status"], r["error_code"]) for r in result] == [
        ("SUCCESS", ""), ("FAILURE", "WRONG_COLUMN_COUNT"), ("FAILURE", "WRONG_COLUMN_COUNT")]
    assert "1 values for 12 columns" in result[1]["error_description"]
    with container.uow() as uow:  # sealed, not lost: the worker reads the row back as it was written
        batch = uow.batches.get(batch_id)
        [kept] = [r for r in uow.instructions.page(batch.id or 0, 0, 1)]
    assert kept.fields["unsplit"] == SECRET_ROW


# --- 3. an unterminated quote -----------------------------------------------------------------------

def test_an_unterminated_quoted_field_is_400_naming_its_line_and_nothing_is_kept(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", OPEN_LOOP)
    opened = "1,r1,slcb,accountNumber,p1,accountNumber,w1,10,USD,\"Pay 1 and what follows,MDM,1"
    answer = upload(client, headers, csv_file(line(0), opened, line(2), line(3)))
    refused(answer, 400, "unterminated quoted field at line 3")
    assert "unterminated quoted field at line 3" in answer.json["errorInformation"]
    nothing_changed(container)
    closed = "1,r1,slcb,accountNumber,p1,accountNumber,w1,10,USD,\"Pay 1, and\nits second line\",MDM,1"
    assert upload(client, headers, csv_file(line(0), closed, line(2))).status_code == 202


# --- 4. raw items that are not payments -------------------------------------------------------------

def _item(payee: str, amount: str = "5") -> dict[str, Any]:
    return {"creditParty": [{"key": "msisdn", "value": payee}], "subType": "slcb", "amount": amount,
            "currency": "USD"}


def test_each_raw_item_that_is_not_an_object_is_a_failed_row_and_the_objects_are_paid(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", OPEN_LOOP, "100")
    body = json.dumps([_item("w0"), 5, "pay w1", None, [_item("w2")], _item("w3", "7")]).encode()
    answer = upload(client, headers, body, kind="raw", content_type="application/json")
    assert answer.status_code == 202, answer.text
    process(container)
    result = result_of(client, headers, answer.json["batch_id"])
    assert [(r["id"], r["status"], r["error_code"]) for r in result] == [
        ("0", "SUCCESS", ""), ("1", "FAILURE", "NOT_A_PAYMENT"), ("2", "FAILURE", "NOT_A_PAYMENT"),
        ("3", "FAILURE", "NOT_A_PAYMENT"), ("4", "FAILURE", "NOT_A_PAYMENT"), ("5", "SUCCESS", "")]
    assert [r["error_description"] for r in result[1:5]] == [
        "item 1 is a number, not a payment object", "item 2 is a string, not a payment object",
        "item 3 is null, not a payment object", "item 4 is an array, not a payment object"]
    assert balance(container, "ibank", "w0") == 500 and balance(container, "ibank", "w3") == 700


def test_a_raw_array_of_numbers_is_400_saying_it_has_no_payment_objects(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", OPEN_LOOP)
    answer = upload(client, headers, b"[1, 2, 3]", kind="raw", content_type="application/json")
    refused(answer, 400, "JSON array of payment objects", "none of its 3 items is an object")
    assert "header row" not in answer.text
    nothing_changed(container)


def test_the_cli_submits_raw_items_as_the_api_takes_them(env: dict[str, str], ibank: str, tmp_path: Path) -> None:
    (tmp_path / "numbers.json").write_text("[1, 2, 3]")
    refused_file = dispersa(env, "batch", "submit", str(tmp_path / "numbers.json"), "--tenant", ibank)
    assert refused_file.returncode == 2 and "none of its 3 items is an object" in refused_file.stderr
    (tmp_path / "mixed.json").write_text(json.dumps([_item("w0"), 5]))
    taken = dispersa(env, "batch", "submit", str(tmp_path / "mixed.json"), "--tenant", ibank)
    assert taken.returncode == 0, taken.stderr


# --- 5. ASCII digits only ---------------------------------------------------------------------------

@pytest.mark.parametrize("amount", [ARABIC_123, "\u0967\u0968", "\uff11\uff12", "12\u0663.50"],
                         ids=["arabic-indic", "devanagari", "fullwidth", "mixed"])
def test_an_amount_in_other_digits_fails_in_a_file_a_raw_item_the_api_and_the_cli(bulk: Bulk, amount: str) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", OPEN_LOOP, "1000", wallets=("v1",))
    answer = upload(client, headers, csv_file(line(0, "a", amount), line(1, "b", "1")))
    assert answer.status_code == 202, answer.text
    raw = upload(client, headers, json.dumps([_item("c", amount)]).encode(), "raw-digits", kind="raw",
                 content_type="application/json")
    assert raw.status_code == 202, raw.text
    process(container)
    result = result_of(client, headers, answer.json["batch_id"]) + result_of(client, headers, raw.json["batch_id"])
    assert [(r["status"], r["error_code"]) for r in result] == [
        ("FAILURE", "INVALID_AMOUNT"), ("SUCCESS", ""), ("FAILURE", "INVALID_AMOUNT")]
    assert balance(container, "ibank", "a") is None and balance(container, "ibank", "c") is None
    refused(route(client, headers, {"amount": amount, "currency": "USD", "transfers": [
        {"account": "v1", "amount": amount, "currency": "USD"}]}, "route-digits"), 422)
    treasury = {"Authorization": f"Bearer {new_key(container, 'treasury')[1]}"}
    refused(client.simulate_post("/api/v1/tenants/ibank/float", json={"amount": amount, "currency": "USD"},
                                 headers=treasury), 422)
    funded = cli(container, "fund", "ibank", amount, "USD")
    assert funded.returncode == 2 and "not an amount" in funded.stderr, funded.stderr
    assert "Traceback" not in funded.stderr
    assert balance(container, "ibank", FLOAT) == 100_000 - 100


# --- 6. Payment Hub EE's own scenarios and examples -------------------------------------------------

def test_bd_005_an_empty_filename_and_no_payload_is_400_file_not_uploaded(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", OPEN_LOOP)
    answer = client.simulate_post("/batchtransactions", params={"type": "csv"},
                                  headers={**headers, "X-CorrelationID": "bd-005", "filename": ""})
    refused(answer, 400)
    assert answer.json["errorInformation"].startswith("File not uploaded"), answer.json
    nothing_changed(container)


def test_the_result_file_is_filtered_by_subbatchid_as_the_summary_names_it(bulk: Bulk) -> None:
    container, client = bulk
    config = {**OPEN_LOOP, "payment-modes": {"slcb": "closedloop", "spare": "closedloop"},
              "splitting.enable": True, "splitting.sub-batch-size": 1, "mergeback.enable": False}
    headers = tenant(container, "ibank", config, "100")
    batch_id = upload(client, headers, csv_file(line(0, "a"), line(1, "b"), line(2, "c", "x"))).json["batch_id"]
    process(container)
    subs = summary(client, headers, batch_id)["subBatches"]
    assert len(subs) == 2
    path = f"/api/v1/batchtransactions/{batch_id}/result"
    for sub in subs:
        by_summary_name = client.simulate_get(path, headers=headers, params={"subBatchId": sub["subBatchId"]})
        assert by_summary_name.status_code == 200, by_summary_name.text
        assert by_summary_name.text == client.simulate_get(path, headers=headers,
                                                           params={"subBatch": sub["subBatchId"]}).text
        assert by_summary_name.text.count("\n") == 2  # the header and the sub-batch's one row
    failed = client.simulate_get(path, headers=headers, params={"subBatchId": -1}).text
    assert failed.count("\n") == 2 and "INVALID_AMOUNT" in failed
    refused(client.simulate_get(path, headers=headers, params={"subBatchId": 0, "subBatch": 1}), 422, "subBatchId")


SEED_ROUTE = Path(__file__).resolve().parents[1] / "data" / "seed_002_payment_route.txt"  # trailing commas: not JSON
SEEDS = Path("/work/shared/seeds")


def _seed_route_body() -> str:
    """The payment-route example of the bulk payment design (seed 002), as written there (trailing commas
    included), kept in tests/data; checked against the seed itself where the seeds are at hand."""
    body = SEED_ROUTE.read_text().rstrip("\n")
    for seed in sorted(SEEDS.glob("002_*.txt")) if SEEDS.exists() else []:
        text = seed.read_text()
        start = text.index("Copy {", text.index("Payment Routing")) + len("Copy ")
        assert text[start:text.index("\nWith Auto Payout", start)] == body
    return body


def test_the_seeds_payment_route_example_is_accepted_as_written(bulk: Bulk) -> None:
    container, client = bulk
    body = _seed_route_body()
    assert '"amount": 2000,' in body and '"notes": {' in body  # numbers, and notes as an object
    accounts = ("acc_CPRsN1LkFccllA", "acc_CNo3jSI8OkFJJJ")
    headers = tenant(container, "acme", {"payment-modes": {"slcb": "closedloop"}}, "2000", currency="INR",
                     wallets=accounts)
    answer = client.simulate_post("/api/v1/routes", body=body, headers={
        **headers, "X-CorrelationID": "route-seed", "Content-Type": "application/json"})
    assert answer.status_code == 202, answer.text
    process(container)
    result = result_of(client, headers, answer.json["batch_id"])
    assert [(r["amount"], r["currency"], r["status"], r["note"]) for r in result] == [
        ("1000", "INR", "SUCCESS", "Gaurav Kumar"), ("1000", "INR", "SUCCESS", "Saurav Kumar")]
    assert [balance(container, "acme", a, "INR") for a in accounts] == [100_000, 100_000]
    again = client.simulate_post("/api/v1/routes", body=body, headers={
        **headers, "X-CorrelationID": "route-seed", "Content-Type": "application/json"})
    assert again.status_code == 200 and again.json["batch_id"] == answer.json["batch_id"]


def test_a_route_amount_written_as_a_json_number_is_read_exactly(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", {"payment-modes": {"slcb": "closedloop"}}, "90071992547409.91",
                     wallets=("v1",))
    exact = b'{"amount": 90071992547409.91, "currency": "USD", "transfers": [' \
            b'{"account": "v1", "amount": 90071992547409.91, "currency": "USD"}]}'
    answer = client.simulate_post("/api/v1/routes", body=exact, headers={
        **headers, "X-CorrelationID": "route-exact", "Content-Type": "application/json"})
    assert answer.status_code == 202, answer.text
    process(container)
    [row] = result_of(client, headers, answer.json["batch_id"])
    assert (row["amount"], row["status"]) == ("90071992547409.91", "SUCCESS")  # a float would have lost the cent
    for amount in (b"-5", b"true", b"1.23456", b"1e20", b"[1]"):
        sent = b'{"amount": %s, "currency": "USD", "transfers": [{"account": "v1", "amount": %s, ' \
               b'"currency": "USD"}]}' % (amount, amount)
        refused(client.simulate_post("/api/v1/routes", body=sent, headers={
            **headers, "X-CorrelationID": "route-odd", "Content-Type": "application/json"}), 422, "amount")


# --- 7. blank SPEI payee names ----------------------------------------------------------------------

@pytest.fixture
def no_bank(settings: Any, clock: Any, tmp_path: Path) -> Iterator[Bulk]:
    """The bulk API with a bank that is never reached: an order that is made waits in the outbox."""
    container = make_bulk(settings, clock, tmp_path)
    from tests.integration.helpers import traffic_of
    traffic_of(container.broker).queues = frozenset({"bulk", "dates", "ledger"})
    yield container, testing.TestClient(web_app(container))
    close(container)


SPEI_HEADER = "id,payment_mode,payee_identifier_type,payee_identifier,amount,currency,note"


def test_a_spei_row_without_a_payee_name_fails_invalid_payee_as_one_without_letters_does(no_bank: Bulk) -> None:
    container, client = no_bank
    headers = tenant(container, "nomina", {"payment-modes": {"spei": "spei"}, "partylookup.enable": False},
                     "100", currency="MXN")
    content = csv_file("0,spei,clabe,646180110400000007,10,MXN,", "1,spei,clabe,646180110400000007,10,MXN,   ",
                       "2,spei,clabe,646180110400000007,10,MXN,李明", header=SPEI_HEADER)
    answer = upload(client, headers, content)
    assert answer.status_code == 202, answer.text
    process(container)
    result = result_of(client, headers, answer.json["batch_id"])
    assert [(r["status"], r["error_code"]) for r in result] == [("FAILURE", "INVALID_PAYEE")] * 3
    assert all("no name" in r["error_description"] for r in result)
    assert count(container, "payment_orders") == 0
    assert balance(container, "nomina", FLOAT, "MXN") == 10_000  # nothing taken from the float


# --- 8. what a key that may not read a batch is told ------------------------------------------------

def test_another_tenant_s_batch_is_404_exactly_as_an_unknown_batch(bulk: Bulk) -> None:
    container, client = bulk
    own = tenant(container, "ibank", OPEN_LOOP)
    other = tenant(container, "other", OPEN_LOOP)
    batch_id = upload(client, own, csv_file(line(0))).json["batch_id"]
    unknown = "5d3f0a9e-0000-4000-8000-000000000000"
    _, admin = new_key(container, "admin")
    as_admin_for_other = {"Authorization": f"Bearer {admin}", "Platform-TenantId": "other"}
    for headers in (other, as_admin_for_other):
        for suffix in ("", "/detail", "/result"):
            theirs = client.simulate_get(f"/api/v1/batchtransactions/{batch_id}{suffix}", headers=headers)
            none = client.simulate_get(f"/api/v1/batchtransactions/{unknown}{suffix}", headers=headers)
            assert theirs.status_code == none.status_code == 404, (suffix, theirs.text)
            assert theirs.json == json.loads(none.text.replace(unknown, batch_id)), (theirs.text, none.text)
        for action, body in (("approve", None), ("reject", {"reason": "no"})):
            theirs = client.simulate_post(f"/api/v1/batchtransactions/{batch_id}/{action}", headers=headers,
                                          json=body)
            if theirs.status_code != 403 or "may not" not in theirs.text:  # a tenant key may not decide at all
                assert theirs.status_code == 404, (action, theirs.text)


def test_an_operator_key_is_answered_for_a_bulk_payment_as_for_its_batch(bulk: Bulk) -> None:
    container, client = bulk
    own = tenant(container, "ibank", OPEN_LOOP, "100")
    batch_id = upload(client, own, csv_file(line(0, "a"))).json["batch_id"]
    process(container)
    [row] = rows(container, "SELECT uetr FROM instructions")
    operator = {"Authorization": f"Bearer {new_key(container, 'operator')[1]}", "Platform-TenantId": "ibank"}
    batch = client.simulate_get(f"/api/v1/batchtransactions/{batch_id}", headers=operator)
    payment = client.simulate_get(f"/api/v1/payments/{row.uetr}", headers=operator)
    receipt = client.simulate_get(f"/api/v1/payments/{row.uetr}/receipt", headers=operator)
    assert batch.status_code == payment.status_code == receipt.status_code == 403, (batch.text, payment.text)
    assert re.search(r"operator key may not read batches", payment.json["description"]), payment.text
    assert client.simulate_get(f"/api/v1/payments/{row.uetr}", headers=own).status_code == 200


# --- 2, for the rows already there: migration 0017 -------------------------------------------------

@pytest.fixture(params=["mariadb", "sqlite"])
def at_0015(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_at(request.param, "0015", "unsplit", tmp_path) as address:
        yield address


def test_migration_0017_seals_the_rows_that_did_not_split_already_stored_in_the_clear(at_0015: str) -> None:
    from sqlalchemy import create_engine, text

    from adapters.db.migrate import upgrade as migrate
    from adapters.sealing import KEYRING, place

    old_row = {"id": SECRET_ROW, "request_id": "", "payment_mode": "", "payer_identifier_type": "",
               "payer_identifier": KEYRING.seal("", place("instructions", "fields.payer_identifier")),
               "payee_identifier_type": "", "payee_identifier": KEYRING.seal("", place("instructions",
                                                                                     "fields.payee_identifier")),
               "amount": "", "currency": "", "note": KEYRING.seal("", place("instructions", "fields.note")),
               "program_shortcode": "", "cycle": ""}
    paid_row = {"id": "0", "payment_mode": "slcb", "amount": "10",
                "note": KEYRING.seal("Pay 0", place("instructions", "fields.note"))}
    engine = create_engine(at_0015)
    try:
        with engine.begin() as conn:
            if engine.dialect.name != "sqlite":
                conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
            for pk, fields, code in ((1, paid_row, None), (2, old_row, "WRONG_COLUMN_COUNT")):
                conn.execute(text(
                    "INSERT INTO instructions (id, batch_pk, `row`, instruction_id, fields, payment_mode, "
                    "payee_identifier, currency, status, error_code, created_at, updated_at, uetr) VALUES (:pk, 1, "
                    ":pk, :iid, :fields, '', :payee, 'USD', 'failure', :code, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
                    ":uetr)"), {"pk": pk, "iid": f"i-{pk}", "fields": json.dumps(fields), "code": code,
                                "uetr": f"u-{pk}", "payee": KEYRING.seal("", place("instructions", "payee_identifier",
                                                                                     f"u-{pk}"))})
        migrate(at_0015)
        migrate(at_0015)  # again: nothing left to do
        with engine.connect() as conn:
            stored = {r.id: json.loads(r.fields) for r in conn.execute(text("SELECT id, fields FROM instructions"))}
        assert stored[1] == paid_row  # a row that split is left alone
        assert set(stored[2]) == {"unsplit"} and "Juana" not in json.dumps(stored[2])
        assert KEYRING.unseal(stored[2]["unsplit"], place("instructions", "fields.unsplit")) == SECRET_ROW
    finally:
        engine.dispose()
