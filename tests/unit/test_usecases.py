"""The write-side use cases on an in-memory unit of work: contribute, cancel, evaluate a trigger, create,
approve and reject a transfer, and every word the bank can say of its order. The same use cases run on
MariaDB in tests/integration; here each takes microseconds."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from adapters.clock import ManualClock
from domain import clabe, stp
from domain.access import Role
from domain.bank_events import BankEventStatus
from domain.merchants import OfferAction
from domain.ledger import BalanceUpdateStatus as BS, BalanceUpdateType as BT, TransferStatus as TS
from domain.payment_orders import Applied, Ordering, PaymentOrderStatus as OS
from domain.schedules import instant_key
from domain.stp import DEFAULT_ESTADOS, OrderOutcome
from tests.fake_uow import FakeUnitOfWork
from usecases import bank_events, bank_outcomes, catalog, credits, ledger, products, scheduling, sending, steps
from adapters.bank.stp_client import FoundOrder
from usecases.errors import Conflict
from usecases.payouts import PayoutConfig

CONFIG = PayoutConfig(Ordering("DISPERSA", "646180500000000004", "DISPERSA SA", "DIS200101AB1"), "DSP",
                      DEFAULT_ESTADOS)
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork(ManualClock(NOW))


def store(uow: FakeUnitOfWork, **fields: object) -> int:
    """A validated merchant and store (5 % commission, 16 % IVA) through the catalogue's use cases."""
    merchant = catalog.create_merchant(uow, "Muebles")
    s = catalog.create_store(uow, merchant.id, {"name": "Centro", "clabe": clabe.make("012", "180", "42"),
                                                "beneficiary_name": "Muebles Centro", "automation_enabled": True,
                                                "disbursement_mode": "instant", **fields})
    option = catalog.create_option(uow, s.id, {"number_of_payments": 3, "merchant_commission": "0.05",
                                               "min_amount": 1, "max_amount": 10**9})
    catalog.validate_option(uow, option.id)
    products.move_offer(uow, option.id, OfferAction.ENABLE)  # type: ignore[arg-type]
    catalog.validate_store(uow, s.id)
    catalog.validate_merchant(uow, merchant.id)
    return s.id  # type: ignore[return-value]


def delivered(uow: FakeUnitOfWork, store_id: int, external_id: str, amount: int = 100_000) -> int:
    credit = credits.originate(uow, store_id, external_id, amount, 3)
    credits.deliver(uow, credit.id)  # type: ignore[arg-type]
    return credit.id  # type: ignore[return-value]


def contributed(uow: FakeUnitOfWork, store_id: int, external_id: str, amount: int = 100_000) -> int:
    credit_id = delivered(uow, store_id, external_id, amount)
    ledger.contribute(uow, credit_id)
    return uow.balance_updates.of_credit(credit_id, BT.CONTRIBUTION).id  # type: ignore[union-attr, return-value]


# --- contributions and cancellations ----------------------------------------------------------------------

def test_a_delivered_credit_contributes_once_net_of_commission_and_tax(uow):
    store_id = store(uow)
    credit_id = delivered(uow, store_id, "c-1")
    assert uow.outbox.to(steps.CONTRIBUTE) == [(credit_id,)]
    ledger.contribute(uow, credit_id)
    ledger.contribute(uow, credit_id)  # a redelivered message
    [bu] = uow.balance_updates.all()
    assert (bu.type, bu.status, bu.amount) == (BT.CONTRIBUTION, BS.PENDING, 100_000 - 5_000 - 800)
    assert uow.stores.get(store_id).balance == 94_200
    assert uow.outbox.to(steps.EVALUATE_TRIGGER) == [(store_id, instant_key(bu.id), None)]


def test_a_credit_cancelled_after_delivery_is_compensated_once_even_before_its_contribution(uow):
    store_id = store(uow)
    credit_id = delivered(uow, store_id, "c-1")
    credits.cancel(uow, credit_id, "returned")
    ledger.cancel_credit(uow, credit_id)  # before the contribute message ran
    ledger.cancel_credit(uow, credit_id)
    ledger.contribute(uow, credit_id)
    types = sorted(bu.type.value for bu in uow.balance_updates.all())
    assert types == ["contribution", "credit_cancellation"]
    assert uow.stores.get(store_id).balance == 0
    assert uow.balance_updates.of_credit(credit_id, BT.CONTRIBUTION).overwritten  # type: ignore[union-attr]


