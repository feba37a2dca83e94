"""The one route table: the app registers it, the auth middleware reads it, the OpenAPI document is built from it."""
from __future__ import annotations

import re
from dataclasses import dataclass

from domain.access import Action
from domain.credits import CancellationReason
from domain.ledger import TransferStatus
from domain.merchants import MerchantStatus
from domain.money import MINOR_UNITS
from domain.schedules import DisbursementMode
from web.schema import Body, Field, Param


@dataclass(frozen=True)
class Operation:
    """One method on one path: who may call it, what it takes and what it answers."""

    method: str
    operation_id: str
    summary: str
    action: Action | None  # None: public, no API key needed
    response: str  # the component schema of the success body
    status: int = 200
    body: Body | None = None
    params: tuple[Param, ...] = ()
    description: str = ""
    csv: bool = False  # also answers text/csv

    @property
    def audited(self) -> bool:
        """Privileged (mutating) operations leave a row in the audit log."""
        return self.action is not None and self.action != Action.READ


@dataclass(frozen=True)
class Route:
    """A path template (with Falcon converters), the resource serving it and the suffix of its responders."""

    path: str
    resource: str
    suffix: str | None
    tag: str
    operations: tuple[Operation, ...]

    @property
    def openapi_path(self) -> str:
        return re.sub(r"\{(\w+):[^}]*\}", r"{\1}", self.path)


CURRENCIES = tuple(MINOR_UNITS)
ID = "int(min=1)"

# --- bodies --------------------------------------------------------------------------------------

MERCHANT_CREATE = Body("MerchantCreate", (
    Field("name", "string", required=True, min_length=1, max_length=200),
    Field("currency", "string", "ISO 4217 code; stores inherit it", choices=CURRENCIES),
    Field("tax_rate", "rate", "tax on the commission; 0.16 (IVA) by default for MXN"),
    Field("tiers", "tiers", "monthly commission tiers by the previous month's origination (minor units)"),
    Field("timezone", "string", "IANA name; the months of the commission tiers are months here "
          "(America/Mexico_City by default)", max_length=64),
))
MERCHANT_UPDATE = Body("MerchantUpdate", MERCHANT_CREATE.fields + (
    Field("status", "string", "a disabled merchant cannot originate", choices=tuple(s.value for s in MerchantStatus)),
)).as_patch("MerchantUpdate", without=("currency",))

STORE_CREATE = Body("StoreCreate", (
    Field("name", "string", required=True, min_length=1, max_length=200),
    Field("clabe", "string", "18-digit CLABE: known bank code and check digit", required=True),
    Field("beneficiary_name", "string", max_length=120),
    Field("rfc_curp", "string", max_length=18),
    Field("currency", "string", "defaults to the merchant's", choices=CURRENCIES),
    Field("disbursement_mode", "string", choices=tuple(m.value for m in DisbursementMode)),
    Field("time_of_day", "time", "HH:MM, in the store's time zone"),
    Field("weekday", "integer", "0 is Monday (weekly mode)", minimum=0, maximum=6),
    Field("day_of_month", "integer", "monthly mode; 29-31 fall back to the month's last day", minimum=1, maximum=31),
    Field("timezone", "string", "IANA name, America/Mexico_City by default", max_length=64),
    Field("minimum_transfer", "integer", "minor units", minimum=0),
    Field("automation_enabled", "boolean"),
    Field("requires_confirmation", "boolean", "transfers wait for treasury's approval"),
))
STORE_UPDATE = STORE_CREATE.as_patch("StoreUpdate", without=("currency",))

