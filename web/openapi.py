"""GET /openapi.json: an OpenAPI 3.1 document built from the route table, so it lists exactly what the app serves."""
from __future__ import annotations

import re
from importlib import metadata
from typing import Any, Iterable

import falcon

from domain.access import Role, may
from domain.batches import BatchStatus
from domain.credits import CancellationReason, CreditStatus
from domain.customers import CustomerAction, CustomerEvent, CustomerStatus, RiskProfile
from domain.dead_letters import DeadLetterEventKind, DeadLetterStatus
from domain.dual_control import AdjustmentStatus
from domain.ledger import BalanceUpdateStatus, BalanceUpdateType, TransferStatus
from domain.loan_balances import Bucket, InterestState
from domain.loan_requests import LoanRequestStatus
from domain.loans import LoanEvent
from domain.merchants import MerchantStatus, OfferStatus
from domain.payment_orders import PaymentOrderStatus
from domain.products import PaymentFrequency, ProductStatus
from domain.repayments import PaymentChannel, PaymentStatus, PrePaymentStatus, ReversalReason
from domain.schedules import DisbursementMode
from domain.wallets import WithdrawalStatus
from web.limits import BODY_METHODS
from web.routes import ROUTES, TIMEZONES, Operation, Route
from web.schema import MAX_ID, RATE_SCHEMA

