"""Actors: one step each. Each module's functions take what their step needs and return the step,
bound to it; the composition root (``bootstrap``) declares them on a broker under their step's name."""
from __future__ import annotations

from typing import Any, Callable

from actors import bank, bulk, ledger, loans, ops, repayments, servicing, tracking
from actors.bulk import BulkWiring
from domain.messages import Step
from usecases import steps
from usecases.customers import CustomerRules
from usecases.payouts import PayoutConfig


def bound_steps(uow: Callable[[], Any], client: Callable[[], Any], payout: Callable[[], PayoutConfig],
                dead_letter_queues: Callable[[], Any], sessions: Callable[[], Any],
                wiring: Callable[[], BulkWiring],
                rules: Callable[[], CustomerRules] = CustomerRules) -> list[tuple[Step, Callable[..., None]]]:
    """Every step with its function, bound to the unit of work, the bank client, the payout settings,
    the dead-letter queues, the read sessions, the bulk wiring and the customers' rules of the process that
    declares them."""

    return [
        (steps.CONTRIBUTE, ledger.contribute(uow)),
        (steps.CANCEL_CREDIT, ledger.cancel_credit(uow)),
        (steps.EVALUATE_TRIGGER, ledger.evaluate_trigger(uow, payout)),
        (steps.CREATE_TRANSFER, ledger.create_transfer(uow, payout)),
        (steps.UPDATE_MONTHLY_COMMISSIONS, ledger.update_monthly_commissions(uow)),
        (steps.PAY_TRANSFER, bank.pay_transfer(uow, payout)),
        (steps.SEND_PAYMENT_ORDER, bank.send_payment_order(uow, client, payout)),
        (steps.SYNC_PAYMENT_ORDER, bank.sync_payment_order(uow, client, payout)),
        (steps.PROCESS_BANK_EVENT, bank.process_bank_event(uow, payout)),
        (steps.CONFIRM_BANK_EVENT, bank.confirm_bank_event(uow, client, payout)),
        (steps.RECONCILE_DAY, bank.reconcile_day(uow, client, payout)),
        (steps.DRAIN_DEAD_LETTERS, ops.drain_dead_letters(uow, dead_letter_queues)),
        (steps.CHECK_LEDGER, ops.check_ledger(uow, sessions)),
        (steps.SPLIT_BATCH, bulk.split_batch(uow, wiring)),
        (steps.LOOKUP_DATES, bulk.lookup_dates(uow)),
        (steps.PLAN_BATCH, bulk.plan_batch(uow, wiring)),
        (steps.EXECUTE_SUB_BATCH, bulk.execute_sub_batch(uow, wiring, payout)),
        (steps.APPLY_CONNECTOR_CALLBACK, bulk.apply_connector_callback(uow, wiring)),
        (steps.SYNC_INSTRUCTION, bulk.sync_instruction(uow, wiring)),
        (steps.MERGE_BATCH, bulk.merge_batch(uow)),
        (steps.ACKNOWLEDGE_BATCH, bulk.acknowledge_batch(uow, wiring)),
        (steps.PROJECT_PAYMENTS, tracking.project_payments(uow)),
        (steps.APPLY_REPAYMENT, repayments.apply_repayment(uow, rules)),
        (steps.MOVE_LOAN, loans.move_loan(uow, rules)),
        (steps.SERVICE_LOANS, servicing.service_loans(uow, lambda: rules().default_dpd)),
    ]

