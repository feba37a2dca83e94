"""Every step's actor name, queue and business key: what the outbox addresses and the workers consume.

Operations scale workers per queue group (``dramatiq workers.main --queues bank``).
"""
from domain.messages import Step

CONTRIBUTE = Step("contribute", "ledger")                                # credit id
CANCEL_CREDIT = Step("cancel_credit", "ledger")                          # credit id
EVALUATE_TRIGGER = Step("evaluate_trigger", "ledger", key_args=2)        # store id, period key
CREATE_TRANSFER = Step("create_transfer", "ledger", key_args=2)          # store id, manual key
UPDATE_MONTHLY_COMMISSIONS = Step("update_monthly_commissions", "ledger", key_args=2)  # merchant, month
PAY_TRANSFER = Step("pay_transfer", "bank")                              # transfer id
BATCH, UETR = "batch_id", "uetr"  # what the log lines of a step's work carry
SEND_PAYMENT_ORDER = Step("send_payment_order", "bank", about=UETR)      # the order's UETR
SYNC_PAYMENT_ORDER = Step("sync_payment_order", "bank", about=UETR)      # the order's UETR
PROCESS_BANK_EVENT = Step("process_bank_event", "bank")                  # bank event id
CONFIRM_BANK_EVENT = Step("confirm_bank_event", "bank")                  # bank event id (sent again by the sweep)
RECONCILE_DAY = Step("reconcile_day", "bank")                            # operation date
DRAIN_DEAD_LETTERS = Step("drain_dead_letters", "ops", key_args=0)       # sent again on each occasion
CHECK_LEDGER = Step("check_ledger", "ops", key_args=0)                   # sent again each day
SPLIT_BATCH = Step("split_batch", "bulk", key_args=2, about=BATCH)       # batch id, page of the file
LOOKUP_DATES = Step("lookup_dates", "dates", key_args=2, about=BATCH)    # batch id, the row after which to look
PLAN_BATCH = Step("plan_batch", "bulk", about=BATCH)                     # batch id
EXECUTE_SUB_BATCH = Step("execute_sub_batch", "bulk", key_args=2, about=BATCH)  # batch id, sub-batch number
APPLY_CONNECTOR_CALLBACK = Step("apply_connector_callback", "bulk", key_args=2, about=UETR)  # UETR, digest
SYNC_INSTRUCTION = Step("sync_instruction", "bulk", about=UETR)          # UETR (sent again by the sweep)
MERGE_BATCH = Step("merge_batch", "bulk", about=BATCH)                   # batch id
ACKNOWLEDGE_BATCH = Step("acknowledge_batch", "bulk", key_args=2, about=BATCH)  # batch id, progress mark (%)
PROJECT_PAYMENTS = Step("project_payments", "tracking", key_args=0)      # sent again by each transaction
APPLY_REPAYMENT = Step("apply_repayment", "loans")                       # repayment id
MOVE_LOAN = Step("move_loan", "loans", key_args=4)                       # credit id, event, reason, move key
SERVICE_LOANS = Step("service_loans", "loans", key_args=2)               # as-of day, slice (its size follows)
QUEUES = tuple(sorted({step.queue_name for step in (CONTRIBUTE, CANCEL_CREDIT, EVALUATE_TRIGGER, CREATE_TRANSFER,
                                                    UPDATE_MONTHLY_COMMISSIONS, PAY_TRANSFER, SEND_PAYMENT_ORDER,
                                                    SYNC_PAYMENT_ORDER, PROCESS_BANK_EVENT, CONFIRM_BANK_EVENT,
                                                    RECONCILE_DAY,
                                                    DRAIN_DEAD_LETTERS, CHECK_LEDGER, SPLIT_BATCH, LOOKUP_DATES, PLAN_BATCH,
                                                    EXECUTE_SUB_BATCH, APPLY_CONNECTOR_CALLBACK, SYNC_INSTRUCTION, MERGE_BATCH,
                                                    ACKNOWLEDGE_BATCH, PROJECT_PAYMENTS, APPLY_REPAYMENT, MOVE_LOAN,
                                                    SERVICE_LOANS)}))
