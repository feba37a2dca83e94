"""One bound for every amount that enters, on MariaDB through the API and the CLI: 2^53-1 minor units is
taken, one more is a failed row or a 422 (the CLI: one line and a non-zero exit), and nothing beyond it is
ever stored, clamped or paid. A float stays within it however often it is funded."""
from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from domain.money import MAX_MINOR
from domain.tenants import FLOAT
from tests.integration.bulk_support import Bulk, balance, process, tenant
from tests.integration.helpers import count, execute, rows, scalar
from tests.integration.orders import order_sent
from tests.integration.test_bulk_inputs import csv_file, line, result_of, route, upload
from tests.integration.test_tenants import cli, keys
from tests.integration.test_web_access import Api, expect, is_error
from usecases.verify import verify_all

pytestmark = pytest.mark.integration

AT_BOUND = "90071992547409.91"       # USD: 2^53-1 cents
BEYOND = "90071992547409.92"         # one cent more
FILED = "99999999999999999999"       # the file that was clamped to 2^63-1 and paid
MODES = {"slcb": "closedloop", "spei": "spei", "gsma": "gsma", "mojaloop": "mojaloop"}


def stored_amounts(container: Any) -> list[Any]:
    return [r.amount for r in rows(container, "SELECT amount FROM instructions ORDER BY `row`")]


