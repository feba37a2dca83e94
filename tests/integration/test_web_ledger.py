"""The ledger over HTTP: credits to balance through the relay and a dramatiq worker on RabbitMQ, adjustments,
transfers approved and rejected by treasury, and the transfer report as JSON and CSV."""
from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any, Iterator

import pytest

from tests.integration.helpers import Traffic, count, running_worker, settle
from tests.integration.test_web_access import Api, Shop, expect, is_error
from web.rendering import REPORT_COLUMNS
from bootstrap import Container

pytestmark = pytest.mark.integration


@pytest.fixture
def api(container: Container) -> Api:
    return Api(container)


@pytest.fixture
def traffic(container: Container) -> Iterator[Traffic]:
    with running_worker(container) as t:
        yield t


def balance(api: Api, store_id: int) -> dict[str, Any]:
    return expect(api.operator.get(f"/stores/{store_id}/balance"), 200)


def adjust(api: Api, store_id: int, amount: int, note: str | None = None, key: str | None = None) -> dict[str, Any]:
    headers = {"Idempotency-Key": key} if key else None
    return expect(api.treasury.post(f"/stores/{store_id}/adjustments", json={"amount": amount, "note": note},
                                    headers=headers), 201)


def request_transfer(api: Api, traffic: Traffic, store_id: int) -> dict[str, Any]:
    """Treasury asks for a transfer; the worker builds it; returns the newest transfer of the store."""
    # A manual transfer's key is its request time: a minute passes between requests, as it would.
    api.container.clock.now += timedelta(minutes=1)  # type: ignore[attr-defined]
    requested = expect(api.treasury.post(f"/stores/{store_id}/transfers"), 202)
    assert requested["trigger_key"].startswith("manual:")
    settle(api.container, traffic)
    listed = expect(api.operator.get("/transfers", params={"store": store_id}), 200)
    assert listed["items"], "the worker made no transfer"
    return listed["items"][0]


def test_credit_to_balance_end_to_end(api: Api, traffic: Traffic) -> None:
    shop = api.shop()
    credit = expect(api.operator.post("/credits", json={
        "store_id": shop.store_id, "external_id": "flow-1", "amount": 100_000, "number_of_payments": 3}), 201)
    assert (credit["commission"], credit["tax"], credit["contribution"]) == (5_000, 800, 94_200)
    expect(api.operator.post(f"/credits/{credit['id']}/delivery"), 200)
    assert balance(api, shop.store_id)["balance"] == 0, "nothing moves before the worker runs"

    settle(api.container, traffic)

    assert balance(api, shop.store_id) == {"store_id": shop.store_id, "currency": "MXN", "balance": 94_200,
                                           "pending": 94_200, "in_transit": 0}
    [bu] = expect(api.operator.get(f"/stores/{shop.store_id}/balance-updates"), 200)["items"]
    assert (bu["type"], bu["status"], bu["amount"], bu["credit_id"], bu["sequence"], bu["new_balance"]) == (
        "contribution", "pending", 94_200, credit["id"], 1, 94_200)

    expect(api.operator.post(f"/credits/{credit['id']}/cancellation", json={"reason": "returned"}), 200)
    settle(api.container, traffic)

    assert balance(api, shop.store_id)["balance"] == 0
    newest, oldest = expect(api.operator.get(f"/stores/{shop.store_id}/balance-updates"), 200)["items"]
    assert (newest["type"], newest["amount"], newest["sequence"]) == ("credit_cancellation", -94_200, 2)
    assert (oldest["overwritten"], oldest["overwritten_by_id"]) == (True, newest["id"])


