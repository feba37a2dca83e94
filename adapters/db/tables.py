"""The schema, and the imperative mapping of domain classes onto it (domain stays unaware)."""
from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import (
    JSON, BigInteger, Boolean, CheckConstraint, Column, Date, ForeignKey, Index, Integer, MetaData, String, Table, Text, Time,
    UniqueConstraint,
)
from sqlalchemy import Enum as SAEnum, false
from sqlalchemy import event
from sqlalchemy.orm import registry, relationship

from adapters.db.types import DecimalText, Sealed, SealedFields, UtcDateTime, case_sensitive
from adapters.sealing import Bound
from domain.sealed import RefusedValue
from domain.credits import CancellationReason, Credit, CreditStatus
from domain.customers import (
    REASON_LENGTH as CUSTOMER_REASON_LENGTH, Customer, CustomerEvent, CustomerStatus, RiskProfile, StatusMove,
)
from domain.ledger import (
    REASON_LENGTH, BalanceUpdate, BalanceUpdateStatus, BalanceUpdateStatusChange, BalanceUpdateType, BankTransfer,
    TransferStatus, TransferStatusChange,
)
from domain.money import MAX_MINOR
from domain.wallets import WithdrawalStatus
from domain.payment_orders import PaymentOrder, PaymentOrderStatus, PaymentOrderStatusChange, PaymentSource
from domain.merchants import CommissionTierRow, Merchant, MerchantStatus, OfferStatus, PaymentOption, Store
from domain.products import PaymentFrequency, Product, ProductStatus
from domain.loan_balances import InterestState
from domain.loans import DETAIL_LENGTH as LOAN_DETAIL_LENGTH, LoanEvent
from domain.loan_requests import LoanRequest, LoanRequestStatus
from domain.repayments import PaymentChannel, PaymentStatus, PrePaymentStatus, ReversalReason
from domain.bank_events import BankEvent, BankEventStatus
from domain.batches import BatchStatus, InstructionStatus
from domain.connectors import Connector
from domain.sub_batches import SubBatchStatus
from domain.dual_control import EMAIL_LENGTH, AdjustmentRequest, AdjustmentStatus
from domain.dead_letters import ERROR_LENGTH, DeadLetter, DeadLetterEvent, DeadLetterEventKind, DeadLetterStatus
from domain.commission import CommissionUpdate
from domain.schedules import DEFAULT_TIMEZONE, DisbursementMode
from domain.triggers import EvaluationOutcome, TriggerEvaluation

metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
})
ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER PRIMARY KEY only


def enum_of(cls: type[enum.Enum], length: int = 32) -> SAEnum:
    return SAEnum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e],
                  validate_strings=True, create_constraint=False)


def pk() -> Column[Any]:
    return Column("id", ID, primary_key=True, autoincrement=True)


