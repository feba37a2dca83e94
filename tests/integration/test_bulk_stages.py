"""Every bulk stage on and off, on MariaDB, RabbitMQ and Redis through the HTTP API, paid through the
closed loop: party lookup, approval (maker-checker), ordering, splitting, the success threshold,
deduplication, formatting, mergeback, acknowledgements, a float that runs out, and a redelivered
sub-batch that pays nothing twice."""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator, NamedTuple
from urllib.parse import urlsplit

import pytest
from dramatiq import Message
from falcon import testing

from adapters.sealing import KEYRING, place
from bootstrap import Container, web_app
from domain.tenants import FLOAT
from tests.integration.bulk_support import HEADER, balance, close, make_bulk, new_key, process, summary, tenant
from tests.integration.helpers import count, rows, running_worker, scalar, settle
from usecases import bulk_execution, bulk_progress, steps

pytestmark = pytest.mark.integration

CLOSED = {"slcb": "closedloop"}
TWO_MODES = {"slcb": "closedloop", "wallet": "closedloop"}


# --- fixtures and helpers ---------------------------------------------------------------------------

def line(i: int, payee: str = "w1", amount: str = "10", mode: str = "slcb", currency: str = "USD",
         payer: str = "003001003874120160", payee_type: str = "accountNumber") -> str:
    return f"{i},r{i},{mode},accountNumber,{payer},{payee_type},{payee},{amount},{currency},Pay {i},MDM,1"


def csv_file(*lines: str) -> bytes:
    return ("\n".join((HEADER,) + lines) + "\n").encode()


def upload(client: testing.TestClient, headers: dict[str, str], content: bytes, request_id: str,
           **extra: str) -> str:
    """Submit a CSV batch; its batch_id (the submission must be accepted)."""
    answer = client.simulate_post("/batchtransactions", params={"type": "csv"}, headers={
        **headers, "X-CorrelationID": request_id, "filename": f"{request_id}.csv", "Content-Type": "text/csv",
        **extra}, body=content)
    assert answer.status_code == 202, answer.text
    return str(answer.json["batch_id"])






def instructions(container: Container, batch_id: str) -> list[Any]:
    """The batch's rows in the file's order: row, status, error code and description, sub-batch, mode, payee
    (unsealed), amount."""
    return [Row(r.row, r.status, r.error_code, r.error_description, r.sub_batch, r.payment_mode,
                KEYRING.unseal(r.payee_identifier, place("instructions", "payee_identifier", r.uetr)), r.amount)
            for r in rows(
        container, "SELECT i.`row`, i.status, i.error_code, i.error_description, i.sub_batch, i.payment_mode, "
                   "i.payee_identifier, i.uetr, i.amount FROM instructions i JOIN batches b ON b.id = i.batch_pk "
                   "WHERE b.batch_id = :b ORDER BY i.`row`", b=batch_id)]


class Row(NamedTuple):
    row: int
    status: str
    error_code: str | None
    error_description: str | None
    sub_batch: int | None
    payment_mode: str
    payee_identifier: str
    amount: int | None




def payments(container: Container) -> int:
    """Wallet entries that move money between wallets (not fundings, out of the outside account)."""
    return count(container, "wallet_entries", "reference NOT LIKE 'fund:%'")


def result_csv(client: testing.TestClient, headers: dict[str, str], path: str) -> list[dict[str, str]]:
    url = urlsplit(path)
    answer = client.simulate_get(url.path, query_string=url.query, headers=headers)
    assert answer.status_code == 200, answer.text
    return list(csv.DictReader(io.StringIO(answer.text)))


# --- party lookup ---------------------------------------------------------------------------------

def test_party_lookup_on_fails_a_row_to_a_wallet_that_does_not_exist_before_money_moves(
        bulk: tuple[Container, testing.TestClient]) -> None:
    container, client = bulk
    headers = tenant(container, "lookup", {"partylookup.enable": True, "payment-modes": CLOSED}, "100",
                     wallets=("known",))
    batch_id = upload(client, headers, csv_file(line(0, "known", "10"), line(1, "ghost", "5")), "lookup-on")
    process(container)
    s = summary(client, headers, batch_id)
    assert (s["status"], s["successful"], s["failed"]) == ("completed", 1, 1), s
    ghost = instructions(container, batch_id)[1]
    assert (ghost.status, ghost.error_code) == ("failure", "PARTY_LOOKUP_FAILED")
    assert ghost.sub_batch is None  # failed at validation: never planned into a sub-batch, never offered to pay
    assert balance(container, "lookup", "ghost") is None  # no wallet was made for it
    assert balance(container, "lookup", "known") == 1000
    assert balance(container, "lookup", FLOAT) == 10_000 - 1000
    assert payments(container) == 1