INT = {"type": "integer"}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
RATE = dict(RATE_SCHEMA)
DATETIME = {"type": "string", "format": "date-time"}
MINOR = {"type": "integer", "description": "minor units (centavos)"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _enum(values: Iterable[Any]) -> dict[str, Any]:
    return {"type": "string", "enum": [getattr(v, "value", v) for v in values]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema = {"type": "object", "required": list(properties), "properties": properties}
    return {**schema, "description": description} if description else schema


def _with_optional(schema: dict[str, Any], **optional: Any) -> dict[str, Any]:
    """An object schema with more properties that are not always there."""
    return {**schema, "properties": {**schema["properties"], **optional}}


def _list_of(name: str) -> dict[str, Any]:
    return _object({"items": {"type": "array", "items": _ref(name)}})


def _page_of(name: str) -> dict[str, Any]:
    return _object({"items": {"type": "array", "items": _ref(name)}, "page": INT, "per_page": INT, "total": INT})


TRANSFER = {
    "id": INT, "store_id": INT, "status": _enum(TransferStatus), "amount": MINOR, "currency": STR,
    "trigger_key": STR, "requires_confirmation": BOOL, "returned_after_applied": BOOL,
    "status_reason": _nullable(STR), "created_at": DATETIME, "updated_at": _nullable(DATETIME),
    "uetr": _nullable(STR), "tracking_key": _nullable(STR), "bank_order_id": _nullable(INT),
    "liquidated_at": _nullable(DATETIME),
    "order_status": {**_nullable(_enum(PaymentOrderStatus)), "description": "the payment order's own status"},
    "order_attempts": {**INT, "description": "how many times the order was handed to the bank"},
    "order_last_error": {**_nullable(STR), "description": "the bank's last error for the order, if any"},
    "approval_reason": {**_nullable(STR), "description": "why it waits (or waited) for treasury's approval: the "
                        "store's switch, a transfer above DISPERSA_TRANSFER_APPROVAL_ABOVE, or the first payout to "
                        "changed bank details"},
}
EVENT = {
    "id": INT, "at": DATETIME, "level": _enum(["INFO", "WARNING", "ERROR", "ALERT"]), "kind": STR, "message": STR,
    "merchant_id": _nullable(INT), "store_id": _nullable(INT), "credit_id": _nullable(INT),
    "bank_transfer_id": _nullable(INT), "reference": _nullable(STR), "details": {},
}
AUDIT = {
    "id": INT, "at": DATETIME, "api_key_id": _nullable(INT), "role": STR, "action": STR, "resource": STR,
    "resource_id": _nullable(STR), "details": {},
}
API_KEY = {
    "id": INT, "prefix": STR, "role": _enum([r.value for r in Role]), "merchant_id": _nullable(INT),
    "owner": {**STR, "description": "the e-mail address of the person the key belongs to"}, "label": STR,
    "created_at": DATETIME, "revoked_at": _nullable(DATETIME),
}
DEAD_LETTER = {
    "id": INT, "message_id": STR, "queue_name": STR, "actor_name": STR,
    "args": {"type": "array", "description": "the message's arguments (business ids)"},
    "error": STR, "attempts": INT, "deaths": {**INT, "description": "how many times the message died"},
    "status": _enum(DeadLetterStatus), "died_at": DATETIME, "resolved_at": _nullable(DATETIME),
    "resolved_by": _nullable(STR), "resolution": _nullable(STR),
}
REPORT_ROW = {
    "balance_update_id": INT, "sequence": INT, "type": _enum(BalanceUpdateType), "credit_id": _nullable(INT),
    "credit_external_id": _nullable(STR), "amount": MINOR, "commission": MINOR, "tax": MINOR,
    "net": {**MINOR, "description": "the balance update's amount: amount - commission - tax"}, "note": _nullable(STR),
}

AMOUNT_TEXT = {**_nullable(STR), "description": "a decimal in major units of the batch's currency"}
COUNTS = {"total": INT, "successful": INT, "failed": INT, "ongoing": INT, "totalAmount": AMOUNT_TEXT,
          "successfulAmount": AMOUNT_TEXT, "failedAmount": AMOUNT_TEXT, "pendingAmount": AMOUNT_TEXT,
          "successPercentage": STR, "failPercentage": STR}
EPOCH_MS = {**_nullable(INT), "description": "milliseconds since the epoch"}
AMOUNTS = {"type": "array", "description": "the amounts per currency", "items": _object({"currency": STR, **COUNTS})}
BULK_SCHEMAS: dict[str, dict[str, Any]] = {
    "BatchAccepted": _object({"batch_id": STR, "request_id": STR, "status": STR, "PollingPath": STR,
                              "SuggestedCallbackSeconds": INT}),
    "BatchSummary": _object({
        "batch_id": STR, "request_id": STR, "notes": _nullable(STR),
        "status": _enum([s.value for s in BatchStatus]),
        "mode": _nullable(STR), "purpose": _nullable(STR), **COUNTS, "file": _nullable(STR),
        "unsplitFile": {**_nullable(STR), "description": "mergeback off: the rows that failed before the split"},
        "created_at": {**INT, "description": "milliseconds since the epoch, as every time of the summary"},
        "completed_at": EPOCH_MS,
        "currency": _nullable(STR), "amounts": AMOUNTS, "currencies": {"type": "array", "items": STR},
        "filename": STR, "rows": INT,
        "content_sha256": STR, "approval": _nullable({"type": "object"}),
        "date_type": {**_nullable(_enum(["delivery", "execution"])), "description": "a dated batch's dates"},
        "subBatches": {"type": "array", "items": _object({
            "subBatchId": INT, "paymentMode": STR, "connector": _nullable(STR), "status": STR, **COUNTS,
            "currency": _nullable(STR), "amounts": AMOUNTS,
            "startedAt": EPOCH_MS, "completedAt": EPOCH_MS, "file": _nullable(STR)})}}),
    "BatchDetail": {"type": "array", "items": {"type": "object", "required": ["transactionId", "status"],
                                               "properties": {"transactionId": STR, "status": STR}}},
    "BatchResult": {"type": "string", "description": "CSV: the input columns, status, error_code, error_description"},
    "BatchPage": _object({"content": {"type": "array", "items": {"type": "object"}}, "totalElements": INT,
                          "totalPages": INT, "number": INT, "size": INT, "first": BOOL, "last": BOOL,
                          "numberOfElements": INT, "sort": {"type": "array", "items": {"type": "object"}}}),
    "Template": {"type": "string", "description": "the CSV header line"},
    "CallbackReceived": _object({"status": {"const": "received"}}),
    "Receipt": {"type": "string", "format": "binary", "description": "a PDF"},
    "Payment": _object({
        "uetr": STR, "source": STR, "status": _enum(["initiated", "sent", "accepted", "liquidated", "cancelled",
                                                     "returned", "failed"]),
        "amount": AMOUNT_TEXT, "amount_minor": _nullable(INT), "currency": _nullable(STR),
        "payee_account": {**_nullable(STR), "description": "masked: its last four digits"},
        "payee_name": {**_nullable(STR), "description": "masked: the initial of each word"}, "rail": _nullable(STR),
        "execution_date": _nullable(STR), "delivery_date": _nullable(STR), "tracking_key": _nullable(STR),
        "bank_reference": _nullable(STR), "reason": _nullable(STR), "batch_id": _nullable(STR),
        "updated_at": _nullable(DATETIME),
        "timeline": {"type": "array", "items": {"type": "object", "required": ["at", "event"],
                                                "properties": {"at": DATETIME, "event": STR}}}}),
    "Wallet": _object({
        "owner": STR, "balances": {"type": "array", "items": _object({"currency": STR, "balance": MINOR,
                                                                      "amount": STR})},
        "entries": {"type": "array", "items": _object({
            "id": INT, "at": DATETIME, "direction": _enum(["in", "out"]), "amount_minor": MINOR, "amount": STR,
            "currency": STR, "reference": STR,
            "counterparty": {**STR, "description": "float, outside or spei:payouts; a payee's wallet masked"}})},
        "page": INT, "per_page": INT, "total": INT}),
    "Withdrawal": _object({
        "reference": STR, "uetr": STR, "tracking_key": STR, "status": _enum(PaymentOrderStatus),
        "approval": {**_enum(WithdrawalStatus), "description": "above DISPERSA_TRANSFER_APPROVAL_ABOVE a withdrawal "
                     "waits for a treasury person's approval"},
        "amount": STR, "amount_minor": MINOR, "currency": STR,
        "clabe": {**STR, "description": "masked: its last four digits"},
        "beneficiary_name": {**STR, "description": "masked: the initial of each word"},
        "balance": {**MINOR, "description": "the wallet's balance after it"}, "created_at": DATETIME}),
    "PaymentDates": _with_optional(_object({
        "rail": STR, "country": _nullable(STR), "currency": STR, "execution_date": {**STR, "format": "date"},
        "delivery_date": {**STR, "format": "date"}, "lag_days": INT, "cutoff": STR, "cutoff_zone": STR}),
        requested_delivery_date={**STR, "format": "date", "description": "the delivery date asked for"}),
}

MASKED_ACCOUNT = {"type": "string", "description": "masked: only its last four digits are shown "
                                                  "(``**************0025``); accounts are sealed at rest"}
MASKED_NAME = {"type": "string", "description": "masked: only the initial of each word is shown (``J*** P***``)"}

PERSONAL = "personal data: whole for roles that serve customers (admin, operator), masked for the others; null once "
CUSTOMER = {
    "id": INT, "external_id": STR,
    "first_name": {**_nullable(STR), "description": PERSONAL + "deleted (initials when masked)"},
    "last_name": {**_nullable(STR), "description": PERSONAL + "deleted"},
    "second_last_name": {**_nullable(STR), "description": PERSONAL + "deleted"},
    "phone": {**_nullable(STR), "description": PERSONAL + "deleted (last four digits when masked)"},
    "email": {**_nullable(STR), "description": PERSONAL + "deleted (first letter and domain when masked)"},
    "address": {**_nullable(STR), "description": PERSONAL + "deleted (*** when masked)"},
    "national_id": {**_nullable(STR), "description": "the CURP; " + PERSONAL + "deleted (last four when masked)"},
    "risk_profile": _nullable(_enum(RiskProfile)), "score": _nullable(INT), "scored_at": _nullable(DATETIME),
    "status": _enum(CustomerStatus), "status_reason": _nullable(STR),
    "held": {**BOOL, "description": "disabled or blocked by a person: no automatic move takes it out"},
    "registered": {**BOOL, "description": "its data is complete (the second last name aside) and it is scored"},
    "allowed_actions": {"type": "array", "items": _enum(CustomerAction),
                        "description": "what its status lets it do"},
    "created_at": DATETIME, "updated_at": _nullable(DATETIME), "deleted_at": _nullable(DATETIME),
}

DATE = DAY = {"type": "string", "format": "date"}
REPAYMENT = {
    "id": INT, "external_id": STR, "loan_id": INT, "amount": MINOR, "channel": _enum(PaymentChannel),
    "recorded_by_operator": BOOL, "status": {**_enum(PrePaymentStatus), "description": "the pre-payment's status"},
    "payment_status": {**_nullable(_enum(PaymentStatus)), "description": "once completed: accepted, then maybe "
                       "reversed"},
    "rejection": {**_nullable(STR), "description": "why it was rejected"},
    "accepted_on": {**_nullable(DATE), "description": "the business day it was applied (Mexico City)"},
    "reversed_on": _nullable(DATE), "reversal_reason": _nullable(_enum(ReversalReason)), "requested_at": DATETIME,
}
REPAYMENT_DETAIL = {
    **REPAYMENT,
    "allocations": {"type": "array", "description": "what it paid of each installment", "items": _object(
        {"installment": INT, "interest": MINOR, "principal": MINOR})},
    "history": {"type": "array", "items": _object({"from_status": _nullable(STR), "to_status": STR,
                                                   "at": DATETIME, "detail": _nullable(STR)})},
}
LOAN_REQUEST = {
    "id": INT, "external_id": STR, "customer_id": INT, "store_id": INT, "amount": MINOR, "currency": STR,
    "number_of_payments": INT, "status": _enum(LoanRequestStatus),
    "rejection": {**_nullable(STR), "description": "why it was rejected (a refusal's words, or a person's reason)"},
    "loan_id": {**_nullable(INT), "description": "the loan (credit) its completion signed"},
    "created_at": DATETIME, "decided_at": _nullable(DATETIME),
}
LOAN_SUMMARY = {
    "id": INT, "external_id": STR, "customer_id": INT, "merchant_id": INT, "store_id": INT,
    "amount": {**MINOR, "description": "the principal"}, "currency": STR, "status": _enum(CreditStatus),
    "status_on": {**_nullable(DAY), "description": "the business day of the last status change"},
    "cancellation_reason": _nullable(_enum(CancellationReason)), "signed_at": DATETIME,
    "delivered_at": _nullable(DATETIME), "cancelled_at": _nullable(DATETIME),
    "serviced_on": {**_nullable(DAY), "description": "the last business day it was brought up to"},
    "days_past_due": {**INT, "description": "as of serviced_on"}, "bucket": _enum(Bucket),
}
LOAN_POSITION = {
    **{name: MINOR for name in ("principal", "principal_repaid", "principal_outstanding", "interest_charged",
                                "interest_repaid", "interest_due", "interest_inactive", "payoff")},
    "days_past_due": INT, "bucket": _enum(Bucket), "status": {**_enum(CreditStatus), "description": "as of the day"},
}
LOAN_TERMS = {
    "principal": MINOR, "number_of_payments": INT,
    "annual_rate": {**_nullable(STR), "description": "a decimal string: the offer's rate for the risk profile, less "
                    "its discount"},
    "risk_profile": _nullable(_enum(RiskProfile)), "payment_frequency": _nullable(_enum(PaymentFrequency)),
    "grace_months": _nullable(INT), "product_id": _nullable(INT), "payment_option_id": INT,
    "commission": {**MINOR, "description": "fixed at signature"},
}
INSTALLMENT = {
    "number": INT, "scheduled_on": DAY, "due_on": {**DAY, "description": "after freezes, as of the day"},
    "principal": MINOR, "interest": MINOR, "interest_state": _enum(InterestState), "principal_paid": MINOR,
    "interest_paid": MINOR, "void": {**BOOL, "description": "the loan was cancelled before it fell due"},
}
LOAN_CHANGE = {
    "event": _enum(LoanEvent), "from_status": _enum(CreditStatus), "to_status": _enum(CreditStatus), "on": DAY,
    "at": DATETIME, "reason": _nullable(_enum(CancellationReason)), "actor": _nullable(STR),
    "detail": _nullable(STR),
}
LOAN_SCHEMAS: dict[str, dict[str, Any]] = {
    "LoanRequest": _object(LOAN_REQUEST),
    "LoanRequestPage": _page_of("LoanRequest"),
    "LoanSummary": _object(LOAN_SUMMARY),
    "LoanPage": _page_of("LoanSummary"),
    "Loan": _object({**LOAN_SUMMARY, "terms": _object(LOAN_TERMS), "as_of": DAY, "position": _object(LOAN_POSITION)}),
    "LoanSchedule": _object({"loan_id": INT, "currency": STR, "as_of": DAY,
                             "installments": {"type": "array", "items": _object(INSTALLMENT)}}),
    "LoanHistory": _object({"loan_id": INT, "items": {"type": "array", "items": _object(LOAN_CHANGE)}}),
    "LoanMoveOutcome": _object({
        "loan_id": INT, "event": _enum(LoanEvent), "status": _enum(CreditStatus), "allowed": BOOL,
        "to_status": _nullable(_enum(CreditStatus)), "refusal": _nullable(STR),
        "allowed_events": {"type": "array", "items": _enum(LoanEvent)}}),
}

RESPONSE_SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": _object({"title": STR, "description": STR}),
    "Merchant": _object({
        "id": INT, "name": STR, "currency": STR, "tax_rate": RATE, "timezone": STR, "status": _enum(MerchantStatus),
        "validated": BOOL, "can_originate": BOOL, "created_at": DATETIME, "store_ids": {"type": "array", "items": INT},
        "tiers": {"type": "array", "items": _object({"min_origination": MINOR, "commission_rate": RATE})},
    }),
    "Store": _object({
        "id": INT, "merchant_id": INT, "name": STR, "clabe": MASKED_ACCOUNT, "beneficiary_name": MASKED_NAME,
        "rfc_curp": STR, "currency": STR, "disbursement_mode": _enum(DisbursementMode), "time_of_day": {"type": "string"},
        "weekday": INT, "day_of_month": INT, "timezone": STR, "minimum_transfer": MINOR, "automation_enabled": BOOL,
        "requires_confirmation": BOOL, "validated": BOOL,
        "validated_clabe": {**_nullable(STR), "description": "the account payment orders go to (set by validation), "
                            "by its last four digits"},
        "validated_beneficiary_name": {**_nullable(STR), "description": "the name they carry, by its initials"},
        "validated_rfc_curp": _nullable(STR),
        "balance": MINOR, "created_at": DATETIME,
    }),
    "PaymentOption": _object({
        "id": INT, "store_id": INT, "merchant_id": INT, "number_of_payments": INT, "merchant_commission": RATE,
        "min_amount": MINOR, "max_amount": MINOR, "priority": INT, "identifier_code": STR, "type": STR,
        "a0_interest_rate": RATE, "c3_interest_rate": RATE, "discount_percentage": RATE,
        "first_payment_month_shift": INT, "starting_time": _nullable(DATETIME), "ending_time": _nullable(DATETIME),
        "is_promo": BOOL, "is_active": BOOL, "can_commission_be_auto_updated": BOOL, "is_in_trial_period": BOOL,
        "trial_commission": _nullable(RATE), "end_of_trial_period": _nullable(DATETIME), "validated": BOOL,
        "created_at": DATETIME, "product_id": INT,
        "status": {**_enum(OfferStatus), "description": "only an enabled (and validated) offer of an active product "
                   "issues loans"},
        "tag": {**_enum(["in_use", "idle"]), "description": "in_use while one of its loans is signed, active, frozen "
                "or in dispute"},
    }),
    "Product": _object({
        "id": INT, "name": STR, "currency": STR, "payment_frequency": _enum(PaymentFrequency),
        "status": _enum(ProductStatus),
        "charges_interest": {**BOOL, "description": "false while inactive: its loans accrue nothing new"},
        "default": {**BOOL, "description": "its currency's default product, for offers made without naming one"},
        "created_at": DATETIME,
    }),
    "ProductPage": _page_of("Product"),
    "Credit": _object({
        "id": INT, "external_id": STR, "merchant_id": INT, "store_id": INT, "payment_option_id": INT,
        "amount": MINOR, "currency": STR, "number_of_payments": INT, "commission_rate": RATE, "tax_rate": RATE,
        "commission": MINOR, "tax": MINOR, "contribution": {**MINOR, "description": "amount - commission - tax"},
        "status": _enum(CreditStatus), "cancellation_reason": _nullable(_enum(CancellationReason)),
        "signed_at": DATETIME, "delivered_at": _nullable(DATETIME), "cancelled_at": _nullable(DATETIME),
        "disbursed": BOOL,
    }),
    "Balance": _object({"store_id": INT, "currency": STR, "balance": MINOR, "pending": MINOR, "in_transit": MINOR},
                       "balance = pending + in_transit"),
    "BalanceUpdate": _object({
        "id": INT, "store_id": INT, "sequence": INT, "type": _enum(BalanceUpdateType),
        "status": _enum(BalanceUpdateStatus), "amount": {**MINOR, "description": "signed minor units"},
        "previous_balance": MINOR, "new_balance": MINOR, "currency": STR, "credit_id": _nullable(INT),
        "bank_transfer_id": _nullable(INT), "admin_creator_id": _nullable(INT), "note": _nullable(STR),
        "overwritten": BOOL, "overwritten_by_id": _nullable(INT), "created_at": DATETIME,
    }),
    "Transfer": _object(TRANSFER),
    "TransferDetail": _object({
        **TRANSFER, "balance_update_ids": {"type": "array", "items": INT},
        "history": {"type": "array", "items": _object({"status": _enum(TransferStatus),
                                                       "previous_status": _nullable(_enum(TransferStatus)),
                                                       "reason": _nullable(STR), "at": DATETIME})},
    }),
    "AdjustmentRequest": _object({
        "id": INT, "store_id": INT, "amount": {**MINOR, "description": "signed minor units"}, "currency": STR,
        "note": _nullable(STR), "status": _enum(AdjustmentStatus), "reason": {**STR, "description": "why it waits"},
        "requested_by": STR, "requested_at": DATETIME, "decided_by": _nullable(STR),
        "decided_at": _nullable(DATETIME), "decision_note": _nullable(STR),
        "balance_update_id": {**_nullable(INT), "description": "the adjustment made, once approved"}}),
    "AdjustmentRequestPage": _page_of("AdjustmentRequest"),
    "TransferRequested": _object({"store_id": INT, "trigger_key": STR, "status": {"const": "requested"}}),
    "TransferReport": _object({
        "transfer": _ref("TransferDetail"),
        "store": _object({"id": INT, "merchant_id": INT, "name": STR, "clabe": MASKED_ACCOUNT,
                          "beneficiary_name": MASKED_NAME}),
        "currency": STR, "rows": {"type": "array", "items": _object(REPORT_ROW)},
        "totals": _object({"amount": MINOR, "commission": MINOR, "tax": MINOR, "net": MINOR}),
    }),
    "Health": _object({"status": _enum(["up", "down"]), "components": {
        "type": "object", "additionalProperties": _object({"status": _enum(["up", "down"]), "detail": STR})}}),
    "OpenAPIDocument": {"type": "object", "description": "this document"},
    "Metrics": {"type": "string", "description": "Prometheus text exposition format, version 0.0.4"},
    "WebhookReceived": _object({"mensaje": {"const": "recibido"}}),
    "ReconciliationRequested": _object({"operation_date": STR, "status": {"const": "requested"}}),
    "Reconciliation": _object({
        "id": INT, "operation_date": {**STR, "description": "YYYYMMDD"}, "started_at": DATETIME,
        "bank_orders": INT, "ledger_orders": INT, "matched": INT, "mismatches": INT,
        "mismatch_list": {"type": "array", "items": _object({
            "tracking_key": STR,
            "kind": _enum(["missing_at_bank", "unknown_to_us", "amount", "status", "unknown_estado",
                           "bank_order_id"]),
            "ours": _nullable({"type": "object"}), "bank": _nullable({"type": "object"})})},
    }),
    "TimeZone": {"type": "string", "enum": list(TIMEZONES), "description": "an IANA time zone name"},
    "MerchantPage": _page_of("Merchant"),
    "Customer": _object(CUSTOMER),
    "CustomerPage": _page_of("Customer"),
    "Repayment": _object(REPAYMENT),
    "RepaymentDetail": _object(REPAYMENT_DETAIL),
    "RepaymentPage": _page_of("Repayment"),
    "CustomerMoveOutcome": _object({
        "customer_id": INT, "event": _enum(CustomerEvent), "current": _enum(CustomerStatus), "allowed": BOOL,
        "target": _nullable(_enum(CustomerStatus)), "why": _nullable(STR)}),
    "StorePage": _page_of("Store"),
    "CreditPage": _page_of("Credit"),
    "Event": _object(EVENT),
    "EventPage": _page_of("Event"),
    "AuditEntry": _object(AUDIT),
    "AuditPage": _page_of("AuditEntry"),
    "ApiKey": _object(API_KEY),
    "ApiKeyPage": _page_of("ApiKey"),
    "ApiKeyCreated": _object({**API_KEY, "key": {**STR, "description": "the key itself: shown this once only"}}),
    "Tenant": _object({
        "tenant": STR, "config": {"type": "object", "description": "the stage keys, dotted, and payment-modes"},
        "float": {"type": "array", "items": _object({"currency": STR, "balance": MINOR, "amount": STR})},
        "created_at": DATETIME, "updated_at": DATETIME}),
    **BULK_SCHEMAS,
    **LOAN_SCHEMAS,
    "DeadLetter": _object(DEAD_LETTER),
    "DeadLetterPage": _page_of("DeadLetter"),
    "DeadLetterDetail": _object({**DEAD_LETTER, "traceback": STR, "history": {"type": "array", "items": _object({
        "kind": _enum(DeadLetterEventKind), "at": DATETIME, "detail": STR, "attempts": INT})}}),
    "PaymentOptionList": _list_of("PaymentOption"),
    "BalanceUpdatePage": _page_of("BalanceUpdate"),
    "TransferPage": _page_of("Transfer"),
}

TEXT_MEDIA = {"BatchResult": "text/csv", "Template": "text/csv", "Receipt": "application/pdf"}
UPLOADS: dict[str, dict[str, Any]] = {
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "data": {"type": "string", "format": "binary", "description": "the CSV file"}}}},
    "text/csv": {"schema": {"type": "string", "description": "the CSV file"}},
    "application/json": {"schema": {"description": "type=raw: an array of payments; a connector callback: its "
                                                   "own object"}},
}
PATH_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")
SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"apiKeyHeader": []}]


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _responses(route: Route, op: Operation) -> dict[str, Any]:
    """Every status the operation can answer: its success, what its shape implies, and its own rules."""
    content: dict[str, Any] = ({TEXT_MEDIA.get(op.response, "text/plain"): {"schema": _ref(op.response)}} if op.text
                               else {"application/json": {"schema": _ref(op.response)}})
    if op.csv:
        content["text/csv"] = {"schema": {"type": "string"}}
    responses: dict[str, Any] = {str(op.status): {"description": op.summary, "content": content}}
    responses.update({str(status): {"description": why, "content": content} for status, why in op.also})
    responses.update({str(status): {"description": why, "content": {"application/json": {"schema": _ref(schema)}}}
                      for status, why, schema in op.others})
    if op.action is not None:
        responses["401"] = _error("no API key, or an unknown or revoked one")
        responses["403"] = _error("the key's role may not do this")
    if _id_params(route) or (op.body is not None and op.body.refers_to_ids()):
        responses["404"] = _error("no such resource, or one this key may not see")
    if op.body is not None:
        responses["400"] = _error("the body is not JSON (NaN, Infinity and deep nesting included)")
        responses["408"] = _error("the body did not arrive within DISPERSA_BODY_READ_SECONDS")
        responses["413"] = _error(f"the body is larger than {op.body_limit or 'DISPERSA_MAX_BODY_BYTES'} bytes")
        responses["415"] = _error("a body sent without Content-Type: application/json")
    if op.upload:
        responses["408"] = _error("a part of the body did not arrive within DISPERSA_BODY_READ_SECONDS")
        responses["413"] = _error("the body is larger than the limit")
        responses["415"] = _error(f"a body that is not one of {', '.join(op.upload)}")
    if op.method in BODY_METHODS:  # whatever the route, its body is read within these limits
        responses.setdefault("408", _error("the body did not arrive within DISPERSA_BODY_READ_SECONDS"))
        responses.setdefault("413", _error(f"the body is larger than {op.body_limit or 'DISPERSA_MAX_BODY_BYTES'} "
                                           "bytes"))
    if op.body is not None or op.params or route.path_params:
        responses["422"] = _error("invalid input; nothing was changed")
    if op.audited:
        responses["409"] = _error("conflicts with the resource's state, or a concurrent request; nothing was changed")
    for status, why in op.errors:
        responses[str(status)] = _error(why)
    responses["414"] = {"description": "the request line is longer than 4094 bytes: the server (gunicorn) refuses "
                                       "it before the application, as an HTML page",
                        "content": {"text/html": {"schema": {"type": "string"}}}}
    if op.operation_id == "health":
        responses["503"] = {"description": "a component is down", "content": content}
    responses["500"] = _error("unexpected error (logged with the ids of the path)")
    return dict(sorted(responses.items()))


