"""The send pipeline against the STP sandbox over HTTP, on MariaDB and Redis: at most one order per
tracking key, doubt settled by querying, permanent errors cancel the transfer."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from adapters.bank.signer import generate_key_pair
from adapters.db.tables import event_log
from domain import clabe
from domain.ledger import BalanceUpdate, BalanceUpdateStatus, TransferStatus
from domain.merchants import Store
from domain.payment_orders import PaymentOrderStatus
from tests.integration.conftest import PASSPHRASE
from tests.integration.orders import begin_send, order_in_sending, reload
from usecases import sending
from usecases.sending import StillInDoubt


def _send(container, order_id: int) -> str:
    return sending.send_order(container.uow, container.stp_client, order_id, container.payout_config)


def test_an_order_is_signed_sent_once_and_the_transfer_goes_in_transit(bank):
    container, sandbox = bank
    order = order_in_sending(container)
    assert _send(container, order.id) == "sent"
    assert _send(container, order.id) == "already answered"  # a redelivered message sends nothing
    order, transfer = reload(container, order.id)
    booked = sandbox.books.orders()
    assert [b.clave_rastreo for b in booked] == [order.tracking_key]
    assert order.status == PaymentOrderStatus.SENT and order.bank_order_id == booked[0].id
    assert transfer.status == TransferStatus.IN_TRANSIT
    assert booked[0].fields["monto"] == "942.00"  # 1000 less 5 % commission and 16 % IVA on it
    assert len(order.uetr) == 36 and len(order.tracking_key) <= 30


def test_a_crash_after_sending_was_recorded_queries_before_sending_again(bank):
    container, sandbox = bank
    order = order_in_sending(container)
    begin_send(container, order)  # and the process died right after committing Sending
    assert _send(container, order.id) == "sent"
    assert len(sandbox.books.orders()) == 1


SLOW_OUTCOMES = 0.01  # outcomes come long after the test: what is checked is the send step alone


@pytest.mark.sandbox(speed=SLOW_OUTCOMES)
def test_a_crash_after_the_bank_accepted_finds_the_order_instead_of_sending_twice(bank):
    container, sandbox = bank
    order = order_in_sending(container)
    with container.uow() as uow:
        fields, _ = sending.begin_send(uow, order.id, container.payout_config)
        uow.commit()
    accepted = container.stp_client.register(fields)  # the answer is lost with the process
    assert _send(container, order.id) == "found"
    order, transfer = reload(container, order.id)
    assert order.bank_order_id == accepted.order_id
    assert len(sandbox.books.orders()) == 1
    assert transfer.status == TransferStatus.IN_TRANSIT


@pytest.mark.sandbox(scenario="timeouts", hang_seconds=2.0, speed=SLOW_OUTCOMES)
def test_a_timeout_after_the_bank_accepted_is_settled_by_the_query(bank):
    container, sandbox = bank
    for i in range(4):
        order = order_in_sending(container)
        assert _send(container, order.id) in ("sent", "found")
        order, _ = reload(container, order.id)
        assert order.status == PaymentOrderStatus.SENT
    assert len(sandbox.books.orders()) == 4  # never two orders for one tracking key


@pytest.mark.sandbox(scenario="errors-5xx")
def test_5xx_answers_are_doubts_resolved_without_duplicates(bank):
    container, sandbox = bank
    sent = 0
    for _ in range(6):
        order = order_in_sending(container)
        try:
            _send(container, order.id)
        except StillInDoubt:
            _send(container, order.id)  # the retried message
        sent += 1
    keys = [b.clave_rastreo for b in sandbox.books.orders()]
    assert len(keys) == len(set(keys)) == sent


MISSING_ACCOUNT = clabe.make("012", "180", "99999999999")


@pytest.mark.sandbox(missing_accounts=frozenset({MISSING_ACCOUNT}))
def test_a_permanent_refusal_cancels_the_transfer_and_frees_its_balance_updates(bank):
    container, sandbox = bank
    order = order_in_sending(container, clabe=MISSING_ACCOUNT)
    assert _send(container, order.id) == "cancelled"
    order, transfer = reload(container, order.id)
    assert order.status == PaymentOrderStatus.CANCELLED and order.last_error.startswith("-7")
    assert transfer.status == TransferStatus.CANCELLED
    with container.uow() as uow:
        statuses = set(uow.session.scalars(select(BalanceUpdate.status).where(
            BalanceUpdate.store_id == transfer.store_id)))
        alerts = uow.session.execute(select(func.count()).select_from(event_log).where(
            event_log.c.kind == "payment_order_refused", event_log.c.level == "ALERT")).scalar()
    assert statuses == {BalanceUpdateStatus.PENDING}
    assert alerts == 1
    assert sandbox.books.orders() == []


def test_a_bad_signature_is_a_permanent_refusal(bank, tmp_path):
    container, sandbox = bank
    other, _ = generate_key_pair(PASSPHRASE)
    (tmp_path / "other.pem").write_bytes(other)
    container.settings = container.settings.model_copy(update={"stp_private_key_path": str(tmp_path / "other.pem")})
    container._stp_client = None
    order = order_in_sending(container)
    assert _send(container, order.id) == "cancelled"
    order, _ = reload(container, order.id)
    assert order.last_error == "0: Error validando la firma"


PERMANENT = [0, -7, -9, -11, -20, -22, -24, -34, -200]


@pytest.mark.parametrize("code", PERMANENT)
def test_every_permanent_stp_error_cancels_the_order_and_frees_the_balance(bank, code):
    from domain import stp

    container, _ = bank
    order = order_in_sending(container)
    begin_send(container, order)
    answer = stp.read_registration({"resultado": {"id": code, "descripcionError": "descripcion de STP"}})
    with container.uow() as uow:
        assert sending.record_registration(uow, order.id, answer) == "cancelled"
        uow.commit()
    order, transfer = reload(container, order.id)
    assert order.status == PaymentOrderStatus.CANCELLED and order.last_error == f"{code}: descripcion de STP"
    assert transfer.status == TransferStatus.CANCELLED
    assert transfer.status_reason == f"STP refused: {code}: descripcion de STP"
    with container.uow() as uow:  # a refusal of the payee itself holds the store until treasury looks
        validated = uow.session.get(Store, transfer.store_id).validated
    assert validated is (code not in BENEFICIARY_REFUSALS)


BENEFICIARY_REFUSALS = (-7, -9, -11, -22, -24, -200)


def test_an_unknown_error_code_is_transient_and_retried(bank):
    from domain import stp

    container, _ = bank
    order = order_in_sending(container)
    begin_send(container, order)
    with container.uow() as uow:
        answer = stp.read_registration({"resultado": {"id": -99, "descripcionError": "servicio no disponible"}})
        assert sending.record_registration(uow, order.id, answer) == "transient"
        uow.commit()
    order, transfer = reload(container, order.id)
    assert order.status == PaymentOrderStatus.SENDING and transfer.status == TransferStatus.SENDING


@pytest.mark.sandbox(pld_blocklist=frozenset({"LAVADO SA"}))
def test_an_anti_money_laundering_rejection_from_the_bank(bank):
    container, sandbox = bank
    order = order_in_sending(container, beneficiary_name="Lavado SA")
    assert _send(container, order.id) == "cancelled"
    assert reload(container, order.id)[0].last_error.startswith("-200")
    assert sandbox.books.orders() == []


def test_paying_our_own_account_is_refused(bank):
    container, _ = bank
    order = order_in_sending(container, clabe=container.settings.stp_ordering_account)
    assert _send(container, order.id) == "cancelled"
    assert reload(container, order.id)[0].last_error.startswith("-24")
