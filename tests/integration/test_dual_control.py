"""No one person moves a store's money alone (issue 15, 1): the audit's attack replayed over the API on
MariaDB — change the CLABE, validate it, adjust by 1,000,000,000 centavos, ask for a transfer now — and each
rule on its own: people, not keys; another person validates changed details and approves the first payout
to them; large adjustments (alone or added up over the store's day) and large transfers wait for a second
person; every refusal names the rule and who may act, and every hold raises an ALERT."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from adapters.db.tables import audit_log, event_log
from domain.ledger import BalanceUpdate, BalanceUpdateType, TransferStatus
from domain.payment_orders import PaymentOrder
from domain.schedules import instant_key
from tests.integration.payouts_support import ATTACKER, delivered, evaluate, key, new_store, transfers
from usecases import ledger

pytestmark = pytest.mark.integration

ANA, LUIS = "ana@tests.example", "luis@tests.example"
LIMIT = 10_000_000  # DISPERSA_ADJUSTMENT_APPROVAL_ABOVE's default: 100,000.00 MXN


def orders(container) -> list[PaymentOrder]:
    with container.uow() as uow:
        return list(uow.session.scalars(select(PaymentOrder).order_by(PaymentOrder.id)))


def alerts(container, kind: str) -> list[str]:
    with container.uow() as uow:
        return list(uow.session.scalars(select(event_log.c.message).where(
            event_log.c.level == "ALERT", event_log.c.kind == kind)))


def adjustments(container, store_id: int) -> list[int]:
    with container.uow() as uow:
        return list(uow.session.scalars(select(BalanceUpdate.amount).where(
            BalanceUpdate.store_id == store_id, BalanceUpdate.type == BalanceUpdateType.ADJUSTMENT)))


def test_one_person_with_one_key_cannot_redirect_a_stores_money(stack):
    """The audit's 8 seconds: every step after the change is refused or held until a second person acts."""
    container, client = stack
    store_id = new_store(container)
    ana = key(container, "treasury", ANA)
    assert client.simulate_patch(f"/stores/{store_id}", json={"clabe": ATTACKER}, headers=ana).status_code == 200

    refused = client.simulate_post(f"/stores/{store_id}/validate", headers=ana)
    assert refused.status_code == 403
    assert refused.json["description"] == (
        f"dual control: store {store_id}'s bank details were changed by {ANA}; a treasury or admin person other "
        f"than {ANA} must do this")
    held = client.simulate_post(f"/stores/{store_id}/adjustments", json={"amount": 1_000_000_000}, headers=ana)
    assert held.status_code == 202, held.text
    assert (held.json["status"], held.json["requested_by"], held.json["balance_update_id"]) == (
        "waiting_approval", ANA, None)
    assert adjustments(container, store_id) == []
    assert client.simulate_post(f"/stores/{store_id}/transfers", headers=ana).status_code == 202
    assert transfers(container, store_id) == [] and orders(container) == []

    # a second person validates; the first payout to the new account still waits for someone other than ana
    luis = key(container, "treasury", LUIS)
    assert client.simulate_post(f"/stores/{store_id}/validate", headers=luis).status_code == 200
    evaluate(container, store_id, instant_key(delivered(container, store_id, "after-change")))
    [transfer] = transfers(container, store_id)
    assert transfer.status == TransferStatus.WAITING_CONFIRMATION
    assert transfer.approval_reason == "first payout to changed bank details"
    assert orders(container) == []
    assert any(f"transfer {transfer.id}" in a for a in alerts(container, "transfer_held_for_approval"))
    by_changer = client.simulate_post(f"/transfers/{transfer.id}/approve", headers=ana)
    assert by_changer.status_code == 403 and f"other than {ANA}" in by_changer.json["description"]
    assert client.simulate_post(f"/transfers/{transfer.id}/approve", headers=luis).status_code == 200
    [order] = orders(container)
    assert order.beneficiary_account == ATTACKER
    # approved once, the account is no longer new: the next payout goes out without waiting
    evaluate(container, store_id, instant_key(delivered(container, store_id, "second-payout")))
    assert transfers(container, store_id)[-1].status == TransferStatus.SENDING


def test_an_admin_with_a_second_key_is_still_one_person(stack):
    container, client = stack
    store_id = new_store(container)
    admin = key(container, "admin", ANA)
    minted = client.simulate_post("/api/v1/api-keys", json={"role": "treasury", "owner": "Ana@Tests.Example"},
                                  headers=admin)
    assert minted.status_code == 201 and minted.json["owner"] == ANA
    second_key = {"Authorization": f"Bearer {minted.json['key']}"}
    client.simulate_patch(f"/stores/{store_id}", json={"beneficiary_name": "Otra Persona"}, headers=admin)
    refused = client.simulate_post(f"/stores/{store_id}/validate", headers=second_key)
    assert refused.status_code == 403 and "dual control" in refused.json["description"]
    with container.uow() as uow:
        assert not uow.stores.get(store_id).validated
    missing = client.simulate_post("/api/v1/api-keys", json={"role": "treasury"}, headers=admin)
    assert missing.status_code == 422 and "owner" in missing.json["description"]
    bad = client.simulate_post("/api/v1/api-keys", json={"role": "treasury", "owner": "nobody"}, headers=admin)
    assert bad.status_code == 422


