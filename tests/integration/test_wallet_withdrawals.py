"""Closed-loop money leaving (seed 002), over the HTTP API on MariaDB, RabbitMQ and Redis: a tenant reads its
payee's wallet and withdraws from it over SPEI. The wallet is debited in the transaction that makes the
payment order, a withdrawal is made at most once per reference, and the bank's cancellation or return
gives the amount back once."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from domain import clabe
from domain.stp import OrderOutcome
from tests.integration.bulk_support import Bulk, new_key, tenant
from tests.integration.helpers import count, execute, rows, scalar
from tests.integration.test_wallet_books import PAYEE, funded_tenant
from usecases import bank_outcomes
from usecases.verify import verify_all

pytestmark = pytest.mark.integration
ACCOUNT = clabe.make("012", "180", "00017000001")
URL = f"/api/v1/wallets/{PAYEE}"


def asked(reference: str, amount: str = "100.00", **more: str) -> dict[str, str]:
    return {"reference": reference, "amount": amount, "currency": "MXN", "clabe": ACCOUNT,
            "beneficiary_name": "Ana Pérez López", **more}


def withdraw(bulk: Bulk, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return bulk[1].simulate_post(f"{URL}/withdrawals", json=body, headers=headers)


def wallet_balance(bulk: Bulk, wallet_id: int) -> int:
    return int(scalar(bulk[0], "SELECT balance FROM wallets WHERE id = :w", w=wallet_id))


def bank_says(bulk: Bulk, uetr: str, *outcomes: OrderOutcome) -> None:
    """The bank has the order (sent), then says each outcome in turn, as its callbacks would."""
    execute(bulk[0], "UPDATE payment_orders SET status = 'sent' WHERE uetr = :u AND status = 'created'", u=uetr)
    order_id = scalar(bulk[0], "SELECT id FROM payment_orders WHERE uetr = :u", u=uetr)
    for outcome in outcomes:
        with bulk[0].uow() as uow:
            bank_outcomes.apply_outcome(uow, order_id, outcome, cause="cuenta inexistente")
            uow.commit()


def test_a_tenant_reads_its_payees_wallet_and_no_one_else_does(bulk: Bulk) -> None:
    container, client = bulk
    _, headers = funded_tenant(bulk, "ibank")
    shown = client.simulate_get(URL, headers=headers)
    assert shown.status_code == 200, shown.text
    assert shown.json["balances"] == [{"currency": "MXN", "balance": 30_000, "amount": "300.00"}]
    [entry] = shown.json["entries"]
    assert (entry["direction"], entry["amount_minor"], entry["counterparty"]) == ("in", 30_000, "float")
    assert shown.json["total"] == 1
    other = tenant(container, "otra", {})
    assert client.simulate_get(URL, headers=other).status_code == 404  # its own tenant has no such wallet
    operator = {"Authorization": f"Bearer {new_key(container, 'operator')[1]}", "Platform-TenantId": "ibank"}
    assert client.simulate_get(URL, headers=operator).status_code == 403
    assert client.simulate_get("/api/v1/wallets/nadie", headers=headers).status_code == 404


def test_a_withdrawal_pays_out_once_and_a_return_gives_the_money_back_once(bulk: Bulk) -> None:
    container, _ = bulk
    wallet, headers = funded_tenant(bulk, "ibank")
    first = withdraw(bulk, headers, asked("retiro-1"))
    assert first.status_code == 201, first.text
    assert (first.json["clabe"], first.json["beneficiary_name"]) == ("*" * 14 + ACCOUNT[-4:], "A*** P*** L***")
    assert (first.json["amount_minor"], first.json["balance"], first.json["status"]) == (10_000, 20_000, "created")
    again = withdraw(bulk, headers, asked("retiro-1"))
    assert again.status_code == 200 and again.json["uetr"] == first.json["uetr"]
    assert withdraw(bulk, headers, asked("retiro-1", "150.00")).status_code == 409
    [order] = rows(container, "SELECT uetr, source, amount, status FROM payment_orders")
    assert (order.uetr, order.source, order.amount) == (first.json["uetr"], "wallet_withdrawal", 10_000)
    assert wallet_balance(bulk, wallet) == 20_000
    assert count(container, "outbox", "actor_name = 'send_payment_order'") == 1
    assert count(container, "audit_log", "action = 'withdraw_from_wallet'") == 1
    followed = bulk[1].simulate_get(f"/api/v1/payments/{first.json['uetr']}", headers=headers)
    assert (followed.status_code, followed.json["source"]) == (200, "wallet_withdrawal"), followed.text
    other = tenant(container, "otra", {})
    assert bulk[1].simulate_get(f"/api/v1/payments/{first.json['uetr']}", headers=other).status_code == 404
    assert verify_all(container.sessions).violations == []

    bank_says(bulk, first.json["uetr"], OrderOutcome.LIQUIDATED, OrderOutcome.RETURNED, OrderOutcome.RETURNED)
    assert wallet_balance(bulk, wallet) == 30_000  # returned after it was paid: back once
    assert count(container, "wallet_entries", "reference = :r", r=f"withdrawal:{first.json['uetr']}:back") == 1
    assert verify_all(container.sessions).violations == []

    cancelled = withdraw(bulk, headers, asked("retiro-2", "250"))
    assert cancelled.status_code == 201 and wallet_balance(bulk, wallet) == 5_000
    bank_says(bulk, cancelled.json["uetr"], OrderOutcome.CANCELLED)
    assert wallet_balance(bulk, wallet) == 30_000
    kept = withdraw(bulk, headers, asked("retiro-3", "300"))
    bank_says(bulk, kept.json["uetr"], OrderOutcome.LIQUIDATED)
    assert wallet_balance(bulk, wallet) == 0
    assert verify_all(container.sessions).violations == []
    execute(container, "UPDATE wallet_entries SET reference = 'a-mano' WHERE reference = :r",
            r=f"withdrawal:{cancelled.json['uetr']}:back")  # its giving back, taken for another movement
    assert f"withdrawal retiro-2 ({cancelled.json['uetr']}, 25000, order cancelled): paid out by 25000 entry, " \
           "given back by no entry" in verify_all(container.sessions).violations


@pytest.mark.parametrize("body, status", [
    (asked("r", "300.01"), 409),                          # more than the wallet holds
    (asked("r", "0"), 422),
    (asked("r", "90071992547409.92"), 422),               # beyond 2^53-1 minor units
    (asked("r", "١٠٠"), 422),                             # ASCII digits only
    ({**asked("r"), "clabe": ACCOUNT[:-1] + str((int(ACCOUNT[-1]) + 1) % 10)}, 422),  # a wrong check digit
    ({**asked("r"), "currency": "USD"}, 422),             # SPEI pays MXN
    ({**asked("r"), "beneficiary_name": "   "}, 422),
    ({**asked("r"), "beneficiary_name": "李"}, 422),       # no name STP can carry
    ({**asked("r"), "reference": "con espacios"}, 422),
])
def test_a_bad_withdrawal_changes_nothing(bulk: Bulk, body: dict[str, Any], status: int) -> None:
    container, _ = bulk
    wallet, headers = funded_tenant(bulk, "ibank")
    answer = withdraw(bulk, headers, body)
    assert answer.status_code == status, answer.text
    assert wallet_balance(bulk, wallet) == 30_000 and count(container, "payment_orders") == 0
    assert count(container, "wallet_withdrawals") == 0


def test_the_tenants_own_accounts_and_other_tenants_wallets_are_not_withdrawn_from(bulk: Bulk) -> None:
    container, client = bulk
    _, headers = funded_tenant(bulk, "ibank")
    assert client.simulate_post("/api/v1/wallets/float/withdrawals", json=asked("f"), headers=headers
                                ).status_code == 422
    other = tenant(container, "otra", {})
    assert withdraw(bulk, other, asked("o")).status_code == 404
    treasury = {"Authorization": f"Bearer {new_key(container, 'treasury')[1]}", "Platform-TenantId": "ibank"}
    assert withdraw(bulk, treasury, asked("t")).status_code == 403
    assert count(container, "payment_orders") == 0


def test_one_withdrawal_per_reference_is_a_unique_key(bulk: Bulk) -> None:
    container, _ = bulk
    _, headers = funded_tenant(bulk, "ibank")
    assert withdraw(bulk, headers, asked("unico")).status_code == 201
    with pytest.raises(IntegrityError):
        execute(container, "INSERT INTO wallet_withdrawals (tenant_id, wallet_id, reference, request_sha256, amount, "
                           "currency, uetr, created_at, status) SELECT tenant_id, wallet_id, reference, request_sha256, "
                           "amount, currency, 'otro-uetr', created_at, status FROM wallet_withdrawals")


def test_a_withdrawal_stp_refuses_for_good_gives_the_money_back_with_an_alert(bulk: Bulk) -> None:
    from domain import stp
    from usecases import sending

    container, _ = bulk
    wallet, headers = funded_tenant(bulk, "ibank")
    made = withdraw(bulk, headers, asked("rechazado"))
    assert made.status_code == 201 and wallet_balance(bulk, wallet) == 20_000
    execute(container, "UPDATE payment_orders SET status = 'sending'")
    refused = stp.read_registration({"resultado": {"id": -7, "descripcionError": "La cuenta no existe"}})
    with container.uow() as uow:
        order_id = uow.orders.id_of(made.json["uetr"])
        assert sending.record_registration(uow, order_id, refused) == "cancelled"
        uow.commit()
    assert wallet_balance(bulk, wallet) == 30_000
    assert count(container, "event_log", "kind = 'payment_order_refused' AND level = 'ALERT'") == 1
    assert verify_all(container.sessions).violations == []


@pytest.fixture
def guarded(settings: Any, clock: Any, tmp_path: Any) -> Any:
    """The bulk API with DISPERSA_TRANSFER_APPROVAL_ABOVE at 50.00 MXN."""
    from falcon import testing

    from bootstrap import web_app
    from tests.integration.bulk_support import close, make_bulk

    container = make_bulk(settings, clock, tmp_path, transfer_approval_above=5_000)
    yield container, testing.TestClient(web_app(container))
    close(container)


def test_a_withdrawal_above_the_approval_bound_waits_for_a_second_person(guarded: Bulk) -> None:
    from usecases import sending

    container, client = guarded
    wallet, headers = funded_tenant(guarded, "ibank")
    small = withdraw(guarded, headers, asked("pequeno", "50"))
    assert (small.status_code, small.json["approval"]) == (201, "approved"), small.text
    large = withdraw(guarded, headers, asked("grande", "100"))
    assert (large.status_code, large.json["approval"]) == (201, "awaiting_approval"), large.text
    assert wallet_balance(guarded, wallet) == 30_000 - 5_000 - 10_000  # already out of the wallet
    sends = "actor_name = 'send_payment_order'"
    assert count(container, "outbox", sends) == 1  # the small one's only
    assert count(container, "event_log", "kind = 'wallet_withdrawal_awaiting_approval' AND level = 'ALERT'") == 1
    with container.uow() as uow:  # a sweep's message for the waiting order sends nothing
        assert sending.begin_send(uow, uow.orders.id_of(large.json["uetr"]), container.payout_config) is None
        uow.commit()
    assert scalar(container, "SELECT status FROM payment_orders WHERE uetr = :u", u=large.json["uetr"]) == "created"

    url = f"/api/v1/wallet-withdrawals/{large.json['uetr']}"
    assert client.simulate_post(f"{url}/approve", headers=headers).status_code == 403  # a tenant key
    treasury = {"Authorization": f"Bearer {new_key(container, 'treasury')[1]}"}
    approved = client.simulate_post(f"{url}/approve", headers=treasury)
    assert (approved.status_code, approved.json["approval"]) == (200, "approved"), approved.text
    assert count(container, "outbox", sends) == 2
    assert client.simulate_post(f"{url}/approve", headers=treasury).status_code == 409

    other = withdraw(guarded, headers, asked("otro-grande", "150"))
    assert other.json["approval"] == "awaiting_approval" and wallet_balance(guarded, wallet) == 0
    rejected = client.simulate_post(f"/api/v1/wallet-withdrawals/{other.json['uetr']}/reject",
                                    json={"reason": "no reconocido"}, headers=treasury)
    assert (rejected.status_code, rejected.json["approval"], rejected.json["status"]) == (
        200, "rejected", "cancelled"), rejected.text
    assert wallet_balance(guarded, wallet) == 15_000 and count(container, "outbox", sends) == 2

    admin = {"Authorization": f"Bearer {new_key(container, 'admin')[1]}", "Platform-TenantId": "ibank"}
    own = withdraw(guarded, admin, asked("del-admin", "100"))
    assert own.json["approval"] == "awaiting_approval"
    refused = client.simulate_post(f"/api/v1/wallet-withdrawals/{own.json['uetr']}/approve", headers=admin)
    assert refused.status_code == 403 and "dual control" in refused.json["description"]
    assert verify_all(container.sessions).violations == []
