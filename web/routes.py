"""The one route table: the app registers it, the auth middleware reads it, the OpenAPI document is built from it."""
from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import available_timezones

from domain.access import Action
from domain.credits import CancellationReason, CreditStatus
from domain.currencies import EXPONENTS
from domain.customers import (ADDRESS_LENGTH, CURP_PATTERN, NAME_LENGTH, REASON_LENGTH as CUSTOMER_REASON_LENGTH,
                              CustomerStatus, RiskProfile)
from domain.dead_letters import LISTED as DEAD_LETTERS_LISTED, LISTED_BY_DEFAULT as DEAD_LETTERS_BY_DEFAULT
from domain.dual_control import EMAIL_LENGTH, EMAIL_PATTERN, AdjustmentStatus
from domain.ledger import MAX_BALANCE, TransferStatus
from domain.loan_balances import Bucket
from domain.loan_requests import REJECTION_LENGTH as LOAN_REJECTION_LENGTH, LoanRequestStatus
from domain.loan_schedules import MAX_PAYMENTS
from domain.loans import AUTOMATIC_EVENTS as AUTOMATIC_LOAN_EVENTS, DETAIL_LENGTH as LOAN_DETAIL_LENGTH, LoanEvent
from domain.merchants import MerchantStatus
from domain.products import PaymentFrequency, ProductStatus
from domain.repayments import PaymentChannel, ReversalReason
from domain.loans import DETAIL_LENGTH as LOAN_DETAIL_LENGTH
from domain.money import MINOR_UNITS
from domain.schedules import DisbursementMode
from usecases.customers import MAX_SCORE, PHONE_PATTERN
from usecases.repayments import LISTED_STATUSES as REPAYMENT_STATUSES
from usecases.steps import QUEUES as QUEUE_NAMES
from web.schema import (MAX_ID, MAX_INTEGER, NAME, NAME_HINT, NON_BLANK, PLAIN_TEXT, PLAIN_TEXT_HINT, Body, Field,
                        ObjectBody, Param, route_amount)

WEBHOOK_BODY_LIMIT = 64 * 1024  # STP's callbacks are a few hundred bytes


@dataclass(frozen=True)
class Operation:
    """One method on one path: who may call it, what it takes and what it answers.

    ``errors``: the statuses its rules can answer beyond those its shape implies (a body: 400, 413,
    415, 422; a key: 401, 403; an id: 404), each with when."""

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
    text: bool = False  # answers text/plain only (Prometheus's format)
    errors: tuple[tuple[int, str], ...] = ()
    body_limit: int | None = None  # bytes; None: DISPERSA_MAX_BODY_BYTES
    also: tuple[tuple[int, str], ...] = ()  # other success statuses, with the same body, and when
    others: tuple[tuple[int, str, str], ...] = ()  # other success statuses with a body of their own: when, schema
    upload: tuple[str, ...] = ()  # media types of a body the responder reads itself (not JSON-checked)
    # the responder streams the body itself, each part within DISPERSA_BODY_READ_SECONDS (files of any
    # size); any other body is read whole by RequestLimits within DISPERSA_BODY_READ_SECONDS
    streamed: bool = False

    @property
    def audited(self) -> bool:
        """Privileged (mutating) operations leave a row in the audit log."""
        return self.action is not None and self.action != Action.READ


@dataclass(frozen=True)
class Route:
    """A path template (with Falcon converters), the resource serving it and the suffix of its responders.
    Path parameters are ids unless ``path_params`` declares them."""

    path: str
    resource: str
    suffix: str | None
    tag: str
    operations: tuple[Operation, ...]
    path_params: tuple[Param, ...] = ()

    @property
    def openapi_path(self) -> str:
        return re.sub(r"\{(\w+):[^}]*\}", r"{\1}", self.path)


CURRENCIES = tuple(MINOR_UNITS)
ID = f"int(min=1, max={MAX_ID})"
TIMEZONES = tuple(sorted(available_timezones()))
CLABE_PATTERN = r"^[0-9]{18}$"

# --- bodies --------------------------------------------------------------------------------------

def name_field(name: str, max_length: int, description: str = "", required: bool = False) -> Field:
    """A name, a reference or a reason: not blank, and no control characters."""
    return Field(name, "string", description, required=required, max_length=max_length, pattern=NAME,
                 pattern_hint=NAME_HINT)


def text_field(name: str, max_length: int, description: str = "", nullable: bool = False) -> Field:
    """Free text from the client, which may be empty: no control characters."""
    return Field(name, "string", description, nullable=nullable, max_length=max_length, pattern=PLAIN_TEXT,
                 pattern_hint=PLAIN_TEXT_HINT)


def text_param(name: str, description: str, max_length: int, required: bool = False,
               empty_is_absent: bool = False) -> Param:
    """A header of free text from the client: no control characters."""
    return Param(name, "string", description, location="header", max_length=max_length, required=required,
                 pattern=PLAIN_TEXT, pattern_hint=PLAIN_TEXT_HINT, empty_is_absent=empty_is_absent)


TIMEZONE = Field("timezone", "string", "IANA time zone name, America/Mexico_City by default", choices=TIMEZONES,
                 ref="TimeZone")

MERCHANT_CREATE = Body("MerchantCreate", (
    name_field("name", 200, required=True),
    Field("currency", "string", "ISO 4217 code; stores inherit it", choices=CURRENCIES),
    Field("tax_rate", "rate", "tax on the commission; 0.16 (IVA) by default for MXN"),
    Field("tiers", "tiers", "monthly commission tiers by the previous month's origination (minor units); "
          "each min_origination once"),
    Field("timezone", "string", "IANA name; the months of the commission tiers are months here "
          "(America/Mexico_City by default)", choices=TIMEZONES, ref="TimeZone"),
))
MERCHANT_UPDATE = Body("MerchantUpdate", MERCHANT_CREATE.fields + (
    Field("status", "string", "a disabled merchant cannot originate", choices=tuple(s.value for s in MerchantStatus)),
)).as_patch("MerchantUpdate", without=("currency",))

STORE_CREATE = Body("StoreCreate", (
    name_field("name", 200, required=True),
    Field("clabe", "string", "18-digit CLABE: a known bank code and its check digit", required=True,
          max_length=18, pattern=CLABE_PATTERN, pattern_hint="is 18 digits", format="clabe"),
    text_field("beneficiary_name", 120, "the name payment orders carry (folded to STP's 39 ASCII characters); "
               "the store's name when empty"),
    Field("rfc_curp", "string", "the beneficiary's RFC or CURP", max_length=18, pattern=r"^[A-Za-z0-9]*$",
          pattern_hint="is letters and digits"),
    Field("currency", "string", "defaults to the merchant's", choices=CURRENCIES),
    Field("disbursement_mode", "string", choices=tuple(m.value for m in DisbursementMode)),
    Field("time_of_day", "time", "HH:MM, in the store's time zone"),
    Field("weekday", "integer", "0 is Monday (weekly mode)", minimum=0, maximum=6),
    Field("day_of_month", "integer", "monthly mode; 29-31 fall back to the month's last day", minimum=1, maximum=31),
    TIMEZONE,
    Field("minimum_transfer", "integer", "minor units", minimum=0),
    Field("automation_enabled", "boolean"),
    Field("requires_confirmation", "boolean", "transfers wait for treasury's approval"),
))
STORE_UPDATE = STORE_CREATE.as_patch("StoreUpdate", without=("currency",))

PRODUCT_CREATE = Body("ProductCreate", (
    name_field("name", 200, required=True),
    Field("currency", "string", "ISO 4217 code; its offers are in it (it cannot change)", required=True,
          choices=CURRENCIES),
    Field("payment_frequency", "string", "how often installments fall due (monthly by default)",
          choices=tuple(f.value for f in PaymentFrequency)),
))
PRODUCT_UPDATE = PRODUCT_CREATE.as_patch("ProductUpdate", without=("currency",))

