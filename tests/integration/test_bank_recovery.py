"""Recovery paths of the bank pipeline: lost messages, contradictory answers, missing ids, late money."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select

from adapters.bank import stp_client
from adapters.db.tables import bank_events, event_log, outbox, trigger_evaluations
from domain import stp
from domain.ledger import BankTransfer, TransferStatus
from domain.payment_orders import PaymentOrderStatus
from tests.integration.orders import BankShows, begin_send, order_in_sending, order_sent, process_event, reload
from usecases import bank_events as events, bank_outcomes, ledger, queries, reconciliation, scheduling, sending
from tests.integration.conftest import WEBHOOK_PATH, WEBHOOK_SECRET

SECRET, PATH = WEBHOOK_SECRET, WEBHOOK_PATH


def post(client, body):
    return client.simulate_post(PATH, json=body, headers={"X-Webhook-Secret": SECRET})


def outbox_rows(container, actor: str) -> list[list]:
    with container.uow() as uow:
        return [r.args for r in uow.session.execute(select(outbox.c.args).where(outbox.c.actor_name == actor))]


def alerts(container, kind: str) -> int:
    with container.uow() as uow:
        return uow.session.execute(select(func.count()).select_from(event_log).where(
            event_log.c.kind == kind, event_log.c.level == "ALERT")).scalar()


def process(container, event_id: int, bank: BankShows | None = None) -> str:
    return process_event(container, event_id, bank)


def sweep(container, clock):
    with container.uow() as uow:
        found = scheduling.sweep_payment_orders(uow, clock(), timedelta(minutes=15), timedelta(minutes=30),
                                                timedelta(days=1))
        uow.commit()
    return found


def test_a_return_whose_message_was_lost_is_redriven_by_the_sweep(stack, clock):
    container, client = stack
    order = order_sent(container, 12345678)
    with container.uow() as uow:
        bank_outcomes.apply_outcome(uow, order.id, stp.OrderOutcome.LIQUIDATED, 12345678)
        uow.commit()
    post(client, {"id": 12345678, "folioOrigen": order.tracking_key, "estado": "D", "causaDevolucion": "x"})
    with container.uow() as uow:  # its processing message died in the dead-letter queue
        uow.session.execute(delete(outbox).where(outbox.c.actor_name == "process_bank_event"))
        uow.commit()
    clock.now += timedelta(minutes=20)
    assert sweep(container, clock)["events_unprocessed"] == 1
    (event_id,), = outbox_rows(container, "process_bank_event")
    assert process(container, event_id) == "confirming"  # a claim until the bank's query agrees
    with container.uow() as uow:  # the confirmation's message died too (the bank could not be asked)
        uow.session.execute(delete(outbox).where(outbox.c.actor_name == "confirm_bank_event"))
        uow.commit()
    assert reload(container, order.id)[0].status == PaymentOrderStatus.LIQUIDATED
    clock.now += timedelta(minutes=20)
    assert sweep(container, clock)["events_unprocessed"] == 1
    assert outbox_rows(container, "confirm_bank_event") == [[event_id]]
    bank = BankShows("D", 12345678, causaDevolucion="Cuenta cancelada")
    assert events.confirm(container.uow, bank, event_id, container.payout_config) == "applied"
    assert bank.asked == [order.tracking_key]
    order, transfer = reload(container, order.id)
    assert order.status == PaymentOrderStatus.RETURNED and transfer.status == TransferStatus.REJECTED
    assert order.return_cause == "Cuenta cancelada"  # the bank's own cause, not the callback's


def test_a_liquidation_of_a_cancelled_order_is_a_conflict_with_an_alert(stack):
    container, client = stack
    order = order_in_sending(container)
    begin_send(container, order)
    with container.uow() as uow:
        refused = stp.read_registration({"resultado": {"id": -7, "descripcionError": "La cuenta no existe"}})
        sending.record_registration(uow, order.id, refused)
        uow.commit()
    post(client, {"id": 777777777, "folioOrigen": order.tracking_key, "estado": "LQ"})
    with container.uow() as uow:
        event_id = uow.session.execute(select(bank_events.c.id)).scalar()
    assert process(container, event_id) == "conflict"
    assert alerts(container, "payment_order_conflict") == 1
    order, transfer = reload(container, order.id)
    assert order.status == PaymentOrderStatus.CANCELLED and transfer.status == TransferStatus.CANCELLED


def test_callbacks_without_a_bank_id_do_not_invent_one(stack):
    container, client = stack
    for _ in range(2):
        order = order_in_sending(container)
        begin_send(container, order)
        post(client, {"folioOrigen": order.tracking_key, "estado": "LQ"})
    with container.uow() as uow:
        ids = list(uow.session.scalars(select(bank_events.c.id)))
    assert [process(container, i) for i in ids] == ["applied", "applied"]
    order, _ = reload(container, order.id)
    assert order.status == PaymentOrderStatus.LIQUIDATED and order.bank_order_id is None


def test_the_liquidation_time_is_the_banks(stack):
    container, client = stack
    order = order_sent(container, 12345678)
    post(client, {"id": 12345678, "folioOrigen": order.tracking_key, "estado": "LQ", "tsLiquidacion": 1763800000123})
    with container.uow() as uow:
        event_id = uow.session.execute(select(bank_events.c.id)).scalar()
    process(container, event_id)
    assert reload(container, order.id)[0].liquidated_at == datetime(2025, 11, 22, 8, 26, 40, 123000,
                                                                   tzinfo=timezone.utc)


def test_an_order_answered_with_unknown_codes_raises_an_alert_after_some_attempts(stack):
    container, _ = stack
    order = order_in_sending(container)
    answer = stp.read_registration({"resultado": {"id": -99, "descripcionError": "no disponible"}})
    for _ in range(sending.ALERT_AFTER_ATTEMPTS):
        begin_send(container, order)
        with container.uow() as uow:
            assert sending.record_registration(uow, order.id, answer) == "transient"
            uow.commit()
    assert alerts(container, "payment_order_error") == 1


def test_a_lost_transfer_request_is_redriven_and_decided_once(stack, clock):
    container, _ = stack
    order = order_sent(container, 1234567)  # a store with a history, then money pending again
    store_id = reload(container, order.id)[1].store_id
    with container.uow() as uow:
        ledger.adjust(uow, store_id, 50_000, 1, "treasury correction")
        key = ledger.request_transfer(uow, store_id)
        uow.session.execute(delete(outbox).where(outbox.c.actor_name == "create_transfer"))  # the message died
        uow.commit()
    clock.now += timedelta(minutes=20)
    with container.uow() as uow:
        assert scheduling.sweep_stuck_work(uow, clock(), timedelta(minutes=15))["transfer_requests"] == 1
        uow.commit()
    assert outbox_rows(container, "create_transfer") == [[store_id, key]]
    with container.uow() as uow:
        transfer = ledger.create_transfer(uow, store_id, key, container.payout_config)
        uow.commit()
    assert transfer is not None and transfer.amount == 50_000
    clock.now += timedelta(hours=2)
    with container.uow() as uow:  # decided: the next sweep has nothing to re-drive
        assert scheduling.sweep_stuck_work(uow, clock(), timedelta(minutes=15))["transfer_requests"] == 0
        uow.commit()


def _looks(container) -> list[list]:
    return [r for r in outbox_rows(container, "evaluate_trigger") if r[1].startswith("instant:2")]


def _tick(container, clock) -> None:
    with container.uow() as uow:
        scheduling.enqueue_due_triggers(uow, clock(), 48)
        uow.commit()


def test_money_freed_at_an_instant_store_waits_for_its_next_daily_look(stack, clock):
    container, client = stack
    order = order_sent(container, 12345678)
    post(client, {"id": 12345678, "folioOrigen": order.tracking_key, "estado": "CN"})
    with container.uow() as uow:
        process(container, uow.session.execute(select(bank_events.c.id)).scalar(), BankShows("CN"))
    for _ in range(3):  # the scheduler's next ticks, the same morning: the bank just refused this account
        _tick(container, clock)
        clock.now += timedelta(minutes=1)
    assert _looks(container) == []
    zone = ZoneInfo("America/Mexico_City")
    clock.now = datetime.combine(clock().astimezone(zone).date() + timedelta(days=1), datetime.min.time(),
                                 zone) + timedelta(minutes=10)  # the next day's look, due at the store's 00:00
    for _ in range(2):  # two ticks within the look's window: one evaluation
        _tick(container, clock)
    store_id = reload(container, order.id)[1].store_id
    day = clock().astimezone(zone).date().isoformat()
    assert _looks(container) == [[store_id, f"instant:{day}", None]]
    with container.uow() as uow:  # the freed money (the cancelled transfer's) is paid again
        assert ledger.evaluate_trigger(uow, store_id, f"instant:{day}", container.payout_config) == "transfer"
        uow.commit()
    with container.uow() as uow:
        outcome = uow.session.execute(select(trigger_evaluations.c.pending_total).where(
            trigger_evaluations.c.period_key == f"instant:{day}")).scalar()
    assert outcome == reload(container, order.id)[1].amount


def test_reconciliation_flags_unknown_estados_and_other_bank_ids_and_queries_status_mismatches(stack):
    container, _ = stack
    first, second, third = (order_sent(container, n) for n in (11111111, 22222222, 33333333))
    rows = [
        {"idEF": 11111111, "claveRastreo": first.tracking_key, "monto": "942.00", "estado": "XX"},
        {"idEF": 99999999, "claveRastreo": second.tracking_key, "monto": "942.00", "estado": "A"},
        {"idEF": 33333333, "claveRastreo": third.tracking_key, "monto": "942.00", "estado": "D"},
    ]
    with container.uow() as uow:
        run_id = reconciliation.reconcile_day(uow, first.operation_date, rows, container.payout_config.estados)
        uow.commit()
    with container.uow() as uow:
        run = queries.latest_reconciliation(uow, first.operation_date)
    assert run["id"] == run_id
    assert sorted((m["tracking_key"], m["kind"]) for m in run["mismatch_list"]) == sorted([
        (first.tracking_key, "unknown_estado"), (second.tracking_key, "bank_order_id"),
        (third.tracking_key, "status")])
    assert outbox_rows(container, "sync_payment_order") == [[third.uetr]]


class ReturnedAtTheBank:
    """The bank's answer to consultaOrden for an order returned long after its liquidation."""

    def query(self, tracking_key: str, operation_date: str = "") -> stp_client.FoundOrder:
        return stp_client.FoundOrder(7654321, "D", {"causaDevolucion": "Cuenta cancelada"})


