"""Bank actors: payment orders out, the bank's callbacks in, and the day's reconciliation."""
from __future__ import annotations

from actors.runtime import container
from usecases import bank_events, payouts, reconciliation


def pay_transfer(transfer_id: int) -> None:
    c = container()
    with c.uow() as uow:
        payouts.pay_transfer(uow, transfer_id, c.payout_config)
        uow.commit()


def send_payment_order(order_id: int) -> None:
    c = container()
    payouts.send_order(c.uow, c.stp_client, order_id, c.payout_config)


def sync_payment_order(order_id: int) -> None:
    c = container()
    payouts.sync_order(c.uow, c.stp_client, order_id, c.payout_config)


def process_bank_event(event_id: int) -> None:
    c = container()
    with c.uow() as uow:
        bank_events.process(uow, event_id, c.payout_config.estados)
        uow.commit()


def reconcile_day(day: str) -> None:
    c = container()
    rows = c.stp_client.day_orders(day)
    with c.uow() as uow:
        reconciliation.reconcile_day(uow, day, rows, c.payout_config.estados)
        uow.commit()