def test_party_lookup_off_makes_the_payee_wallet_and_pays_it(bulk: tuple[Container, testing.TestClient]) -> None:
    container, client = bulk
    headers = tenant(container, "nolookup", {"partylookup.enable": False, "payment-modes": CLOSED}, "100")
    batch_id = upload(client, headers, csv_file(line(0, "newcomer", "12.34")), "lookup-off")
    process(container)
    s = summary(client, headers, batch_id)
    assert (s["status"], s["successful"], s["failed"]) == ("completed", 1, 0), s
    assert balance(container, "nolookup", "newcomer") == 1234
    assert balance(container, "nolookup", FLOAT) == 10_000 - 1234


# --- approval ---------------------------------------------------------------------------------------

def approval_tenant(container: Container, name: str, extra: dict[str, Any] | None = None) -> dict[str, str]:
    return tenant(container, name, {"approval": {"enable": True}, "partylookup.enable": False,
                                    "payment-modes": CLOSED, **(extra or {})}, "100")


def test_approval_on_waits_for_another_treasury_key_then_pays(bulk: tuple[Container, testing.TestClient]) -> None:
    container, client = bulk
    tenant_headers = approval_tenant(container, "approver")
    admin_id, admin = new_key(container, "admin")
    treasury_id, treasury = new_key(container, "treasury")
    as_admin = {"Authorization": f"Bearer {admin}", "Platform-TenantId": "approver"}
    as_treasury = {"Authorization": f"Bearer {treasury}", "Platform-TenantId": "approver"}
    batch_id = upload(client, as_admin, csv_file(line(0, "a", "10"), line(1, "b", "20")), "approve-me")
    process(container)
    s = summary(client, tenant_headers, batch_id)
    assert s["status"] == "awaiting_approval" and (s["successful"], s["ongoing"]) == (0, 2), s
    assert payments(container) == 0 and balance(container, "approver", FLOAT) == 10_000
    assert balance(container, "approver", "a") is None

    path = f"/api/v1/batchtransactions/{batch_id}/approve"
    by_tenant = client.simulate_post(path, headers=tenant_headers)
    assert by_tenant.status_code == 403, by_tenant.text  # a tenant key approves nothing
    by_maker = client.simulate_post(path, headers=as_admin)
    assert by_maker.status_code == 403, by_maker.text  # maker-checker: not the key that submitted it
    assert "maker-checker" in by_maker.text
    _, admins_other_key = new_key(container, "treasury", owner="admin@tests.example")
    same_person = client.simulate_post(path, headers={"Authorization": f"Bearer {admins_other_key}",
                                                      "Platform-TenantId": "approver"})
    assert same_person.status_code == 403, same_person.text  # dual control compares people, not keys
    assert "submitted by admin@tests.example" in same_person.json["description"]
    assert summary(client, tenant_headers, batch_id)["status"] == "awaiting_approval"

    unnamed = client.simulate_post(path, headers={"Authorization": f"Bearer {treasury}"})
    assert unnamed.status_code == 403, unnamed.text  # Platform-TenantId is required here too
    by_checker = client.simulate_post(path, headers=as_treasury)
    assert by_checker.status_code == 200, by_checker.text
    assert by_checker.json["status"] == "processing"
    process(container)
    s = summary(client, tenant_headers, batch_id)
    assert (s["status"], s["successful"], s["failed"]) == ("completed", 2, 0), s
    assert s["approval"] == {"key_id": treasury_id}
    assert balance(container, "approver", "a") == 1000 and balance(container, "approver", "b") == 2000
    assert balance(container, "approver", FLOAT) == 10_000 - 3000

    again = client.simulate_post(path, headers=as_treasury)
    assert again.status_code == 409, again.text  # completed: not awaiting approval
    audited = rows(container, "SELECT api_key_id, resource_id FROM audit_log WHERE action = 'approve_batch'")
    assert [(a.api_key_id, a.resource_id) for a in audited] == [(treasury_id, batch_id)]
    assert admin_id != treasury_id


def test_rejection_fails_every_row_and_leaves_the_float_alone(bulk: tuple[Container, testing.TestClient]) -> None:
    container, client = bulk
    headers = approval_tenant(container, "rejecter")
    treasury_id, treasury = new_key(container, "treasury")
    as_treasury = {"Authorization": f"Bearer {treasury}", "Platform-TenantId": "rejecter"}
    batch_id = upload(client, headers, csv_file(line(0, "a", "10"), line(1, "b", "20"), line(2, "c", "x")),
                      "reject-me")
    process(container)
    assert summary(client, headers, batch_id)["status"] == "awaiting_approval"
    answer = client.simulate_post(f"/api/v1/batchtransactions/{batch_id}/reject", headers=as_treasury,
                                  json={"reason": "not this month"})
    assert answer.status_code == 200, answer.text
    process(container)
    s = summary(client, headers, batch_id)
    assert (s["status"], s["successful"], s["failed"], s["ongoing"]) == ("failed", 0, 3, 0), s
    assert "not this month" in (s["notes"] or "")
    found = instructions(container, batch_id)
    assert [(r.status, r.error_code) for r in found[:2]] == [("failure", "REJECTED")] * 2
    assert found[2].error_code == "INVALID_AMOUNT"  # failed at validation, it keeps its own reason
    assert payments(container) == 0 and balance(container, "rejecter", FLOAT) == 10_000
    assert balance(container, "rejecter", "a") is None
    audited = rows(container, "SELECT api_key_id, resource_id FROM audit_log WHERE action = 'reject_batch'")
    assert [(a.api_key_id, a.resource_id) for a in audited] == [(treasury_id, batch_id)]
    for action in ("approve", "reject"):
        late = client.simulate_post(f"/api/v1/batchtransactions/{batch_id}/{action}", headers=as_treasury,
                                    json={"reason": "again"})
        assert late.status_code == 409, late.text
    assert payments(container) == 0


