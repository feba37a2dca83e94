"""A return or a cancellation in a callback is a claim: it counts only once STP's own consultaOrden shows
it (the sandbox over HTTP, answering from its books). One the bank contradicts raises an ALERT and
changes nothing; a query that fails leaves the callback waiting, to be asked again. Callbacks are stored
with the payee's data masked and the fields we do not know dropped."""
from __future__ import annotations

import json
from typing import Iterator

import pytest
from alembic import command
from falcon import testing
from sqlalchemy import create_engine, func, select, text

from adapters.bank.stp_client import BankUnavailable
from adapters.db.migrate import alembic_config, upgrade
from adapters.db.tables import bank_events, event_log, outbox
from domain.ledger import BalanceUpdate, BalanceUpdateStatus, BalanceUpdateType, TransferStatus
from domain.payment_orders import PaymentOrderStatus
from sandbox.scenarios import Scenario
from tests.integration.conftest import WEBHOOK_PATH, WEBHOOK_SECRET
from tests.integration.helpers import scratch_database
from tests.integration.orders import order_in_sending, process_event, reload
from usecases import access, bank_events as events, bank_outcomes, sending
from bootstrap import web_app

SLOW_OUTCOMES = 0.01  # the sandbox settles nothing during the test: its orders stay in flight


@pytest.fixture
def web(bank):
    container, sandbox = bank
    container.settings = container.settings.model_copy(update={"webhook_secret": WEBHOOK_SECRET})
    return container, sandbox, testing.TestClient(web_app(container))


def _post(client, order, estado: str, **extra):
    body = {"id": order.bank_order_id, "empresa": "DISPERSA", "folioOrigen": order.tracking_key, "estado": estado,
            **extra}
    assert client.simulate_post(WEBHOOK_PATH, json=body, headers={"X-Webhook-Secret": WEBHOOK_SECRET}
                                ).status_code == 200


def _last_event(container) -> int:
    with container.uow() as uow:
        return uow.session.execute(select(func.max(bank_events.c.id))).scalar_one()


def _sent(container, sandbox, estado: str | None):
    """A store's transfer, its order sent to the sandbox and (when ``estado`` is given) settled there."""
    order = order_in_sending(container)
    assert sending.send_order(container.uow, container.stp_client, order.id, container.payout_config) == "sent"
    if estado is not None:
        assert sandbox.books.wait_for(lambda booked: booked[-1].estado == estado, 10)
    return reload(container, order.id)[0]


def _alerts(container, kind: str) -> int:
    with container.uow() as uow:
        return uow.session.execute(select(func.count()).select_from(event_log).where(
            event_log.c.kind == kind, event_log.c.level == "ALERT")).scalar_one()


def _balance_updates(container, store_id: int) -> list[tuple[BalanceUpdateType, BalanceUpdateStatus]]:
    with container.uow() as uow:
        return [(bu.type, bu.status) for bu in uow.session.scalars(select(BalanceUpdate).where(
            BalanceUpdate.store_id == store_id).order_by(BalanceUpdate.sequence))]


def test_a_forged_return_of_a_liquidated_order_changes_nothing_and_raises_an_alert(web):
    container, sandbox, client = web
    order = _sent(container, sandbox, "LQ")
    assert bank_outcomes.sync_order(container.uow, container.stp_client, order.id, container.payout_config) == "LQ"
    store_id = reload(container, order.id)[1].store_id
    before = _balance_updates(container, store_id)
    _post(client, order, "D", causaDevolucion="Cuenta inexistente")
    event_id = _last_event(container)
    assert process_event(container, event_id) == "confirming"  # a claim: nothing applied yet
    with container.uow() as uow:
        assert uow.session.execute(select(outbox.c.args).where(
            outbox.c.actor_name == "confirm_bank_event")).scalar_one() == [event_id]
    assert events.confirm(container.uow, container.stp_client, event_id, container.payout_config) == "contradicted"
    order, transfer = reload(container, order.id)
    assert order.status == PaymentOrderStatus.LIQUIDATED and transfer.status == TransferStatus.APPLIED
    assert _balance_updates(container, store_id) == before  # nothing back to pending: nothing to pay again
    assert _alerts(container, "bank_event_contradicted") == 1
    # a redelivered step, or the sweep's, changes nothing more
    assert events.confirm(container.uow, container.stp_client, event_id, container.payout_config) == "contradicted"
    assert _alerts(container, "bank_event_contradicted") == 1


@pytest.mark.sandbox(speed=SLOW_OUTCOMES)
def test_a_forged_cancellation_of_an_order_in_flight_changes_nothing(web):
    container, sandbox, client = web
    order = _sent(container, sandbox, None)
    _post(client, order, "CN")
    event_id = _last_event(container)
    assert process_event(container, event_id) == "confirming"
    assert events.confirm(container.uow, container.stp_client, event_id, container.payout_config) == "contradicted"
    order, transfer = reload(container, order.id)
    assert order.status == PaymentOrderStatus.SENT and transfer.status == TransferStatus.IN_TRANSIT
    assert _alerts(container, "bank_event_contradicted") == 1