def test_an_adjustment_above_the_limit_waits_for_a_second_person(stack):
    container, client = stack
    store_id = new_store(container)
    ana, luis = key(container, "treasury", ANA), key(container, "treasury", LUIS)
    at_limit = client.simulate_post(f"/stores/{store_id}/adjustments", json={"amount": -LIMIT}, headers=ana)
    assert at_limit.status_code == 201, at_limit.text
    other_store = new_store(container)
    past = client.simulate_post(f"/stores/{other_store}/adjustments", json={"amount": LIMIT + 1, "note": "bono"},
                                headers={**ana, "Idempotency-Key": "adj-1"})
    assert past.status_code == 202 and "DISPERSA_ADJUSTMENT_APPROVAL_ABOVE" in past.json["reason"]
    again = client.simulate_post(f"/stores/{other_store}/adjustments", json={"amount": LIMIT + 1, "note": "bono"},
                                 headers={**ana, "Idempotency-Key": "adj-1"})
    assert again.status_code == 202 and again.json["id"] == past.json["id"]
    request_id = past.json["id"]
    assert any(f"adjustment request {request_id}" in a for a in alerts(container, "adjustment_held"))

    by_requester = client.simulate_post(f"/api/v1/adjustment-requests/{request_id}/approve", headers=ana)
    assert by_requester.status_code == 403 and f"other than {ANA}" in by_requester.json["description"]
    approved = client.simulate_post(f"/api/v1/adjustment-requests/{request_id}/approve", headers=luis)
    assert approved.status_code == 200, approved.text
    assert (approved.json["status"], approved.json["decided_by"]) == ("approved", LUIS)
    assert adjustments(container, other_store) == [LIMIT + 1]
    twice = client.simulate_post(f"/api/v1/adjustment-requests/{request_id}/approve", headers=luis)
    assert twice.status_code == 409
    listed = client.simulate_get("/api/v1/adjustment-requests", params={"status": "approved"}, headers=luis)
    assert [r["id"] for r in listed.json["items"]] == [request_id]
    with container.uow() as uow:
        who = uow.session.execute(select(audit_log.c.action, audit_log.c.person_id).where(
            audit_log.c.action == "approve_adjustment")).one()
        assert who.person_id == uow.people.by_email(LUIS).id


def test_a_days_adjustments_of_a_store_add_up_to_the_limit(stack):
    container, client = stack
    store_id = new_store(container)
    ana, luis = key(container, "treasury", ANA), key(container, "treasury", LUIS)
    half = LIMIT // 2
    for amount in (half, -half):  # counted either way: +X then -X is 2X of one person's adjustments
        assert client.simulate_post(f"/stores/{store_id}/adjustments", json={"amount": amount},
                                    headers=ana).status_code == 201
    third = client.simulate_post(f"/stores/{store_id}/adjustments", json={"amount": 1}, headers=luis)
    assert third.status_code == 202 and "add up" in third.json["reason"]
    rejected = client.simulate_post(f"/api/v1/adjustment-requests/{third.json['id']}/reject",
                                    json={"reason": "no"}, headers=luis)
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"
    assert adjustments(container, store_id) == [half, -half]
    container.clock.now += timedelta(hours=24)  # a new day in the store's zone
    assert client.simulate_post(f"/stores/{store_id}/adjustments", json={"amount": 1},
                                headers=ana).status_code == 201


def test_a_transfer_above_the_limit_waits_for_approval_even_with_the_switch_off(stack):
    container, client = stack
    limit = container.payout_config.transfer_approval_above
    store_id = new_store(container, requires_confirmation=False)
    with container.uow() as uow:
        ledger.adjust(uow, store_id, limit, None, "at the limit")
        uow.commit()
    evaluate(container, store_id, "manual:at-limit")
    assert transfers(container, store_id)[-1].status == TransferStatus.SENDING
    with container.uow() as uow:
        ledger.adjust(uow, store_id, limit + 1, None, "one past it")
        uow.commit()
    evaluate(container, store_id, "manual:past-limit")
    waiting = transfers(container, store_id)[-1]
    assert waiting.status == TransferStatus.WAITING_CONFIRMATION and waiting.amount == limit + 1
    assert "DISPERSA_TRANSFER_APPROVAL_ABOVE" in waiting.approval_reason
    assert any(f"transfer {waiting.id}" in a for a in alerts(container, "transfer_held_for_approval"))
    shown = client.simulate_get(f"/transfers/{waiting.id}", headers=key(container, "treasury", LUIS))
    assert "DISPERSA_TRANSFER_APPROVAL_ABOVE" in shown.json["approval_reason"]