def test_approval_off_pays_at_once_and_there_is_nothing_to_approve(
        bulk: tuple[Container, testing.TestClient]) -> None:
    container, client = bulk
    headers = tenant(container, "noapproval", {"approval.enable": False, "partylookup.enable": False,
                                               "payment-modes": CLOSED}, "100")
    _, treasury = new_key(container, "treasury")
    batch_id = upload(client, headers, csv_file(line(0, "a", "10")), "no-approval")
    process(container)
    assert summary(client, headers, batch_id)["status"] == "completed"
    assert balance(container, "noapproval", "a") == 1000
    answer = client.simulate_post(f"/api/v1/batchtransactions/{batch_id}/approve",
                                  headers={"Authorization": f"Bearer {treasury}", "Platform-TenantId": "noapproval"})
    assert answer.status_code == 409, answer.text
    assert count(container, "audit_log", "action = 'approve_batch'") == 0


# --- ordering -------------------------------------------------------------------------------------

AMOUNTS = ("50", "10", "40", "20", "30")


@pytest.mark.parametrize("ordering, expected", [
    (True, [2, 0, 1, 0, 1]),   # by amount: 10 (row 1), 20 (row 3) | 30 (row 4), 40 (row 2) | 50 (row 0)
    (False, [0, 0, 1, 1, 2]),  # the file's order
])
def test_ordering_numbers_the_sub_batches_by_the_ordering_field(
        bulk: tuple[Container, testing.TestClient], ordering: bool, expected: list[int]) -> None:
    container, client = bulk
    headers = tenant(container, "ordered", {"ordering": {"enable": ordering, "field": "amount"},
                                            "splitting": {"enable": True, "sub-batch-size": 2},
                                            "partylookup.enable": False, "payment-modes": CLOSED}, "1000")
    batch_id = upload(client, headers, csv_file(*(line(i, f"p{i}", a) for i, a in enumerate(AMOUNTS))), "order")
    process(container)
    assert summary(client, headers, batch_id)["status"] == "completed"
    assert [r.sub_batch for r in instructions(container, batch_id)] == expected
    subs = summary(client, headers, batch_id)["subBatches"]
    if ordering:
        assert [s["totalAmount"] for s in subs] == ["30.00", "70.00", "50.00"]
    else:
        assert [s["totalAmount"] for s in subs] == ["60.00", "60.00", "30.00"]


def test_ordering_by_a_sealed_field_follows_its_values_not_their_tokens(
        bulk: tuple[Container, testing.TestClient]) -> None:
    container, client = bulk
    headers = tenant(container, "bypayee", {"ordering": {"enable": True, "field": "payee_identifier"},
                                            "splitting": {"enable": True, "sub-batch-size": 2},
                                            "partylookup.enable": False, "payment-modes": CLOSED}, "1000")
    payees = ["m", "c", "x", "a", "k"]  # by payee: a, c | k, m | x
    batch_id = upload(client, headers, csv_file(*(line(i, p, "10") for i, p in enumerate(payees))), "by-payee")
    process(container)
    assert summary(client, headers, batch_id)["status"] == "completed"
    assert [r.sub_batch for r in instructions(container, batch_id)] == [1, 0, 2, 0, 1]


def test_ordering_on_pays_the_rows_in_the_ordering_field_s_order(bulk: tuple[Container, testing.TestClient]) -> None:
    """One sub-batch, a float that cannot pay every row: ordered by amount, the small rows are paid first
    (5 and 10), and the 20 that no longer fits fails. In the file's order the 20 would be paid and the 10 fail."""
    container, client = bulk
    headers = tenant(container, "smallfirst", {"ordering": {"enable": True, "field": "amount"},
                                               "partylookup.enable": False, "payment-modes": CLOSED}, "25")
    batch_id = upload(client, headers, csv_file(line(0, "a", "20"), line(1, "b", "5"), line(2, "c", "10")),
                      "small-first")
    process(container)
    found = instructions(container, batch_id)
    assert [r.sub_batch for r in found] == [0, 0, 0]
    assert [(r.status, r.error_code) for r in found] == [("failure", "INSUFFICIENT_FUNDS"), ("success", None),
                                                          ("success", None)]
    assert balance(container, "smallfirst", FLOAT) == 1000


