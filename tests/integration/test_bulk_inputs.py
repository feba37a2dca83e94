"""Every bad input of the bulk API, on MariaDB, RabbitMQ and Redis through the HTTP API: each answers its
documented status and changes nothing (no batch; for an integrity failure, no stored file). Then the
inputs that are accepted in their other shapes (multipart, raw JSON, payment routes), row-level
failures that leave the other rows alone, and the reading calls (detail, list, template)."""
from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any, Iterator

import pytest
from falcon import testing
from urllib3 import encode_multipart_formdata

from bootstrap import Container, web_app
from domain.tenants import FLOAT
from tests.integration.bulk_support import HEADER, Bulk, balance, close, make_bulk, process, summary, tenant
from tests.integration.helpers import count, rows
from usecases import access

pytestmark = pytest.mark.integration

CLOSED = {"slcb": "closedloop"}
OPEN_LOOP = {"partylookup.enable": False, "payment-modes": CLOSED}


# --- fixtures and helpers ---------------------------------------------------------------------------

@pytest.fixture
def small(settings: Any, clock: Any, tmp_path: Path) -> Iterator[Bulk]:
    """The bulk API with DISPERSA_BULK_MAX_BYTES at 400 bytes."""
    container = make_bulk(settings, clock, tmp_path, bulk_max_bytes=400)
    yield container, testing.TestClient(web_app(container))
    close(container)


def line(i: int, payee: str = "w1", amount: str = "10", mode: str = "slcb", currency: str = "USD") -> str:
    return f"{i},r{i},{mode},accountNumber,003001003874120160,accountNumber,{payee},{amount},{currency},Pay {i},MDM,1"


def csv_file(*lines: str, header: str = HEADER) -> bytes:
    return ("\n".join((header,) + lines) + "\n").encode()


GOOD = csv_file(line(0, "a", "10"), line(1, "b", "20"))


def upload(client: testing.TestClient, headers: dict[str, str], content: bytes, request_id: str | None = "req",
           kind: str = "csv", content_type: str = "text/csv", filename: str = "batch.csv",
           **extra: str) -> testing.Result:
    sent = {**headers, "Content-Type": content_type, **extra}
    if filename:
        sent["filename"] = filename
    if request_id is not None:
        sent["X-CorrelationID"] = request_id
    return client.simulate_post("/batchtransactions", params={"type": kind}, headers=sent, body=content)




def stored_files(container: Container) -> list[Path]:
    root = Path(container.settings.bulk_storage_dir)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def nothing_changed(container: Container, stored: bool = False) -> None:
    """No batch, no instruction, nothing in the outbox; and unless ``stored``, no file kept."""
    assert count(container, "batches") == 0
    assert count(container, "instructions") == 0
    assert count(container, "outbox") == 0
    if not stored:
        assert stored_files(container) == []


def refused(answer: testing.Result, status: int, *words: str) -> None:
    assert answer.status_code == status, answer.text
    text = answer.text.lower()
    for word in words:
        assert word.lower() in text, (word, answer.text)


def result_of(client: testing.TestClient, headers: dict[str, str], batch_id: str) -> list[dict[str, str]]:
    answer = client.simulate_get(f"/api/v1/batchtransactions/{batch_id}/result", headers=headers)
    assert answer.status_code == 200, answer.text
    return list(csv.DictReader(io.StringIO(answer.text)))






# --- no payload -----------------------------------------------------------------------------------

WITHOUT_PARTS = encode_multipart_formdata({"file": ("batch.csv", GOOD, "text/csv")})


@pytest.mark.parametrize("body, options", [
    (b"", {"kind": "raw", "content_type": "application/json"}),   # raw without a body
    (b"", {}),                                                      # a CSV with an empty body
    (WITHOUT_PARTS[0], {"content_type": WITHOUT_PARTS[1]}),          # multipart without a data part
], ids=["raw-empty", "csv-empty", "multipart-no-data"])
def test_no_payload_is_file_not_uploaded(bulk: Bulk, body: bytes, options: dict[str, str]) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", OPEN_LOOP)
    answer = upload(client, headers, body, **options)
    refused(answer, 400)
    assert "File not uploaded" in answer.json["errorInformation"]
    nothing_changed(container)


# --- the file's header and rows -------------------------------------------------------------------

