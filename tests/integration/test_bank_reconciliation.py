"""Reconciliation against the sandbox's books over HTTP, when they differ from ours in every way a bank's
can: each kind of difference is recorded, shown by GET /reconciliations/{date}, gauged and raised as an
ALERT. A day that has not begun is a 422."""
from __future__ import annotations

from decimal import Decimal

import pytest
from falcon import testing

from actors.bank import reconcile_day
from bootstrap import Container, web_app
from tests.integration.helpers import count, outbox_message
from tests.integration.orders import order_in_sending, reload
from tests.integration.test_metrics import scrape
from usecases import sending
from usecases.access import create_api_key

pytestmark = pytest.mark.integration

FOREIGN_KEY = "FOREIGN0000000000000000001"


def sent_orders(container: Container, n: int) -> list[tuple[str, int]]:
    """``n`` orders sent to the sandbox: (tracking key, STP's id) of each."""
    sent = []
    for _ in range(n):
        order = order_in_sending(container)
        assert sending.send_order(container.uow, container.stp_client, order.id, container.payout_config) == "sent"
        order = reload(container, order.id)[0]
        sent.append((order.tracking_key, int(order.bank_order_id)))
    return sent


@pytest.mark.sandbox(speed=0.01)  # outcomes come long after the test: the bank holds every order in flight
def test_every_difference_with_the_banks_books_is_shown_gauged_and_raised(bank) -> None:
    container, sandbox = bank
    (matched, _), (missing, missing_id), (amount, amount_id), (returned, returned_id), (odd, odd_id), \
        (other_id, other_id_id) = sent_orders(container, 6)
    sandbox.books.forget(missing_id)
    sandbox.books.amend(amount_id, monto=Decimal("941.99"))  # a number, as STP writes it
    sandbox.books.settle(returned_id, "D", 0, "Cuenta bloqueada")  # returned, and its callback was lost
    sandbox.books.amend(odd_id, estado="XX")
    sandbox.books.amend(other_id_id, idEF=99_999_999)
    day = container.clock().strftime("%Y%m%d")
    sandbox.books.register({"empresa": "DISPERSA", "claveRastreo": FOREIGN_KEY, "monto": "10.00"}, day, 0)

    client = testing.TestClient(web_app(container))
    with container.uow() as uow:
        auth = {"Authorization": f"Bearer {create_api_key(uow, 'treasury', owner='treasury@tests.example')}"}
        uow.commit()
    date = f"{day[:4]}-{day[4:6]}-{day[6:]}"
    assert client.simulate_post(f"/reconciliations/{date}", headers=auth).status_code == 202
    _, args = outbox_message(container, "reconcile_day")
    reconcile_day(container.uow, lambda: container.stp_client, lambda: container.payout_config)(*args)

    run = client.simulate_get(f"/reconciliations/{date}", headers=auth).json
    found = {m["kind"]: m for m in run["mismatch_list"]}
    assert sorted((m["tracking_key"], m["kind"]) for m in run["mismatch_list"]) == sorted([
        (missing, "missing_at_bank"), (amount, "amount"), (returned, "status"), (odd, "unknown_estado"),
        (other_id, "bank_order_id"), (FOREIGN_KEY, "unknown_to_us")])
    assert (run["bank_orders"], run["ledger_orders"], run["matched"], run["mismatches"]) == (6, 6, 1, 6)
    assert found["amount"]["bank"]["monto"] == "941.99" and found["amount"]["ours"]["amount"] == 942_00
    assert found["status"]["bank"]["estado"] == "D" and found["status"]["ours"]["status"] == "sent"
    assert found["unknown_to_us"]["ours"] is None and found["unknown_to_us"]["bank"]["monto"] == "10.0"
    assert found["missing_at_bank"]["bank"] is None
    assert matched not in {m["tracking_key"] for m in run["mismatch_list"]}

    assert scrape(container)["dispersa_reconciliation_last_mismatches"] == 6
    alerts = client.simulate_get("/api/v1/events", params={"level": "ALERT"}, headers=auth).json["items"]
    assert [(a["kind"], a["details"]["run_id"]) for a in alerts] == [("reconciliation_mismatch", run["id"])]
    assert "6 mismatches" in alerts[0]["message"] and "1 unknown_to_us" in alerts[0]["message"]


@pytest.mark.sandbox(speed=0.01)
def test_a_reconciliation_that_finds_nothing_raises_no_alert(bank) -> None:
    container, _ = bank
    sent_orders(container, 2)
    reconcile_day(container.uow, lambda: container.stp_client, lambda: container.payout_config)(
        container.clock().strftime("%Y%m%d"))
    assert scrape(container)["dispersa_reconciliation_last_mismatches"] == 0
    assert count(container, "event_log", "level = 'ALERT'") == 0