merchants = Table(
    "merchants", metadata, pk(),
    Column("name", String(200), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("tax_rate", DecimalText, nullable=False),
    Column("timezone", String(64), nullable=False, server_default=DEFAULT_TIMEZONE),
    Column("status", enum_of(MerchantStatus), nullable=False),
    Column("validated", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime, nullable=False),
)

commission_tiers = Table(
    "commission_tiers", metadata, pk(),
    Column("merchant_id", ID, ForeignKey("merchants.id"), nullable=False),
    Column("min_origination", BigInteger, nullable=False),
    Column("commission_rate", DecimalText, nullable=False),
    UniqueConstraint("merchant_id", "min_origination"),
)

stores = Table(
    "stores", metadata, pk(),
    Column("merchant_id", ID, ForeignKey("merchants.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("clabe", Sealed("stores", "clabe"), nullable=False),  # sealed at rest, as every payee account and name
    Column("beneficiary_name", Sealed("stores", "beneficiary_name"), nullable=False),
    Column("rfc_curp", String(18), nullable=False, default=""),
    Column("currency", String(3), nullable=False),
    Column("disbursement_mode", enum_of(DisbursementMode), nullable=False),
    Column("time_of_day", Time, nullable=False),
    Column("weekday", Integer, nullable=False),
    Column("day_of_month", Integer, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("minimum_transfer", BigInteger, nullable=False),
    Column("automation_enabled", Boolean, nullable=False),
    Column("requires_confirmation", Boolean, nullable=False),
    Column("validated", Boolean, nullable=False),
    Column("validated_clabe", Sealed("stores", "validated_clabe")),
    Column("validated_beneficiary_name", Sealed("stores", "validated_beneficiary_name")),
    Column("validated_rfc_curp", String(18)),
    Column("balance", BigInteger, nullable=False, default=0),
    Column("last_sequence", BigInteger, nullable=False, default=0),
    Column("created_at", UtcDateTime, nullable=False),
    # dual control: who changed the payout fields since the last validation (another person validates), and
    # who changed the account since its last approved payout (another person approves the next one)
    Column("details_changed_by_id", ID),
    Column("new_details_by_id", ID),
)

products = Table(
    "products", metadata, pk(),
    Column("name", String(200), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("payment_frequency", enum_of(PaymentFrequency), nullable=False),
    Column("status", enum_of(ProductStatus), nullable=False),
    Column("default_for_currency", String(3), unique=True),  # the one default product of a currency
    Column("created_at", UtcDateTime, nullable=False),
)

payment_options = Table(
    "payment_options", metadata, pk(),
    Column("product_id", ID, ForeignKey("products.id"), nullable=False, index=True),
    Column("status", enum_of(OfferStatus), nullable=False),
    Column("store_id", ID, ForeignKey("stores.id"), nullable=False, index=True),
    Column("merchant_id", ID, ForeignKey("merchants.id"), nullable=False),
    Column("number_of_payments", Integer, nullable=False),
    Column("a0_interest_rate", DecimalText, nullable=False),
    Column("c3_interest_rate", DecimalText, nullable=False),
    Column("discount_percentage", DecimalText, nullable=False),
    Column("merchant_commission", DecimalText, nullable=False),
    Column("first_payment_month_shift", Integer, nullable=False),
    Column("starting_time", UtcDateTime),
    Column("ending_time", UtcDateTime),
    Column("priority", Integer, nullable=False),
    Column("identifier_code", String(64), nullable=False),
    Column("min_amount", BigInteger, nullable=False),
    Column("max_amount", BigInteger, nullable=False),
    Column("type", String(32), nullable=False),
    Column("is_promo", Boolean, nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("can_commission_be_auto_updated", Boolean, nullable=False),
    Column("is_in_trial_period", Boolean, nullable=False),
    Column("trial_commission", DecimalText),
    Column("end_of_trial_period", UtcDateTime),
    Column("validated", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

credits = Table(
    "credits", metadata, pk(),
    Column("external_id", case_sensitive(64), nullable=False, unique=True),
    Column("merchant_id", ID, ForeignKey("merchants.id"), nullable=False),
    Column("store_id", ID, ForeignKey("stores.id"), nullable=False, index=True),
    Column("payment_option_id", ID, ForeignKey("payment_options.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("number_of_payments", Integer, nullable=False),
    Column("commission_rate", DecimalText, nullable=False),
    Column("tax_rate", DecimalText, nullable=False),
    Column("commission", BigInteger, nullable=False),
    Column("tax", BigInteger, nullable=False),
    Column("contribution", BigInteger, nullable=False),
    Column("status", enum_of(CreditStatus), nullable=False),
    Column("cancellation_reason", enum_of(CancellationReason)),
    Column("signed_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime),
    Column("cancelled_at", UtcDateTime),
    Column("disbursed", Boolean, nullable=False, default=False),
    # the customer's side of the credit (seed 004's loan), fixed at signature; NULL for a credit originated
    # without a customer
    Column("customer_id", ID, ForeignKey("customers.id")),
    Column("product_id", ID, ForeignKey("products.id")),
    Column("risk_profile", enum_of(RiskProfile, 2)),
    Column("annual_rate", DecimalText),
    Column("payment_frequency", enum_of(PaymentFrequency)),
    Column("grace_months", Integer),
    Column("status_on", Date),
    Column("serviced_on", Date),
    Column("days_past_due", Integer, nullable=False, server_default="0"),
    Index("ix_credits_merchant_signed", "merchant_id", "signed_at"),
    Index("ix_credits_customer_id_days_past_due", "customer_id", "days_past_due"),
)

# A loan's schedule, fixed at signature (principal, interest, scheduled_on), and where each installment stands:
# its due date after freezes, what was paid of it and what became of its interest (domain.loan_balances).
loan_installments = Table(
    "loan_installments", metadata, pk(),
    Column("credit_id", ID, ForeignKey("credits.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("scheduled_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("principal", BigInteger, nullable=False),
    Column("interest", BigInteger, nullable=False),
    Column("principal_paid", BigInteger, nullable=False, server_default="0"),
    Column("interest_paid", BigInteger, nullable=False, server_default="0"),
    Column("interest_state", enum_of(InterestState, 16), nullable=False),
    UniqueConstraint("credit_id", "number"),
    Index("ix_loan_installments_interest_state_due_on", "interest_state", "due_on"),
    Index("ix_loan_installments_due_on_credit_id", "due_on", "credit_id"),  # the servicing run's day
    CheckConstraint("principal >= 0 AND interest >= 0 AND principal_paid >= 0 AND interest_paid >= 0 "
                    "AND principal_paid <= principal AND interest_paid <= interest", name="paid_within"),
)

# Every move of a loan's status, on the business day it takes effect; ``move_key`` makes a step that moves
# it idempotent (one move per key).
loan_status_history = Table(
    "loan_status_history", metadata, pk(),
    Column("credit_id", ID, ForeignKey("credits.id"), nullable=False, index=True),
    Column("event", enum_of(LoanEvent), nullable=False),
    Column("from_status", enum_of(CreditStatus), nullable=False),
    Column("to_status", enum_of(CreditStatus), nullable=False),
    Column("on", Date, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("reason", enum_of(CancellationReason)),
    Column("actor", String(64)),
    Column("detail", String(LOAN_DETAIL_LENGTH)),
    Column("move_key", case_sensitive(64), unique=True),
)

# When a product was inactive: its loans charge no interest falling due then.
product_status_history = Table(
    "product_status_history", metadata, pk(),
    Column("product_id", ID, ForeignKey("products.id"), nullable=False, index=True),
    Column("status", enum_of(ProductStatus), nullable=False),
    Column("on", Date, nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

# Pre-loans (seed 004): a customer's request at a store, pending until rejected or completed; completing
# signs the credit (credit_id).
loan_requests = Table(
    "loan_requests", metadata, pk(),
    Column("lender", String(32), nullable=False),
    Column("external_id", case_sensitive(64), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False, index=True),
    Column("store_id", ID, ForeignKey("stores.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("number_of_payments", Integer, nullable=False),
    Column("status", enum_of(LoanRequestStatus), nullable=False),
    Column("rejection", String(LOAN_DETAIL_LENGTH)),
    Column("credit_id", ID, ForeignKey("credits.id"), unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("decided_at", UtcDateTime),
    UniqueConstraint("lender", "external_id"),
)

# Pre-payments and payments (seed 004): pending until rejected or completed; a completed one is accepted and
# applied (repayment_allocations), and may later be reversed.
repayments = Table(
    "repayments", metadata, pk(),
    Column("lender", String(32), nullable=False),
    Column("external_id", case_sensitive(64), nullable=False),
    Column("credit_id", ID, ForeignKey("credits.id"), nullable=False, index=True),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("channel", enum_of(PaymentChannel, 16), nullable=False),
    Column("recorded_by_operator", Boolean, nullable=False),  # paid outside the platform, recorded by a person
    Column("status", enum_of(PrePaymentStatus, 16), nullable=False),
    Column("payment_status", enum_of(PaymentStatus, 16)),
    Column("rejection", String(LOAN_DETAIL_LENGTH)),
    Column("accepted_on", Date),
    Column("reversed_on", Date),
    Column("reversal_reason", enum_of(ReversalReason)),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("decided_at", UtcDateTime),
    Column("reversed_at", UtcDateTime),
    UniqueConstraint("lender", "external_id"),
    CheckConstraint(f"amount > 0 AND amount <= {MAX_MINOR}", name="amount_bound"),
)

repayment_allocations = Table(
    "repayment_allocations", metadata, pk(),
    Column("repayment_id", ID, ForeignKey("repayments.id"), nullable=False),
    Column("credit_id", ID, ForeignKey("credits.id"), nullable=False, index=True),
    Column("installment", Integer, nullable=False),
    Column("interest", BigInteger, nullable=False),
    Column("principal", BigInteger, nullable=False),
    UniqueConstraint("repayment_id", "installment"),
    CheckConstraint("interest >= 0 AND principal >= 0", name="parts_not_negative"),
)

repayment_status_history = Table(
    "repayment_status_history", metadata, pk(),
    Column("repayment_id", ID, ForeignKey("repayments.id"), nullable=False, index=True),
    Column("from_status", String(16)),
    Column("to_status", String(16), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("detail", String(LOAN_DETAIL_LENGTH)),
)

# The daily servicing run, one row per business day and slice of loans: a slice done is not done again.
loan_servicing_runs = Table(
    "loan_servicing_runs", metadata, pk(),
    Column("as_of", Date, nullable=False),
    Column("slice", Integer, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("milliseconds", Integer, nullable=False),
    Column("loans", Integer, nullable=False),
    Column("fell_due", Integer, nullable=False),
    Column("late", Integer, nullable=False),
    UniqueConstraint("as_of", "slice"),
)

bank_transfers = Table(
    "bank_transfers", metadata, pk(),
    Column("store_id", ID, ForeignKey("stores.id"), nullable=False),
    Column("status", enum_of(TransferStatus), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("trigger_key", String(64), nullable=False),
    Column("requires_confirmation", Boolean, nullable=False),
    Column("returned_after_applied", Boolean, nullable=False, default=False),
    Column("status_reason", String(REASON_LENGTH)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime),
    Column("approval_reason", String(255)),  # why it waits for treasury's approval
    Column("barred_approver_id", ID),  # the person who may not approve it (changed the details, asked for it)
    Column("approved_by_id", ID),
    UniqueConstraint("store_id", "trigger_key"),
    Index("ix_bank_transfers_status_updated", "status", "updated_at"),
)

balance_updates = Table(
    "balance_updates", metadata, pk(),
    Column("store_id", ID, ForeignKey("stores.id"), nullable=False),
    Column("type", enum_of(BalanceUpdateType), nullable=False),
    Column("status", enum_of(BalanceUpdateStatus), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("previous_balance", BigInteger, nullable=False),
    Column("new_balance", BigInteger, nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("credit_id", ID, ForeignKey("credits.id")),
    Column("bank_transfer_id", ID, ForeignKey("bank_transfers.id")),
    Column("admin_creator_id", ID),
    Column("note", String(255)),
    Column("overwritten", Boolean, nullable=False, default=False),
    Column("overwritten_by_id", ID, ForeignKey("balance_updates.id")),
    Column("idempotency_key", case_sensitive(80), unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("store_id", "sequence"),
    # Business keys that make the actors idempotent: one contribution and one
    # cancellation per credit, one disbursement and one override per transfer.
    UniqueConstraint("credit_id", "type"),
    UniqueConstraint("bank_transfer_id", "type"),
    Index("ix_balance_updates_store_status", "store_id", "status"),
)

bank_transfer_items = Table(
    "bank_transfer_items", metadata,
    Column("bank_transfer_id", ID, ForeignKey("bank_transfers.id"), primary_key=True),
    Column("balance_update_id", ID, ForeignKey("balance_updates.id"), primary_key=True),
)

balance_update_status_history = Table(
    "balance_update_status_history", metadata, pk(),
    Column("balance_update_id", ID, ForeignKey("balance_updates.id"), nullable=False, index=True),
    Column("previous_status", enum_of(BalanceUpdateStatus)),
    Column("status", enum_of(BalanceUpdateStatus), nullable=False),
    Column("at", UtcDateTime, nullable=False),
)

bank_transfer_status_history = Table(
    "bank_transfer_status_history", metadata, pk(),
    Column("bank_transfer_id", ID, ForeignKey("bank_transfers.id"), nullable=False, index=True),
    Column("previous_status", enum_of(TransferStatus)),
    Column("status", enum_of(TransferStatus), nullable=False),
    Column("reason", String(REASON_LENGTH)),
    Column("at", UtcDateTime, nullable=False),
)

trigger_evaluations = Table(
    "trigger_evaluations", metadata, pk(),
    Column("store_id", ID, ForeignKey("stores.id"), nullable=False),
    Column("period_key", String(64), nullable=False),
    Column("due_at", UtcDateTime),
    Column("evaluated_at", UtcDateTime, nullable=False),
    Column("outcome", enum_of(EvaluationOutcome), nullable=False),
    Column("reason", String(255), nullable=False),
    Column("pending_total", BigInteger, nullable=False),
    Column("bank_transfer_id", ID, ForeignKey("bank_transfers.id")),
    Column("requested_by_id", ID),  # the person who asked for a transfer now
    UniqueConstraint("store_id", "period_key"),
    Index("ix_trigger_evaluations_store_due", "store_id", "due_at"),
)

commission_updates = Table(
    "commission_updates", metadata, pk(),
    Column("merchant_id", ID, ForeignKey("merchants.id"), nullable=False),
    Column("month", String(7), nullable=False),
    Column("origination", BigInteger, nullable=False),
    Column("commission_rate", DecimalText),
    Column("options_updated", Integer, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    UniqueConstraint("merchant_id", "month"),
)

outbox = Table(
    "outbox", metadata, pk(),
    Column("message_id", String(36), nullable=False, unique=True),
    Column("queue_name", String(64), nullable=False),
    Column("actor_name", String(64), nullable=False),
    Column("args", JSON, nullable=False),
    Column("dedupe_key", String(160), unique=True),
    Column("delay_ms", Integer),
    Column("created_at", UtcDateTime, nullable=False),
    Column("published_at", UtcDateTime),
    Index("ix_outbox_published_at", "published_at", "id"),
)

event_log = Table(
    "event_log", metadata, pk(),
    Column("at", UtcDateTime, nullable=False),
    Column("level", String(10), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("merchant_id", ID),
    Column("store_id", ID),
    Column("credit_id", ID),
    Column("bank_transfer_id", ID),
    Column("reference", String(80)),
    Column("details", JSON),
    Index("ix_event_log_kind_at", "kind", "at"),
    Index("ix_event_log_level_at", "level", "at"),
    Index("ix_event_log_store_id", "store_id", "id"),
)

tenants = Table(
    "tenants", metadata, pk(),
    Column("name", String(64), nullable=False, unique=True),
    Column("config", JSON, nullable=False),
    Column("secret", String(64), nullable=False),  # signs acknowledgement callbacks (HMAC-SHA256)
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

batches = Table(
    "batches", metadata, pk(),
    Column("batch_id", String(36), nullable=False, unique=True),
    Column("tenant_id", ID, ForeignKey("tenants.id"), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("filename", String(255), nullable=False, default=""),
    Column("purpose", String(64), nullable=False, default=""),
    Column("callback_url", String(1024)),
    Column("source", String(8), nullable=False),  # csv or raw
    Column("stored_at", String(255), nullable=False),  # where the upload is kept
    Column("status", enum_of(BatchStatus), nullable=False),
    Column("reason", String(512)),
    Column("rows", Integer, nullable=False, default=0),
    Column("submitted_by_key_id", ID),
    Column("approved_by_key_id", ID),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime),
    Column("size_bytes", BigInteger, nullable=False, server_default="0"),
    Column("split_page", Integer, nullable=False, server_default="0"),  # the next page of the file to split
    Column("split_offset", BigInteger, nullable=False, server_default="0"),  # where that page starts (bytes)
    Column("settled", Integer, nullable=False, server_default="0"),  # rows with a final status
    Column("sub_batch_count", Integer, nullable=False, server_default="0"),
    Column("acknowledged", Integer, nullable=False, server_default="0"),  # the last progress acknowledged (%)
    Column("date_type", String(16)),  # delivery or execution: the file's dates, when the tenant uses them
    Column("dated_rows", Integer, nullable=False, server_default="0"),  # rows whose dates were looked up
    # sub-batches running at once, fixed when the batch is planned (DISPERSA_BULK_PARALLEL_SUB_BATCHES then)
    Column("parallel_sub_batches", Integer, nullable=False, server_default="2"),
    Column("acknowledgements_given_up_at", UtcDateTime),  # its X-CallbackURL refused or kept failing
    UniqueConstraint("tenant_id", "request_id"),
    Index("ix_batches_tenant_created", "tenant_id", "created_at"),
)

sub_batches = Table(
    "sub_batches", metadata, pk(),
    Column("batch_pk", ID, ForeignKey("batches.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("payment_mode", String(32), nullable=False),
    Column("connector", enum_of(Connector, length=16)),
    Column("rows", Integer, nullable=False),
    Column("status", enum_of(SubBatchStatus), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime),
    Column("completed_at", UtcDateTime),
    UniqueConstraint("batch_pk", "number"),
)

instructions = Table(
    "instructions", metadata, pk(),
    Column("batch_pk", ID, ForeignKey("batches.id"), nullable=False),
    Column("row", Integer, nullable=False),
    Column("sub_batch", Integer),
    Column("instruction_id", String(48), nullable=False, unique=True),
    Column("fields", SealedFields("instructions", "fields"), nullable=False),  # the row as written, for the result file (parties sealed)
    Column("payment_mode", String(32), nullable=False),
    Column("connector", enum_of(Connector, length=16)),
    Column("payee_identifier", Sealed("instructions", "payee_identifier", "uetr"), nullable=False),
    Column("amount", BigInteger),
    Column("currency", String(3), nullable=False, default=""),
    Column("status", enum_of(InstructionStatus, length=16), nullable=False),
    Column("error_code", String(32)),
    Column("error_description", String(512)),
    Column("connector_reference", String(64)),
    Column("payment_order_id", ID, ForeignKey("payment_orders.id")),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("uetr", String(36), nullable=False, unique=True),
    Column("dedupe_key", String(64)),  # payable rows only, when deduplication is on
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("position", Integer),  # where the row comes in its payment mode's order (the ordering stage)
    Column("rail", String(8)),  # the calendar its dates follow (SPEI, SEPA, SWIFT, FPS)
    Column("requested_date", Date),  # the date its file gave
    Column("execution_date", Date),  # sent on (held until then)
    Column("delivery_date", Date),  # arrives on
    Column("started_at", UtcDateTime),
    Column("completed_at", UtcDateTime),
    UniqueConstraint("batch_pk", "row"),
    Index("ix_instructions_batch_sub_batch", "batch_pk", "sub_batch"),
    Index("ix_instructions_batch_status", "batch_pk", "status"),
    Index("ix_instructions_batch_pk_dedupe_key", "batch_pk", "dedupe_key"),
    Index("ix_instructions_sub_batch_status", "batch_pk", "sub_batch", "status", "position"),
)

wallets = Table(
    "wallets", metadata, pk(),
    Column("tenant_id", ID, ForeignKey("tenants.id"), nullable=False),
    Column("owner", Sealed("wallets", "owner", "owner_digest"), nullable=False),  # a payee's account in the closed loop (or the tenant's name)
    Column("owner_digest", String(64), nullable=False),  # found by this: the owner's HMAC (adapters.sealing)
    Column("currency", String(3), nullable=False),
    Column("balance", BigInteger, nullable=False, default=0),
    Column("created_at", UtcDateTime, nullable=False),
    # the tenant's outside account (owner ``outside``): fundings come out of it, so it alone goes below zero
    Column("outside", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("tenant_id", "owner_digest", "currency"),
    CheckConstraint("balance >= 0 OR outside", name="balance_not_below_zero"),
    CheckConstraint(f"balance BETWEEN -{MAX_MINOR} AND {MAX_MINOR}", name="balance_within_bound"),
)

wallet_entries = Table(
    "wallet_entries", metadata, pk(),
    Column("debit_wallet_id", ID, ForeignKey("wallets.id"), nullable=False),  # a funding: the outside account
    Column("credit_wallet_id", ID, ForeignKey("wallets.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reference", String(128), nullable=False, unique=True),  # one entry per instruction or funding
    Column("at", UtcDateTime, nullable=False),
    CheckConstraint(f"amount BETWEEN 1 AND {MAX_MINOR}", name="amount_positive"),
    CheckConstraint("debit_wallet_id <> credit_wallet_id", name="two_wallets"),
)

wallet_withdrawals = Table(
    "wallet_withdrawals", metadata, pk(),
    Column("tenant_id", ID, ForeignKey("tenants.id"), nullable=False),
    Column("wallet_id", ID, ForeignKey("wallets.id"), nullable=False),
    Column("reference", String(64), nullable=False),  # the client's idempotency key: one withdrawal each
    Column("request_sha256", String(64), nullable=False),  # what was asked, so a repeat asking more is refused
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("uetr", String(36), nullable=False, unique=True),  # its payment order's
    Column("payment_order_id", ID, ForeignKey("payment_orders.id"), unique=True),
    Column("requested_by_key_id", ID),
    Column("created_at", UtcDateTime, nullable=False),
    Column("status", enum_of(WithdrawalStatus), nullable=False),  # above the approval bound it waits
    Column("decided_by_key_id", ID),  # the treasury person's key that approved or rejected it
    UniqueConstraint("tenant_id", "reference"),
    CheckConstraint(f"amount BETWEEN 1 AND {MAX_MINOR}", name="amount_positive"),
)

payment_events = Table(
    "payment_events", metadata, pk(),
    Column("uetr", String(36), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("details", JSON, nullable=False),
    Column("projected", Boolean, nullable=False, server_default=false()),
    Index("ix_payment_events_uetr_id", "uetr", "id"),
    Index("ix_payment_events_projected_id", "projected", "id"),
)

payment_tracking = Table(
    "payment_tracking", metadata, pk(),
    Column("uetr", String(36), nullable=False, unique=True),
    Column("view", JSON, nullable=False),  # the folded events (accounts masked)
    Column("merchant_id", ID),  # whose it is: a partner key sees its merchant's, a tenant key its tenant's
    Column("tenant_id", ID),
    Column("status", String(16), nullable=False),
    Column("last_event_id", ID, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

people = Table(
    "people", metadata, pk(),
    Column("email", String(EMAIL_LENGTH), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
)

adjustment_requests = Table(
    "adjustment_requests", metadata, pk(),
    Column("store_id", ID, ForeignKey("stores.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reason", String(255), nullable=False),
    Column("note", String(255)),
    Column("idempotency_key", case_sensitive(80), unique=True),
    Column("status", enum_of(AdjustmentStatus), nullable=False),
    Column("requested_by_id", ID, ForeignKey("people.id"), nullable=False),
    Column("requested_key_id", ID),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("decided_by_id", ID),
    Column("decided_at", UtcDateTime),
    Column("decision_note", String(255)),
    Column("balance_update_id", ID),
    Index("ix_adjustment_requests_status_store_id", "status", "store_id"),
)

api_keys = Table(
    "api_keys", metadata, pk(),
    Column("person_id", ID, nullable=False),
    Column("prefix", String(12), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("merchant_id", ID, ForeignKey("merchants.id")),
    Column("tenant_id", ID, ForeignKey("tenants.id")),
    Column("label", String(120), nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

audit_log = Table(
    "audit_log", metadata, pk(),
    Column("at", UtcDateTime, nullable=False),
    Column("api_key_id", ID),
    Column("person_id", ID),
    Column("role", String(32), nullable=False),
    Column("action", String(64), nullable=False),
    Column("resource", String(64), nullable=False),
    Column("resource_id", String(64)),
    Column("details", JSON),
)

payment_orders = Table(
    "payment_orders", metadata, pk(),
    Column("uetr", String(36), nullable=False, unique=True),
    Column("tracking_key", String(30), nullable=False, unique=True),
    Column("source", enum_of(PaymentSource), nullable=False),
    Column("bank_transfer_id", ID, ForeignKey("bank_transfers.id"), unique=True),
    Column("status", enum_of(PaymentOrderStatus), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("beneficiary_account", Sealed("payment_orders", "beneficiary_account", "uetr"), nullable=False),
    Column("beneficiary_name", Sealed("payment_orders", "beneficiary_name", "uetr"), nullable=False),
    Column("beneficiary_rfc_curp", String(18), nullable=False),
    Column("beneficiary_institution", String(5), nullable=False),
    Column("concept", String(40), nullable=False),
    Column("numeric_reference", Integer, nullable=False),
    Column("operation_date", String(8), nullable=False),
    Column("bank_order_id", BigInteger, unique=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", String(255)),
    Column("return_cause", String(255)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Column("liquidated_at", UtcDateTime),
    Column("returned_at", UtcDateTime),
    Column("updated_at", UtcDateTime),
    Column("ordering_account", String(18)),  # a tenant's own funding account at STP; ours when null
    Column("ordering_name", String(120)),
    Index("ix_payment_orders_status_updated", "status", "updated_at"),
    Index("ix_payment_orders_operation_date", "operation_date"),
)

payment_order_status_history = Table(
    "payment_order_status_history", metadata, pk(),
    Column("payment_order_id", ID, ForeignKey("payment_orders.id"), nullable=False, index=True),
    Column("previous_status", enum_of(PaymentOrderStatus)),
    Column("status", enum_of(PaymentOrderStatus), nullable=False),
    Column("detail", String(255)),
    Column("at", UtcDateTime, nullable=False),
)

bank_events = Table(
    "bank_events", metadata, pk(),
    Column("body_hash", String(64), nullable=False, unique=True),
    Column("body", JSON, nullable=False),
    Column("estado", String(32), nullable=False),
    Column("bank_order_id", BigInteger),
    Column("folio_origen", String(64)),
    Column("received_at", UtcDateTime, nullable=False),
    Column("status", SAEnum(BankEventStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e],
                            validate_strings=True, create_constraint=False), nullable=False),
    Column("payment_order_id", ID, ForeignKey("payment_orders.id")),
    Column("attempts", Integer, nullable=False, default=0),
    Column("processed_at", UtcDateTime),
    Column("note", String(255)),
    Index("ix_bank_events_status_received", "status", "received_at"),
)

reconciliation_runs = Table(
    "reconciliation_runs", metadata, pk(),
    Column("operation_date", String(8), nullable=False, index=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("bank_orders", Integer, nullable=False),
    Column("ledger_orders", Integer, nullable=False),
    Column("matched", Integer, nullable=False),
    Column("mismatches", Integer, nullable=False),
)

reconciliation_mismatches = Table(
    "reconciliation_mismatches", metadata, pk(),
    Column("run_id", ID, ForeignKey("reconciliation_runs.id"), nullable=False, index=True),
    Column("tracking_key", String(30), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("ours", JSON),
    Column("bank", JSON),
)

dead_letters = Table(
    "dead_letters", metadata, pk(),
    Column("message_id", String(36), nullable=False, unique=True),
    Column("queue_name", String(64), nullable=False),
    Column("actor_name", String(64), nullable=False),
    Column("args", JSON, nullable=False),
    Column("error", String(ERROR_LENGTH), nullable=False),
    Column("traceback", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("deaths", Integer, nullable=False),
    Column("status", enum_of(DeadLetterStatus), nullable=False),
    Column("died_at", UtcDateTime, nullable=False),
    Column("resolved_at", UtcDateTime),
    Column("resolved_by", String(120)),
    Column("resolution", String(255)),
    Index("ix_dead_letters_status_died_at", "status", "died_at"),
)

dead_letter_history = Table(
    "dead_letter_history", metadata, pk(),
    Column("dead_letter_id", ID, ForeignKey("dead_letters.id"), nullable=False, index=True),
    Column("kind", enum_of(DeadLetterEventKind), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("detail", String(ERROR_LENGTH + 400), nullable=False),
    Column("attempts", Integer, nullable=False),
)

ledger_checks = Table(
    "ledger_checks", metadata, pk(),
    Column("started_at", UtcDateTime, nullable=False),
    Column("seconds", Integer, nullable=False),
    Column("stores", Integer, nullable=False),
    Column("balance_updates", BigInteger, nullable=False),
    Column("transfers", BigInteger, nullable=False),
    Column("violations", Integer, nullable=False),
    Column("first_violations", JSON, nullable=False),
    Column("source", String(32), nullable=False),
)

customers = Table(
    "customers", metadata, pk(),
    Column("lender", String(32), nullable=False),  # the scope of external_id: the platform's own for now
    Column("external_id", case_sensitive(64), nullable=False),
    # personal data, sealed at rest and NULL once the customer is deleted (domain.customers.PII_FIELDS)
    Column("first_name", Sealed("customers", "first_name")),
    Column("last_name", Sealed("customers", "last_name")),
    Column("second_last_name", Sealed("customers", "second_last_name")),
    Column("phone", Sealed("customers", "phone")),
    Column("email", Sealed("customers", "email")),
    Column("address", Sealed("customers", "address")),
    Column("national_id", Sealed("customers", "national_id")),
    # found by these: HMACs of the CURP and the e-mail (adapters.sealing), NULL once deleted
    Column("national_id_digest", String(64)),
    Column("email_digest", String(64), index=True),
    Column("risk_profile", enum_of(RiskProfile, 2)),
    Column("score", Integer),
    Column("scored_at", UtcDateTime),
    Column("status", enum_of(CustomerStatus), nullable=False),
    Column("held", Boolean, nullable=False, server_default=false()),
    Column("status_reason", String(CUSTOMER_REASON_LENGTH)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime),
    Column("deleted_at", UtcDateTime),
    UniqueConstraint("lender", "external_id"),
    UniqueConstraint("lender", "national_id_digest"),
)

customer_status_history = Table(
    "customer_status_history", metadata, pk(),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False, index=True),
    Column("event", enum_of(CustomerEvent), nullable=False),
    Column("previous", enum_of(CustomerStatus), nullable=False),
    Column("status", enum_of(CustomerStatus), nullable=False),
    Column("reason", String(CUSTOMER_REASON_LENGTH)),
    Column("at", UtcDateTime, nullable=False),
)

mapper_registry = registry(metadata=metadata)
_mapped = False


def map_domain() -> None:
    """Map the domain's classes onto the tables, once per process."""
    global _mapped
    if _mapped:
        return
    _mapped = True
    m = mapper_registry.map_imperatively
    m(BalanceUpdateStatusChange, balance_update_status_history)
    m(TransferStatusChange, bank_transfer_status_history)
    m(BalanceUpdate, balance_updates, properties={
        "history": relationship(BalanceUpdateStatusChange, order_by=balance_update_status_history.c.id,
                                cascade="all, delete-orphan"),
        "overwritten_by": relationship(BalanceUpdate, remote_side=[balance_updates.c.id],
                                       foreign_keys=[balance_updates.c.overwritten_by_id]),
    })
    m(BankTransfer, bank_transfers, properties={
        "balance_updates": relationship(BalanceUpdate, secondary=bank_transfer_items,
                                        order_by=balance_updates.c.sequence),
        "history": relationship(TransferStatusChange, order_by=bank_transfer_status_history.c.id,
                                cascade="all, delete-orphan"),
    })
    m(Product, products)
    m(PaymentOption, payment_options)
    m(Store, stores, properties={
        "options": relationship(PaymentOption, order_by=payment_options.c.id),
    })
    m(CommissionTierRow, commission_tiers)
    m(Merchant, merchants, properties={
        "stores": relationship(Store, order_by=stores.c.id),
        "tiers": relationship(CommissionTierRow, order_by=commission_tiers.c.min_origination,
                              cascade="all, delete-orphan"),
    })
    m(Credit, credits)
    m(LoanRequest, loan_requests)
    m(TriggerEvaluation, trigger_evaluations)
    m(AdjustmentRequest, adjustment_requests)
    m(CommissionUpdate, commission_updates)
    m(BankEvent, bank_events)
    m(DeadLetterEvent, dead_letter_history)
    m(DeadLetter, dead_letters, properties={
        "history": relationship(DeadLetterEvent, order_by=dead_letter_history.c.id, cascade="all, delete-orphan"),
    })
    m(StatusMove, customer_status_history)
    m(Customer, customers, properties={
        "moves": relationship(StatusMove, order_by=customer_status_history.c.id, cascade="all, delete-orphan"),
    })
    for cls, table in ((Store, stores), (PaymentOrder, payment_orders), (Customer, customers)):
        _bind_sealed_to_rows(cls, table)
    m(PaymentOrderStatusChange, payment_order_status_history)
    m(PaymentOrder, payment_orders, properties={
        "history": relationship(PaymentOrderStatusChange, order_by=payment_order_status_history.c.id,
                                cascade="all, delete-orphan"),
    })


def _bind_sealed_to_rows(cls: type, table: Table) -> None:
    """The mapped class's sealed attributes are written Bound to their row's key. A row whose key is its id
    is not known before its INSERT: its tokens are bound to no row then, and bound to it right after."""
    sealed = [c for c in table.columns if isinstance(c.type, Sealed)]
    row_key = next(c.type.row_key for c in sealed if isinstance(c.type, Sealed))

    def bind(target: Any, key: object) -> None:
        for column in sealed:  # always anew: a value may come Bound from another row (a store's, into its order)
            value = getattr(target, column.name)
            if value is not None and not isinstance(value, RefusedValue):
                setattr(target, column.name, Bound(value, key))

    @event.listens_for(cls, "before_insert")
    def before_insert(mapper: Any, connection: Any, target: Any) -> None:
        bind(target, getattr(target, row_key) if row_key != "id" else "")

    @event.listens_for(cls, "before_update")
    def before_update(mapper: Any, connection: Any, target: Any) -> None:
        bind(target, getattr(target, row_key))

    if row_key == "id":
        @event.listens_for(cls, "after_insert")
        def after_insert(mapper: Any, connection: Any, target: Any) -> None:
            values = {c.name: Bound(getattr(target, c.name), target.id) for c in sealed
                      if getattr(target, c.name) is not None}
            connection.execute(table.update().where(table.c.id == target.id).values(**values))