def test_a_return_after_the_reconciliation_window_is_found_by_the_late_return_sweep(stack, clock):
    container, _ = stack
    order = order_sent(container, 7654321)
    with container.uow() as uow:
        bank_outcomes.apply_outcome(uow, order.id, stp.OrderOutcome.LIQUIDATED, 7654321)
        uow.commit()
    clock.now += timedelta(days=60)  # reconciliation covers 35 days; the return's callback was lost
    while clock.now.toordinal() % scheduling.LATE_RETURN_ROTATION != order.id % scheduling.LATE_RETURN_ROTATION:
        clock.now += timedelta(days=1)
    with container.uow() as uow:
        assert scheduling.sweep_late_returns(uow, clock(), reconciled_days=35, return_window_days=180) == 1
        uow.commit()
    assert outbox_rows(container, "sync_payment_order") == [[order.uetr]]
    assert bank_outcomes.sync_order(container.uow, ReturnedAtTheBank(), order.id, container.payout_config) == "D"
    order, transfer = reload(container, order.id)
    assert order.status == PaymentOrderStatus.RETURNED and transfer.status == TransferStatus.REJECTED
    assert transfer.status_reason == "returned by the bank: Cuenta cancelada"
    clock.now += timedelta(days=7)  # returned: never asked about again
    with container.uow() as uow:
        assert scheduling.sweep_late_returns(uow, clock(), reconciled_days=35, return_window_days=180) == 0


