"""Every step's actor name and queue: what the outbox addresses and the workers consume.

Operations scale workers per queue group (``dramatiq workers.main --queues bank``).
"""
from adapters.db.outbox import Step

CONTRIBUTE = Step("contribute", "ledger")
CANCEL_CREDIT = Step("cancel_credit", "ledger")
EVALUATE_TRIGGER = Step("evaluate_trigger", "ledger")
CREATE_TRANSFER = Step("create_transfer", "ledger")
UPDATE_MONTHLY_COMMISSIONS = Step("update_monthly_commissions", "ledger")