# --- trigger evaluations --------------------------------------------------------------------------------------

def test_an_evaluation_opens_its_transfer_and_its_payment_order_in_one_step(uow):
    store_id = store(uow)
    bu = contributed(uow, store_id, "c-1")
    assert ledger.evaluate_trigger(uow, store_id, instant_key(bu), CONFIG) == "transfer"
    assert ledger.evaluate_trigger(uow, store_id, instant_key(bu), CONFIG) == "transfer"  # once per period
    [transfer] = uow.transfers.all()
    [order] = uow.orders.all()
    assert (transfer.status, transfer.amount, order.status, order.bank_transfer_id) == (
        TS.SENDING, 94_200, OS.CREATED, transfer.id)
    assert uow.outbox.to(steps.SEND_PAYMENT_ORDER) == [(order.uetr,)]
    assert uow.evaluations.of(store_id, instant_key(bu)).bank_transfer_id == transfer.id  # type: ignore[union-attr]


def test_a_second_evaluation_with_nothing_pending_says_why(uow):
    store_id = store(uow)
    first, second = contributed(uow, store_id, "c-1"), contributed(uow, store_id, "c-2")
    ledger.evaluate_trigger(uow, store_id, instant_key(first), CONFIG)
    assert ledger.evaluate_trigger(uow, store_id, instant_key(second), CONFIG) == "skipped"
    assert uow.evaluations.of(store_id, instant_key(second)).reason.startswith("nothing to pay")  # type: ignore[union-attr]
    assert len(uow.transfers.all()) == 1


def test_an_unvalidated_store_is_held(uow):
    store_id = store(uow)
    bu = contributed(uow, store_id, "c-1")
    catalog.update_store(uow, store_id, {"beneficiary_name": "Otro"}, Role.TREASURY)
    assert ledger.evaluate_trigger(uow, store_id, instant_key(bu), CONFIG) == "held"
    assert uow.transfers.all() == [] and uow.kinds("WARNING").count("trigger_evaluated") == 1


def test_a_store_needing_approval_waits_then_is_approved_with_its_order_or_rejected(uow):
    store_id = store(uow, requires_confirmation=True)
    first = contributed(uow, store_id, "c-1")
    ledger.evaluate_trigger(uow, store_id, instant_key(first), CONFIG)
    [waiting] = uow.transfers.all()
    assert waiting.status == TS.WAITING_CONFIRMATION and uow.orders.all() == []
    ledger.approve_transfer(uow, waiting.id, CONFIG)  # type: ignore[arg-type]
    assert waiting.status == TS.SENDING and len(uow.orders.all()) == 1
    with pytest.raises(Conflict):
        ledger.approve_transfer(uow, waiting.id, CONFIG)  # type: ignore[arg-type]
    second = contributed(uow, store_id, "c-2")
    ledger.evaluate_trigger(uow, store_id, instant_key(second), CONFIG)
    rejected = uow.transfers.get(2)
    ledger.reject_transfer(uow, 2, "factura pendiente")
    assert (rejected.status, rejected.status_reason) == (TS.CANCELLED, "rejected by treasury: factura pendiente")
    assert [bu.status for bu in uow.balance_updates.pending(store_id)] == [BS.PENDING]


def test_treasurys_request_is_recorded_then_decided_once(uow):
    store_id = store(uow, disbursement_mode="weekly", automation_enabled=False)
    contributed(uow, store_id, "c-1")
    key = ledger.request_transfer(uow, store_id)
    assert uow.evaluations.of(store_id, key).outcome.value == "requested"  # type: ignore[union-attr]
    transfer = ledger.create_transfer(uow, store_id, key, CONFIG)
    assert transfer is not None and transfer.amount == 94_200  # automation off: treasury asked all the same
    assert ledger.create_transfer(uow, store_id, key, CONFIG) is transfer
    assert uow.evaluations.of(store_id, key).outcome.value == "transfer"  # type: ignore[union-attr]