def test_the_late_return_sweep_asks_each_old_order_once_a_week_within_the_return_window(stack, clock):
    container, _ = stack
    order = order_sent(container, 7654322)
    with container.uow() as uow:
        bank_outcomes.apply_outcome(uow, order.id, stp.OrderOutcome.LIQUIDATED, 7654322)
        uow.commit()
    found = []
    clock.now += timedelta(days=36)
    for _ in range(14):
        with container.uow() as uow:
            found.append(scheduling.sweep_late_returns(uow, clock(), reconciled_days=35, return_window_days=180))
        clock.now += timedelta(days=1)
    assert sum(found) == 2  # two weeks, once each
    clock.now += timedelta(days=200)  # past the window: the bank takes no more returns
    with container.uow() as uow:
        assert all(scheduling.sweep_late_returns(uow, clock() + timedelta(days=d), 35, 180) == 0 for d in range(7))


def test_a_cancelled_or_returned_transfer_says_why_even_when_the_bank_gave_no_cause(stack):
    container, client = stack
    for estado, status, reason in (("CN", TransferStatus.CANCELLED, "cancelled by the bank (no cause given)"),
                                   ("D", TransferStatus.REJECTED, "returned by the bank (no cause given)")):
        order = order_sent(container, 3_000_000 + len(estado))
        assert post(client, {"id": order.bank_order_id, "folioOrigen": order.tracking_key,
                             "estado": estado}).status_code == 200
        with container.uow() as uow:
            event_id = uow.session.execute(select(bank_events.c.id).where(
                bank_events.c.folio_origen == order.tracking_key)).scalar_one()
        assert process(container, event_id, BankShows(estado)) == "applied"
        transfer = reload(container, order.id)[1]
        assert (transfer.status, transfer.status_reason) == (status, reason)