def test_ordering_off_pays_the_rows_in_the_file_s_order(bulk: tuple[Container, testing.TestClient]) -> None:
    container, client = bulk
    headers = tenant(container, "fileorder", {"ordering": {"enable": False, "field": "amount"},
                                              "partylookup.enable": False, "payment-modes": CLOSED}, "25")
    batch_id = upload(client, headers, csv_file(line(0, "a", "20"), line(1, "b", "5"), line(2, "c", "10")),
                      "file-order")
    process(container)
    found = instructions(container, batch_id)
    assert [(r.status, r.error_code) for r in found] == [("success", None), ("success", None),
                                                          ("failure", "INSUFFICIENT_FUNDS")]
    assert balance(container, "fileorder", FLOAT) == 0


# --- splitting ------------------------------------------------------------------------------------

INTERLEAVED = [("slcb", "1"), ("wallet", "2"), ("slcb", "3"), ("wallet", "4"), ("slcb", "5"), ("wallet", "6"),
               ("slcb", "7"), ("slcb", "8")]  # five slcb rows, three wallet rows


@pytest.mark.parametrize("splitting, sizes", [
    (True, [("slcb", 2), ("slcb", 2), ("slcb", 1), ("wallet", 2), ("wallet", 1)]),  # ceil(5/2) + ceil(3/2)
    (False, [("slcb", 5), ("wallet", 3)]),                                         # one per mode
])
def test_splitting_cuts_each_payment_mode_into_sub_batches_of_its_size(
        bulk: tuple[Container, testing.TestClient], splitting: bool, sizes: list[tuple[str, int]]) -> None:
    container, client = bulk
    headers = tenant(container, "splitter", {"splitting": {"enable": splitting, "sub-batch-size": 2},
                                             "partylookup.enable": False, "payment-modes": TWO_MODES}, "1000")
    batch_id = upload(client, headers, csv_file(*(line(i, f"p{i}", a, mode) for i, (mode, a)
                                                   in enumerate(INTERLEAVED))), "split")
    process(container)
    s = summary(client, headers, batch_id)
    assert (s["status"], s["successful"], s["total"]) == ("completed", 8, 8), s
    subs = s["subBatches"]
    assert [(sub["paymentMode"], sub["total"]) for sub in subs] == sizes
    assert [sub["subBatchId"] for sub in subs] == list(range(len(sizes)))
    found = instructions(container, batch_id)
    for sub in subs:
        members = [r for r in found if r.sub_batch == sub["subBatchId"]]
        assert {r.payment_mode for r in members} == {sub["paymentMode"]}  # a sub-batch never mixes modes
        assert (sub["total"], sub["successful"], sub["failed"], sub["ongoing"]) == (len(members), len(members), 0, 0)
        assert sub["totalAmount"] == sub["successfulAmount"] == f"{sum(r.amount for r in members) / 100:.2f}"
        assert sub["connector"] == "closedloop"
    assert count(container, "sub_batches") == len(sizes)


# --- success threshold ------------------------------------------------------------------------------

HALF_INVALID = (line(0, "a", "10"), line(1, "b", "abc"), line(2, "c", "20"), line(3, "d", "5", currency="XXZ"))


def test_success_threshold_on_stops_a_batch_with_too_few_valid_rows_before_money_moves(
        bulk: tuple[Container, testing.TestClient]) -> None:
    container, client = bulk
    headers = tenant(container, "strict", {"success-threshold-check": {"enable": True, "success-rate": 80},
                                           "partylookup.enable": False, "payment-modes": CLOSED}, "100")
    batch_id = upload(client, headers, csv_file(*HALF_INVALID), "threshold")
    process(container)
    s = summary(client, headers, batch_id)
    assert (s["status"], s["successful"], s["failed"], s["ongoing"]) == ("failed", 0, 4, 0), s
    assert "threshold" in s["notes"] and "80" in s["notes"], s["notes"]
    assert {r.status for r in instructions(container, batch_id)} == {"failure"}
    assert payments(container) == 0 and balance(container, "strict", FLOAT) == 10_000
    assert count(container, "sub_batches") == 0
    result = result_csv(client, headers, s["file"])
    assert [r["status"] for r in result] == ["FAILURE"] * 4


def test_success_threshold_on_lets_a_batch_with_enough_valid_rows_through(
        bulk: tuple[Container, testing.TestClient]) -> None:
    container, client = bulk
    headers = tenant(container, "strict", {"success-threshold-check": {"enable": True, "success-rate": 80},
                                           "partylookup.enable": False, "payment-modes": CLOSED}, "100")
    batch_id = upload(client, headers, csv_file(line(0, "a", "10"), line(1, "b", "abc"), line(2, "c", "20"),
                                                line(3, "d", "1"), line(4, "e", "2")), "enough")  # 4 of 5: 80 %
    process(container)
    s = summary(client, headers, batch_id)
    assert (s["status"], s["successful"], s["failed"]) == ("completed", 4, 1), s
    assert balance(container, "strict", FLOAT) == 10_000 - 3300