OPTION_CREATE = Body("PaymentOptionCreate", (
    Field("number_of_payments", "integer", required=True, minimum=1, maximum=1000),
    Field("merchant_commission", "rate", required=True),
    Field("min_amount", "integer", "minor units", required=True, minimum=0),
    Field("max_amount", "integer", "minor units", required=True, minimum=0),
    Field("priority", "integer", "the highest applicable priority wins", minimum=-1_000_000, maximum=1_000_000),
    Field("identifier_code", "string", max_length=64),
    Field("type", "string", max_length=32),
    Field("a0_interest_rate", "rate"),
    Field("c3_interest_rate", "rate"),
    Field("discount_percentage", "rate"),
    Field("first_payment_month_shift", "integer", minimum=0, maximum=120),
    Field("starting_time", "datetime", nullable=True),
    Field("ending_time", "datetime", nullable=True),
    Field("is_promo", "boolean"),
    Field("is_active", "boolean"),
    Field("can_commission_be_auto_updated", "boolean"),
    Field("is_in_trial_period", "boolean"),
    Field("trial_commission", "rate", nullable=True),
    Field("end_of_trial_period", "datetime", nullable=True),
))
OPTION_UPDATE = OPTION_CREATE.as_patch("PaymentOptionUpdate")

CREDIT_CREATE = Body("CreditCreate", (
    Field("store_id", "integer", required=True, minimum=1),
    Field("external_id", "string", "your reference; a repeat with the same terms returns the same credit",
          required=True, min_length=1, max_length=64),
    Field("amount", "integer", "minor units", required=True, minimum=1),
    Field("number_of_payments", "integer", required=True, minimum=1, maximum=1000),
))
CANCELLATION = Body("CreditCancellation", (
    Field("reason", "string", required=True, choices=tuple(r.value for r in CancellationReason)),
))
ADJUSTMENT = Body("AdjustmentCreate", (
    Field("amount", "integer", "signed minor units, not zero", required=True),
    Field("note", "string", nullable=True, max_length=255),
))
REJECTION = Body("TransferRejection", (Field("reason", "string", required=True, min_length=1, max_length=255),))
STP_ORDER_STATUS = Body("StpOrderStatus", (
    Field("id", "integer", "STP's order id (idEF)"),
    Field("empresa", "string"),
    Field("folioOrigen", "string", "our folio: the order's tracking key"),
    Field("estado", "string", "LQ/Liquidada/Liquidacion/Success, CN/Cancelada/Cancelacion/Cancel, "
          "D/Devuelta/Devolucion/Refund, or a configured alias", required=True),
    Field("causaDevolucion", "string", nullable=True),
    Field("tsLiquidacion", "integer", "epoch milliseconds", nullable=True),
))
WEBHOOK_SECRET = Param("X-Webhook-Secret", "string", "the shared secret (DISPERSA_WEBHOOK_SECRET)", location="header")

# --- parameters ----------------------------------------------------------------------------------

PAGE = Param("page", "integer", "1-based page number", minimum=1, maximum=10**6, default=1)
PER_PAGE = Param("per_page", "integer", "items per page", minimum=1, maximum=200, default=50)
PAGING = (PAGE, PER_PAGE)
TRANSFER_STATUS = Param("status", "string", "only transfers in this status",
                        choices=tuple(s.value for s in TransferStatus))
TRANSFER_STORE = Param("store", "integer", "only transfers of this store", minimum=1)
REPORT_FORMAT = Param("format", "string", "csv for CSV; otherwise the Accept header decides", choices=("json", "csv"))
IDEMPOTENCY_KEY = Param("Idempotency-Key", "string", "a repeat with the same key returns the first adjustment",
                        location="header", max_length=80)

# --- the table -----------------------------------------------------------------------------------

R, MANAGE, VALIDATE, ORIGINATE = Action.READ, Action.MANAGE_CATALOG, Action.VALIDATE, Action.ORIGINATE
ADJUST, APPROVE = Action.ADJUST, Action.APPROVE_TRANSFER
Op = Operation

