"""Builders for the bank tests: a store whose delivered credit became a transfer with its payment order."""
from __future__ import annotations

import itertools

from domain import stp
from domain.ledger import BankTransfer
from domain.payment_orders import PaymentOrder
from tests.factories import validated_store
from usecases import credits as credit_cases, ledger, sending
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