def test_the_sweep_finds_a_missed_period_and_gives_up_an_undecided_request_after_a_day(uow):
    clock = uow.clock
    store_id = store(uow, disbursement_mode="daily")
    contributed(uow, store_id, "c-1")
    key = ledger.request_transfer(uow, store_id)
    clock.now = NOW + timedelta(days=1, hours=2)
    assert scheduling.sweep_missed_periods(uow, clock(), timedelta(minutes=15), 48) == 1
    assert scheduling.sweep_stuck_work(uow, clock(), timedelta(minutes=15))["transfer_requests"] == 0
    assert uow.evaluations.of(store_id, key).outcome.value == "skipped"  # type: ignore[union-attr]
    assert "transfer_request_abandoned" in uow.kinds("ALERT")


# --- the bank's word -------------------------------------------------------------------------------------------

def sent_order(uow: FakeUnitOfWork, bank_order_id: int = 12_345_678) -> tuple[int, int]:
    """A store's transfer whose order the bank accepted; returns (store id, order id)."""
    store_id = store(uow)
    bu = contributed(uow, store_id, "c-1")
    ledger.evaluate_trigger(uow, store_id, instant_key(bu), CONFIG)
    [order] = uow.orders.all()
    sending.begin_send(uow, order.id, CONFIG)  # type: ignore[arg-type]
    assert sending.record_registration(uow, order.id, stp.RegistrationAnswer(bank_order_id, None)) == "sent"  # type: ignore[arg-type]
    return store_id, order.id  # type: ignore[return-value]


def test_liquidated_applies_the_transfer_with_one_disbursement(uow):
    store_id, order_id = sent_order(uow)
    [transfer] = uow.transfers.all()
    assert transfer.status == TS.IN_TRANSIT
    assert bank_outcomes.apply_outcome(uow, order_id, OrderOutcome.LIQUIDATED) == Applied.APPLIED
    assert bank_outcomes.apply_outcome(uow, order_id, OrderOutcome.LIQUIDATED) == Applied.DUPLICATE
    assert transfer.status == TS.APPLIED and uow.stores.get(store_id).balance == 0
    assert [bu.type for bu in uow.balance_updates.all()] == [BT.CONTRIBUTION, BT.DISBURSEMENT]
    assert all(c.disbursed for c in uow.credits.all())


def test_cancelled_puts_the_balance_back_to_pending_with_the_reason(uow):
    store_id, order_id = sent_order(uow)
    assert bank_outcomes.apply_outcome(uow, order_id, OrderOutcome.CANCELLED) == Applied.APPLIED
    [transfer] = uow.transfers.all()
    assert (transfer.status, transfer.status_reason) == (TS.CANCELLED, "cancelled by the bank (no cause given)")
    assert len(uow.balance_updates.pending(store_id)) == 1


def test_returned_after_liquidation_overrides_the_disbursement_and_a_late_liquidation_changes_nothing(uow):
    store_id, order_id = sent_order(uow)
    bank_outcomes.apply_outcome(uow, order_id, OrderOutcome.LIQUIDATED)
    assert bank_outcomes.apply_outcome(uow, order_id, OrderOutcome.RETURNED, cause="Cuenta cancelada") == Applied.APPLIED
    assert bank_outcomes.apply_outcome(uow, order_id, OrderOutcome.LIQUIDATED) == Applied.LATE
    [transfer] = uow.transfers.all()
    assert (transfer.status, transfer.status_reason) == (TS.REJECTED, "returned by the bank: Cuenta cancelada")
    assert uow.stores.get(store_id).balance == 94_200
    assert sorted(bu.type.value for bu in uow.balance_updates.all()) == [
        "contribution", "disbursement", "disbursement_override"]
    assert not any(c.disbursed for c in uow.credits.all())


def test_a_contradiction_from_the_bank_changes_nothing_and_raises_an_alert(uow):
    _, order_id = sent_order(uow)
    bank_outcomes.apply_outcome(uow, order_id, OrderOutcome.CANCELLED)
    assert bank_outcomes.apply_outcome(uow, order_id, OrderOutcome.LIQUIDATED) == Applied.CONFLICT
    assert uow.orders.get(order_id).status == OS.CANCELLED and "payment_order_conflict" in uow.kinds("ALERT")