def test_money_back_from_a_return_waits_for_the_stores_next_period(stack, clock):
    """The audit saw a returned transfer's money go out again two seconds later, re-fired by a sweep.
    It waits for the store's next period now: no sweep makes a transfer of it."""
    container, _ = stack
    order = order_sent(container, 4_000_001, disbursement_mode="daily")
    store_id = reload(container, order.id)[1].store_id
    with container.uow() as uow:
        bank_outcomes.apply_outcome(uow, order.id, stp.OrderOutcome.LIQUIDATED, 4_000_001)
        uow.commit()
    with container.uow() as uow:
        bank_outcomes.apply_outcome(uow, order.id, stp.OrderOutcome.RETURNED, 4_000_001, "Cuenta cancelada")
        uow.commit()
    for _ in range(4):
        clock.now += timedelta(minutes=20)
        with container.uow() as uow:
            scheduling.sweep_stuck_work(uow, clock(), timedelta(minutes=15))
            scheduling.sweep_missed_periods(uow, clock(), timedelta(minutes=15), 48)
            sweep(container, clock)
            uow.commit()
    assert outbox_rows(container, "create_transfer") == []
    with container.uow() as uow:
        transfers = list(uow.session.scalars(select(BankTransfer).where(BankTransfer.store_id == store_id)))
    assert [t.status for t in transfers] == [TransferStatus.REJECTED]
    with container.uow() as uow:  # the next day's period pays it
        assert ledger.evaluate_trigger(uow, store_id, "daily:2026-11-24", container.payout_config) == "transfer"
        uow.commit()


def test_a_transfer_request_that_cannot_be_decided_is_given_up_after_a_day_with_an_alert(stack, clock):
    container, _ = stack
    order = order_sent(container, 5_000_001)
    store_id = reload(container, order.id)[1].store_id
    with container.uow() as uow:
        key = ledger.request_transfer(uow, store_id)
        uow.commit()
    redriven = 0
    for _ in range(30):  # its message dies every time: re-driven each hour, for a day
        clock.now += timedelta(hours=1)
        with container.uow() as uow:
            redriven += scheduling.sweep_stuck_work(uow, clock(), timedelta(minutes=15))["transfer_requests"]
            uow.commit()
    assert 20 <= redriven <= 24
    with container.uow() as uow:
        outcome, reason = uow.session.execute(select(trigger_evaluations.c.outcome, trigger_evaluations.c.reason)
                                              .where(trigger_evaluations.c.period_key == key)).one()
    assert outcome == "skipped" and "within a day" in reason
    assert alerts(container, "transfer_request_abandoned") == 1
