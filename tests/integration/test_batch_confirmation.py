"""Payroll clients confirm dated batches (seed 003, "Changes in EBO"), over the HTTP API on MariaDB, RabbitMQ
and Redis: with dates.client-confirmation.enable a dated batch waits in awaiting_confirmation, its rows
showing both dates, and nothing is paid until the tenant's own key confirms it; a cancelled one pays
nothing. No other key decides for the client."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from tests.integration.bulk_support import Bulk, new_key, process, summary, tenant
from tests.integration.helpers import count

pytestmark = pytest.mark.integration
CONFIRMED = {"payment-modes": {"monedero": "closedloop"}, "partylookup.enable": False, "dates.enable": True,
             "dates.client-confirmation": {"enable": True}}
FILE = ("id,payment_mode,payee_identifier_type,payee_identifier,amount,currency,date\n"
        "0,monedero,accountid,ana,100,MXN,2026-12-12\n"      # a Saturday: sent Friday the 11th
        "1,monedero,accountid,luis,200,MXN,2026-12-01\n")    # today, before the cut-off


def submit(bulk: Bulk, headers: dict[str, str], request_id: str) -> str:
    _, client = bulk
    answer = client.simulate_post("/batchtransactions", params={"type": "csv"}, body=FILE.encode(), headers={
        **headers, "X-CorrelationID": request_id, "Content-Type": "text/csv", "X-Date-Type": "delivery"})
    assert answer.status_code == 202, answer.text
    return str(answer.json["batch_id"])


def paid(bulk: Bulk) -> int:
    """Wallet entries that paid a row (not fundings)."""
    return count(bulk[0], "wallet_entries", "reference NOT LIKE 'fund:%'")


def decide(bulk: Bulk, batch_id: str, what: str, headers: dict[str, str]) -> Any:
    return bulk[1].simulate_post(f"/api/v1/batchtransactions/{batch_id}/{what}", headers=headers)


def test_a_dated_batch_waits_for_its_clients_confirmation_and_only_its_own_key_gives_it(bulk: Bulk,
                                                                                      clock: Any) -> None:
    container, client = bulk
    clock.now = datetime(2026, 12, 1, 18, 0, tzinfo=timezone.utc)  # noon in Mexico City, a Tuesday
    headers = tenant(container, "nomina", CONFIRMED, "5000", currency="MXN")
    other = tenant(container, "otra", CONFIRMED, "5000", currency="MXN")
    batch_id = submit(bulk, headers, "nomina-dic")
    process(container)
    s = summary(client, headers, batch_id)
    assert (s["status"], s["successful"], s["failed"], s["ongoing"]) == ("awaiting_confirmation", 0, 0, 2), s
    detail = {d["row"]: d for d in client.simulate_get(f"/api/v1/batchtransactions/{batch_id}/detail",
                                                       headers=headers).json}
    assert (detail[0]["executionDate"], detail[0]["deliveryDate"]) == ("2026-12-11", "2026-12-11")
    assert (detail[1]["executionDate"], detail[1]["deliveryDate"]) == ("2026-12-01", "2026-12-01")
    assert paid(bulk) == 0 and count(container, "sub_batches") == 0  # nothing executes before

    refused = {
        "another tenant's key": (decide(bulk, batch_id, "confirm", other), 404),
        "another tenant's key, naming this tenant": (decide(bulk, batch_id, "confirm", {
            **other, "Platform-TenantId": "nomina"}), 403),
        **{f"a {role} key": (decide(bulk, batch_id, "confirm", {
            "Authorization": f"Bearer {new_key(container, role)[1]}", "Platform-TenantId": "nomina"}), 403)
           for role in ("admin", "treasury", "operator")},
        "another tenant's cancellation": (decide(bulk, batch_id, "cancel", other), 404),
    }
    assert {who: answer.status_code for who, (answer, _) in refused.items()} == {
        who: status for who, (_, status) in refused.items()}, {w: a.text for w, (a, _) in refused.items()}
    process(container)
    assert summary(client, headers, batch_id)["status"] == "awaiting_confirmation" and paid(bulk) == 0

    confirmed = decide(bulk, batch_id, "confirm", headers)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json["status"] == "processing"
    process(container)
    s = summary(client, headers, batch_id)
    assert (s["status"], s["successful"], s["ongoing"]) == ("processing", 1, 1), s  # row 0 is held to the 11th
    assert paid(bulk) == 1
    assert decide(bulk, batch_id, "confirm", headers).status_code == 409  # once
    assert count(container, "audit_log", "action = 'confirm_batch'") == 1


def test_a_cancelled_batch_pays_nothing(bulk: Bulk, clock: Any) -> None:
    container, client = bulk
    clock.now = datetime(2026, 12, 1, 18, 0, tzinfo=timezone.utc)
    headers = tenant(container, "nomina", CONFIRMED, "5000", currency="MXN")
    batch_id = submit(bulk, headers, "nomina-cancelada")
    process(container)
    cancelled = decide(bulk, batch_id, "cancel", headers)
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json["status"], cancelled.json["failed"]) == ("failed", 2)
    process(container)
    detail = client.simulate_get(f"/api/v1/batchtransactions/{batch_id}/detail", headers=headers).json
    assert {d["errorCode"] for d in detail} == {"CANCELLED"}
    assert paid(bulk) == 0
    assert decide(bulk, batch_id, "confirm", headers).status_code == 409


def test_without_the_setting_a_dated_batch_goes_on_at_once(bulk: Bulk, clock: Any) -> None:
    container, client = bulk
    clock.now = datetime(2026, 12, 1, 18, 0, tzinfo=timezone.utc)
    headers = tenant(container, "nomina", {**CONFIRMED, "dates.client-confirmation": {"enable": False}}, "5000",
                     currency="MXN")
    batch_id = submit(bulk, headers, "nomina-directa")
    process(container)
    assert summary(client, headers, batch_id)["status"] == "processing" and paid(bulk) == 1
    assert decide(bulk, batch_id, "confirm", headers).status_code == 409