@pytest.mark.sandbox(scenario=Scenario("t-late-return", late_return=1.0))
def test_a_return_the_bank_made_is_applied_once_its_query_shows_it(web):
    container, sandbox, client = web
    order = _sent(container, sandbox, "D")
    _post(client, order, "LQ")
    assert process_event(container, _last_event(container)) == "applied"  # a liquidation needs no confirmation
    _post(client, order, "D", causaDevolucion="lo que sea")
    event_id = _last_event(container)
    assert process_event(container, event_id) == "confirming"
    assert reload(container, order.id)[0].status == PaymentOrderStatus.LIQUIDATED
    assert events.confirm(container.uow, container.stp_client, event_id, container.payout_config) == "applied"
    order, transfer = reload(container, order.id)
    booked = sandbox.books.orders()[-1]
    assert order.status == PaymentOrderStatus.RETURNED and transfer.status == TransferStatus.REJECTED
    assert order.return_cause == booked.causa_devolucion  # the bank's word, not the callback's
    assert transfer.returned_after_applied
    assert _alerts(container, "bank_event_contradicted") == 0


def test_a_query_that_fails_leaves_the_callback_waiting_to_be_asked_again(web):
    container, sandbox, client = web
    order = _sent(container, sandbox, "LQ")
    _post(client, order, "LQ")
    process_event(container, _last_event(container))
    _post(client, order, "D")
    event_id = _last_event(container)
    assert process_event(container, event_id) == "confirming"
    sandbox.stop()  # the bank cannot be asked: the step fails, to be retried (and swept)
    with pytest.raises(BankUnavailable):
        events.confirm(container.uow, container.stp_client, event_id, container.payout_config)
    with container.uow() as uow:
        assert uow.session.execute(select(bank_events.c.status).where(bank_events.c.id == event_id)
                                   ).scalar_one() == "confirming"
    assert reload(container, order.id)[0].status == PaymentOrderStatus.LIQUIDATED


def test_payee_data_in_a_callback_is_masked_and_unknown_fields_dropped(web):
    container, sandbox, client = web
    order = _sent(container, sandbox, "LQ")
    _post(client, order, "LQ", cuentaBeneficiario="646180110400000007", nombreBeneficiario="Juana Perez Lopez",
          rfcCurpBeneficiario="PELJ800101ABC", fechaOperacion=20261124, direccion="Calle Falsa 123")
    with container.uow() as uow:
        stored = uow.session.execute(select(bank_events.c.body)).scalar_one()
        admin = {"Authorization": f"Bearer {access.create_api_key(uow, 'admin', owner='admin@tests.example')}"}
        uow.commit()
    assert stored["cuentaBeneficiario"] == "**************0007"
    assert stored["nombreBeneficiario"] == "J*** P*** L***"
    assert stored["rfcCurpBeneficiario"] == "*********1ABC"
    assert stored["fechaOperacion"] == 20261124 and stored["estado"] == "LQ"
    assert "direccion" not in stored
    shown = json.dumps(client.simulate_get("/api/v1/events", headers=admin, params={"per_page": 200}).json)
    for secret in ("646180110400000007", "Juana", "PELJ800101ABC", "Calle Falsa"):
        assert secret not in shown


# --- migration 0013 on callbacks stored before ----------------------------------------------------------

@pytest.fixture(params=["mariadb", "sqlite"])
def at_0011(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    with scratch_database(request.param, tmp_path, "callbacks") as address:
        upgrade(address, "0011")
        yield address


STORED_WHOLE = {"id": 4242, "estado": "LQ", "folioOrigen": "DSP1", "cuentaBeneficiario": "646180110400000007",
                "nombreBeneficiario": "Juana Perez", "direccion": "Calle Falsa 123"}
STORED_MASKED = {"id": 4242, "estado": "LQ", "folioOrigen": "DSP1", "cuentaBeneficiario": "**************0007",
                 "nombreBeneficiario": "J*** P***"}


def test_migration_0013_masks_the_callbacks_stored_before(at_0011: str) -> None:
    engine = create_engine(at_0011)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO bank_events (id, body_hash, body, estado, received_at, status, attempts) "
                              "VALUES (1, 'h', :body, 'LQ', CURRENT_TIMESTAMP, 'applied', 1)"),
                         {"body": json.dumps(STORED_WHOLE)})
            conn.execute(text("INSERT INTO event_log (id, at, level, kind, message, details) VALUES "
                              "(1, CURRENT_TIMESTAMP, 'INFO', 'bank_event', 'STP callback LQ', :d), "
                              "(2, CURRENT_TIMESTAMP, 'INFO', 'tenant_funded', 'funded', :other)"),
                         {"d": json.dumps(STORED_WHOLE), "other": json.dumps({"account": "646180110400000007"})})
        for _ in range(2):  # a second run changes nothing more
            upgrade(at_0011)
            with engine.connect() as conn:
                assert json.loads(conn.execute(text("SELECT body FROM bank_events")).scalar()) == STORED_MASKED
                details = [json.loads(d) for d in conn.execute(text("SELECT details FROM event_log ORDER BY id"))
                           .scalars()]
            assert details == [STORED_MASKED, {"account": "646180110400000007"}]  # only callbacks are touched
            command.downgrade(alembic_config(at_0011), "0011")
    finally:
        engine.dispose()
