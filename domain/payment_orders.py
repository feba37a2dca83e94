"""PaymentOrder: one outgoing bank order, whoever asked for it (a store's transfer, a bulk row)."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from domain import clabe, stp
from domain.errors import DomainError
from domain.money import Money


class PaymentOrderError(DomainError):
    """A move the order's state machine forbids, or an order that cannot be built."""


class PayeeError(PaymentOrderError):
    """The payee's details cannot carry a SPEI order (not MXN, no CLABE, no name STP can carry, a bad
    RFC/CURP): only a person fixing them helps."""


class PaymentOrderStatus(str, enum.Enum):
    """Where a payment order stands with the bank; ALLOWED_ORDER_MOVES says where each status may go."""

    CREATED = "created"        # prepared, never handed to the bank
    SENDING = "sending"        # handed over (or about to be); the bank's answer is not recorded yet
    SENT = "sent"              # the bank accepted it and gave its order id: in transit
    LIQUIDATED = "liquidated"
    CANCELLED = "cancelled"    # refused for good, or cancelled by the bank: the money never left
    RETURNED = "returned"      # the money came back


S = PaymentOrderStatus
# Where the bank's word on an order takes it: the status each outcome means.
STATUS_OF_OUTCOME: dict[stp.OrderOutcome, PaymentOrderStatus] = {
    stp.OrderOutcome.LIQUIDATED: S.LIQUIDATED, stp.OrderOutcome.CANCELLED: S.CANCELLED,
    stp.OrderOutcome.RETURNED: S.RETURNED,
}
ALLOWED_ORDER_MOVES: dict[PaymentOrderStatus, frozenset[PaymentOrderStatus]] = {
    S.CREATED: frozenset({S.SENDING, S.CANCELLED}),
    S.SENDING: frozenset({S.SENT, S.CANCELLED}),
    S.SENT: frozenset({S.LIQUIDATED, S.CANCELLED, S.RETURNED}),
    S.LIQUIDATED: frozenset({S.RETURNED}),
    S.CANCELLED: frozenset(),
    S.RETURNED: frozenset(),
}


class Applied(str, enum.Enum):
    """What the bank's word did to an order."""

    APPLIED = "applied"      # the order moved to the status the outcome means
    DUPLICATE = "duplicate"  # it was there already: nothing changes
    LATE = "late"            # an outcome the order has passed (a liquidation reported after its return)
    CONFLICT = "conflict"    # the bank contradicts what we recorded: nothing changes, a person must look


# A liquidation reported after the return it preceded: the order already has its last word.
LATE_OUTCOMES = frozenset({(S.RETURNED, S.LIQUIDATED)})
# Where no callback can move an order any more: the money never left, or it came back.
SETTLED_BACK = frozenset({S.CANCELLED, S.RETURNED})


class PaymentSource(str, enum.Enum):
    """What a payment order pays: a store's bank transfer, a bulk row or a closed-loop wallet's withdrawal."""

    BANK_TRANSFER = "bank_transfer"
    BULK_ROW = "bulk_row"
    WALLET_WITHDRAWAL = "wallet_withdrawal"


@dataclass(eq=False)
class PaymentOrderStatusChange:
    """One row of an order's status history."""

    status: PaymentOrderStatus
    at: datetime
    previous_status: PaymentOrderStatus | None = None
    detail: str | None = None
    payment_order_id: int | None = None
    id: int | None = None


@dataclass(eq=False)
class PaymentOrder:
    """A SPEI order: its UETR and tracking key are fixed at creation and never change across retries."""

    uetr: str
    tracking_key: str
    source: PaymentSource
    amount: int
    currency: str
    beneficiary_account: str
    beneficiary_name: str
    beneficiary_rfc_curp: str
    beneficiary_institution: str
    concept: str
    numeric_reference: int
    operation_date: str
    created_at: datetime
    bank_transfer_id: int | None = None
    status: PaymentOrderStatus = PaymentOrderStatus.CREATED
    bank_order_id: int | None = None
    attempts: int = 0
    last_error: str | None = None
    return_cause: str | None = None
    sent_at: datetime | None = None
    liquidated_at: datetime | None = None
    returned_at: datetime | None = None
    updated_at: datetime | None = None
    id: int | None = None
    history: list[PaymentOrderStatusChange] = field(default_factory=list)
    ordering_account: str | None = None  # a tenant's own funding account; ours when None
    ordering_name: str | None = None

    def move_to(self, status: PaymentOrderStatus, at: datetime, detail: str | None = None) -> None:
        """Move to a status, recording it with the detail; raises PaymentOrderError for a move
        ALLOWED_ORDER_MOVES forbids."""
        if status not in ALLOWED_ORDER_MOVES[self.status]:
            raise PaymentOrderError(f"order {self.tracking_key} cannot move from {self.status.value} to {status.value}")
        self.history.append(PaymentOrderStatusChange(status=status, at=at, previous_status=self.status, detail=detail))
        self.status = status
        self.updated_at = at

    def apply(self, outcome: stp.OrderOutcome, at: datetime, bank_order_id: int | None = None,
              cause: str | None = None, happened_at: datetime | None = None) -> Applied:
        """The bank's word on the order: liquidated, cancelled or returned; ``happened_at`` is the bank's
        own time of it. An order still Sending is first taken as accepted (its callback beat the send
        result), unless the word is that it was cancelled."""
        if self.status == S.SENDING and outcome != stp.OrderOutcome.CANCELLED:
            self.accepted(bank_order_id, at)
        target = STATUS_OF_OUTCOME[outcome]
        if target not in ALLOWED_ORDER_MOVES[self.status]:
            if self.status == target:
                return Applied.DUPLICATE
            return Applied.LATE if (self.status, target) in LATE_OUTCOMES else Applied.CONFLICT
        self.move_to(target, at, cause)
        if bank_order_id and not self.bank_order_id:
            self.bank_order_id = bank_order_id
        if target == S.LIQUIDATED:
            self.liquidated_at = happened_at or at
        elif target == S.RETURNED:
            self.returned_at, self.return_cause = happened_at or at, cause
        return Applied.APPLIED

    def needs_confirmation(self, outcome: stp.OrderOutcome) -> bool:
        """Whether a callback reporting ``outcome`` may only count once the bank's own query agrees: a
        cancellation or a return puts the order's money back to be paid again, so a forged one for an
        order the bank paid would pay twice. Asked for every order not cancelled or returned already (a
        status read without a lock can only be behind, never ahead of one of these)."""
        return outcome != stp.OrderOutcome.LIQUIDATED and self.status not in SETTLED_BACK

    def accepted(self, bank_order_id: int | None, at: datetime) -> None:
        """The bank has the order (its id, when given, is kept): it is in transit. A no-op once known."""
        self.bank_order_id = self.bank_order_id or bank_order_id or None
        if self.status == S.SENDING:
            self.move_to(S.SENT, at, f"bank order {bank_order_id or 'id not given'}")
            self.sent_at = at