def test_balance_updates_are_paged_newest_first(api: Api) -> None:
    shop = api.shop()
    for amount in (100, 200, 300, 400, 500):
        adjust(api, shop.store_id, amount)
    page = expect(api.operator.get(f"/stores/{shop.store_id}/balance-updates",
                                   params={"page": 2, "per_page": 2}), 200)
    assert [bu["sequence"] for bu in page["items"]] == [3, 2]
    assert (page["page"], page["per_page"], page["total"]) == (2, 2, 5)
    last = expect(api.operator.get(f"/stores/{shop.store_id}/balance-updates",
                                   params={"page": 3, "per_page": 2}), 200)
    assert [bu["amount"] for bu in last["items"]] == [100]
    for bad in ({"per_page": 0}, {"per_page": 201}, {"page": "two"}, {"page": 0}):
        is_error(api.operator.get(f"/stores/{shop.store_id}/balance-updates", params=bad), 422)


def test_adjustment_with_an_idempotency_key_is_made_once(api: Api) -> None:
    shop = api.shop()
    first = adjust(api, shop.store_id, 25_000, "bonus", key="adj-1")
    again = adjust(api, shop.store_id, 25_000, "bonus", key="adj-1")
    assert again["id"] == first["id"]
    assert (first["type"], first["amount"], first["note"], first["admin_creator_id"] is not None) == (
        "adjustment", 25_000, "bonus", True)
    assert count(api.container, "balance_updates") == 1
    assert balance(api, shop.store_id)["balance"] == 25_000

    is_error(api.treasury.post(f"/stores/{shop.store_id}/adjustments", json={"amount": 1},
                               headers={"Idempotency-Key": "adj-1"}), 409, "Idempotency-Key")
    other = adjust(api, shop.store_id, 1, "another request", key="ADJ-1")  # keys compare case-sensitively
    assert other["id"] != first["id"]
    adjust(api, shop.store_id, -1, "its undoing")
    is_error(api.treasury.post(f"/stores/{shop.store_id}/adjustments", json={"amount": 0}), 422, "zero")
    is_error(api.treasury.post(f"/stores/{shop.store_id}/adjustments", json={"amount": 1},
                               headers={"Idempotency-Key": "k" * 81}), 422, "Idempotency-Key")
    adjust(api, shop.store_id, -5_000, "fee")
    assert count(api.container, "balance_updates") == 4
    assert balance(api, shop.store_id) == {"store_id": shop.store_id, "currency": "MXN", "balance": 20_000,
                                           "pending": 20_000, "in_transit": 0}


def test_treasury_approves_and_rejects_waiting_transfers(api: Api, traffic: Traffic) -> None:
    shop = api.shop(requires_confirmation=True)
    adjust(api, shop.store_id, 50_000)
    first = request_transfer(api, traffic, shop.store_id)
    assert (first["status"], first["amount"], first["currency"]) == ("waiting_confirmation", 50_000, "MXN")
    assert balance(api, shop.store_id)["in_transit"] == 50_000

    is_error(api.treasury.post(f"/transfers/{first['id']}/approve"), 403, "dual control", "was asked for by")
    approved = expect(api.as_role("treasury", owner="luis@tests.example").post(f"/transfers/{first['id']}/approve"),
                      200)
    assert approved["status"] == "sending"
    assert [h["status"] for h in approved["history"]] == ["waiting_confirmation", "sending"]
    is_error(api.treasury.post(f"/transfers/{first['id']}/approve"), 409, "not waiting")
    is_error(api.treasury.post(f"/transfers/{first['id']}/reject", json={"reason": "late"}), 409, "not waiting")

    adjust(api, shop.store_id, 30_000)
    second = request_transfer(api, traffic, shop.store_id)
    assert (second["status"], second["amount"]) == ("waiting_confirmation", 30_000)
    is_error(api.treasury.post(f"/transfers/{second['id']}/reject", json={}), 422, "reason")
    rejected = expect(api.treasury.post(f"/transfers/{second['id']}/reject", json={"reason": "wrong account"}), 200)
    assert (rejected["status"], rejected["status_reason"]) == ("cancelled", "rejected by treasury: wrong account")
    assert balance(api, shop.store_id) == {"store_id": shop.store_id, "currency": "MXN", "balance": 80_000,
                                           "pending": 30_000, "in_transit": 50_000}

    waiting = expect(api.treasury.get("/transfers", params={"status": "waiting_confirmation"}), 200)
    assert waiting["items"] == []
    sending = expect(api.treasury.get("/transfers", params={"status": "sending", "store": shop.store_id}), 200)
    assert [t["id"] for t in sending["items"]] == [first["id"]]
    is_error(api.treasury.get("/transfers", params={"status": "lost"}), 422, "waiting_confirmation")
    is_error(api.treasury.post("/transfers/9999/approve"), 404, "transfer 9999")


