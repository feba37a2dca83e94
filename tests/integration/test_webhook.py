"""STP's order-status webhook and the status actor: authentication, bad input, duplicates, unknown
estados and orders, out-of-order events and callbacks that beat the send result."""
from __future__ import annotations

from datetime import timedelta

import pytest
from falcon import testing
from sqlalchemy import func, select

from adapters.db.tables import bank_events, event_log, outbox
from domain import stp
from domain.ledger import BalanceUpdate, BalanceUpdateStatus, BalanceUpdateType, TransferStatus
from domain.payment_orders import PaymentOrderStatus
from tests.integration.orders import BankShows, begin_send, order_in_sending, order_sent, process_event, reload
from usecases import bank_events as events, sending
from tests.integration.conftest import WEBHOOK_PATH, WEBHOOK_SECRET
from bootstrap import build_container, web_app

SECRET, PATH = WEBHOOK_SECRET, WEBHOOK_PATH


def post(client, body=None, secret=SECRET, raw=None):
    headers = {"X-Webhook-Secret": secret} if secret is not None else {}
    if raw is not None:
        return client.simulate_post(PATH, body=raw, headers={**headers, "Content-Type": "application/json"})
    return client.simulate_post(PATH, json=body, headers=headers)


def callback(order, estado, **extra):
    return {"id": order.bank_order_id, "empresa": "DISPERSA", "folioOrigen": order.tracking_key, "estado": estado,
            "causaDevolucion": extra.get("causa"), "tsLiquidacion": extra.get("ts", 1_763_800_000_000)}


def count(container, table, *where) -> int:
    with container.uow() as uow:
        return uow.session.execute(select(func.count()).select_from(table).where(*where)).scalar()


def process_all(container, bank: BankShows | None = None) -> list[str]:
    """What the bank workers do with every stored event, in arrival order (asking ``bank`` to confirm a
    return or cancellation)."""
    with container.uow() as uow:
        ids = list(uow.session.scalars(select(bank_events.c.id).order_by(bank_events.c.id)))
    return [process_event(container, event_id, bank) for event_id in ids]


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x"])
def test_a_missing_or_wrong_secret_is_refused_logged_and_changes_nothing(stack, secret):
    container, client = stack
    order = order_sent(container, 12345678)
    response = post(client, callback(order, "LQ"), secret=secret)
    assert response.status_code == 401
    assert response.json["title"] == "Unauthorized"
    assert count(container, bank_events) == 0
    assert count(container, event_log, event_log.c.kind == "webhook_refused") == 1
    assert reload(container, order.id)[0].status == PaymentOrderStatus.SENT


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"", b'{"id": 1}'])
def test_malformed_bodies_get_400_and_change_nothing(stack, raw):
    container, client = stack
    outbox_before = count(container, outbox)
    response = post(client, raw=raw)
    assert response.status_code == 400
    assert count(container, bank_events) == 0
    assert count(container, outbox) == outbox_before


def test_a_liquidation_applies_the_transfer_and_a_duplicate_delivery_is_a_no_op(stack):
    container, client = stack
    order = order_sent(container, 12345678)
    for _ in range(3):
        response = post(client, callback(order, "LQ"))
        assert response.status_code == 200 and response.json == {"mensaje": "recibido"}
    assert count(container, bank_events) == 1
    assert count(container, outbox, outbox.c.actor_name == "process_bank_event") == 1
    assert process_all(container) == ["applied"]
    order, transfer = reload(container, order.id)
    assert order.status == PaymentOrderStatus.LIQUIDATED and transfer.status == TransferStatus.APPLIED
    assert count(container, BalanceUpdate.__table__, BalanceUpdate.__table__.c.type == BalanceUpdateType.DISBURSEMENT) == 1