ROUTES: tuple[Route, ...] = (
    Route("/merchants", "merchants", "collection", "merchants", (
        Op("POST", "create_merchant", "Create a merchant", MANAGE, "Merchant", 201, MERCHANT_CREATE),
        Op("GET", "list_merchants", "List merchants, oldest first", R, "MerchantPage", params=PAGING,
           description="A partner key sees only its own merchant."),
    )),
    Route(f"/merchants/{{merchant_id:{ID}}}", "merchants", None, "merchants", (
        Op("GET", "get_merchant", "Read a merchant", R, "Merchant"),
        Op("PATCH", "update_merchant", "Edit a merchant (it needs validating again)", MANAGE, "Merchant",
           body=MERCHANT_UPDATE),
    )),
    Route(f"/merchants/{{merchant_id:{ID}}}/validate", "merchants", "validation", "merchants", (
        Op("POST", "validate_merchant", "Validate a merchant (needs a validated store)", VALIDATE, "Merchant"),
    )),
    Route(f"/merchants/{{merchant_id:{ID}}}/stores", "stores", "collection", "stores", (
        Op("POST", "create_store", "Create a store of a merchant", MANAGE, "Store", 201, STORE_CREATE),
    )),
    Route(f"/stores/{{store_id:{ID}}}", "stores", None, "stores", (
        Op("GET", "get_store", "Read a store", R, "Store"),
        Op("PATCH", "update_store", "Edit a store (it needs validating again, and is not paid until then)",
           Action.EDIT_STORE, "Store", body=STORE_UPDATE,
           description="Bank details (clabe, beneficiary_name, rfc_curp) and requires_confirmation are money "
                       "decisions: only treasury and admin keys may change them (403 otherwise); the other "
                       "fields are the catalogue's (operator and admin). Every change is audited with its old "
                       "and new values, accounts masked."),
    )),
    Route(f"/stores/{{store_id:{ID}}}/validate", "stores", "validation", "stores", (
        Op("POST", "validate_store", "Validate a store (valid CLABE and a validated option)", VALIDATE, "Store"),
    )),
    Route(f"/stores/{{store_id:{ID}}}/payment-options", "options", "collection", "payment options", (
        Op("POST", "create_payment_option", "Add a payment option to a store", MANAGE, "PaymentOption", 201,
           OPTION_CREATE),
        Op("GET", "list_payment_options", "A store's payment options", R, "PaymentOptionList"),
    )),
    Route(f"/payment-options/{{option_id:{ID}}}", "options", None, "payment options", (
        Op("GET", "get_payment_option", "Read a payment option", R, "PaymentOption"),
        Op("PATCH", "update_payment_option", "Edit a payment option (it needs validating again)", MANAGE,
           "PaymentOption", body=OPTION_UPDATE),
    )),
    Route(f"/payment-options/{{option_id:{ID}}}/validate", "options", "validation", "payment options", (
        Op("POST", "validate_payment_option", "Validate a payment option", VALIDATE, "PaymentOption"),
    )),
    Route("/credits", "credits", "collection", "credits", (
        Op("POST", "originate_credit", "Originate a credit at signature; its commission is fixed now", ORIGINATE,
           "Credit", 201, CREDIT_CREATE,
           description="403 when the merchant or store is not validated or the merchant is disabled. "
                       "Idempotent on external_id."),
    )),
    Route(f"/credits/{{credit_id:{ID}}}", "credits", None, "credits", (
        Op("GET", "get_credit", "Read a credit", R, "Credit"),
    )),
    Route(f"/credits/{{credit_id:{ID}}}/delivery", "credits", "delivery", "credits", (
        Op("POST", "deliver_credit", "The product was delivered: the credit contributes to the store's balance",
           ORIGINATE, "Credit", description="The contribution is written by the ledger worker shortly after."),
    )),
    Route(f"/credits/{{credit_id:{ID}}}/cancellation", "credits", "cancellation", "credits", (
        Op("POST", "cancel_credit", "Cancel a credit with a reason", ORIGINATE, "Credit", body=CANCELLATION),
    )),
    Route(f"/stores/{{store_id:{ID}}}/balance", "ledger", "balance", "ledger", (
        Op("GET", "get_balance", "A store's balance, pending and in transit (minor units)", R, "Balance"),
    )),
    Route(f"/stores/{{store_id:{ID}}}/balance-updates", "ledger", "updates", "ledger", (
        Op("GET", "list_balance_updates", "A store's balance updates, newest first (highest sequence first)", R,
           "BalanceUpdatePage", params=PAGING),
    )),
    Route(f"/stores/{{store_id:{ID}}}/adjustments", "ledger", "adjustments", "ledger", (
        Op("POST", "adjust_balance", "A manual adjustment, considered in the next transfer", ADJUST,
           "BalanceUpdate", 201, ADJUSTMENT, (IDEMPOTENCY_KEY,)),
    )),
    Route(f"/stores/{{store_id:{ID}}}/transfers", "ledger", "transfers", "transfers", (
        Op("POST", "request_transfer", "Ask for a transfer of the pending balance now", APPROVE,
           "TransferRequested", 202,
           description="The transfer is built by the ledger worker; find it with GET /transfers?store=."),
    )),
    Route("/transfers", "transfers", "collection", "transfers", (
        Op("GET", "list_transfers", "Transfers, newest first", R, "TransferPage",
           params=(TRANSFER_STATUS, TRANSFER_STORE) + PAGING),
    )),
    Route(f"/transfers/{{transfer_id:{ID}}}", "transfers", None, "transfers", (
        Op("GET", "get_transfer", "Read a transfer, its balance updates and its history", R, "TransferDetail"),
    )),
    Route(f"/transfers/{{transfer_id:{ID}}}/approve", "transfers", "approval", "transfers", (
        Op("POST", "approve_transfer", "Approve a transfer waiting for confirmation", APPROVE, "TransferDetail"),
    )),
    Route(f"/transfers/{{transfer_id:{ID}}}/reject", "transfers", "rejection", "transfers", (
        Op("POST", "reject_transfer", "Reject a waiting transfer; its balance updates are pending again", APPROVE,
           "TransferDetail", body=REJECTION),
    )),
    Route(f"/transfers/{{transfer_id:{ID}}}/report", "transfers", "report", "transfers", (
        Op("GET", "transfer_report", "Every balance update a transfer pays, with totals", R, "TransferReport",
           params=(REPORT_FORMAT,), csv=True,
           description="JSON by default; CSV with `Accept: text/csv` or `?format=csv`. JSON amounts are integer "
                       "minor units; CSV amounts are decimal strings (850.50) beside a currency column, and the "
                       "last CSV row (type `total`) holds the totals."),
    )),
    Route("/webhooks/stp/order-status", "stp_webhook", None, "bank", (
        Op("POST", "stp_order_status", "STP reports an order liquidated, cancelled or returned", None,
           "WebhookReceived", body=STP_ORDER_STATUS, params=(WEBHOOK_SECRET,),
           description="Authenticated by X-Webhook-Secret (401 when missing or wrong). The event is stored "
                       "(a duplicate delivery is a no-op) and applied by the bank worker; 200 once stored, also "
                       "for an unknown estado or an order not known yet. Malformed JSON: 400."),
    )),
    Route("/reconciliations/{date}", "reconciliations", None, "bank", (
        Op("GET", "get_reconciliation", "The latest reconciliation of a day against STP's conciliation list",
           APPROVE, "Reconciliation", description="date is YYYY-MM-DD; 404 when none has run."),
        Op("POST", "run_reconciliation", "Reconcile a day now", APPROVE, "ReconciliationRequested", 202),
    )),
    Route("/health", "health", None, "operations", (
        Op("GET", "health", "Database, broker and Redis status: 200 when all are up, 503 otherwise", None,
           "Health"),
    )),
    Route("/openapi.json", "openapi", None, "operations", (
        Op("GET", "openapi", "This document", None, "OpenAPIDocument"),
    )),
)


def operations_by_template() -> dict[tuple[str, str], Operation]:
    """(Falcon path template, method) -> operation, as the auth middleware looks them up."""
    return {(route.path, op.method): op for route in ROUTES for op in route.operations}