def test_a_bulk_row_at_the_bound_is_paid_and_one_beyond_it_fails_on_every_rail(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", {"partylookup.enable": False, "payment-modes": MODES}, AT_BOUND)
    answer = upload(client, headers, csv_file(
        line(0, "a", AT_BOUND), line(1, "b", BEYOND), *(line(i + 2, "c", FILED, mode) for i, mode in enumerate(MODES))))
    assert answer.status_code == 202, answer.text
    process(container)
    result = result_of(client, headers, answer.json["batch_id"])
    assert [(r["status"], r["error_code"]) for r in result] == [("SUCCESS", "")] + [("FAILURE", "AMOUNT_TOO_LARGE")] * 5
    assert "beyond the largest amount" in result[1]["error_description"]
    assert stored_amounts(container) == [MAX_MINOR, None, None, None, None, None]
    assert balance(container, "ibank", "a") == MAX_MINOR and balance(container, "ibank", FLOAT) == 0
    assert count(container, "payment_orders") == 0 and count(container, "wallet_entries") == 2  # funding, row 0


def test_a_raw_item_at_the_bound_is_taken_and_one_beyond_it_fails(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", {"partylookup.enable": False, "payment-modes": MODES}, AT_BOUND)

    def item(amount: str) -> dict[str, Any]:
        return {"creditParty": [{"key": "msisdn", "value": "w1"}], "subType": "slcb", "amount": amount,
                "currency": "USD"}

    answer = upload(client, headers, json.dumps([item(AT_BOUND), item(BEYOND), item(FILED)]).encode(), kind="raw",
                    content_type="application/json")
    assert answer.status_code == 202, answer.text
    process(container)
    result = result_of(client, headers, answer.json["batch_id"])
    assert [(r["status"], r["error_code"]) for r in result] == [
        ("SUCCESS", ""), ("FAILURE", "AMOUNT_TOO_LARGE"), ("FAILURE", "AMOUNT_TOO_LARGE")]
    assert stored_amounts(container) == [MAX_MINOR, None, None]


def test_a_route_at_the_bound_is_a_batch_and_one_beyond_it_is_422(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", {"payment-modes": {"slcb": "closedloop"}}, "1", wallets=("v1",))

    def body(amount: str) -> dict[str, Any]:
        return {"amount": amount, "currency": "USD", "transfers": [
            {"account": "v1", "amount": amount, "currency": "USD", "notes": "all of it"}]}

    is_error(route(client, headers, body(BEYOND), "route-beyond"), 422, "beyond the largest amount")
    assert count(container, "batches") == 0 and count(container, "outbox") == 0
    assert route(client, headers, body(AT_BOUND), "route-at").status_code == 202


def test_a_funding_at_the_bound_is_taken_and_the_float_never_goes_beyond_it(bulk: Bulk) -> None:
    container, client = bulk
    k = keys(container, "admin", "treasury")
    client.simulate_put("/api/v1/tenants/ibank", json={}, headers=k["admin"])
    path = "/api/v1/tenants/ibank/float"
    is_error(client.simulate_post(path, json={"amount": BEYOND, "currency": "USD"}, headers=k["treasury"]), 422,
             "beyond the largest amount")
    half = str(MAX_MINOR // 2 // 100)
    for _ in range(2):  # many fundings reach the bound, none passes it
        assert client.simulate_post(path, json={"amount": half, "currency": "USD"}, headers=k["treasury"]).status_code \
            == 200
    room = MAX_MINOR - 2 * int(half) * 100
    is_error(client.simulate_post(path, json={"amount": f"{room // 100}.{room % 100 + 1:02d}", "currency": "USD"},
                                  headers=k["treasury"]), 422, "beyond")
    assert client.simulate_post(path, json={"amount": f"{room // 100}.{room % 100:02d}", "currency": "USD"},
                                headers=k["treasury"]).status_code == 200
    assert balance(container, "ibank", FLOAT) == MAX_MINOR
    is_error(client.simulate_post(path, json={"amount": "0.01", "currency": "USD"}, headers=k["treasury"]), 422,
             "beyond")
    assert balance(container, "ibank", FLOAT) == MAX_MINOR
    assert count(container, "wallet_entries") == 3 and count(container, "audit_log", "action = 'fund_tenant'") == 3


def test_the_cli_funds_up_to_the_bound_and_refuses_beyond_it_in_one_line(bulk: Bulk) -> None:
    container, _ = bulk
    assert cli(container, "create", "ibank").returncode == 0
    for amount in (BEYOND, FILED):
        refused = cli(container, "fund", "ibank", amount, "USD")
        assert refused.returncode == 2 and "beyond the largest amount" in refused.stderr
        assert [ln for ln in refused.stderr.splitlines() if ln.startswith("error:")] == [
            ln for ln in refused.stderr.splitlines() if "beyond" in ln] and "Traceback" not in refused.stderr
    assert count(container, "wallet_entries") == 0
    funded = cli(container, "fund", "ibank", AT_BOUND, "USD")
    assert funded.returncode == 0, funded.stderr
    assert cli(container, "fund", "ibank", "0.01", "USD").returncode == 2
    assert balance(container, "ibank", FLOAT) == MAX_MINOR


@pytest.fixture
def api(container) -> Api:
    container.settings = container.settings.model_copy(update={"max_adjustment": MAX_MINOR + 1,
                                                               "adjustment_approval_above": MAX_MINOR})
    return Api(container)  # dual control's own limits are tested in test_dual_control


def test_credits_options_and_adjustments_take_the_bound_and_refuse_one_more(api: Api) -> None:
    shop = api.shop()
    options = f"/stores/{shop.store_id}/payment-options"
    wide = {"number_of_payments": 6, "merchant_commission": "0.05", "min_amount": 1}
    is_error(api.operator.post(options, json={**wide, "max_amount": MAX_MINOR + 1}), 422)
    option = expect(api.operator.post(options, json={**wide, "max_amount": MAX_MINOR}), 201)
    expect(api.treasury.post(f"/payment-options/{option['id']}/validate"), 200)
    expect(api.admin.post(f"/payment-options/{option['id']}/enable"), 200)
    credit = {"store_id": shop.store_id, "number_of_payments": 6}
    is_error(api.operator.post("/credits", json={**credit, "external_id": "beyond", "amount": MAX_MINOR + 1}), 422)
    assert expect(api.operator.post("/credits", json={**credit, "external_id": "at", "amount": MAX_MINOR}),
                  201)["amount"] == MAX_MINOR
    adjustments = f"/stores/{shop.store_id}/adjustments"
    for amount in (MAX_MINOR + 1, -(MAX_MINOR + 1)):  # beyond the bound even where DISPERSA_MAX_ADJUSTMENT allows it
        is_error(api.treasury.post(adjustments, json={"amount": amount}), 422)
    balance_now = int(scalar(api.container, "SELECT balance FROM stores WHERE id = :s", s=shop.store_id))
    expect(api.treasury.post(adjustments, json={"amount": -MAX_MINOR}), 201)
    assert int(scalar(api.container, "SELECT balance FROM stores WHERE id = :s", s=shop.store_id)) \
        == balance_now - MAX_MINOR
    assert count(api.container, "credits") == 1


# --- ledger verify: each row's amount is its row as sent, each order's its row's ---------------------------

def test_ledger_verify_finds_a_row_whose_amount_is_not_its_row_as_sent_nor_its_orders(bulk: Bulk) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", {"partylookup.enable": False, "payment-modes": MODES}, "100")
    answer = upload(client, headers, csv_file(line(0, "a", "10"), line(1, "b", "20.50"), line(2, "c", "x")))
    process(container)
    batch_id = answer.json["batch_id"]
    assert verify_all(container.sessions).violations == []
    # Row 0 as the clamped file left it: stored as 2^63-1 (its wallet entry cannot be: the CHECK bounds it).
    execute(container, "UPDATE instructions SET amount = :clamped WHERE `row` = 0", clamped=2**63 - 1)
    with pytest.raises((IntegrityError, OperationalError)):
        execute(container, "UPDATE wallet_entries SET amount = :clamped WHERE reference = "
                           "(SELECT instruction_id FROM instructions WHERE `row` = 0)", clamped=2**63 - 1)
    order = order_sent(container, 12_345_678)  # a store's order, taken for row 1's
    execute(container, "UPDATE payment_orders SET uetr = (SELECT uetr FROM instructions WHERE `row` = 1) "
                       "WHERE id = :o", o=order.id)
    violations = verify_all(container.sessions).violations
    # the float and closed-loop checks see the row's amount apart from its wallet entry too; these are the rows'
    for expected in (
            f"batch {batch_id} row 0: its amount is {2**63 - 1} USD minor units, its row as sent reads '10' 'USD'",
            f"batch {batch_id} row 1 (2050 USD) has payment order {order.tracking_key} for 94200 MXN"):
        assert expected in violations, violations