def test_success_threshold_off_pays_the_valid_rows(bulk: tuple[Container, testing.TestClient]) -> None:
    container, client = bulk
    headers = tenant(container, "lenient", {"success-threshold-check": {"enable": False, "success-rate": 80},
                                            "partylookup.enable": False, "payment-modes": CLOSED}, "100")
    batch_id = upload(client, headers, csv_file(*HALF_INVALID), "no-threshold")
    process(container)
    s = summary(client, headers, batch_id)
    assert (s["status"], s["successful"], s["failed"]) == ("completed", 2, 2), s
    assert balance(container, "lenient", "a") == 1000 and balance(container, "lenient", "c") == 2000
    assert payments(container) == 2


# --- deduplication --------------------------------------------------------------------------------

def test_deduplication_on_fails_a_later_row_with_the_same_payer_payee_amount_and_currency(
        bulk: tuple[Container, testing.TestClient]) -> None:
    container, client = bulk
    headers = tenant(container, "dedupe", {"deduplication.enable": True, "partylookup.enable": False,
                                           "payment-modes": CLOSED}, "100")
    batch_id = upload(client, headers, csv_file(
        line(0, "a", "10"), line(1, "a", "10.00"), line(2, "a", "11"), line(3, "b", "10"),
        line(4, "a", "10", payer="another-payer"), line(5, "a", "10", currency="EUR")), "dedupe")
    process(container)
    found = instructions(container, batch_id)
    assert (found[1].status, found[1].error_description) == ("failure", "Duplicate transaction")
    assert [r.status for r in found] == ["success", "failure", "success", "success", "success", "failure"]
    assert found[5].error_code != "DUPLICATE"  # another currency is another payment (no EUR float here)
    assert balance(container, "dedupe", "a") == 1000 + 1100 + 1000


def test_deduplication_on_sees_a_duplicate_on_a_later_page_of_the_file(
        bulk: tuple[Container, testing.TestClient]) -> None:
    container, client = bulk
    headers = tenant(container, "dedupe", {"deduplication.enable": True, "partylookup.enable": False,
                                           "payment-modes": CLOSED}, "1000000")
    # the split reads 1000 rows a page (usecases.bulk_split.PAGE_ROWS, bound as split_page's default): row 1001
    # is on the second page and repeats row 0
    lines = [line(i, "a", f"{i + 1}") for i in range(1001)] + [line(1001, "a", "1")]
    batch_id = upload(client, headers, csv_file(*lines), "dedupe-pages")
    process(container, threads=4)
    assert scalar(container, "SELECT split_page FROM batches WHERE batch_id = :b", b=batch_id) == 2
    found = instructions(container, batch_id)
    assert (found[1001].status, found[1001].error_description) == ("failure", "Duplicate transaction")
    assert sum(r.status == "success" for r in found) == 1001
    assert balance(container, "dedupe", "a") == sum(range(1, 1002)) * 100


def test_deduplication_off_pays_both(bulk: tuple[Container, testing.TestClient]) -> None:
    container, client = bulk
    headers = tenant(container, "twice", {"deduplication.enable": False, "partylookup.enable": False,
                                          "payment-modes": CLOSED}, "100")
    batch_id = upload(client, headers, csv_file(line(0, "a", "10"), line(1, "a", "10")), "twice")
    process(container)
    assert [r.status for r in instructions(container, batch_id)] == ["success", "success"]
    assert balance(container, "twice", "a") == 2000 and payments(container) == 2


# --- formatting -----------------------------------------------------------------------------------

def test_formatting_gsma_pays_the_formatted_msisdn(bulk: tuple[Container, testing.TestClient]) -> None:
    container, client = bulk
    headers = tenant(container, "gsmafmt", {"formatting": {"enable": True, "standard": "GSMA"},
                                            "partylookup.enable": True, "payment-modes": CLOSED}, "100",
                     wallets=("52551234",))
    batch_id = upload(client, headers, csv_file(line(0, "+52 55-1234", "10", payee_type="msisdn")), "fmt-on")
    process(container)
    row = instructions(container, batch_id)[0]
    assert (row.status, row.payee_identifier) == ("success", "52551234"), row
    assert balance(container, "gsmafmt", "52551234") == 1000
    s = summary(client, headers, batch_id)
    assert result_csv(client, headers, s["file"])[0]["payee_identifier"] == "*******1234"  # as written, masked


def test_formatting_off_pays_the_payee_as_written(bulk: tuple[Container, testing.TestClient]) -> None:
    container, client = bulk
    headers = tenant(container, "asis", {"formatting": {"enable": False, "standard": "GSMA"},
                                         "partylookup.enable": False, "payment-modes": CLOSED}, "100",
                     wallets=("52551234",))
    batch_id = upload(client, headers, csv_file(line(0, "+52 55-1234", "10", payee_type="msisdn")), "fmt-off")
    process(container)
    row = instructions(container, batch_id)[0]
    assert (row.status, row.payee_identifier) == ("success", "+52 55-1234"), row
    assert balance(container, "asis", "+52 55-1234") == 1000
    assert balance(container, "asis", "52551234") == 0