OPTION_CREATE = Body("PaymentOptionCreate", (
    Field("product_id", "integer", "the product the offer goes under (active, in the store's currency); the "
          "currency's default product when not given", minimum=1, maximum=MAX_ID),
    Field("number_of_payments", "integer", required=True, minimum=1, maximum=1000),
    Field("merchant_commission", "rate", required=True),
    Field("min_amount", "integer", "minor units; at most max_amount", required=True, minimum=0),
    Field("max_amount", "integer", "minor units; at least min_amount", required=True, minimum=0),
    Field("priority", "integer", "the highest applicable priority wins", minimum=-1_000_000, maximum=1_000_000),
    text_field("identifier_code", 64),
    text_field("type", 32),
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
OPTION_UPDATE = OPTION_CREATE.as_patch("PaymentOptionUpdate", without=("product_id",))

CREDIT_CREATE = Body("CreditCreate", (
    Field("store_id", "integer", required=True, minimum=1, maximum=MAX_ID),
    name_field("external_id", 64, "your reference; a repeat with the same terms returns the same credit",
               required=True),
    Field("amount", "integer", "minor units", required=True, minimum=1),
    Field("number_of_payments", "integer", required=True, minimum=1, maximum=1000),
))
CANCELLATION = Body("CreditCancellation", (
    Field("reason", "string", required=True, choices=tuple(r.value for r in CancellationReason)),
))
ADJUSTMENT = Body("AdjustmentCreate", (
    Field("amount", "integer", "signed minor units, not zero; at most DISPERSA_MAX_ADJUSTMENT either way",
          required=True, minimum=-MAX_BALANCE, maximum=MAX_BALANCE, not_zero=True),
    text_field("note", 255, nullable=True),
))
REJECTION = Body("TransferRejection", (name_field("reason", 255, required=True),))
ADJUSTMENT_REJECTION = Body("AdjustmentRejection", (name_field("reason", 255, required=True),))
TENANT_CONFIG = ObjectBody("TenantConfig", ())
FLOAT_FUNDING = Body("FloatFunding", (
    Field("amount", "string", "a decimal in major units, such as 25000 or 25000.50", required=True, max_length=32,
          pattern=r"^[0-9]{1,15}(\.[0-9]{1,4})?$", pattern_hint="is a decimal amount such as 25000.50"),
    Field("currency", "string", "ISO 4217", required=True, choices=tuple(sorted(EXPONENTS))),
))
DEAD_LETTER_DROP = Body("DeadLetterDrop", (name_field("reason", 255, "why the message is given up", required=True),))
STP_ORDER_STATUS = Body("StpOrderStatus", (
    Field("id", "integer", "STP's order id (idEF)", nullable=True, minimum=1, maximum=MAX_INTEGER),
    Field("empresa", "string", nullable=True, max_length=64),
    Field("folioOrigen", "string", "our folio: the order's tracking key", nullable=True, max_length=64),
    Field("estado", "string", "LQ/Liquidada/Liquidacion/Success, CN/Cancelada/Cancelacion/Cancel, "
          "D/Devuelta/Devolucion/Refund, or a configured alias", required=True, max_length=32, pattern=NON_BLANK,
          pattern_hint="cannot be blank"),
    Field("causaDevolucion", "code", "the return's cause, as STP's code or its text", nullable=True,
          max_length=255),
    Field("tsLiquidacion", "integer", "epoch milliseconds", nullable=True, minimum=0),
), extras=True)
API_KEY_CREATE = Body("ApiKeyCreate", (
    Field("role", "string", required=True, choices=("admin", "treasury", "operator", "partner", "account_executive")),
    Field("merchant_id", "integer", "the merchant a partner key may see (required for partner, refused for the "
          "others)", nullable=True,
          minimum=1, maximum=MAX_ID),
    Field("owner", "string", "the e-mail address of the person the key belongs to: dual control compares people, "
          "not keys", required=True, max_length=EMAIL_LENGTH, pattern=EMAIL_PATTERN,
          pattern_hint="is an e-mail address"),
    text_field("label", 120, "who or what the key is for"),
), all_of=({"if": {"properties": {"role": {"const": "partner"}}, "required": ["role"]},
            "then": {"required": ["merchant_id"], "properties": {"merchant_id": {"type": "integer"}}},
            "else": {"properties": {"merchant_id": {"type": "null"}}}},))
WEBHOOK_SECRET = Param("X-Webhook-Secret", "string", "the shared secret (DISPERSA_WEBHOOK_SECRET)", location="header",
                       max_length=512)

# --- parameters ----------------------------------------------------------------------------------

PAGE = Param("page", "integer", "1-based page number", minimum=1, maximum=10**6, default=1)
PER_PAGE = Param("per_page", "integer", "items per page", minimum=1, maximum=200, default=50)
PAGING = (PAGE, PER_PAGE)
TRANSFER_STATUS = Param("status", "string", "only transfers in this status",
                        choices=tuple(s.value for s in TransferStatus))
STORE_FILTER = Param("store", "integer", "only those of this store", minimum=1, maximum=MAX_ID)
ADJUSTMENT_STATUS = Param("status", "string", "only adjustment requests in this status",
                          choices=tuple(s.value for s in AdjustmentStatus))
TRANSFER_STORE = STORE_FILTER
CREDIT_STATUS = Param("status", "string", "only credits in this status", choices=tuple(s.value for s in CreditStatus))
PRODUCT_STATUS = Param("status", "string", "only products in this status", choices=tuple(s.value for s in ProductStatus))
REPORT_FORMAT = Param("format", "string", "csv for CSV; otherwise the Accept header decides", choices=("json", "csv"))
IDEMPOTENCY_KEY = text_param("Idempotency-Key", "a repeat with the same key returns the first adjustment", 80)
DATE_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
TENANT_NAME = Param("tenant", "string", "the tenant's name, as Platform-TenantId carries it", location="path",
                    max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$",
                    pattern_hint="is 1 to 64 lower-case letters, digits, '.', '_' or '-'")
OPERATION_DATE = Param("date", "string", "the operation date, YYYY-MM-DD (years 2000 to 2099)", location="path",
                       pattern=DATE_PATTERN, pattern_hint="is a date YYYY-MM-DD from 2000 to 2099", format="date")
SINCE = Param("since", "string", "only entries at or after this time (RFC 3339, such as 2026-11-24T08:00:00-06:00)",
              max_length=64, format="date-time")
EVENT_LEVEL = Param("level", "string", "only events of this level; ALERT is what a person must look at",
                    choices=("INFO", "WARNING", "ERROR", "ALERT"))
EVENT_KIND = Param("kind", "string", "only events of this kind (transfer_created, payment_order_refused, ...)",
                   max_length=64, pattern=r"^[a-z_]+$", pattern_hint="is lower-case letters and underscores")
AUDIT_ACTION = Param("action", "string", "only this action (the operation id, such as update_store)",
                     max_length=64, pattern=r"^[a-z_]+$", pattern_hint="is lower-case letters and underscores")
QUEUE_FILTER = Param("queue", "string", "only those of this queue", choices=QUEUE_NAMES)
ACTOR_FILTER = Param("actor", "string", "only those of this actor (contribute, send_payment_order, ...)",
                     max_length=64, pattern=r"^[a-z_]+$", pattern_hint="is lower-case letters and underscores")
DEAD_LETTER_STATUS = Param("status", "string", "only dead letters in this status; all for every one (as the CLI's "
                           "--status)", choices=DEAD_LETTERS_LISTED, default=DEAD_LETTERS_BY_DEFAULT)
AUDIT_RESOURCE = Param("resource", "string", "only actions on this kind of resource (store, transfer, ...)",
                       max_length=64, pattern=r"^[a-z_]+$", pattern_hint="is lower-case letters and underscores")

BULK_PAGE = Param("page", "integer", "0-based page number", minimum=0, maximum=10**6, default=0)
BULK_SIZE = Param("size", "integer", "batches per page", minimum=1, maximum=200, default=20)
BULK_SORTED_BY = Param("sortedBy", "string", "the field to sort by", default="createdAt",
                       choices=("requestFile", "createdAt", "startedAt", "completedAt", "requestId", "status", "id"))
BULK_SORTED_ORDER = Param("sortedOrder", "string", "asc or desc", choices=("asc", "desc", "ASC", "DESC"),
                          default="desc")
PAGE_NO = Param("pageNo", "integer", "1-based page number", minimum=1, maximum=10**6, default=1)
PAGE_SIZE = Param("pageSize", "integer", "rows per page", minimum=1, maximum=1000, default=50)
ROW_STATUS = Param("status", "string", "only rows in this status",
                   choices=("PENDING", "IN_PROGRESS", "SUCCESS", "FAILURE"))
SUB_BATCH = Param("subBatch", "integer", "one sub-batch's rows only; -1: the rows that failed before the split "
                  "(in no sub-batch)", minimum=-1, maximum=10**6)
SUB_BATCH_ID = Param("subBatchId", "integer", "subBatch by the name the summary gives it", minimum=-1,
                     maximum=10**6)
TEMPLATE_TYPES = Param("types", "string", "payment types the template is for, such as PROGRAM,MOJALOOP (the "
                       "columns are the same for all)", max_length=200)
TENANT_HEADER = text_param("Platform-TenantId", "the tenant the call is for: the key's own (admin and treasury keys "
                           "may name any); missing or another tenant's is a 403", 64, required=True)
CORRELATION_ID = text_param("X-CorrelationID", "the client's id of the batch (its request_id): the same id with the "
                            "same content is the same batch, with other content a 409", 64, required=True)
FILENAME = text_param("filename", "the file's name, kept with the batch (empty: none, as absent)", 255,
                      empty_is_absent=True)
PURPOSE = text_param("Purpose", "what the batch pays for", 64)
CALLBACK_URL = Param("X-CallbackURL", "string", "where progress is acknowledged (acknowledgement.enable)",
                     location="header", max_length=1024, pattern=r"^https?://", pattern_hint="is an http(s) URL")
BATCH_TYPE = Param("type", "string", "csv (a file) or raw (a JSON array); also the Type header",
                   choices=("csv", "raw", "CSV", "RAW"))
TYPE_HEADER = Param("Type", "string", "the type, when not in the query", location="header",
                    choices=("csv", "raw", "CSV", "RAW"))
CONTENT_SHA256 = Param("X-Content-SHA256", "string", "hex SHA-256 of the file's bytes: checked, 400 on a mismatch",
                       location="header", pattern=r"^[0-9A-Fa-f]{64}$", pattern_hint="is 64 hex digits")
CONTENT_MD5 = Param("Content-MD5", "string", "base64 MD5 of the file's bytes (RFC 1864): checked, 400 on a "
                    "mismatch", location="header", pattern=r"^[A-Za-z0-9+/]{22}==$",
                    pattern_hint="is 24 base64 characters")
BATCH_ID = Param("batch_id", "string", "the batch's id (a UUID)", location="path", max_length=36,
                 pattern=r"^[0-9a-fA-F-]{36}$", pattern_hint="is a UUID")
CONNECTOR_NAME = Param("connector", "string", "the connector calling back (GSMA's are asynchronous; Mojaloop's "
                       "scheme adapter answers in the call)", location="path", choices=("gsma",))
UETR_PARAM = Param("uetr", "string", "the row's UETR", location="path", max_length=36,
                   pattern=r"^[0-9a-fA-F-]{36}$", pattern_hint="is a UUID")
CALLBACK_SIGNATURE = Param("X-Callback-Signature", "string", "hex HMAC-SHA256 of the body under "
                           "DISPERSA_WEBHOOK_SECRET", location="header", max_length=128)
RAIL = Param("rail", "string", "the payment rail: SPEI (MXN), SEPA (EUR), SWIFT (USD) or FPS (GBP)",
             choices=("SPEI", "SEPA", "SWIFT", "FPS"), required=True)
COUNTRY = Param("country", "string", "the destination country (ISO 3166 alpha-2), whose public holidays count "
                "where the rail says so (SEPA, SWIFT)", pattern=r"^[A-Za-z]{2}$", pattern_hint="is two letters")
DELIVERY_DATE = Param("delivery_date", "string", "the day the payment must arrive, YYYY-MM-DD", pattern=DATE_PATTERN,
                      pattern_hint="is a date YYYY-MM-DD from 2000 to 2099", format="date", required=True)
EXECUTION_DATE = Param("execution_date", "string", "the day the payment is sent, YYYY-MM-DD", pattern=DATE_PATTERN,
                       pattern_hint="is a date YYYY-MM-DD from 2000 to 2099", format="date", required=True)
DATE_422 = ((422, "an unknown country, a date outside the calendars' years, or one already past (or today after "
                  "the rail's cut-off): the description names the earliest date possible"),)
PAYMENT_UETR = Param("uetr", "string", "the payment's UETR (a UUID v4)", location="path", max_length=36)
BATCH_REJECTION = Body("BatchRejection", (name_field("reason", 255, "why the batch is not paid", required=True),))
ROUTE_TRANSFER = Field("transfers", "transfers", "the parts: each {account, amount, currency, notes}; they add up "
                       "to amount exactly", required=True)
PAYMENT_ROUTE = Body("PaymentRoute", (
    route_amount("the whole, a decimal in major units"),
    Field("currency", "string", "ISO 4217", required=True, choices=tuple(sorted(EXPONENTS))),
    text_field("payment_mode", 32, "the payment mode of every part (the tenant's payment-modes); closedloop when "
               "not given"),
    ROUTE_TRANSFER,
))
WALLET_OWNER = Param("owner", "string", "the wallet's owner: the payee identifier its closedloop rows pay",
                     location="path", max_length=128, pattern=r"^[A-Za-z0-9._:+@-]{1,128}$",
                     pattern_hint="is 1 to 128 letters, digits, '.', '_', ':', '+', '@' or '-'")
WITHDRAWAL = Body("WalletWithdrawal", (
    Field("reference", "string", "your id of this withdrawal: the same reference is the same withdrawal (paid at "
          "most once), with other details a 409", required=True, max_length=64, pattern=r"^[A-Za-z0-9._:-]{1,64}$",
          pattern_hint="is 1 to 64 letters, digits, '.', '_', ':' or '-'"),
    Field("amount", "string", "a decimal in major units, such as 1500 or 1500.50", required=True, max_length=32,
          pattern=r"^[0-9]{1,15}(\.[0-9]{1,4})?$", pattern_hint="is a decimal amount such as 1500.50"),
    Field("currency", "string", "ISO 4217; SPEI pays MXN", required=True, choices=tuple(sorted(EXPONENTS))),
    Field("clabe", "string", "the 18-digit CLABE paid: a known bank code and its check digit", required=True,
          max_length=18, pattern=CLABE_PATTERN, pattern_hint="is 18 digits", format="clabe"),
    name_field("beneficiary_name", 120, "the CLABE's holder (folded to STP's 39 ASCII characters)", required=True),
    Field("rfc_curp", "string", "the holder's RFC or CURP", max_length=18, pattern=r"^[A-Za-z0-9]*$",
          pattern_hint="is letters and digits"),
    text_field("concept", 120, "what the order says (folded to STP's 39 ASCII characters)"),
))
WITHDRAWAL_REJECTION = Body("WithdrawalRejection", (name_field("reason", 255, "why it is not paid", required=True),))
WITHDRAWAL_DECISION = ((403, "the person whose key asked for the withdrawal (maker-checker)"),
                       (404, "no such withdrawal"), (409, "the withdrawal is not awaiting approval"))
DATE_TYPE = Param("X-Date-Type", "string", "what the file's date column is: delivery or execution dates (execution "
                  "when not said; also the multipart field date_type); for tenants with dates.enable",
                  location="header", choices=("delivery", "execution"))
PAYMENT_HIDDEN = ((403, "a bulk row's payment, to a key whose role may not read batches (as its batch answers)"),
                  (404, "no payment with this UETR (or a malformed one), or one this key may not see"))
SUBMIT_HEADERS = (TENANT_HEADER, CORRELATION_ID, FILENAME, PURPOSE, CALLBACK_URL, TYPE_HEADER, CONTENT_SHA256,
                  CONTENT_MD5, DATE_TYPE)
BULK_READ_403 = ((403, "no Platform-TenantId, or a tenant the key does not act for"),)
NO_BATCH = (404, "no such batch, or another tenant's: both are answered alike")
CLIENT_DECIDES = ((403, "not a tenant key (only the tenant's own key decides), or no Platform-TenantId"),
                  NO_BATCH, (409, "the batch is not awaiting confirmation"))

CUSTOMER_CREATE = Body("CustomerCreate", (
    name_field("external_id", 64, "the lender's reference of the customer: one customer per external_id (the "
               "platform is the only lender for now)", required=True),
    name_field("first_name", NAME_LENGTH, "given names", required=True),
    text_field("last_name", NAME_LENGTH, "first surname (apellido paterno)", nullable=True),
    text_field("second_last_name", NAME_LENGTH, "second surname (apellido materno), when the person has one",
               nullable=True),
    Field("phone", "string", "8 to 15 digits, the country code's + optional", nullable=True, max_length=16,
          pattern=PHONE_PATTERN, pattern_hint="is 8 to 15 digits, the country code's + optional"),
    Field("email", "string", "kept lower-cased", nullable=True, max_length=EMAIL_LENGTH, pattern=EMAIL_PATTERN,
          pattern_hint="is an e-mail address"),
    text_field("address", ADDRESS_LENGTH, nullable=True),
    Field("national_id", "string", "the CURP: its birth date, state and check digit are checked too; one customer "
          "per CURP", nullable=True, max_length=18, pattern=CURP_PATTERN,
          pattern_hint="is a CURP: 18 upper-case letters and digits", format="curp"),
))
CUSTOMER_UPDATE = CUSTOMER_CREATE.as_patch("CustomerUpdate", without=("external_id",))
CUSTOMER_SCORE = Body("CustomerScore", (
    Field("risk_profile", "string", "A0 (lowest risk) to C3 (highest)", required=True,
          choices=tuple(p.value for p in RiskProfile)),
    Field("score", "integer", "the scoring process's score, when it gives one", nullable=True, minimum=0,
          maximum=MAX_SCORE),
))
CUSTOMER_EVENTS = ("enable", "disable", "block")
CUSTOMER_MOVE = Body("CustomerMove", (
    Field("event", "string", "enable (a disabled or blocked customer), disable (an enabled one), block (any but a "
          "deleted one)", required=True, choices=CUSTOMER_EVENTS),
    name_field("reason", CUSTOMER_REASON_LENGTH, "why: kept in the status history and the audit log (no personal "
               "data)", required=True),
))
CUSTOMER_MOVE_PREVIEW = Body("CustomerMovePreview", (
    Field("event", "string", required=True, choices=CUSTOMER_EVENTS),
))
CUSTOMER_DELETION = Body("CustomerDeletion", (
    name_field("reason", CUSTOMER_REASON_LENGTH, "why: kept in the audit log (no personal data)", required=True),
    Field("force", "boolean", "needed when the customer still owes: the deletion is audited with what it owed"),
))
CUSTOMER_EXTERNAL_ID = Param("external_id", "string", "only the customer of this external_id", max_length=64,
                             pattern=NAME, pattern_hint=NAME_HINT)
CUSTOMER_STATUS = Param("status", "string", "only customers in this status",
                        choices=tuple(s.value for s in CustomerStatus))
CUSTOMER_STATE_409 = (409, "the customer's status does not allow this: the body also has ``status`` and "
                           "``allowed_actions``")

REPAYMENT_CREATE = Body("RepaymentCreate", (
    name_field("external_id", 64, "the lender's reference of the payment: the same external_id with the same terms "
               "returns the first repayment, with other terms a 409", required=True),
    Field("loan_id", "integer", "the loan paid", required=True, minimum=1, maximum=MAX_ID),
    Field("amount", "integer", "minor units; at most what the loan owes today (its payoff)", required=True,
          minimum=1),
    Field("channel", "string", "automatic (the platform collects by itself) or voluntary (the customer pays)",
          required=True, choices=tuple(c.value for c in PaymentChannel)),
    Field("recorded_by_operator", "boolean", "paid outside the platform and recorded by a person (the only way a "
          "blocked customer pays); such a payment is voluntary. False by default"),
), all_of=({"if": {"properties": {"recorded_by_operator": {"const": True}}, "required": ["recorded_by_operator"]},
            "then": {"properties": {"channel": {"const": "voluntary"}}}},))
REPAYMENT_REVERSAL = Body("RepaymentReversal", (
    Field("reason", "string", "why the payment goes back to the customer", required=True,
          choices=tuple(r.value for r in ReversalReason)),
))
REPAYMENT_REJECTION = Body("RepaymentRejection", (
    name_field("reason", LOAN_DETAIL_LENGTH, "why the payment was not approved", required=True),
))
REPAYMENT_LOAN = Param("loan_id", "integer", "only the repayments of this loan", minimum=1, maximum=MAX_ID)
REPAYMENT_STATUS = Param("status", "string", "only repayments in this status: a pre-payment's (pending, rejected, "
                         "completed) or a payment's (accepted, reversed)", choices=REPAYMENT_STATUSES)
REPAYMENT_409 = (409, "the customer's status does not allow this way of paying (the body also has ``status`` and "
                      "``allowed_actions``), the loan's status or its product does not take this channel, the "
                      "amount is above what the loan owes today, or the external_id is another repayment's with "
                      "other terms; nothing was changed")
LOAN_REQUEST_CREATE = Body("LoanRequestCreate", (
    name_field("external_id", 64, "the lender's reference of the request, and of the loan it signs: a repeat with "
               "the same terms returns the same request, with other terms a 409", required=True),
    Field("customer_id", "integer", "the customer who borrows (enabled: it may request a loan)", required=True,
          minimum=1, maximum=MAX_ID),
    Field("store_id", "integer", "the store of the purchase; its enabled offers issue the loan", required=True,
          minimum=1, maximum=MAX_ID),
    Field("amount", "integer", "the principal, minor units", required=True, minimum=1),
    Field("number_of_payments", "integer", "installments, at the product's frequency", required=True, minimum=1,
          maximum=MAX_PAYMENTS),
))
LOAN_REQUEST_REJECTION = Body("LoanRequestRejection", (
    name_field("reason", LOAN_REJECTION_LENGTH, "why the request is not granted (kept with it)", required=True),
))
LOAN_REQUEST_CUSTOMER = Param("customer_id", "integer", "only those of this customer", minimum=1, maximum=MAX_ID)
LOAN_REQUEST_STATUS = Param("status", "string", "only requests in this status",
                            choices=tuple(s.value for s in LoanRequestStatus))
LOAN_CUSTOMER = Param("customer_id", "integer", "only loans of this customer", minimum=1, maximum=MAX_ID)
LOAN_STATUS = Param("status", "string", "only loans in this status", choices=tuple(s.value for s in CreditStatus))
LOAN_BUCKET = Param("bucket", "string", "only loans in this delinquency bucket (as last serviced)",
                    choices=tuple(b.value for b in Bucket))
AS_OF = Param("as_of", "string", "the business day the balances are computed as of, YYYY-MM-DD from 2000 to 2099 "
              "(the lender's today in Mexico City when not given)", pattern=DATE_PATTERN,
              pattern_hint="is a date YYYY-MM-DD from 2000 to 2099", format="date")
LOAN_EVENTS = tuple(e.value for e in LoanEvent if e not in AUTOMATIC_LOAN_EVENTS)
LOAN_MOVE = Body("LoanMove", (
    Field("event", "string", "freeze (an active loan), unfreeze (a frozen one), open_dispute (active or frozen), "
          "resolve_dispute (in dispute), cancel (any but paid or cancelled, with a reason); delivery, settlement "
          "and reopening are the platform's own", required=True, choices=LOAN_EVENTS),
    Field("reason", "string", "a cancellation's reason (only a cancellation has one)", nullable=True,
          choices=tuple(r.value for r in CancellationReason)),
    name_field("detail", LOAN_DETAIL_LENGTH, "why, in words: kept in the loan's history and the audit log"),
))
LOAN_MOVE_PREVIEW = Body("LoanMovePreview", (
    Field("event", "string", required=True, choices=LOAN_EVENTS),
    Field("reason", "string", "a cancellation's reason", nullable=True,
          choices=tuple(r.value for r in CancellationReason)),
))
LOAN_MOVE_409 = (409, "the loan's status does not allow the event, or a cancellation without a reason: the body also "
                      "has ``status`` and ``allowed_events``")
NO_LOAN_404 = (404, "no such loan (a credit without a customer is not a loan)")

# --- the table -----------------------------------------------------------------------------------

R, MANAGE, VALIDATE, ORIGINATE = Action.READ, Action.MANAGE_CATALOG, Action.VALIDATE, Action.ORIGINATE
ADJUST, APPROVE, OPERATIONS, KEYS = Action.ADJUST, Action.APPROVE_TRANSFER, Action.READ_OPERATIONS, Action.MANAGE_KEYS
QUEUES = Action.OPERATE_QUEUES
NOT_DEAD = ((409, "the dead letter is not dead: it was requeued or dropped already (or is being, by another "
                  "request)"),)
Op = Operation
NOT_YET = ((409, "the resource is not ready for this yet; the description says what is missing"),)
TIERS_422 = ((422, "invalid input, or a min_origination given twice; nothing was changed"),)
FUTURE_DAY_422 = (422, "not a day of the calendar, or a day after today in Mexico City; nothing was changed")
RANGE_422 = ((422, "invalid input, or min_amount above max_amount; nothing was changed"),)
MERCHANT_DISABLED_403 = (403, "a partner key whose merchant is disabled")
OFFER_MOVE_409 = ((409, "the offer's status does not allow it (the body names the status and the moves it allows), "
                        "or its product is inactive (enabling)"),)
CLABE_422 = ((422, "invalid input, or a CLABE whose bank code or check digit is wrong; nothing was changed"),)

ROUTES: tuple[Route, ...] = (
    Route("/merchants", "merchants", "collection", "merchants", (
        Op("POST", "create_merchant", "Create a merchant", MANAGE, "Merchant", 201, MERCHANT_CREATE,
           errors=TIERS_422),
        Op("GET", "list_merchants", "List merchants, oldest first", R, "MerchantPage", params=PAGING,
           description="A partner key sees only its own merchant."),
    )),
    Route(f"/merchants/{{merchant_id:{ID}}}", "merchants", None, "merchants", (
        Op("GET", "get_merchant", "Read a merchant", R, "Merchant"),
        Op("PATCH", "update_merchant", "Edit a merchant (it needs validating again)", MANAGE, "Merchant",
           body=MERCHANT_UPDATE, errors=TIERS_422),
    )),
    Route(f"/merchants/{{merchant_id:{ID}}}/validate", "merchants", "validation", "merchants", (
        Op("POST", "validate_merchant", "Validate a merchant (needs a validated store)", VALIDATE, "Merchant",
           errors=NOT_YET),
    )),
    Route(f"/merchants/{{merchant_id:{ID}}}/stores", "stores", "collection", "stores", (
        Op("POST", "create_store", "Create a store of a merchant", MANAGE, "Store", 201, STORE_CREATE,
           errors=CLABE_422),
        Op("GET", "list_merchant_stores", "A merchant's stores, oldest first", R, "StorePage", params=PAGING),
    )),
    Route(f"/stores/{{store_id:{ID}}}", "stores", None, "stores", (
        Op("GET", "get_store", "Read a store", R, "Store"),
        Op("PATCH", "update_store", "Edit a store (it needs validating again, and is not paid until then)",
           Action.EDIT_STORE, "Store", body=STORE_UPDATE, errors=CLABE_422,
           description="Bank details (clabe, beneficiary_name, rfc_curp) and requires_confirmation are money "
                       "decisions: only treasury and admin keys may change them (403 otherwise); the other "
                       "fields are the catalogue's (operator and admin). Every change is audited with its old "
                       "and new values, accounts masked."),
    )),
    Route(f"/stores/{{store_id:{ID}}}/validate", "stores", "validation", "stores", (
        Op("POST", "validate_store", "Validate a store: from now on its payouts go to its current bank details",
           VALIDATE, "Store", errors=NOT_YET + ((403, "the key's role may not validate, or dual control: the person "
                                                      "who changed the store's bank details may not validate them"),)),
    )),
    Route(f"/stores/{{store_id:{ID}}}/payment-options", "options", "collection", "payment options", (
        Op("POST", "create_payment_option", "Add a payment option (a draft offer) to a store", MANAGE,
           "PaymentOption", 201, OPTION_CREATE,
           errors=((409, "the product is inactive: it takes no new offers"),
                   (422, "invalid input, min_amount above max_amount, or a product in another currency than the "
                         "store's; nothing was changed")),
           description="404 when the store or the product does not exist."),
        Op("GET", "list_payment_options", "A store's payment options", R, "PaymentOptionList"),
    )),
    Route(f"/payment-options/{{option_id:{ID}}}", "options", None, "payment options", (
        Op("GET", "get_payment_option", "Read a payment option", R, "PaymentOption"),
        Op("PATCH", "update_payment_option", "Edit a payment option (it needs validating again)", MANAGE,
           "PaymentOption", body=OPTION_UPDATE, errors=RANGE_422),
    )),
    Route(f"/payment-options/{{option_id:{ID}}}/validate", "options", "validation", "payment options", (
        Op("POST", "validate_payment_option", "Validate a payment option", VALIDATE, "PaymentOption",
           errors=NOT_YET),
    )),
    Route(f"/payment-options/{{option_id:{ID}}}/enable", "options", "enabling", "payment options", (
        Op("POST", "enable_payment_option", "Enable a draft offer: it issues loans (once treasury validated it too)",
           Action.ENABLE_OFFERS, "PaymentOption", errors=OFFER_MOVE_409,
           description="Account executive and admin keys only. A repeat changes nothing."),
    )),
    Route(f"/payment-options/{{option_id:{ID}}}/disable", "options", "disabling", "payment options", (
        Op("POST", "disable_payment_option", "Disable an offer for good: it issues no new loans, its loans go on "
           "being serviced", Action.DISABLE_OFFERS, "PaymentOption", errors=OFFER_MOVE_409,
           description="A repeat changes nothing."),
    )),
    Route("/api/v1/products", "products", "collection", "products", (
        Op("POST", "create_product", "Create a product (active); offers go under it", MANAGE, "Product", 201,
           PRODUCT_CREATE),
        Op("GET", "list_products", "Products, oldest first", R, "ProductPage", params=(PRODUCT_STATUS,) + PAGING),
    )),
    Route(f"/api/v1/products/{{product_id:{ID}}}", "products", None, "products", (
        Op("GET", "get_product", "Read a product", R, "Product"),
        Op("PATCH", "update_product", "Edit a product's name or payment frequency", MANAGE, "Product",
           body=PRODUCT_UPDATE),
    )),
    Route(f"/api/v1/products/{{product_id:{ID}}}/activate", "products", "activation", "products", (
        Op("POST", "activate_product", "Activate an inactive product", MANAGE, "Product",
           description="A repeat changes nothing."),
    )),
    Route(f"/api/v1/products/{{product_id:{ID}}}/deactivate", "products", "deactivation", "products", (
        Op("POST", "deactivate_product", "Deactivate a product: no new offers, no new loans, no new interest; its "
           "data stays", MANAGE, "Product", description="A repeat changes nothing."),
    )),
    Route("/credits", "credits", "collection", "credits", (
        Op("POST", "originate_credit", "Originate a credit at signature; its commission is fixed now", ORIGINATE,
           "Credit", 201, CREDIT_CREATE,
           errors=((409, "no validated, enabled option of the store fits these terms (the body says when the one "
                         "that fits is a draft, disabled, or under an inactive product), their commission and tax "
                         "exceed the amount, or external_id names a credit with other terms"),
                   (422, "invalid input, or a contribution that would take the store's balance beyond "
                         "+/-(2^53 - 1); nothing was changed")),
           description="403 when the merchant or store is not validated or the merchant is disabled; 404 when "
                       "the store does not exist. Idempotent on external_id."),
        Op("GET", "list_credits", "Credits, newest first", R, "CreditPage",
           params=(STORE_FILTER, CREDIT_STATUS) + PAGING, description="A partner key sees only its own."),
    )),
    Route(f"/credits/{{credit_id:{ID}}}", "credits", None, "credits", (
        Op("GET", "get_credit", "Read a credit", R, "Credit"),
    )),
    Route(f"/credits/{{credit_id:{ID}}}/delivery", "credits", "delivery", "credits", (
        Op("POST", "deliver_credit", "The product was delivered: the credit contributes to the store's balance",
           Action.HANDLE_CREDITS, "Credit", errors=(MERCHANT_DISABLED_403,),
           description="The contribution is written by the ledger worker shortly after. A partner key marks "
                       "delivery of its own merchant's credits only (another's is a 404, as a missing one)."),
    )),
    Route(f"/credits/{{credit_id:{ID}}}/cancellation", "credits", "cancellation", "credits", (
        Op("POST", "cancel_credit", "Cancel a credit with a reason", Action.HANDLE_CREDITS, "Credit",
           body=CANCELLATION,
           errors=((403, "a partner key: a reason other than rejected or returned, or its merchant is disabled"),),
           description="A partner key cancels its own merchant's credits only (another's is a 404, as a missing "
                       "one): a purchase it rejects (rejected) or a product returned (returned)."),
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
           "BalanceUpdate", 201, ADJUSTMENT, (IDEMPOTENCY_KEY,),
           others=((202, "dual control: above DISPERSA_ADJUSTMENT_APPROVAL_ABOVE, alone or with the store's "
                         "adjustments of the day, the adjustment waits for a second person's approval",
                    "AdjustmentRequest"),),
           errors=((422, "invalid input, an amount beyond DISPERSA_MAX_ADJUSTMENT, or one that would take the "
                         "balance beyond +/-(2^53 - 1); nothing was changed"),)),
    )),
    Route("/api/v1/adjustment-requests", "adjustment_requests", "collection", "ledger", (
        Op("GET", "list_adjustment_requests", "Adjustments held for a second person's approval, newest first", R,
           "AdjustmentRequestPage", params=(ADJUSTMENT_STATUS, STORE_FILTER) + PAGING),
    )),
    Route(f"/api/v1/adjustment-requests/{{request_id:{ID}}}", "adjustment_requests", None, "ledger", (
        Op("GET", "get_adjustment_request", "An adjustment request", R, "AdjustmentRequest"),
    )),
    Route(f"/api/v1/adjustment-requests/{{request_id:{ID}}}/approve", "adjustment_requests", "approval", "ledger", (
        Op("POST", "approve_adjustment", "Approve a held adjustment: it becomes its balance update", ADJUST,
           "AdjustmentRequest", errors=(
               (403, "the key's role may not adjust, or dual control: the person who asked for the adjustment may "
                     "not approve it"),
               (409, "the request is not waiting for approval, or its amount would take the balance beyond "
                     "+/-(2^53 - 1)"))),
    )),
    Route(f"/api/v1/adjustment-requests/{{request_id:{ID}}}/reject", "adjustment_requests", "rejection", "ledger", (
        Op("POST", "reject_adjustment", "Reject a held adjustment (its requester may withdraw it): nothing is "
           "adjusted", ADJUST, "AdjustmentRequest", body=ADJUSTMENT_REJECTION,
           errors=((409, "the request is not waiting for approval"),)),
    )),
    Route(f"/stores/{{store_id:{ID}}}/transfers", "ledger", "transfers", "transfers", (
        Op("POST", "request_transfer", "Ask for a transfer of the pending balance now", APPROVE,
           "TransferRequested", 202,
           description="The transfer is built by the ledger worker; find it with GET /transfers?store=. The "
                       "request is decided once, with its reason when it pays nothing (GET /api/v1/events)."),
    )),
    Route("/transfers", "transfers", "collection", "transfers", (
        Op("GET", "list_transfers", "Transfers, newest first", R, "TransferPage",
           params=(TRANSFER_STATUS, TRANSFER_STORE) + PAGING),
    )),
    Route(f"/transfers/{{transfer_id:{ID}}}", "transfers", None, "transfers", (
        Op("GET", "get_transfer", "Read a transfer, its balance updates and its history", R, "TransferDetail"),
    )),
    Route(f"/transfers/{{transfer_id:{ID}}}/approve", "transfers", "approval", "transfers", (
        Op("POST", "approve_transfer", "Approve a transfer waiting for confirmation", APPROVE, "TransferDetail",
           errors=((403, "the key's role may not approve transfers, or dual control: the person who changed the "
                         "store's bank account, or who asked for the transfer, may not approve it"),
                   (409, "the transfer is not waiting for confirmation, or its store is not validated"),)),
    )),
    Route(f"/transfers/{{transfer_id:{ID}}}/reject", "transfers", "rejection", "transfers", (
        Op("POST", "reject_transfer", "Reject a waiting transfer; its balance updates are pending again", APPROVE,
           "TransferDetail", body=REJECTION, errors=((409, "the transfer is not waiting for confirmation"),)),
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
           "WebhookReceived", body=STP_ORDER_STATUS, params=(WEBHOOK_SECRET,), body_limit=WEBHOOK_BODY_LIMIT,
           errors=((401, "X-Webhook-Secret missing or wrong (refusals are counted, not each stored)"),),
           description="Authenticated by X-Webhook-Secret. The event is stored (a duplicate delivery is a no-op) "
                       "and applied by the bank worker; 200 once stored, also for an unknown estado or an order "
                       "not known yet. Fields beyond these are accepted when they are plain values; STP's payee "
                       "fields are stored masked, any other dropped. A cancellation or return counts only once "
                       "STP's consultaOrden shows it. "
                       "A body that is not one JSON object of those fields is a 400 (this route answers 400 "
                       "where others answer 422); one over 64 KiB a 413."),
    )),
    Route("/reconciliations/{date}", "reconciliations", None, "bank", (
        Op("GET", "get_reconciliation", "The latest reconciliation of a day against STP's conciliation list",
           APPROVE, "Reconciliation", errors=((404, "no reconciliation has run for the day"), FUTURE_DAY_422)),
        Op("POST", "run_reconciliation", "Reconcile a day now", APPROVE, "ReconciliationRequested", 202,
           errors=(FUTURE_DAY_422,)),
    ), path_params=(OPERATION_DATE,)),
    Route("/api/v1/events", "events", None, "operations", (
        Op("GET", "list_events", "The event log, newest first: decisions, bank events, failures and alerts",
           OPERATIONS, "EventPage", params=(EVENT_LEVEL, EVENT_KIND, STORE_FILTER, SINCE) + PAGING,
           description="level=ALERT lists what a person must look at: refused orders, held stores, dead "
                       "letters, contradictions from the bank."),
    )),
    Route("/api/v1/audit", "audit", None, "operations", (
        Op("GET", "list_audit", "The audit log of privileged actions, newest first", OPERATIONS, "AuditPage",
           params=(AUDIT_ACTION, AUDIT_RESOURCE, SINCE) + PAGING,
           description="Changes carry their old and new values; bank accounts are masked."),
    )),
    Route("/api/v1/dead-letters", "dead_letters", "collection", "operations", (
        Op("GET", "list_dead_letters", "Messages that exhausted their retries, newest first", OPERATIONS,
           "DeadLetterPage", params=(QUEUE_FILTER, ACTOR_FILTER, DEAD_LETTER_STATUS) + PAGING,
           description="status=dead lists what waits for treasury: requeue it once the cause is fixed, or drop it."),
    )),
    Route(f"/api/v1/dead-letters/{{dead_letter_id:{ID}}}", "dead_letters", None, "operations", (
        Op("GET", "get_dead_letter", "A dead letter, the end of its traceback and its history", OPERATIONS,
           "DeadLetterDetail"),
    )),
    Route(f"/api/v1/dead-letters/{{dead_letter_id:{ID}}}/requeue", "dead_letters", "requeue", "operations", (
        Op("POST", "requeue_dead_letter", "Publish the message again, its retries reset", QUEUES, "DeadLetter", 202,
           errors=NOT_DEAD,
           description="The message keeps its message id and goes out through the outbox; its copy leaves "
                       "<queue>.XQ. If it dies again it comes back to the list, its history kept."),
    )),
    Route(f"/api/v1/dead-letters/{{dead_letter_id:{ID}}}/drop", "dead_letters", "drop", "operations", (
        Op("POST", "drop_dead_letter", "Give the message up, with a reason", QUEUES, "DeadLetter",
           body=DEAD_LETTER_DROP, errors=NOT_DEAD),
    )),
    Route("/api/v1/tenants/{tenant}", "tenants", None, "bulk", (
        Op("GET", "get_tenant", "A tenant: its bulk configuration and its float", Action.MANAGE_TENANTS, "Tenant",
           errors=((404, "no such tenant"),)),
        Op("PUT", "put_tenant", "Create a tenant, or change what the body names of its configuration",
           Action.MANAGE_TENANTS, "Tenant", body=TENANT_CONFIG,
           also=((201, "the tenant was created"),),
           errors=((422, "an unknown configuration key or a bad value; nothing was changed"),),
           description="The body holds the Payment Hub EE stage keys, nested ({\"splitting\": {\"enable\": true}}) "
                       "or dotted ({\"splitting.sub-batch-size\": 5}), and payment-modes, which maps each payment "
                       "mode to a connector (spei, closedloop, gsma, mojaloop). Audited with the old and new "
                       "configuration. A key bound to the tenant is made with `dispersa tenant create`."),
    ), path_params=(TENANT_NAME,)),
    Route("/api/v1/tenants/{tenant}/float", "tenants", "float", "bulk", (
        Op("POST", "fund_tenant", "Credit a tenant's float, from which its closedloop rows are paid",
           Action.FUND_TENANTS, "Tenant", body=FLOAT_FUNDING,
           errors=((404, "no such tenant"), (422, "an amount that is not positive money of its currency, or one "
                                               "beyond 2^53-1 minor units or that would take the float beyond them")),
           description="A money decision, for treasury and admin keys; audited."),
    ), path_params=(TENANT_NAME,)),
    Route("/batchtransactions", "batch_submission", None, "bulk", (
        Op("POST", "submit_batch", "Submit a batch of payments: a CSV file or a JSON array", Action.SUBMIT_BATCHES,
           "BatchAccepted", 202, params=(BATCH_TYPE,) + SUBMIT_HEADERS,
           upload=("multipart/form-data", "text/csv", "application/json"), streamed=True,
           also=((200, "the same X-CorrelationID and content were submitted before: the same batch, nothing new"),),
           errors=((400, "no file (\"File not uploaded\"), no X-CorrelationID, a header row with an unknown or "
                         "missing column, no rows, a date column from a tenant outside the dates trial "
                         "(dates.enable), JSON that is not an array, or X-Content-SHA256 / Content-MD5 not "
                         "matching the bytes received; nothing was stored"),
                   (403, "no Platform-TenantId, or another tenant's"),
                   (409, "the X-CorrelationID was used for other content"),
                   (413, "the file is larger than DISPERSA_BULK_MAX_BYTES (JSON: DISPERSA_BULK_MAX_JSON_BYTES)"),
                   (415, "a body that is neither multipart/form-data (part data), text/csv nor application/json")),
           description="type=csv takes the file as the multipart part `data` or as a text/csv body; type=raw a "
                       "JSON array of {requestId, creditParty:[{key,value}], debitParty:[{key,value}], paymentMode "
                       "or subType, amount, currency, descriptionText}. Amounts are decimal strings in major units. "
                       "The file is streamed to storage; its rows are validated and split by the bulk workers."),
    )),
    Route("/api/v1/batchtransactions/{batch_id}", "batches", None, "bulk", (
        Op("GET", "get_batch", "A batch's summary: counts and amounts by outcome, and each sub-batch's",
           Action.READ_BATCHES, "BatchSummary", params=(TENANT_HEADER,), errors=BULK_READ_403 + (NO_BATCH,)),
    ), path_params=(BATCH_ID,)),
    Route("/api/v1/batchtransactions/{batch_id}/detail", "batches", "detail", "bulk", (
        Op("GET", "get_batch_detail", "A page of a batch's rows, in the file's order", Action.READ_BATCHES,
           "BatchDetail", params=(TENANT_HEADER, PAGE_NO, PAGE_SIZE, ROW_STATUS),
           errors=BULK_READ_403 + (NO_BATCH,)),
    ), path_params=(BATCH_ID,)),
    Route("/api/v1/batchtransactions/{batch_id}/result", "batches", "result", "bulk", (
        Op("GET", "get_batch_result", "The result file: the input columns plus status, error_code and "
           "error_description", Action.READ_BATCHES, "BatchResult", params=(TENANT_HEADER, SUB_BATCH, SUB_BATCH_ID),
           text=True,
           errors=BULK_READ_403 + (NO_BATCH,),
           description="text/csv, streamed; status is SUCCESS, FAILURE or PENDING. A cell that starts with =, +, "
                       "-, @, a tab or a carriage return is written with a leading ' (a spreadsheet runs none), "
                       "unless it is a number such as -850.50. subBatchId is subBatch by the summary's name."),
    ), path_params=(BATCH_ID,)),
    Route("/api/v1/batchtransactions/{batch_id}/approve", "batches", "approval", "bulk", (
        Op("POST", "approve_batch", "Approve a batch awaiting approval: its rows are paid", Action.APPROVE_BATCHES,
           "BatchSummary", params=(TENANT_HEADER,),
           errors=((403, "the key that submitted the batch (maker-checker), or no Platform-TenantId"),
                   NO_BATCH, (409, "the batch is not awaiting approval")),
           description="A money decision, for treasury and admin keys, by another key than the submitter's; "
                       "audited."),
    ), path_params=(BATCH_ID,)),
    Route("/api/v1/batchtransactions/{batch_id}/reject", "batches", "rejection", "bulk", (
        Op("POST", "reject_batch", "Reject a batch awaiting approval: nothing is paid", Action.APPROVE_BATCHES,
           "BatchSummary", body=BATCH_REJECTION, params=(TENANT_HEADER,),
           errors=((403, "the key that submitted the batch (maker-checker), or no Platform-TenantId"),
                   NO_BATCH, (409, "the batch is not awaiting approval"))),
    ), path_params=(BATCH_ID,)),
    Route("/api/v1/batchtransactions/{batch_id}/confirm", "batches", "confirmation", "bulk", (
        Op("POST", "confirm_batch", "Confirm a dated batch awaiting confirmation: it goes on to be paid",
           Action.CONFIRM_BATCHES, "BatchSummary", params=(TENANT_HEADER,), errors=CLIENT_DECIDES,
           description="For tenants with dates.client-confirmation.enable: a batch whose rows' dates were looked "
                       "up waits in awaiting_confirmation, each row showing its executionDate and deliveryDate "
                       "(the detail), and nothing is paid until its tenant's own key confirms it. It then waits "
                       "for treasury's approval when approval.enable is on, or is paid. Audited."),
    ), path_params=(BATCH_ID,)),
    Route("/api/v1/batchtransactions/{batch_id}/cancel", "batches", "cancellation", "bulk", (
        Op("POST", "cancel_batch", "Cancel a dated batch awaiting confirmation: nothing is paid",
           Action.CONFIRM_BATCHES, "BatchSummary", params=(TENANT_HEADER,), errors=CLIENT_DECIDES,
           description="Every waiting row fails with CANCELLED and the batch is failed. Audited."),
    ), path_params=(BATCH_ID,)),
    Route("/api/v1/batches", "batch_list", None, "bulk", (
        Op("GET", "list_batches", "Batches, in the seed's page shape", Action.READ_BATCHES, "BatchPage",
           params=(TENANT_HEADER, BULK_PAGE, BULK_SIZE, BULK_SORTED_BY, BULK_SORTED_ORDER), errors=BULK_READ_403),
    )),
    Route("/api/v1/routes", "payment_routes", None, "bulk", (
        Op("POST", "route_payment", "Split an amount among payees: a one-off batch", Action.SUBMIT_BATCHES,
           "BatchAccepted", 202, PAYMENT_ROUTE, params=(TENANT_HEADER, CORRELATION_ID),
           also=((200, "the same X-CorrelationID and parts were routed before: the same batch"),),
           errors=((400, "the parts do not add up to the amount exactly, or a part's currency is not the route's"),
                   (403, "no Platform-TenantId, or another tenant's"),
                   (409, "the X-CorrelationID was used for other content"))),
    )),
    Route("/api/v1/wallets/{owner}", "wallets", None, "bulk", (
        Op("GET", "get_wallet", "A closed-loop wallet: its balance per currency and a page of its entries",
           Action.READ_BATCHES, "Wallet", params=(TENANT_HEADER,) + PAGING,
           errors=((403, "no Platform-TenantId, or another tenant's"), (404, "the tenant has no such wallet")),
           description="Entries are the latest first; amounts in minor units (amount_minor) and as a decimal in "
                       "major units (amount). A counterparty that is a payee is masked."),
    ), path_params=(WALLET_OWNER,)),
    Route("/api/v1/wallets/{owner}/withdrawals", "wallets", "withdrawals", "bulk", (
        Op("POST", "withdraw_from_wallet", "Pay a wallet's money out over SPEI, at most once per reference",
           Action.WITHDRAW_FROM_WALLETS, "Withdrawal", 201, WITHDRAWAL, params=(TENANT_HEADER,),
           also=((200, "the same reference and details were withdrawn before: the same withdrawal, nothing new"),),
           errors=((403, "no Platform-TenantId, or another tenant's"), (404, "the tenant has no such wallet"),
                   (409, "the wallet holds less than the amount, or the reference was used for other details; "
                         "nothing was paid"),
                   (422, "invalid input: an amount that is not positive money of its currency or is beyond 2^53-1 "
                         "minor units, a CLABE whose bank code or check digit is wrong, a name STP cannot "
                         "carry, a currency SPEI does not pay, or the tenant's own float; nothing was paid")),
           description="In one transaction the wallet is debited and a SPEI payment order is made (its UETR in "
                       "the answer; GET /api/v1/payments/{uetr} follows it); the bank pipeline sends it, once a "
                       "treasury person approves it when it is above DISPERSA_TRANSFER_APPROVAL_ABOVE (approval: "
                       "awaiting_approval; POST /api/v1/wallet-withdrawals/{uetr}/approve or /reject). If the "
                       "bank cancels or returns it, the amount goes back into the wallet, once. The CLABE and "
                       "the name are masked in the answer. Audited."),
    ), path_params=(WALLET_OWNER,)),
    Route("/api/v1/wallet-withdrawals/{uetr}/approve", "withdrawals", "approval", "bulk", (
        Op("POST", "approve_withdrawal", "Approve a withdrawal above DISPERSA_TRANSFER_APPROVAL_ABOVE: its order "
           "goes to the bank", APPROVE, "Withdrawal", errors=WITHDRAWAL_DECISION,
           description="A money decision, by a treasury or admin person other than the one whose key asked for "
                       "it; audited."),
    ), path_params=(UETR_PARAM,)),
    Route("/api/v1/wallet-withdrawals/{uetr}/reject", "withdrawals", "rejection", "bulk", (
        Op("POST", "reject_withdrawal", "Reject a withdrawal awaiting approval: its order is cancelled and the "
           "amount goes back into the wallet", APPROVE, "Withdrawal", body=WITHDRAWAL_REJECTION,
           errors=WITHDRAWAL_DECISION),
    ), path_params=(UETR_PARAM,)),
    Route("/template", "template", None, "bulk", (
        Op("GET", "get_template", "The CSV header line of a batch file", None, "Template", params=(TEMPLATE_TYPES,),
           text=True),
    )),
    Route("/callbacks/{connector}/{uetr}", "connector_callbacks", None, "bulk", (
        Op("PUT", "connector_callback", "A payment connector's final word on a row (GSMA)", None,
           "CallbackReceived", params=(CALLBACK_SIGNATURE,), upload=("application/json",),
           body_limit=WEBHOOK_BODY_LIMIT,
           errors=((400, "a body that is not the connector's callback"), (401, "a missing or wrong signature"),
                   (404, "no such row"), (409, "a row the connector has no say over: another payment mode's, "
                                                "not handed to it, or in a batch that is not processing (an ALERT)"),
                   (413, "a body over 64 KiB")),
           description="Signed with X-Callback-Signature (hex HMAC-SHA256 of the body under "
                       "DISPERSA_GSMA_CALLBACK_SECRET). A claim: applied by the bulk workers only once the "
                       "provider's own status query shows the same final word (else an ALERT and nothing "
                       "changes); a duplicate changes nothing."),
    ), path_params=(CONNECTOR_NAME, UETR_PARAM)),
    Route("/api/v1/dates/execution", "dates", "execution", "dates", (
        Op("GET", "get_execution_date", "When to send a payment for it to arrive on a delivery date",
           Action.READ_CALENDARS, "PaymentDates", params=(RAIL, COUNTRY, DELIVERY_DATE), errors=DATE_422,
           description="A delivery date that is not a business day moves back to the previous one, then back the "
                       "rail's lag in business days (SPEI 0, SEPA 1, SWIFT 2, FPS 0)."),
    )),
    Route("/api/v1/customers", "customers", "collection", "customers", (
        Op("POST", "create_customer", "Register a customer: unregistered until its data is complete and it is scored",
           Action.MANAGE_CUSTOMERS, "Customer", 201, CUSTOMER_CREATE,
           errors=((409, "external_id or national_id is another customer's"),
                   (422, "invalid input, or a CURP whose birth date, state or check digit is wrong; nothing was "
                         "changed"))),
        Op("GET", "list_customers", "Customers, oldest first", Action.READ_CUSTOMERS, "CustomerPage",
           params=(CUSTOMER_EXTERNAL_ID, CUSTOMER_STATUS) + PAGING,
           description="Personal data is whole for keys whose role serves customers (admin, operator), masked for "
                       "the others (treasury)."),
    )),
    Route(f"/api/v1/customers/{{customer_id:{ID}}}", "customers", None, "customers", (
        Op("GET", "get_customer", "Read a customer", Action.READ_CUSTOMERS, "Customer",
           description="Personal data masked unless the key's role serves customers; none once deleted."),
        Op("PATCH", "update_customer", "Edit a customer's data (the audit log names the fields, not their values)",
           Action.MANAGE_CUSTOMERS, "Customer", body=CUSTOMER_UPDATE,
           errors=(CUSTOMER_STATE_409, (422, "invalid input, or a CURP whose birth date, state or check digit is "
                                             "wrong; nothing was changed"))),
    )),
    Route(f"/api/v1/customers/{{customer_id:{ID}}}/score", "customers", "score", "customers", (
        Op("POST", "score_customer", "The scoring process's risk profile: a customer whose data is complete "
           "becomes enabled", Action.SCORE_CUSTOMERS, "Customer", body=CUSTOMER_SCORE, errors=(CUSTOMER_STATE_409,)),
    )),
    Route(f"/api/v1/customers/{{customer_id:{ID}}}/status", "customers", "status", "customers", (
        Op("POST", "move_customer", "Enable, disable or block a customer by hand, with a reason",
           Action.MOVE_CUSTOMERS, "Customer", body=CUSTOMER_MOVE, errors=(CUSTOMER_STATE_409,),
           description="A customer disabled or blocked by hand stays so until enabled by hand: no automatic move "
                       "takes it out."),
    )),
    Route(f"/api/v1/customers/{{customer_id:{ID}}}/status/dry-run", "customers", "preview", "customers", (
        Op("POST", "preview_customer_move", "What a move would do to the customer now, changing nothing",
           Action.READ_CUSTOMERS, "CustomerMoveOutcome", body=CUSTOMER_MOVE_PREVIEW),
    )),
    Route(f"/api/v1/customers/{{customer_id:{ID}}}/deletion", "customers", "deletion", "customers", (
        Op("POST", "delete_customer", "Delete a customer: its names, phone, e-mail, address and CURP are erased for "
           "good; its id, external_id and status stay", Action.MOVE_CUSTOMERS, "Customer", body=CUSTOMER_DELETION,
           errors=((409, "the customer is deleted already (the body has ``status`` and ``allowed_actions``), or it "
                         "still owes and force is not true"),)),
    )),
    Route("/api/v1/repayments", "repayments", "collection", "repayments", (
        Op("POST", "record_repayment", "Record a customer's payment to a loan: pending until a worker applies it",
           Action.RECORD_REPAYMENTS, "Repayment", 201, REPAYMENT_CREATE,
           also=((200, "the same external_id with the same terms: the repayment recorded first"),),
           errors=((404, "no such loan (a credit without a customer is not a loan)"), REPAYMENT_409,
                   (422, "invalid input, or an automatic payment recorded by an operator; nothing was changed")),
           description="The worker checks everything again, then completes it (applied to the oldest installment "
                       "due first, interest then principal; what is left prepays principal from the last "
                       "installment back) or rejects it with the reason."),
        Op("GET", "list_repayments", "Repayments, oldest first", Action.READ_LOANS, "RepaymentPage",
           params=(REPAYMENT_LOAN, REPAYMENT_STATUS) + PAGING, errors=((404, "no such loan"),)),
    )),
    Route(f"/api/v1/repayments/{{repayment_id:{ID}}}", "repayments", None, "repayments", (
        Op("GET", "get_repayment", "Read a repayment, with its allocations and status history", Action.READ_LOANS,
           "RepaymentDetail"),
    )),
    Route(f"/api/v1/repayments/{{repayment_id:{ID}}}/reversal", "repayments", "reversal", "repayments", (
        Op("POST", "reverse_repayment", "Give an accepted payment back: what it paid is owed again",
           Action.REVERSE_REPAYMENTS, "RepaymentDetail", body=REPAYMENT_REVERSAL,
           errors=((409, "the repayment is not an accepted payment (or was reversed for another reason)"),),
           description="Each installment it paid owes again what it paid, from today; a paid loan reopens. "
                       "The same reason again returns it unchanged."),
    )),
    Route(f"/api/v1/repayments/{{repayment_id:{ID}}}/rejection", "repayments", "rejection", "repayments", (
        Op("POST", "reject_repayment", "Reject a pending repayment, with the reason", Action.RECORD_REPAYMENTS,
           "RepaymentDetail", body=REPAYMENT_REJECTION,
           errors=((409, "the repayment is not pending (or was rejected for another reason)"),),
           description="The same reason again returns it unchanged."),
    )),
    Route("/api/v1/loan-requests", "loan_requests", "collection", "loans", (
        Op("POST", "create_loan_request", "A customer's request for a loan at a store: pending", Action.REQUEST_LOANS,
           "LoanRequest", 201, LOAN_REQUEST_CREATE,
           also=((200, "the same external_id with the same terms: the same request, nothing new"),),
           errors=((409, "external_id names a request with other terms; or the customer may not borrow: the request "
                         "is kept, rejected with the reason, and the body also has ``status``, ``allowed_actions`` "
                         "and ``loan_request``"),
                   (422, "invalid input; nothing was changed")),
           description="404 when the customer or the store does not exist. Audited."),
        Op("GET", "list_loan_requests", "Loan requests, oldest first", Action.READ_LOANS, "LoanRequestPage",
           params=(LOAN_REQUEST_CUSTOMER, LOAN_REQUEST_STATUS) + PAGING),
    )),
    Route(f"/api/v1/loan-requests/{{loan_request_id:{ID}}}", "loan_requests", None, "loans", (
        Op("GET", "get_loan_request", "Read a loan request", Action.READ_LOANS, "LoanRequest"),
    )),
    Route(f"/api/v1/loan-requests/{{loan_request_id:{ID}}}/completion", "loan_requests", "completion", "loans", (
        Op("POST", "complete_loan_request", "Sign the loan: the credit's origination rules, its schedule fixed now",
           Action.REQUEST_LOANS, "LoanRequest",
           errors=((409, "the request is rejected already; or it is refused now (the customer may not borrow, no "
                         "enabled offer of an active product fits, the merchant or store may not originate, the "
                         "customer has no risk profile): the request is kept, rejected with the reason, and the "
                         "body also has ``loan_request`` (and the customer's ``status`` and ``allowed_actions``)"),
                   (422, "terms no schedule can carry (or beyond the store's balance bound): the request is kept, "
                         "rejected with the reason, and the body also has ``loan_request``")),
           description="The commission is fixed now, the credit's external_id is the request's, and the schedule "
                       "takes the offer's rate for the customer's risk profile less its discount, its first "
                       "payment's shift and the product's frequency. A completed request is answered as it is. "
                       "Audited."),
    )),
    Route(f"/api/v1/loan-requests/{{loan_request_id:{ID}}}/rejection", "loan_requests", "rejection", "loans", (
        Op("POST", "reject_loan_request", "Reject a pending loan request, with a reason", Action.REQUEST_LOANS,
           "LoanRequest", body=LOAN_REQUEST_REJECTION,
           errors=((409, "the request is completed, or rejected for another reason"),),
           description="A repeat with the same reason changes nothing. Audited."),
    )),
    Route("/api/v1/loans", "loans", "collection", "loans", (
        Op("GET", "list_loans", "Loans (credits with a customer), oldest first", Action.READ_LOANS, "LoanPage",
           params=(LOAN_CUSTOMER, LOAN_STATUS, LOAN_BUCKET) + PAGING,
           description="days_past_due and bucket are as of the day each loan was last serviced (serviced_on)."),
    )),
    Route(f"/api/v1/loans/{{loan_id:{ID}}}", "loans", None, "loans", (
        Op("GET", "get_loan", "A loan: its terms, status, customer, and its balances as of a day", Action.READ_LOANS,
           "Loan", params=(AS_OF,), errors=(NO_LOAN_404,),
           description="position: principal = principal_repaid + principal_outstanding (+ what a cancellation "
                       "voided); interest_charged = interest_repaid + interest_due + interest_inactive; payoff = "
                       "principal_outstanding + interest_due; days_past_due and bucket as of the day."),
    )),
    Route(f"/api/v1/loans/{{loan_id:{ID}}}/schedule", "loans", "schedule", "loans", (
        Op("GET", "get_loan_schedule", "A loan's installments as of a day", Action.READ_LOANS, "LoanSchedule",
           params=(AS_OF,), errors=(NO_LOAN_404,),
           description="Each installment's due date after freezes, its principal and interest (fixed at "
                       "signature), what became of its interest and what is paid of it."),
    )),
    Route(f"/api/v1/loans/{{loan_id:{ID}}}/history", "loans", "history", "loans", (
        Op("GET", "get_loan_history", "A loan's status changes, oldest first", Action.READ_LOANS, "LoanHistory",
           errors=(NO_LOAN_404,)),
    )),
    Route(f"/api/v1/loans/{{loan_id:{ID}}}/moves", "loans", "moves", "loans", (
        Op("POST", "move_loan", "Freeze, unfreeze, open or resolve a dispute, or cancel a loan (with a reason)",
           Action.MOVE_LOANS, "Loan", body=LOAN_MOVE, errors=(NO_LOAN_404, LOAN_MOVE_409),
           description="Written with its history row and a loan_status_changed event, in one transaction; the "
                       "loan is brought up to date and its customer's automatic moves run (a cancellation for "
                       "fraud blocks the customer). A cancellation compensates a delivered credit's contribution. "
                       "Audited."),
    )),
    Route(f"/api/v1/loans/{{loan_id:{ID}}}/moves/dry-run", "loans", "preview", "loans", (
        Op("POST", "preview_loan_move", "What a move would do to the loan now, changing nothing", Action.READ_LOANS,
           "LoanMoveOutcome", body=LOAN_MOVE_PREVIEW, errors=(NO_LOAN_404,)),
    )),
    Route("/api/v1/dates/delivery", "dates", "delivery", "dates", (
        Op("GET", "get_delivery_date", "When a payment sent on an execution date arrives", Action.READ_CALENDARS,
           "PaymentDates", params=(RAIL, COUNTRY, EXECUTION_DATE), errors=DATE_422,
           description="An execution date that is not a business day moves forward to the next one, then forward "
                       "the rail's lag in business days."),
    )),
    Route("/api/v1/payments/{uetr}", "payments", None, "tracking", (
        Op("GET", "get_payment", "A payment by its UETR: where it stands, its dates, references and timeline",
           Action.TRACK_PAYMENTS, "Payment", errors=PAYMENT_HIDDEN,
           description="Store transfers' payment orders and bulk rows alike. Accounts are masked to their last "
                       "four digits. A partner key sees its merchant's payments, a tenant key its tenant's."),
    ), path_params=(PAYMENT_UETR,)),
    Route("/api/v1/payments/{uetr}/receipt", "payments", "receipt", "tracking", (
        Op("GET", "get_payment_receipt", "A payment's receipt, as a PDF: UETR, parties (masked), amount, dates, "
           "status", Action.TRACK_PAYMENTS, "Receipt", text=True,
           errors=PAYMENT_HIDDEN),
    ), path_params=(PAYMENT_UETR,)),
    Route("/api/v1/api-keys", "api_keys", "collection", "operations", (
        Op("GET", "list_api_keys", "API keys (never the keys themselves), newest first", KEYS, "ApiKeyPage",
           params=PAGING),
        Op("POST", "create_api_key", "Create an API key; the answer is the only time the key is shown", KEYS,
           "ApiKeyCreated", 201, API_KEY_CREATE,
           errors=((422, "invalid input, or a partner key without merchant_id; nothing was changed"),)),
    )),
    Route(f"/api/v1/api-keys/{{key_id:{ID}}}/revoke", "api_keys", "revocation", "operations", (
        Op("POST", "revoke_api_key", "Revoke an API key: it stops working at once", KEYS, "ApiKey"),
    )),
    Route("/health", "health", None, "operations", (
        Op("GET", "health", "Database, broker and Redis status: 200 when all are up, 503 otherwise", None,
           "Health"),
    )),
    Route("/metrics", "metrics", None, "operations", (
        Op("GET", "metrics", "Gauges for Prometheus: outbox backlog and age, queue depths, orders, transfers, "
           "callbacks and dead letters by status, alerts, the last reconciliation and ledger check", None,
           "Metrics", text=True,
           description="Prometheus's text exposition format. No key: a deployment lets only its Prometheus reach "
                       "it (docs/deployment.md). The workers export their own counters on a port of their own."),
    )),
    Route("/openapi.json", "openapi", None, "operations", (
        Op("GET", "openapi", "This document", None, "OpenAPIDocument"),
    )),
)


def operations_by_template() -> dict[tuple[str, str], Operation]:
    """(Falcon path template, method) -> operation, as the auth middleware looks them up."""
    return {(route.path, op.method): op for route in ROUTES for op in route.operations}


def route_of(template: str) -> Route | None:
    return next((r for r in ROUTES if r.path == template), None)