def _id_params(route: Route) -> list[str]:
    declared = {p.name for p in route.path_params}
    return [name for name in PATH_PARAM.findall(route.path) if name not in declared]


def _operation(route: Route, op: Operation) -> dict[str, Any]:
    description = op.description
    doc: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary, "tags": [route.tag]}
    if op.action is None:
        doc["security"] = []
        description = (description + " No API key needed.").strip()
    else:
        roles = [r.value for r in Role if may(r, op.action)]
        doc["x-roles"] = roles
        description = (description + f" Roles: {', '.join(roles)}.").strip()
    doc["description"] = description
    params = [{"name": name, "in": "path", "required": True, "example": 1,
               "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}} for name in _id_params(route)]
    params += [p.openapi() for p in route.path_params]
    doc["parameters"] = params + [p.openapi() for p in op.params]
    if op.body is not None:
        doc["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(op.body.name)}}}
    elif op.upload:
        doc["requestBody"] = {"required": False, "content": {media: UPLOADS[media] for media in op.upload}}
    doc["responses"] = _responses(route, op)
    return doc


def _version() -> str:
    try:
        return metadata.version("dispersa")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def build_document(routes: Iterable[Route] = ROUTES) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas = dict(RESPONSE_SCHEMAS)
    for route in routes:
        item = paths.setdefault(route.openapi_path, {})
        for op in route.operations:
            item[op.method.lower()] = _operation(route, op)
            if op.body is not None:
                schemas[op.body.name] = op.body.json_schema()
    return {
        "openapi": "3.1.0",
        "info": {"title": "dispersa", "version": _version(),
                 "description": "Disbursement engine: merchants, stores, credits, store balance ledgers and bank "
                                "transfers. Money is integer minor units beside an ISO 4217 currency; rates are "
                                "decimal strings. Errors are JSON {title, description}."},
        "security": SECURITY,
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <key>"},
                "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }


class OpenAPIResource:
    """Serves the document built once at start-up."""

    def __init__(self, document: dict[str, Any]):
        self._document = document

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self._document