def test_the_same_outcome_twice_with_other_fields_is_ignored(stack):
    container, client = stack
    order = order_sent(container, 12345678)
    post(client, callback(order, "LQ", ts=1))
    post(client, callback(order, "Liquidacion", ts=2))
    assert process_all(container) == ["applied", "ignored"]
    assert count(container, BalanceUpdate.__table__, BalanceUpdate.__table__.c.type == BalanceUpdateType.DISBURSEMENT) == 1


def test_an_unknown_estado_is_stored_flagged_and_applies_nothing(stack):
    container, client = stack
    order = order_sent(container, 12345678)
    assert post(client, callback(order, "XYZ")).status_code == 200
    assert process_all(container) == ["unknown_estado"]
    assert count(container, event_log, event_log.c.kind == "bank_event_unknown_estado",
                 event_log.c.level == "ALERT") == 1
    assert reload(container, order.id)[0].status == PaymentOrderStatus.SENT


def test_configured_estado_aliases_are_understood(settings, clock):
    container = build_container(settings.model_copy(update={"webhook_secret": SECRET, "broker": "stub",
                                                            "stp_estados": {"PAGADA": "liquidated"}}), clock=clock)
    client = testing.TestClient(web_app(container))
    order = order_sent(container, 12345678)
    post(client, callback(order, "PAGADA"))
    assert process_all(container) == ["applied"]


def test_an_event_for_an_unknown_order_waits_for_it_then_applies(stack, clock):
    container, client = stack
    order = order_in_sending(container)
    begin_send(container, order)
    early = {"id": 87654321, "empresa": "DISPERSA", "folioOrigen": "NOSUCHKEY", "estado": "LQ"}
    assert post(client, early).status_code == 200
    assert process_all(container) == ["unmatched"]
    # The order shows up under that folio (e.g. created by another process a moment later).
    with container.uow() as uow:
        uow.session.execute(bank_events.update().values(folio_origen=order.tracking_key))
        uow.commit()
    with container.uow() as uow:
        assert events.retry_unmatched(uow, clock(), timedelta(hours=1)) == (1, 0)
        uow.commit()
    assert process_all(container) == ["applied"]
    assert reload(container, order.id)[0].status == PaymentOrderStatus.LIQUIDATED


def test_an_event_that_never_matches_is_orphaned_after_the_deadline(stack, clock):
    container, client = stack
    post(client, {"id": 1111111, "empresa": "DISPERSA", "folioOrigen": "NADIE", "estado": "LQ"})
    process_all(container)
    clock.now += timedelta(hours=2)
    with container.uow() as uow:
        assert events.retry_unmatched(uow, clock(), timedelta(hours=1)) == (0, 1)
        uow.commit()
    assert count(container, bank_events, bank_events.c.status == "orphaned") == 1
    assert count(container, event_log, event_log.c.kind == "bank_event_orphaned", event_log.c.level == "ALERT") == 1


def test_a_return_before_its_liquidation_leaves_the_ledger_consistent(stack):
    container, client = stack
    order = order_sent(container, 12345678)
    post(client, callback(order, "D", causa="Cuenta inexistente"))
    post(client, callback(order, "LQ"))
    assert process_all(container, BankShows("D", causaDevolucion="Cuenta inexistente")) == ["applied", "ignored"]
    order, transfer = reload(container, order.id)
    assert order.status == PaymentOrderStatus.RETURNED and order.return_cause == "Cuenta inexistente"
    assert transfer.status == TransferStatus.REJECTED
    with container.uow() as uow:
        statuses = set(uow.session.scalars(select(BalanceUpdate.status).where(
            BalanceUpdate.store_id == transfer.store_id)))
    assert statuses == {BalanceUpdateStatus.PENDING}


