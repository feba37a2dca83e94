"""Money goes only where treasury validated it: bank details and the approval switch are money decisions,
an unvalidated store is never paid, and every payment order carries the validated CLABE and name.
On MariaDB, with the STP sandbox over HTTP for the orders that reach the bank."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

from adapters.db.tables import audit_log, event_log, stores, trigger_evaluations
from adapters.sealing import Bound
from domain import masking
from domain.ledger import BalanceUpdate, BalanceUpdateStatus, TransferStatus
from domain.payment_orders import PaymentOrder, PaymentOrderStatus
from domain.schedules import instant_key
from tests.integration.orders import order_in_sending, reload
from tests.integration.payouts_support import (ATTACKER, ORIGINAL, SECOND, delivered, evaluate, key, new_store,
                                               store, transfers)
from usecases import access, ledger, sending
from bootstrap import web_app
from falcon import testing

pytestmark = pytest.mark.integration


def test_an_operator_key_cannot_redirect_a_stores_payouts(stack):
    """The audit's attack: an operator changes the CLABE and name and switches approval off."""
    container, client = stack
    store_id = new_store(container)
    operator = key(container, "operator")
    for change in ({"clabe": ATTACKER, "beneficiary_name": "Otro"}, {"requires_confirmation": True},
                   {"rfc_curp": "XAXX010101000"}):
        resp = client.simulate_patch(f"/stores/{store_id}", json=change, headers=operator)
        assert resp.status_code == 403, resp.text
        assert "money decisions" in resp.json["description"]
    after = store(container, store_id)
    assert (after.clabe, after.beneficiary_name, after.validated) == (ORIGINAL, "Tienda Original", True)
    # An operator may still edit what is not a money decision; the store then waits for treasury.
    resp = client.simulate_patch(f"/stores/{store_id}", json={"name": "Centro Renovado"}, headers=operator)
    assert resp.status_code == 200 and resp.json["validated"] is False


def test_treasury_changes_bank_details_audited_with_old_and_new_values_masked(stack):
    container, client = stack
    store_id = new_store(container)
    resp = client.simulate_patch(f"/stores/{store_id}", json={"clabe": ATTACKER, "requires_confirmation": True},
                                 headers=key(container, "treasury"))
    assert resp.status_code == 200, resp.text
    assert resp.json["validated"] is False and resp.json["validated_clabe"] == masking.account(ORIGINAL)
    with container.uow() as uow:
        details = uow.session.execute(select(audit_log.c.details).where(
            audit_log.c.action == "update_store")).scalar_one()
    assert details == {"changes": {
        "clabe": {"old": masking.account(ORIGINAL), "new": masking.account(ATTACKER)},
        "requires_confirmation": {"old": False, "new": True}}}
    assert ORIGINAL not in str(details) and ATTACKER not in str(details)
    resp = client.simulate_post(f"/stores/{store_id}/validate", headers=key(container, "treasury", SECOND))
    assert resp.status_code == 200 and resp.json["validated_clabe"] == masking.account(ATTACKER)
    with container.uow() as uow:
        assert uow.stores.get(store_id).validated_clabe == ATTACKER


def test_an_unvalidated_stores_trigger_is_held_and_nothing_is_paid(stack):
    container, client = stack
    store_id = new_store(container)
    bu = delivered(container, store_id, "held-1")  # delivered; its evaluation has not run yet
    client.simulate_patch(f"/stores/{store_id}", json={"beneficiary_name": "Nuevo Nombre"},
                          headers=key(container, "treasury"))
    assert evaluate(container, store_id, instant_key(bu)) == "held"
    with container.uow() as uow:
        reason = uow.session.execute(select(trigger_evaluations.c.reason)).scalar_one()
    assert reason == "held: store not validated"
    assert transfers(container, store_id) == []
    client.simulate_post(f"/stores/{store_id}/validate", headers=key(container, "treasury", SECOND))
    later = delivered(container, store_id, "held-2")
    assert evaluate(container, store_id, instant_key(later)) == "transfer"
    assert [t.amount for t in transfers(container, store_id)] == [2 * 94_200]  # the held money goes too


def test_a_waiting_transfer_of_an_unvalidated_store_cannot_be_approved(stack):
    container, client = stack
    store_id = new_store(container, requires_confirmation=True)
    evaluate(container, store_id, instant_key(delivered(container, store_id, "wait-1")))
    [transfer] = transfers(container, store_id)
    assert transfer.status == TransferStatus.WAITING_CONFIRMATION
    client.simulate_patch(f"/stores/{store_id}", json={"clabe": ATTACKER}, headers=key(container, "admin"))
    resp = client.simulate_post(f"/transfers/{transfer.id}/approve", headers=key(container, "treasury"))
    assert resp.status_code == 409 and "not validated" in resp.json["description"]
    assert transfers(container, store_id)[0].status == TransferStatus.WAITING_CONFIRMATION