# --- mergeback ------------------------------------------------------------------------------------

def test_mergeback_off_gives_each_sub_batch_its_own_result_file(bulk: tuple[Container, testing.TestClient]) -> None:
    container, client = bulk
    headers = tenant(container, "nomerge", {"mergeback.enable": False, "splitting.sub-batch-size": 2,
                                            "partylookup.enable": False, "payment-modes": CLOSED}, "100")
    batch_id = upload(client, headers, csv_file(line(0, "a", "1"), line(1, "b", "2"), line(2, "c", "3")), "nomerge")
    process(container)
    s = summary(client, headers, batch_id)
    assert s["status"] == "completed" and s["file"] is None, s
    assert [sub["file"] for sub in s["subBatches"]] == [
        f"/api/v1/batchtransactions/{batch_id}/result?subBatch={n}" for n in (0, 1)]
    assert [r["id"] for r in result_csv(client, headers, s["subBatches"][0]["file"])] == ["0", "1"]
    last = result_csv(client, headers, s["subBatches"][1]["file"])
    assert [(r["id"], r["payee_identifier"], r["status"]) for r in last] == [("2", "*", "SUCCESS")]


def test_mergeback_on_gives_the_batch_one_result_file(bulk: tuple[Container, testing.TestClient]) -> None:
    container, client = bulk
    headers = tenant(container, "merge", {"mergeback.enable": True, "splitting.sub-batch-size": 2,
                                          "partylookup.enable": False, "payment-modes": CLOSED}, "100")
    batch_id = upload(client, headers, csv_file(line(0, "a", "1"), line(1, "b", "2"), line(2, "c", "3")), "merge")
    process(container)
    s = summary(client, headers, batch_id)
    assert s["file"] == f"/api/v1/batchtransactions/{batch_id}/result", s
    assert [sub["file"] for sub in s["subBatches"]] == [None, None]
    assert [r["id"] for r in result_csv(client, headers, s["file"])] == ["0", "1", "2"]


# --- acknowledgement ------------------------------------------------------------------------------

@contextmanager
def callback_server(fail_first: bool = False, status: int = 200,
                    host: str = "127.0.0.1") -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """A tiny HTTP server on loopback that keeps every POST it receives (headers, body) and answers
    ``status``; with ``fail_first`` it answers 503 to the first POST of each body."""
    received: list[tuple[dict[str, str], bytes]] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the http.server name)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                first = all(got != body for _, got in received)
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(503 if fail_first and first else status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}/progress", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def on_loopback(settings: Any, clock: Any, tmp_path: Any) -> Iterator[tuple[Container, testing.TestClient]]:
    """The bulk API whose acknowledgements may call this machine back (DISPERSA_CALLBACK_ALLOW=127.0.0.1)."""
    container = make_bulk(settings, clock, tmp_path, callback_allow="127.0.0.1")
    yield container, testing.TestClient(web_app(container))
    close(container)


def acknowledged_tenant(container: Container, name: str) -> dict[str, str]:
    return tenant(container, name, {"acknowledgement.enable": True, "partylookup.enable": False,
                                    "payment-modes": CLOSED}, "100")


def given_up(container: Container) -> list[Any]:
    return rows(container, "SELECT reference, message FROM event_log WHERE kind = 'acknowledgements_given_up' "
                           "AND level = 'ALERT'")


def test_acknowledgement_on_posts_each_progress_mark_signed_with_the_tenant_secret(
        on_loopback: tuple[Container, testing.TestClient]) -> None:
    container, client = on_loopback
    headers = tenant(container, "acked", {"acknowledgement.enable": True, "partylookup.enable": False,
                                          "payment-modes": CLOSED}, "100")
    secret = str(scalar(container, "SELECT secret FROM tenants WHERE name = 'acked'"))
    with callback_server() as (url, received):
        batch_id = upload(client, headers, csv_file(*(line(i, f"p{i}", "1") for i in range(5))), "acked",
                          **{"X-CallbackURL": url})
        process(container)
    assert summary(client, headers, batch_id)["status"] == "completed"
    marks = []
    for got_headers, body in received:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert got_headers.get("x-signature-sha256") == expected
        sent = json.loads(body)
        assert sent["batch_id"] == batch_id and sent["request_id"] == "acked"
        marks.append(sent["progress"])
    assert sorted(marks) == [20, 40, 60, 80, 100], marks
    last = next(json.loads(body) for _, body in received if json.loads(body)["progress"] == 100)
    assert (last["total"], last["successful"], last["ongoing"]) == (5, 5, 0)