@pytest.mark.parametrize("content, words", [
    (csv_file(line(0) + ",extra", header=HEADER + ",bonus"), ("unknown column", "bonus")),
    (csv_file("0,r0,slcb,accountNumber,p,accountNumber,w1,USD,,,", header=HEADER.replace("amount,", "")),
     ("missing required column", "amount")),
    (b"\n", ("empty",)),
    (HEADER.encode() + b"\n", ("no payments",)),
], ids=["unknown column", "missing column", "empty file", "header only"])
def test_a_file_that_cannot_be_read_is_refused_naming_the_problem(bulk: Bulk, content: bytes,
                                                                  words: tuple[str, ...]) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", OPEN_LOOP)
    answer = upload(client, headers, content)
    refused(answer, 400, *words)
    assert answer.json.get("errorInformation"), answer.json
    nothing_changed(container)


# --- integrity ------------------------------------------------------------------------------------

def test_a_sha256_that_is_not_the_content_s_is_refused_and_nothing_is_stored(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", OPEN_LOOP)
    wrong = hashlib.sha256(GOOD + b"tampered").hexdigest()
    refused(upload(client, headers, GOOD, **{"X-Content-SHA256": wrong}), 400, "X-Content-SHA256")
    nothing_changed(container)
    right = hashlib.sha256(GOOD).hexdigest()
    answer = upload(client, headers, GOOD, **{"X-Content-SHA256": right.upper()})
    assert answer.status_code == 202, answer.text
    assert rows(container, "SELECT content_sha256 FROM batches")[0].content_sha256 == right
    assert len(stored_files(container)) == 1


def test_a_content_md5_that_is_not_the_content_s_is_refused_and_nothing_is_stored(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", OPEN_LOOP)
    wrong = base64.b64encode(hashlib.md5(b"other", usedforsecurity=False).digest()).decode()
    refused(upload(client, headers, GOOD, **{"Content-MD5": wrong}), 400, "Content-MD5")
    nothing_changed(container)
    right = base64.b64encode(hashlib.md5(GOOD, usedforsecurity=False).digest()).decode()
    answer = upload(client, headers, GOOD, **{"Content-MD5": right,
                                              "X-Content-SHA256": hashlib.sha256(GOOD).hexdigest()})
    assert answer.status_code == 202, answer.text
    assert count(container, "batches") == 1 and len(stored_files(container)) == 1


def test_a_raw_batch_s_digest_is_checked_against_the_json_received(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", OPEN_LOOP)
    body = json.dumps([{"creditParty": [{"key": "msisdn", "value": "8837461856"}], "subType": "SLCB",
                        "amount": "5", "currency": "USD"}]).encode()
    refused(upload(client, headers, body, kind="raw", content_type="application/json",
                   **{"X-Content-SHA256": hashlib.sha256(b"x" + body).hexdigest()}), 400, "X-Content-SHA256")
    nothing_changed(container)
    answer = upload(client, headers, body, kind="raw", content_type="application/json",
                    **{"X-Content-SHA256": hashlib.sha256(body).hexdigest()})
    assert answer.status_code == 202, answer.text


# --- headers and tenants --------------------------------------------------------------------------

def test_without_an_x_correlation_id_the_batch_is_refused(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", OPEN_LOOP)
    refused(upload(client, headers, GOOD, request_id=None), 400, "X-CorrelationID")
    refused(upload(client, headers, GOOD, request_id="   "), 400, "X-CorrelationID")
    nothing_changed(container)


def test_the_platform_tenant_id_must_name_the_key_s_tenant(bulk: Bulk) -> None:
    container, client = bulk
    own = tenant(container, "ibank", OPEN_LOOP)
    tenant(container, "other", OPEN_LOOP)
    refused(upload(client, {"Authorization": own["Authorization"]}, GOOD), 403)
    refused(upload(client, {**own, "Platform-TenantId": "other"}, GOOD), 403)
    refused(upload(client, {**own, "Platform-TenantId": "nosuchtenant"}, GOOD), 403)
    nothing_changed(container)  # refused before the body was read: no file kept either


def test_a_tenant_cannot_read_another_tenant_s_batch(bulk: Bulk) -> None:
    container, client = bulk
    own = tenant(container, "ibank", OPEN_LOOP)
    other = tenant(container, "other", OPEN_LOOP)
    batch_id = upload(client, own, GOOD).json["batch_id"]
    for suffix in ("", "/detail", "/result"):
        answer = client.simulate_get(f"/api/v1/batchtransactions/{batch_id}{suffix}", headers=other)
        assert answer.status_code == 404, (suffix, answer.text)  # as a batch that does not exist
        answer = client.simulate_get(f"/api/v1/batchtransactions/{batch_id}{suffix}",
                                     headers={**other, "Platform-TenantId": "ibank"})
        assert answer.status_code == 403, (suffix, answer.text)


def test_an_admin_key_may_act_for_any_tenant(bulk: Bulk) -> None:
    container, client = bulk
    tenant(container, "ibank", OPEN_LOOP, "100")
    tenant(container, "other", OPEN_LOOP, "100")
    with container.uow() as uow:
        admin = access.create_api_key(uow, "admin", owner="admin@tests.example")
        uow.commit()
    as_admin = {"Authorization": f"Bearer {admin}", "Platform-TenantId": "other"}
    refused(upload(client, {"Authorization": f"Bearer {admin}"}, GOOD), 403)  # still names the tenant
    answer = upload(client, as_admin, GOOD)
    assert answer.status_code == 202, answer.text
    process(container)
    done = summary(client, as_admin, answer.json["batch_id"])
    assert done["status"] == "completed"
    with container.uow() as uow:  # every time of the summary in milliseconds, as the seed's startedAt
        created = uow.batches.get(answer.json["batch_id"]).created_at
    assert done["created_at"] == int(created.timestamp() * 1000) and done["created_at"] <= done["completed_at"]
    assert all(done["created_at"] <= sub["startedAt"] <= done["completed_at"] for sub in done["subBatches"])
    assert balance(container, "other", "a") == 1000 and balance(container, "ibank", "a") is None
    assert balance(container, "other", FLOAT) == 7000 and balance(container, "ibank", FLOAT) == 10_000


# --- idempotency ----------------------------------------------------------------------------------

def test_the_same_correlation_id_and_content_is_the_same_batch_and_other_content_a_conflict(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", OPEN_LOOP, "100")
    first = upload(client, headers, GOOD, "same")
    assert first.status_code == 202, first.text
    again = upload(client, headers, GOOD, "same")
    assert again.status_code == 200 and again.json["batch_id"] == first.json["batch_id"], again.text
    assert count(container, "batches") == 1 and count(container, "outbox", "actor_name = 'split_batch'") == 1
    refused(upload(client, headers, GOOD + line(2, "c", "1").encode() + b"\n", "same"), 409, "X-CorrelationID")
    assert count(container, "batches") == 1
    process(container)
    after = upload(client, headers, GOOD, "same")  # even once paid: the same batch, nothing paid twice
    assert after.status_code == 200 and after.json["batch_id"] == first.json["batch_id"]
    process(container)
    assert balance(container, "ibank", FLOAT) == 10_000 - 3000
    other = tenant(container, "other", OPEN_LOOP)  # another tenant's X-CorrelationID space is its own
    assert upload(client, other, GOOD, "same").status_code == 202
    assert count(container, "batches") == 2


# --- size -----------------------------------------------------------------------------------------

def test_a_file_above_dispersa_bulk_max_bytes_is_413_and_nothing_is_stored(small: Bulk) -> None:
    container, client = small
    headers = tenant(container, "ibank", OPEN_LOOP)
    large = csv_file(*(line(i, f"payee{i}", "10") for i in range(10)))
    assert len(large) > 400
    refused(upload(client, headers, large), 413)
    nothing_changed(container)
    body, content_type = encode_multipart_formdata({"data": ("batch.csv", large, "text/csv")})
    refused(upload(client, headers, body, content_type=content_type, request_id="multi"), 413)
    nothing_changed(container)
    assert len(GOOD) < 400
    assert upload(client, headers, GOOD).status_code == 202


# --- other shapes ---------------------------------------------------------------------------------

def test_columns_in_any_order_and_quoted_values_are_read_as_written(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", OPEN_LOOP, "100")
    columns = list(reversed(HEADER.split(",")))
    values = dict(zip(HEADER.split(","), line(0, "a", "12.50").split(",")), note='"Pay, with a comma"')
    content = (",".join(columns) + "\n" + ",".join(values[c] for c in columns) + "\n").encode()
    answer = upload(client, headers, content)
    assert answer.status_code == 202, answer.text
    process(container)
    result = result_of(client, headers, answer.json["batch_id"])
    assert [(r["payee_identifier"], r["amount"], r["note"], r["status"]) for r in result] == [
        ("*", "12.50", "Pay, with a comma", "SUCCESS")]  # the payee masked, the rest as written
    assert balance(container, "ibank", "a") == 1250


def test_a_multipart_upload_with_part_data_is_accepted_and_paid(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", OPEN_LOOP, "100")
    body, content_type = encode_multipart_formdata({"data": ("ph-ee-bulk-demo-6.csv", GOOD, "text/csv"),
                                                    "note": "a form field besides"})
    answer = upload(client, headers, body, content_type=content_type, filename="")
    assert answer.status_code == 202, answer.text
    assert answer.json["status"] == "queued"
    process(container)
    s = summary(client, headers, answer.json["batch_id"])
    assert (s["status"], s["successful"], s["totalAmount"]) == ("completed", 2, "30.00"), s
    assert s["content_sha256"] == hashlib.sha256(GOOD).hexdigest()
    assert s["filename"] == "ph-ee-bulk-demo-6.csv"  # no filename header: the part's own file name


def test_a_raw_json_batch_as_the_seed_sends_it(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank-usa", {"payment-modes": CLOSED}, "10000", currency="RWF",
                     wallets=("8837461856",))

    def item(amount: str) -> dict[str, Any]:
        return {"creditParty": [{"key": "msisdn", "value": "8837461856"}],
                "debitParty": [{"key": "accountnumber", "value": "003001003874120160"}],
                "subType": "SLCB", "amount": amount, "currency": "RWF", "descriptionText": "Test Payment"}

    answer = client.simulate_post("/batchtransactions", headers={  # the type as the Type header, as the seed allows
        **headers, "Type": "raw", "Content-Type": "application/json",
        "X-CorrelationID": "3a4dfab5-0f4f-4e78-b6b5-1aff3859d4e8"}, body=json.dumps([item("820.00"), item("820")]))
    assert answer.status_code == 202, answer.text
    assert answer.json["request_id"] == "3a4dfab5-0f4f-4e78-b6b5-1aff3859d4e8"
    process(container)
    batch_id = answer.json["batch_id"]
    s = summary(client, headers, batch_id)
    assert (s["status"], s["successful"], s["failed"], s["currency"]) == ("completed", 1, 1, "RWF"), s
    result = result_of(client, headers, batch_id)
    assert [(r["amount"], r["status"], r["error_code"]) for r in result] == [
        ("820.00", "FAILURE", "AMOUNT_PRECISION"), ("820", "SUCCESS", "")]
    assert result[1]["payee_identifier"] == "******1856" and result[1]["note"] == "Test Payment"
    assert balance(container, "ibank-usa", "8837461856", "RWF") == 820
    assert balance(container, "ibank-usa", FLOAT, "RWF") == 10_000 - 820


@pytest.mark.parametrize("body, words", [
    (b"{\"amount\": \"5\"}", ("array",)),
    (b"[]", ("array",)),
    (b"[{", ("json",)),
], ids=["object", "empty array", "not json"])
def test_a_raw_body_that_is_not_a_json_array_of_payments_is_refused(bulk: Bulk, body: bytes,
                                                                    words: tuple[str, ...]) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", OPEN_LOOP)
    refused(upload(client, headers, body, kind="raw", content_type="application/json"), 400, *words)
    nothing_changed(container)


# --- row-level failures -----------------------------------------------------------------------------

BAD_ROWS = csv_file(
    line(0, "a", "850"),
    line(1, "b", "850.505"),
    line(2, "c", "0"),
    line(3, "d", "abc"),
    line(4, "e", "5", currency="XXZ"),
    line(5, "f", "5", mode="carrierpigeon"),
    line(6, "g", "-5"),
    line(7, "h", "1.50"),
    "8,r8,slcb,accountNumber",
)


def test_bad_rows_fail_with_their_reasons_and_the_others_are_paid(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", OPEN_LOOP, "1000")
    answer = upload(client, headers, BAD_ROWS)
    assert answer.status_code == 202, answer.text
    process(container)
    batch_id = answer.json["batch_id"]
    s = summary(client, headers, batch_id)
    assert (s["status"], s["total"], s["successful"], s["failed"]) == ("completed", 9, 2, 7), s
    assert s["currencies"] == ["USD", "XXZ"]  # amounts of several currencies are given per currency
    usd = next(a for a in s["amounts"] if a["currency"] == "USD")
    assert (usd["successfulAmount"], usd["successful"]) == ("851.50", 2), usd
    result = result_of(client, headers, batch_id)
    assert [r["id"] for r in result] == [str(i) for i in range(8)] + [""]  # a row that does not split: not shown
    got = [(r["status"], r["error_code"]) for r in result]
    assert got[0] == ("SUCCESS", "") and got[7] == ("SUCCESS", "")
    assert got[1:5] == [("FAILURE", "AMOUNT_PRECISION"), ("FAILURE", "NON_POSITIVE_AMOUNT"),
                        ("FAILURE", "INVALID_AMOUNT"), ("FAILURE", "UNKNOWN_CURRENCY")]
    assert got[5] == ("FAILURE", "MODE_NOT_CONFIGURED")
    assert result[5]["error_description"].startswith("Payment mode not configured")
    assert got[6][0] == "FAILURE" and got[6][1] in ("NON_POSITIVE_AMOUNT", "INVALID_AMOUNT")
    assert got[8] == ("FAILURE", "WRONG_COLUMN_COUNT")
    assert all(r["error_description"] for r in result[1:7] + result[8:])
    assert result[1]["amount"] == "850.505"  # the file as written
    assert balance(container, "ibank", "a") == 85_000 and balance(container, "ibank", "h") == 150
    assert balance(container, "ibank", "b") is None
    assert balance(container, "ibank", FLOAT) == 100_000 - 85_150


def test_the_detail_gives_the_seed_s_transfer_fields_a_page_at_a_time(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", OPEN_LOOP, "1000")
    batch_id = upload(client, headers, BAD_ROWS).json["batch_id"]
    process(container)
    path = f"/api/v1/batchtransactions/{batch_id}/detail"
    first = client.simulate_get(path, headers=headers, params={"pageNo": 1, "pageSize": 2, "status": "FAILURE"})
    assert first.status_code == 200, first.text
    assert len(first.json) == 2
    for transfer in first.json:
        for name in ("transactionId", "status", "payeePartyId", "amount", "currency", "batchId", "errorInformation"):
            assert name in transfer, (name, transfer)
        assert transfer["status"] == "FAILURE" and transfer["batchId"] == batch_id
        assert transfer["errorInformation"]["errorCode"] and transfer["errorInformation"]["errorDescription"]
    assert [(t["row"], t["payeePartyId"], t["errorInformation"]["errorCode"]) for t in first.json] == [
        (1, "*", "AMOUNT_PRECISION"), (2, "*", "NON_POSITIVE_AMOUNT")]  # a one-letter wallet is masked whole
    third = client.simulate_get(path, headers=headers, params={"pageNo": 3, "pageSize": 2, "status": "FAILURE"})
    assert [t["row"] for t in third.json] == [5, 6]
    done = client.simulate_get(path, headers=headers, params={"pageNo": 1, "pageSize": 5, "status": "SUCCESS"}).json
    assert [(t["row"], t["amount"], t["currency"], t["errorInformation"]) for t in done] == [
        (0, "850.00", "USD", None), (7, "1.50", "USD", None)]
    assert len({t["transactionId"] for t in done}) == 2 and all(t["transactionId"] for t in done)


# --- the list of batches ----------------------------------------------------------------------------

def test_the_list_of_batches_is_the_seed_s_page_and_a_tenant_sees_only_its_own(bulk: Bulk) -> None:
    container, client = bulk
    own = tenant(container, "ibank", OPEN_LOOP)
    other = tenant(container, "other", OPEN_LOOP)
    ids = {}
    for name in ("c.csv", "a.csv", "b.csv"):
        ids[name] = upload(client, own, GOOD, f"req-{name}", filename=name).json["batch_id"]
    theirs = upload(client, other, GOOD, "theirs", filename="0-theirs.csv").json["batch_id"]
    params = {"page": 0, "size": 2, "sortedBy": "requestFile", "sortedOrder": "asc"}
    answer = client.simulate_get("/api/v1/batches", headers=own, params=params)
    assert answer.status_code == 200, answer.text
    page = answer.json
    assert set(page) >= {"content", "totalElements", "totalPages", "number", "size", "first", "last",
                         "numberOfElements", "sort"}
    assert (page["totalElements"], page["totalPages"], page["number"], page["size"], page["first"], page["last"],
            page["numberOfElements"]) == (3, 2, 0, 2, True, False, 2)
    assert [b["requestFile"] for b in page["content"]] == ["a.csv", "b.csv"]
    assert [b["batchId"] for b in page["content"]] == [ids["a.csv"], ids["b.csv"]]
    assert page["sort"][0]["property"] == "requestFile" and page["sort"][0]["ascending"] is True
    last = client.simulate_get("/api/v1/batches", headers=own, params={**params, "page": 1}).json
    assert [b["requestFile"] for b in last["content"]] == ["c.csv"]
    assert (last["first"], last["last"], last["numberOfElements"]) == (False, True, 1)
    descending = client.simulate_get("/api/v1/batches", headers=own, params={**params, "sortedOrder": "desc"}).json
    assert [b["requestFile"] for b in descending["content"]] == ["c.csv", "b.csv"]
    seen = client.simulate_get("/api/v1/batches", headers=other, params=params).json
    assert [b["batchId"] for b in seen["content"]] == [theirs] and seen["totalElements"] == 1
    assert client.simulate_get("/api/v1/batches", headers={**other, "Platform-TenantId": "ibank"}).status_code == 403


# --- the template ---------------------------------------------------------------------------------

def test_the_template_is_the_header_line(bulk: Bulk) -> None:
    _, client = bulk
    answer = client.simulate_get("/template", params={"types": "PROGRAM,MOJALOOP"})
    assert answer.status_code == 200, answer.text
    assert answer.text == HEADER + "\n"
    assert answer.headers["content-type"].startswith("text/csv")


# --- payment routes -------------------------------------------------------------------------------

def route(client: testing.TestClient, headers: dict[str, str], body: dict[str, Any], request_id: str
          ) -> testing.Result:
    return client.simulate_post("/api/v1/routes", headers={**headers, "X-CorrelationID": request_id}, json=body)


def test_a_payment_route_whose_parts_add_up_is_a_batch_paid_through_the_closed_loop(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", {"payment-modes": CLOSED}, "100", wallets=("vendor-1", "vendor-2"))
    body = {"amount": "30.50", "currency": "USD", "transfers": [
        {"account": "vendor-1", "amount": "10.25", "currency": "USD", "notes": "invoice 1"},
        {"account": "vendor-2", "amount": "20.25", "currency": "USD", "notes": "invoice 2"}]}
    answer = route(client, headers, body, "route-1")
    assert answer.status_code == 202, answer.text
    batch_id = answer.json["batch_id"]
    process(container)
    s = summary(client, headers, batch_id)
    assert (s["status"], s["successful"], s["totalAmount"]) == ("completed", 2, "30.50"), s
    assert balance(container, "ibank", "vendor-1") == 1025 and balance(container, "ibank", "vendor-2") == 2025
    assert balance(container, "ibank", FLOAT) == 10_000 - 3050
    again = route(client, headers, body, "route-1")
    assert again.status_code == 200 and again.json["batch_id"] == batch_id
    [audited] = [r.details for r in rows(container, "SELECT details FROM audit_log WHERE resource = 'batch'")]
    assert "vendor-1" not in audited and "invoice" not in audited  # the parts' accounts and notes masked
    assert [p["account"] for p in json.loads(audited)["route"]["transfers"]] == ["****or-1", "****or-2"]


def test_a_payment_route_whose_parts_do_not_add_up_is_refused(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", {"payment-modes": CLOSED}, "100", wallets=("vendor-1", "vendor-2"))
    parts = [{"account": "vendor-1", "amount": "10.00", "currency": "USD", "notes": "invoice 1"},
             {"account": "vendor-2", "amount": "20.01", "currency": "USD", "notes": "invoice 2"}]
    body: dict[str, Any] = {"amount": "30.00", "currency": "USD", "transfers": parts}
    refused(route(client, headers, body, "route-2"), 400, "add up")
    mixed = {**body, "transfers": [parts[0], {**parts[1], "amount": "20", "currency": "EUR"}]}
    refused(route(client, headers, mixed, "route-3"), 400, "EUR")
    refused(client.simulate_post("/api/v1/routes", headers=headers, json={**body, "amount": "30.01"}), 400,
            "X-CorrelationID")
    nothing_changed(container)
    assert balance(container, "ibank", FLOAT) == 10_000
