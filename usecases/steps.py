"""Every step's actor name and queue: what the outbox addresses and the workers consume.

Operations scale workers per queue group (``dramatiq workers.main --queues bank``).
"""
from adapters.db.outbox import Step

CONTRIBUTE = Step("contribute", "ledger")
CANCEL_CREDIT = Step("cancel_credit", "ledger")
EVALUATE_TRIGGER = Step("evaluate_trigger", "ledger")
CREATE_TRANSFER = Step("create_transfer", "ledger")
UPDATE_MONTHLY_COMMISSIONS = Step("update_monthly_commissions", "ledger")
PAY_TRANSFER = Step("pay_transfer", "bank")
SEND_PAYMENT_ORDER = Step("send_payment_order", "bank")
SYNC_PAYMENT_ORDER = Step("sync_payment_order", "bank")
PROCESS_BANK_EVENT = Step("process_bank_event", "bank")
RECONCILE_DAY = Step("reconcile_day", "bank")