def test_acknowledgement_is_retried_when_the_callback_url_fails(
        on_loopback: tuple[Container, testing.TestClient]) -> None:
    container, client = on_loopback
    headers = tenant(container, "retried", {"acknowledgement.enable": True, "partylookup.enable": False,
                                            "payment-modes": CLOSED}, "100")
    with callback_server(fail_first=True) as (url, received):
        batch_id = upload(client, headers, csv_file(line(0, "a", "1")), "retried", **{"X-CallbackURL": url})
        process(container)
    assert summary(client, headers, batch_id)["status"] == "completed"
    marks = sorted(json.loads(body)["progress"] for _, body in received)
    assert marks == [20, 20, 40, 40, 60, 60, 80, 80, 100, 100], marks  # each refused once (503), then taken


def test_a_callback_url_whose_name_resolves_to_this_machine_is_never_called_and_given_up_once(
        bulk: tuple[Container, testing.TestClient]) -> None:
    container, client = bulk  # no DISPERSA_CALLBACK_ALLOW: only public addresses
    headers = acknowledged_tenant(container, "ssrf")
    with callback_server(host="localhost") as (url, received):
        batch_id = upload(client, headers, csv_file(*(line(i, f"p{i}", "1") for i in range(5))), "ssrf",
                          **{"X-CallbackURL": url})
        process(container)
    assert summary(client, headers, batch_id)["status"] == "completed"
    assert received == []  # the name was resolved and its address refused before any connection
    [alert] = given_up(container)
    assert alert.reference == batch_id and "loopback" in alert.message and "/progress" not in alert.message
    assert count(container, "dead_letters") == 0
    assert count(container, "event_log", "kind = 'actor_failure'") == 0  # refused at once: never retried


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/x", "http://169.254.169.254/latest",
                                 "http://[::ffff:127.0.0.1]:8000/x", "http://0.0.0.0:8000/x", "http://10.1.2.3/x"])
def test_a_callback_url_whose_host_is_an_address_we_may_not_call_is_refused_at_once(
        bulk: tuple[Container, testing.TestClient], url: str) -> None:
    container, client = bulk
    headers = acknowledged_tenant(container, "literal")
    answer = client.simulate_post("/batchtransactions", params={"type": "csv"}, body=csv_file(line(0, "a", "1")),
                                  headers={**headers, "X-CorrelationID": "literal", "Content-Type": "text/csv",
                                           "X-CallbackURL": url})
    assert answer.status_code == 422 and "X-CallbackURL may not be called back" in answer.json["description"]
    assert count(container, "batches") == 0


@pytest.mark.parametrize("status, count_of_batches", [(404, 2), (503, 1)])  # 503: each mark retried
def test_a_callback_url_that_refuses_or_keeps_failing_is_given_up_with_one_event_a_batch_and_no_dead_letter(
        on_loopback: tuple[Container, testing.TestClient], status: int, count_of_batches: int) -> None:
    container, client = on_loopback
    headers = acknowledged_tenant(container, "refusing")
    batches = []
    with callback_server(status=status) as (url, received):
        for n in range(count_of_batches):
            batches.append(upload(client, headers, csv_file(line(0, f"p{n}", "1")), f"given-up-{n}",
                                  **{"X-CallbackURL": url}))
            process(container)
    assert {summary(client, headers, b)["status"] for b in batches} == {"completed"}
    assert {json.loads(body)["batch_id"] for _, body in received} == set(batches)  # each was tried
    alerts = given_up(container)
    assert sorted(a.reference for a in alerts) == sorted(batches)  # one event per batch
    assert all(str(status) in a.message and "/progress" not in a.message for a in alerts)
    assert count(container, "dead_letters") == 0
    if status == 404:  # a refusal is never retried: each mark posted at most once
        assert len(received) <= 2 * 5 and count(container, "event_log", "kind = 'actor_failure'") == 0


def test_acknowledgement_off_posts_nothing(on_loopback: tuple[Container, testing.TestClient]) -> None:
    container, client = on_loopback
    headers = tenant(container, "quiet", {"acknowledgement.enable": False, "partylookup.enable": False,
                                          "payment-modes": CLOSED}, "100")
    with callback_server() as (url, received):
        batch_id = upload(client, headers, csv_file(*(line(i, f"p{i}", "1") for i in range(5))), "quiet",
                          **{"X-CallbackURL": url})
        process(container)
    assert summary(client, headers, batch_id)["status"] == "completed"
    assert received == []


# --- the float runs out -----------------------------------------------------------------------------

def test_rows_beyond_what_the_float_holds_fail_and_the_float_never_goes_negative(
        bulk: tuple[Container, testing.TestClient]) -> None:
    container, client = bulk
    headers = tenant(container, "thin", {"partylookup.enable": False, "payment-modes": CLOSED}, "25")
    batch_id = upload(client, headers, csv_file(line(0, "a", "10"), line(1, "b", "10"), line(2, "c", "10"),
                                                line(3, "d", "10")), "thin")
    process(container)
    s = summary(client, headers, batch_id)
    assert (s["status"], s["successful"], s["failed"]) == ("completed", 2, 2), s
    found = instructions(container, batch_id)
    assert [r.status for r in found] == ["success", "success", "failure", "failure"]
    assert {r.error_code for r in found[2:]} == {"INSUFFICIENT_FUNDS"}
    assert balance(container, "thin", FLOAT) == 500
    assert scalar(container, "SELECT MIN(balance) FROM wallets WHERE NOT outside") >= 0
    assert s["successfulAmount"] == "20.00" and s["failedAmount"] == "20.00"