def test_a_transfer_decided_before_the_edit_is_cancelled_with_the_reason_not_sent(stack):
    container, client = stack
    store_id = new_store(container)
    evaluate(container, store_id, instant_key(delivered(container, store_id, "sending-1")))
    [transfer] = transfers(container, store_id)
    assert transfer.status == TransferStatus.SENDING  # its payment order is built, not yet handed over
    client.simulate_patch(f"/stores/{store_id}", json={"clabe": ATTACKER}, headers=key(container, "admin"))
    with container.uow() as uow:
        order = uow.orders.of_transfer(transfer.id)
        assert order.beneficiary_account == ORIGINAL
        assert sending.begin_send(uow, order.id, container.payout_config) is None
        uow.commit()
    [transfer] = transfers(container, store_id)
    assert transfer.status == TransferStatus.CANCELLED
    assert transfer.status_reason.startswith("held: store not validated")
    with container.uow() as uow:
        assert [o.status for o in uow.session.scalars(select(PaymentOrder))] == [PaymentOrderStatus.CANCELLED]
        statuses = set(uow.session.scalars(select(BalanceUpdate.status).where(BalanceUpdate.store_id == store_id)))
    assert statuses == {BalanceUpdateStatus.PENDING}


def test_an_order_built_before_the_edit_never_reaches_the_bank(bank):
    container, sandbox = bank
    order = order_in_sending(container)
    client = testing.TestClient(web_app(container))
    with container.uow() as uow:
        token = access.create_api_key(uow, "admin", owner="admin@tests.example")
        uow.commit()
    store_id = reload(container, order.id)[1].store_id
    resp = client.simulate_patch(f"/stores/{store_id}", json={"clabe": ATTACKER},
                                 headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200
    sending.send_order(container.uow, container.stp_client, order.id, container.payout_config)
    order, transfer = reload(container, order.id)
    assert order.status == PaymentOrderStatus.CANCELLED and transfer.status == TransferStatus.CANCELLED
    assert sandbox.books.orders() == []


def test_orders_carry_the_validated_details_and_stps_limits(bank):
    """A 200-character store name with no beneficiary name: the order carries it folded to STP's 39
    characters, goes out, and never sits in Sending because a column is too short."""
    container, sandbox = bank
    long_name = "Ñandú Ávila " + "Comercializadora del Noroeste " * 7
    long_name = long_name[:200]
    order = order_in_sending(container, name=long_name, beneficiary_name="", clabe=ORIGINAL)
    assert sending.send_order(container.uow, container.stp_client, order.id, container.payout_config) == "sent"
    order, transfer = reload(container, order.id)
    assert transfer.status == TransferStatus.IN_TRANSIT
    [booked] = sandbox.books.orders()
    assert booked.fields["cuentaBeneficiario"] == ORIGINAL == order.beneficiary_account
    assert booked.fields["nombreBeneficiario"] == order.beneficiary_name == "Nandu Avila Comercializadora del Noroes"


def test_details_no_order_can_carry_hold_the_store_instead_of_failing_every_period(stack):
    """A store validated before names were checked at validation: its name has nothing STP can carry."""
    container, _ = stack
    store_id = new_store(container)
    with container.uow() as uow:  # what an older validation let through
        uow.session.execute(update(stores).where(stores.c.id == store_id).values(
            name="商店", validated_beneficiary_name=Bound("", store_id)))
        uow.commit()
    first, second = (delivered(container, store_id, external_id) for external_id in ("cjk-1", "cjk-2"))
    assert evaluate(container, store_id, instant_key(first)) == "transfer"
    [transfer] = transfers(container, store_id)
    assert transfer.status == TransferStatus.CANCELLED
    assert transfer.status_reason.startswith("the payment order cannot be built: the beneficiary has no name")
    assert not store(container, store_id).validated
    with container.uow() as uow:
        assert uow.session.scalars(select(PaymentOrder)).all() == []
        alerted = set(uow.session.scalars(select(event_log.c.kind).where(event_log.c.level == "ALERT")))
    assert {"transfer_not_sent", "store_held"} <= alerted
    # the next contribution's evaluation is held, not another transfer opened and cancelled
    assert evaluate(container, store_id, instant_key(second)) == "held"
    assert len(transfers(container, store_id)) == 1


def test_treasury_cannot_validate_a_name_stp_cannot_carry(stack):
    container, client = stack
    store_id = new_store(container)
    treasury = key(container, "treasury")
    assert client.simulate_patch(f"/stores/{store_id}", json={"beneficiary_name": "商店"},
                                 headers=treasury).status_code == 200
    resp = client.simulate_post(f"/stores/{store_id}/validate", headers=key(container, "treasury", SECOND))
    assert resp.status_code == 409 and "nothing STP can carry" in resp.json["description"]
    assert not store(container, store_id).validated


def test_an_order_carries_the_validated_account_not_the_stores_current_one(stack):
    container, _ = stack
    store_id = new_store(container)
    with container.uow() as uow:  # the store's own column differs from what treasury validated
        uow.session.execute(update(stores).where(stores.c.id == store_id).values(
            clabe=Bound(ATTACKER, store_id), beneficiary_name=Bound("Otro", store_id)))
        uow.commit()
    evaluate(container, store_id, instant_key(delivered(container, store_id, "validated-1")))
    [transfer] = transfers(container, store_id)
    with container.uow() as uow:
        order = uow.orders.of_transfer(transfer.id)
    assert (order.beneficiary_account, order.beneficiary_name) == (ORIGINAL, "Tienda Original")


def test_an_order_built_before_treasury_validated_new_details_is_not_sent(stack):
    container, client = stack
    store_id = new_store(container)
    evaluate(container, store_id, instant_key(delivered(container, store_id, "revalidated-1")))
    [transfer] = transfers(container, store_id)
    treasury = key(container, "treasury")
    client.simulate_patch(f"/stores/{store_id}", json={"clabe": ATTACKER}, headers=treasury)
    second = key(container, "treasury", SECOND)
    assert client.simulate_post(f"/stores/{store_id}/validate", headers=second).status_code == 200
    with container.uow() as uow:
        order = uow.orders.of_transfer(transfer.id)
        assert sending.begin_send(uow, order.id, container.payout_config) is None
        uow.commit()
    [transfer] = transfers(container, store_id)
    assert transfer.status == TransferStatus.CANCELLED
    assert transfer.status_reason.startswith("held: the store's validated bank details changed")
    # its money goes to the details treasury validated now, in the store's next period, once a person other
    # than the one who changed them approves this first payout to them
    evaluate(container, store_id, instant_key(delivered(container, store_id, "revalidated-2")))
    first_payout = transfers(container, store_id)[-1]
    assert first_payout.status == TransferStatus.WAITING_CONFIRMATION
    assert client.simulate_post(f"/transfers/{first_payout.id}/approve", headers=second).status_code == 200
    with container.uow() as uow:
        accounts = [o.beneficiary_account for o in uow.session.scalars(select(PaymentOrder).order_by(PaymentOrder.id))]
    assert accounts == [ORIGINAL, ATTACKER]


def test_a_redriven_transfer_request_rechecks_the_store_as_it_is_now(stack):
    """Treasury asked for a transfer; the store was un-validated before the ledger worker decided it."""
    container, client = stack
    store_id = new_store(container, disbursement_mode="weekly")
    delivered(container, store_id, "request-1")
    with container.uow() as uow:
        request = ledger.request_transfer(uow, store_id)
        uow.commit()
    client.simulate_patch(f"/stores/{store_id}", json={"beneficiary_name": "Nuevo"}, headers=key(container, "admin"))
    for _ in range(2):  # the message, then its re-drive by the sweep
        with container.uow() as uow:
            assert ledger.create_transfer(uow, store_id, request, container.payout_config) is None
            uow.commit()
    assert transfers(container, store_id) == []
    with container.uow() as uow:
        row = uow.evaluations.of(store_id, request)
    assert (row.outcome.value, row.reason) == ("held", "held: store not validated")


def test_a_seal_copied_from_another_stores_row_is_refused_holds_the_store_and_pays_nothing(stack):
    """Defence in depth: someone with the database copies store 9's sealed account into store 2's row. The
    token is bound to store 9's row, so store 2 reads nothing there: its payout is held with an ALERT, and
    no order goes to store 9's account."""
    container, client = stack
    victim = new_store(container)
    other = new_store(container, clabe=ATTACKER, beneficiary_name="Tienda Ajena")
    with container.uow() as uow:
        copied = uow.session.execute(text("SELECT clabe, validated_clabe FROM stores WHERE id = :s"),
                                     {"s": other}).one()
        uow.session.execute(text("UPDATE stores SET clabe = :c, validated_clabe = :v WHERE id = :s"),
                            {"c": copied.clabe, "v": copied.validated_clabe, "s": victim})
        uow.commit()
    shown = client.simulate_get(f"/stores/{victim}", headers=key(container, "treasury"))
    assert shown.status_code == 200 and shown.json["validated_clabe"] == shown.json["clabe"] == ""
    evaluate(container, victim, instant_key(delivered(container, victim, "copied-1")))
    [transfer] = transfers(container, victim)
    assert transfer.status == TransferStatus.CANCELLED and "cannot be read here" in transfer.status_reason
    with container.uow() as uow:
        assert list(uow.session.scalars(select(PaymentOrder))) == []
        held = uow.stores.get(victim)
        assert not held.validated
        kinds = set(uow.session.scalars(select(event_log.c.kind).where(event_log.c.level == "ALERT",
                                                                       event_log.c.store_id == victim)))
    assert {"store_held", "transfer_not_sent"} <= kinds
    refused = client.simulate_post(f"/stores/{victim}/validate", headers=key(container, "treasury", SECOND))
    assert refused.status_code == 409 and "enter them again" in refused.json["description"]
    # treasury enters the account again: sealed for store 2's own row, it reads back and validates
    assert client.simulate_patch(f"/stores/{victim}", json={"clabe": ORIGINAL},
                                 headers=key(container, "treasury")).status_code == 200
    assert client.simulate_post(f"/stores/{victim}/validate", headers=key(container, "treasury", SECOND)
                                ).status_code == 200
    with container.uow() as uow:
        assert uow.stores.get(victim).validated_clabe == ORIGINAL
        assert uow.stores.get(other).validated_clabe == ATTACKER
