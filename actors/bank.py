"""Bank actors: payment orders out, the bank's callbacks in, and the day's reconciliation."""
from __future__ import annotations

from typing import Callable

from actors.transaction import Config, UowFactory, in_one_transaction
from adapters.bank.stp_client import StpClient
from usecases import bank_events, bank_outcomes, payouts, reconciliation, sending

BankClient = Callable[[], StpClient]  # built on first use: a process without a signing key never needs one


def pay_transfer(uow: UowFactory, config: Config) -> Callable[..., None]:
    return in_one_transaction(uow, lambda u, transfer_id: payouts.pay_transfer(u, transfer_id, config()))


def send_payment_order(uow: UowFactory, client: BankClient, config: Config) -> Callable[[str | int], None]:
    def send_payment_order(uetr: str | int) -> None:
        sending.send_order(uow, client(), uetr, config())
    return send_payment_order


def sync_payment_order(uow: UowFactory, client: BankClient, config: Config) -> Callable[[str | int], None]:
    def sync_payment_order(uetr: str | int) -> None:
        bank_outcomes.sync_order(uow, client(), uetr, config())
    return sync_payment_order


def process_bank_event(uow: UowFactory, config: Config) -> Callable[..., None]:
    return in_one_transaction(uow, lambda u, event_id: bank_events.process(u, event_id, config().estados))


def confirm_bank_event(uow: UowFactory, client: BankClient, config: Config) -> Callable[[int], None]:
    def confirm_bank_event(event_id: int) -> None:
        bank_events.confirm(uow, client(), event_id, config())
    return confirm_bank_event


def reconcile_day(uow: UowFactory, client: BankClient, config: Config) -> Callable[[str], None]:
    def reconcile_day(day: str) -> None:
        rows = client().day_orders(day)
        with uow() as u:
            reconciliation.reconcile_day(u, day, rows, config().estados)
            u.commit()
    return reconcile_day