def test_a_return_months_after_liquidation_overrides_the_disbursement(stack, clock):
    container, client = stack
    order = order_sent(container, 12345678)
    post(client, callback(order, "LQ"))
    process_all(container)
    clock.now += timedelta(days=95)
    post(client, callback(order, "D", causa="Beneficiario no reconoce el pago"))
    assert process_all(container, BankShows("D"))[-1] == "applied"
    order, transfer = reload(container, order.id)
    assert transfer.status == TransferStatus.REJECTED and transfer.returned_after_applied
    with container.uow() as uow:
        types = [bu.type for bu in uow.session.scalars(select(BalanceUpdate).where(
            BalanceUpdate.store_id == transfer.store_id).order_by(BalanceUpdate.sequence))]
        credit_disbursed = uow.session.execute(select(func.max(BalanceUpdate.credit_id))).scalar()
    assert types == [BalanceUpdateType.CONTRIBUTION, BalanceUpdateType.DISBURSEMENT,
                     BalanceUpdateType.DISBURSEMENT_OVERRIDE]
    from domain.credits import Credit
    with container.uow() as uow:
        assert uow.session.get(Credit, credit_disbursed).disbursed is False


def test_a_callback_that_beats_the_send_result(stack):
    container, client = stack
    order = order_in_sending(container)
    begin_send(container, order)
    post(client, {"id": 55555555, "empresa": "DISPERSA", "folioOrigen": order.tracking_key, "estado": "LQ"})
    assert process_all(container) == ["applied"]
    with container.uow() as uow:  # the registra answer arrives afterwards
        assert sending.record_registration(uow, order.id, stp.RegistrationAnswer(55555555, None)) == "sent"
        uow.commit()
    order, transfer = reload(container, order.id)
    assert order.status == PaymentOrderStatus.LIQUIDATED and order.bank_order_id == 55555555
    assert transfer.status == TransferStatus.APPLIED


def test_the_transfer_report_shows_the_bank_side_once_liquidated(stack):
    from usecases.access import create_api_key

    container, client = stack
    order = order_sent(container, 12345678)
    post(client, callback(order, "LQ"))
    process_all(container)
    with container.uow() as uow:
        key = create_api_key(uow, "treasury", owner="treasury@tests.example")
        uow.commit()
    auth = {"Authorization": f"Bearer {key}"}
    report = client.simulate_get(f"/transfers/{order.bank_transfer_id}/report", headers=auth).json
    transfer = report["transfer"]
    assert (transfer["tracking_key"], transfer["bank_order_id"], transfer["uetr"]) == (
        order.tracking_key, 12345678, order.uetr)
    assert transfer["liquidated_at"] is not None and transfer["status"] == "applied"
    csv_text = client.simulate_get(f"/transfers/{order.bank_transfer_id}/report?format=csv", headers=auth).text
    assert order.tracking_key in csv_text and "12345678" in csv_text


def test_reconciliation_is_shown_by_date(stack):
    from usecases import reconciliation
    from usecases.access import create_api_key

    container, client = stack
    order = order_sent(container, 12345678)
    bank_rows = [{"idEF": 12345678, "claveRastreo": order.tracking_key, "monto": "942.00", "estado": "LQ"},
                 {"idEF": 99999999, "claveRastreo": "SOMEONEELSE", "monto": "1.00", "estado": "LQ"}]
    with container.uow() as uow:
        reconciliation.reconcile_day(uow, order.operation_date, bank_rows, container.payout_config.estados)
        key = create_api_key(uow, "treasury", owner="treasury@tests.example")
        uow.commit()
    day = f"{order.operation_date[:4]}-{order.operation_date[4:6]}-{order.operation_date[6:]}"
    auth = {"Authorization": f"Bearer {key}"}
    run = client.simulate_get(f"/reconciliations/{day}", headers=auth).json
    kinds = sorted((m["tracking_key"], m["kind"]) for m in run["mismatch_list"])
    assert kinds == [(order.tracking_key, "status"), ("SOMEONEELSE", "unknown_to_us")]
    assert client.simulate_get("/reconciliations/2001-01-01", headers=auth).status_code == 404
    assert client.simulate_get(f"/reconciliations/{day}").status_code == 401