SPEI_CURRENCY = "MXN"


@dataclass(frozen=True)
class Payee:
    """Who an order pays: the account and name treasury validated."""

    account: str
    name: str
    rfc_curp: str = ""


def new_order(uetr: str, tracking_prefix: str, source: PaymentSource, amount: Money, payee: Payee, concept: str,
              operation_date: str, at: datetime, bank_transfer_id: int | None = None) -> PaymentOrder:
    """A SPEI order with STP's own limits applied as it is built (names and concepts folded to ASCII
    and cut to STP's length). Raises PayeeError for payee details that can never carry an order, PaymentOrderError for
    anything else that can never be sent as it is."""
    if amount.currency != SPEI_CURRENCY:
        raise PayeeError(f"SPEI pays {SPEI_CURRENCY}; this payment is in {amount.currency}")
    if amount.minor <= 0:
        raise PaymentOrderError(f"an order pays a positive amount, not {amount}")
    try:
        account = clabe.validate(payee.account or "")
    except clabe.InvalidClabe as e:
        raise PayeeError(f"the beneficiary account is not a CLABE: {e}") from None
    name = stp.fold_text(payee.name)
    if not name:
        raise PayeeError("the beneficiary has no name STP can carry (ASCII letters or digits)")
    rfc_curp = (payee.rfc_curp or "").strip().upper()
    if rfc_curp and (len(rfc_curp) > stp.RFC_CURP_LIMIT or not (rfc_curp.isascii() and rfc_curp.isalnum())):
        raise PayeeError(f"the beneficiary RFC/CURP {rfc_curp!r} is not 18 letters and digits at most")
    return PaymentOrder(
        uetr=uetr, tracking_key=tracking_key(tracking_prefix, uetr), source=source, amount=amount.minor,
        currency=amount.currency, beneficiary_account=account, beneficiary_name=name, beneficiary_rfc_curp=rfc_curp,
        beneficiary_institution=spei_institution(account), concept=stp.fold_text(concept) or "Dispersion",
        numeric_reference=numeric_reference(uetr), operation_date=operation_date, created_at=at,
        bank_transfer_id=bank_transfer_id, updated_at=at,
    )


def tracking_key(prefix: str, uetr: str) -> str:
    """At most 30 alphanumerics, derived from the UETR so that it is fixed for life."""
    key = (prefix + uetr.replace("-", "")[:24]).upper()[: stp.TRACKING_KEY_LIMIT]
    if not stp.is_tracking_key(key):
        raise PaymentOrderError(f"tracking key prefix {prefix!r} is not alphanumeric")
    return key


def numeric_reference(uetr: str) -> int:
    """Seven digits, derived from the UETR."""
    return 1_000_000 + int(uetr.replace("-", "")[:12], 16) % 9_000_000


def spei_institution(account: str) -> str:
    """The SPEI participant code of a CLABE's bank: 40xxx for banks, 90xxx for other participants."""
    code = clabe.validate(account)[:3]
    return ("90" if int(code) >= 600 else "40") + code


@dataclass(frozen=True)
class Ordering:
    """Our side of every order: the company at STP and the paying account."""

    empresa: str
    account: str
    name: str
    rfc_curp: str


def stp_fields(order: PaymentOrder, ordering: Ordering) -> dict[str, str]:
    """The order as STP's registra fields, normalised by STP's rules (before signing)."""
    return stp.normalise_order({
        "institucionContraparte": order.beneficiary_institution,
        "empresa": ordering.empresa,
        "fechaOperacion": order.operation_date,
        "folioOrigen": order.tracking_key,
        "claveRastreo": order.tracking_key,
        "monto": Money(order.amount, order.currency).to_decimal_string(),
        "tipoPago": "1",
        "nombreOrdenante": order.ordering_name or ordering.name,
        "cuentaOrdenante": order.ordering_account or ordering.account,
        "rfcCurpOrdenante": ordering.rfc_curp,
        "nombreBeneficiario": order.beneficiary_name,
        "cuentaBeneficiario": order.beneficiary_account,
        "rfcCurpBeneficiario": order.beneficiary_rfc_curp or "ND",
        "conceptoPago": order.concept,
        "referenciaNumerica": str(order.numeric_reference),
    })