def make_report_transfer(api: Api, traffic: Traffic) -> tuple[Shop, dict[str, Any], list[dict[str, Any]]]:
    shop = api.shop(requires_confirmation=True)
    credits = []
    for external_id, amount in (("ord-1", 100_000), ("=ord-2", 123_457)):
        credits.append(api.delivered_credit(shop, external_id, amount))
        settle(api.container, traffic)  # one at a time, so that the ledger order is known
    adjust(api, shop.store_id, -1_500, "shipping refund")
    return shop, request_transfer(api, traffic, shop.store_id), credits


def test_transfer_report_as_json(api: Api, traffic: Traffic) -> None:
    shop, transfer, credits = make_report_transfer(api, traffic)
    report = expect(api.operator.get(f"/transfers/{transfer['id']}/report"), 200)

    assert (report["currency"], report["transfer"]["id"], report["store"]["id"]) == ("MXN", transfer["id"],
                                                                                     shop.store_id)
    rows = report["rows"]
    assert [(r["type"], r["credit_external_id"], r["amount"], r["commission"], r["tax"], r["net"]) for r in rows] == [
        ("contribution", "ord-1", 100_000, 5_000, 800, 94_200),
        ("contribution", "=ord-2", 123_457, 6_173, 988, 116_296),
        ("adjustment", None, -1_500, 0, 0, -1_500),
    ]
    assert [r["credit_id"] for r in rows[:2]] == [c["id"] for c in credits]
    assert report["totals"] == {"amount": 221_957, "commission": 11_173, "tax": 1_788, "net": 208_996}
    assert report["totals"]["net"] == transfer["amount"]
    assert (report["transfer"]["tracking_key"], report["transfer"]["bank_order_id"],
            report["transfer"]["liquidated_at"]) == (None, None, None)


@pytest.mark.parametrize("how", ["accept", "query"])
def test_transfer_report_as_csv(api: Api, traffic: Traffic, how: str) -> None:
    _, transfer, _ = make_report_transfer(api, traffic)
    path = f"/transfers/{transfer['id']}/report"
    result = (api.operator.get(path, headers={"Accept": "text/csv"}) if how == "accept"
              else api.operator.get(path, params={"format": "csv"}))
    assert result.status_code == 200, result.text
    assert result.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(result.text)))

    assert tuple(lines[0]) == REPORT_COLUMNS
    assert [(r["type"], r["credit_external_id"], r["amount"], r["commission"], r["tax"], r["net"]) for r in lines] == [
        ("contribution", "ord-1", "1000.00", "50.00", "8.00", "942.00"),
        ("contribution", "'=ord-2", "1234.57", "61.73", "9.88", "1162.96"),  # kept from being a formula
        ("adjustment", "", "-15.00", "0.00", "0.00", "-15.00"),
        ("total", "", "2219.57", "111.73", "17.88", "2089.96"),
    ]
    assert {(r["transfer_id"], r["currency"], r["tracking_key"]) for r in lines} == {(str(transfer["id"]), "MXN", "")}
    assert lines[2]["note"] == "shipping refund"


def test_report_of_an_unknown_transfer_is_a_json_404_even_for_csv(api: Api) -> None:
    is_error(api.operator.get("/transfers/4040/report", headers={"Accept": "text/csv"}), 404, "transfer 4040")
    is_error(api.operator.get("/transfers/4040/report", params={"format": "xml"}), 422, "csv")