def test_a_refusal_of_the_payee_cancels_the_transfer_and_holds_the_store(uow):
    store_id = store(uow)
    bu = contributed(uow, store_id, "c-1")
    ledger.evaluate_trigger(uow, store_id, instant_key(bu), CONFIG)
    [order] = uow.orders.all()
    sending.begin_send(uow, order.id, CONFIG)  # type: ignore[arg-type]
    answer = stp.read_registration({"resultado": {"id": -200, "descripcionError": "PLD"}})
    assert sending.record_registration(uow, order.id, answer) == "cancelled"  # type: ignore[arg-type]
    assert uow.transfers.all()[0].status == TS.CANCELLED and not uow.stores.get(store_id).validated
    assert {"payment_order_refused", "store_held"} <= set(uow.kinds("ALERT"))


def test_a_callback_is_stored_once_and_applied_by_its_step(uow):
    _, order_id = sent_order(uow)
    order = uow.orders.get(order_id)
    body = {"id": order.bank_order_id, "folioOrigen": order.tracking_key, "estado": "LQ"}
    event_id, new = bank_events.receive(uow, body)
    assert new and bank_events.receive(uow, body) == (event_id, False)
    assert bank_events.process(uow, event_id, DEFAULT_ESTADOS) == BankEventStatus.APPLIED  # type: ignore[arg-type]
    assert bank_events.process(uow, event_id, DEFAULT_ESTADOS) == BankEventStatus.APPLIED  # type: ignore[arg-type]
    assert order.status == OS.LIQUIDATED


def test_a_callback_whose_order_id_is_in_other_digits_keeps_no_id(uow):
    _, order_id = sent_order(uow)
    order = uow.orders.get(order_id)
    event_id, _ = bank_events.receive(uow, {"id": "١٢٣", "folioOrigen": order.tracking_key, "estado": "LQ"})
    assert uow.bank_events.get(event_id).bank_order_id is None  # int() read it as 123


def _returned_callback(uow: FakeUnitOfWork, order_id: int) -> int:
    """A return of the order, stored and processed: a claim waiting for the bank's word."""
    order = uow.orders.get(order_id)
    event_id, _ = bank_events.receive(uow, {"id": order.bank_order_id, "folioOrigen": order.tracking_key,
                                            "estado": "D", "causaDevolucion": "lo que diga el callback"})
    assert bank_events.process(uow, event_id, DEFAULT_ESTADOS) == BankEventStatus.CONFIRMING  # type: ignore[arg-type]
    assert (steps.CONFIRM_BANK_EVENT, (event_id,)) in uow.outbox.messages
    return event_id  # type: ignore[return-value]


def test_a_return_is_applied_once_consultaorden_shows_it_with_the_banks_cause(uow):
    _, order_id = sent_order(uow)
    bank_outcomes.apply_outcome(uow, order_id, OrderOutcome.LIQUIDATED)
    event_id = _returned_callback(uow, order_id)
    assert uow.orders.get(order_id).status == OS.LIQUIDATED  # nothing moved on the callback alone
    shown = FoundOrder(12_345_678, "D", {"causaDevolucion": "Cuenta cancelada", "tsDevolucion": 1_763_900_000_000})
    assert bank_events.settle_confirmation(uow, event_id, shown, CONFIG) == BankEventStatus.APPLIED
    assert bank_events.settle_confirmation(uow, event_id, shown, CONFIG) == BankEventStatus.APPLIED  # once
    order = uow.orders.get(order_id)
    assert (order.status, order.return_cause) == (OS.RETURNED, "Cuenta cancelada")
    assert [bu.type for bu in uow.balance_updates.all()].count(BT.DISBURSEMENT_OVERRIDE) == 1


@pytest.mark.parametrize("shown", [FoundOrder(12_345_678, "LQ", {}), FoundOrder(12_345_678, "A", {}), None])
def test_a_return_the_bank_does_not_show_changes_nothing_and_raises_an_alert(uow, shown):
    _, order_id = sent_order(uow)
    bank_outcomes.apply_outcome(uow, order_id, OrderOutcome.LIQUIDATED)
    event_id = _returned_callback(uow, order_id)
    assert bank_events.settle_confirmation(uow, event_id, shown, CONFIG) == BankEventStatus.CONTRADICTED
    assert uow.orders.get(order_id).status == OS.LIQUIDATED and uow.transfers.all()[0].status == TS.APPLIED
    assert uow.kinds("ALERT").count("bank_event_contradicted") == 1
