"""Builders for the bank tests: a store whose delivered credit became a transfer with its payment order."""
from __future__ import annotations

import itertools
from typing import Any

from adapters.bank.stp_client import FoundOrder
from domain import stp
from domain.bank_events import BankEventStatus
from domain.ledger import BankTransfer
from domain.payment_orders import PaymentOrder
from tests.factories import validated_store
from usecases import bank_events, credits as credit_cases, ledger, sending
from bootstrap import Container

_credit_numbers = itertools.count(1)


def order_in_sending(container: Container, amount: int = 1_000_00, **store_fields) -> PaymentOrder:
    """A store's delivered credit, its transfer in Sending and the transfer's payment order (created)."""
    with container.uow() as uow:
        store_id = validated_store(uow, **{"disbursement_mode": "instant", **store_fields})
        credit = credit_cases.originate(uow, store_id, f"C-{next(_credit_numbers)}", amount, 3)
        credit_cases.deliver(uow, credit.id)
        uow.commit()
    with container.uow() as uow:
        ledger.contribute(uow, credit.id)
        transfer = ledger.create_transfer(uow, store_id, "manual:test", container.payout_config)
        order = uow.orders.of_transfer(transfer.id)
        uow.commit()
    return order


def begin_send(container: Container, order: PaymentOrder) -> None:
    """The send step committed Sending (and then, say, the process died)."""
    with container.uow() as uow:
        sending.begin_send(uow, order.id, container.payout_config)
        uow.commit()


def order_sent(container: Container, bank_order_id: int, **store_fields) -> PaymentOrder:
    """As above, then handed to the bank, which accepted it with ``bank_order_id``."""
    order = order_in_sending(container, **store_fields)
    begin_send(container, order)
    with container.uow() as uow:
        sending.record_registration(uow, order.id, stp.RegistrationAnswer(bank_order_id, None))
        uow.commit()
    return reload(container, order.id)[0]


def reload(container: Container, order_id: int) -> tuple[PaymentOrder, BankTransfer]:
    with container.uow() as uow:
        order = uow.session.get(PaymentOrder, order_id)
        return order, uow.session.get(BankTransfer, order.bank_transfer_id)


class BankShows:
    """consultaOrden as a test sets it: the bank shows every order asked about with this estado (and
    these fields); ``asked`` keeps the tracking keys asked about."""

    def __init__(self, estado: str, bank_order_id: int | None = None, **fields: Any):
        self.estado, self.bank_order_id, self.fields, self.asked = estado, bank_order_id, fields, []

    def query(self, tracking_key: str, operation_date: str = "") -> FoundOrder:
        self.asked.append(tracking_key)
        return FoundOrder(self.bank_order_id, self.estado, dict(self.fields, estado=self.estado))


def process_event(container: Container, event_id: int, bank: BankShows | None = None) -> str:
    """The status step on a stored callback, then (when it waits for the bank's word and a bank is given)
    the confirmation step asking ``bank``: the event's status after them."""
    with container.uow() as uow:
        status = bank_events.process(uow, event_id, container.payout_config.estados)
        uow.commit()
    if status == BankEventStatus.CONFIRMING and bank is not None:
        status = bank_events.confirm(container.uow, bank, event_id, container.payout_config)  # type: ignore[arg-type]
    return str(status.value)