# --- redelivery -----------------------------------------------------------------------------------

def bulk_message(container: Container, actor: str, *args: Any, message_id: str | None = None) -> None:
    message: Message[Any] = Message(queue_name="bulk", actor_name=actor, args=args, kwargs={}, options={})
    container.broker.enqueue(message.copy(message_id=message_id) if message_id else message)


def test_a_redelivered_sub_batch_pays_nothing_twice(bulk: tuple[Container, testing.TestClient]) -> None:
    container, client = bulk
    headers = tenant(container, "again", {"splitting.sub-batch-size": 2, "partylookup.enable": False,
                                          "payment-modes": CLOSED}, "100")
    batch_id = upload(client, headers, csv_file(*(line(i, f"p{i}", "1") for i in range(5))), "again")
    process(container)
    assert summary(client, headers, batch_id)["status"] == "completed"
    before = (payments(container), balance(container, "again", FLOAT))
    assert before == (5, 9500)
    sent = rows(container, "SELECT message_id, actor_name, args FROM outbox WHERE actor_name IN "
                           "('execute_sub_batch', 'split_batch', 'plan_batch', 'merge_batch')")
    assert sum(r.actor_name == steps.EXECUTE_SUB_BATCH.actor_name for r in sent) == 3
    with running_worker(container) as traffic:
        for r in sent:  # the same messages again (a redelivery), and once more under new ids (a duplicate)
            args = json.loads(r.args) if isinstance(r.args, str) else r.args
            bulk_message(container, r.actor_name, *args, message_id=r.message_id)
            bulk_message(container, r.actor_name, *args)
        settle(container, traffic)
    assert (payments(container), balance(container, "again", FLOAT)) == before
    assert summary(client, headers, batch_id)["successful"] == 5
    assert count(container, "instructions") == 5


def test_duplicate_sub_batch_messages_in_flight_pay_each_row_once(bulk: tuple[Container, testing.TestClient]) -> None:
    container, client = bulk
    headers = approval_tenant(container, "racing")
    _, treasury = new_key(container, "treasury")
    batch_id = upload(client, headers, csv_file(*(line(i, f"p{i}", "1") for i in range(6))), "racing")
    process(container)
    answer = client.simulate_post(f"/api/v1/batchtransactions/{batch_id}/approve",
                                  headers={"Authorization": f"Bearer {treasury}", "Platform-TenantId": "racing"})
    assert answer.status_code == 200, answer.text
    with running_worker(container, threads=4) as traffic:
        for _ in range(3):  # copies of the first sub-batch's message, racing the outbox's own
            bulk_message(container, steps.EXECUTE_SUB_BATCH.actor_name, batch_id, 0)
        settle(container, traffic)
    s = summary(client, headers, batch_id)
    assert (s["status"], s["successful"]) == ("completed", 6), s
    assert payments(container) == 6 and balance(container, "racing", FLOAT) == 10_000 - 600


def test_every_sub_batch_of_a_completed_batch_is_done(bulk: tuple[Container, testing.TestClient]) -> None:
    """The execute actor pays a chunk per transaction; the chunk that hands over a sub-batch's last row marks
    it done in the same transaction. So when the last row's merge completes the batch right after (another
    worker thread), no sub-batch is left ``executing`` in the summary of a completed batch, and a later
    redelivered message finds nothing to do. The steps are run here in that order."""
    container, client = bulk
    headers = approval_tenant(container, "interleaved", {"splitting.sub-batch-size": 2})
    _, treasury = new_key(container, "treasury")
    batch_id = upload(client, headers, csv_file(*(line(i, f"p{i}", "1") for i in range(4))), "interleaved")
    process(container)
    answer = client.simulate_post(f"/api/v1/batchtransactions/{batch_id}/approve",
                                  headers={"Authorization": f"Bearer {treasury}", "Platform-TenantId": "interleaved"})
    assert answer.status_code == 200, answer.text
    for number in (0, 1):  # each sub-batch's one chunk pays all its rows: nothing remains
        with container.uow() as uow:
            assert not bulk_execution.execute_local(uow, batch_id, number, 500, container.payout_config)
            uow.commit()
    with container.uow() as uow:  # the merge queued by the last row settled
        assert bulk_progress.merge(uow, batch_id).value == "completed"
        uow.commit()
    for number in (0, 1):  # a redelivered message: nothing left
        with container.uow() as uow:
            assert not bulk_execution.execute_local(uow, batch_id, number, 500, container.payout_config)
            uow.commit()
    s = summary(client, headers, batch_id)
    assert (s["status"], s["successful"]) == ("completed", 4), s
    assert [(sub["status"], sub["completedAt"] is not None) for sub in s["subBatches"]] == [("done", True)] * 2
