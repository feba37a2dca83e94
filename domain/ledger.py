"""A store's balance ledger: balance updates, bank transfers and the moves between them.

The functions here change plain objects in memory; the database adapter maps the
same classes to tables, so what the domain changes is what gets written.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Protocol, Sequence

from domain.errors import DomainError
from domain.identity import id_of
from domain.money import MAX_MINOR


# A balance stays within the bound of every amount (domain.money).
MAX_BALANCE = MAX_MINOR
# A transfer's reason quotes the bank's cause or treasury's words (up to 255 characters each) after a
# sentence of ours, so that neither is ever cut.
REASON_LENGTH = 512


class LedgerError(DomainError):
    """A move the ledger rules forbid."""


class BalanceOutOfRange(LedgerError):
    """The move would take the store's balance beyond +/- MAX_BALANCE."""


class BalanceUpdateType(str, enum.Enum):
    """What moved a store's balance."""

    CONTRIBUTION = "contribution"
    DISBURSEMENT = "disbursement"
    CREDIT_CANCELLATION = "credit_cancellation"
    ADJUSTMENT = "adjustment"
    DISBURSEMENT_OVERRIDE = "disbursement_override"
    # Seed 000, 3.1.1: kept as types so that imported histories stay faithful.
    BALANCE_COMPENSATION = "balance_compensation"
    BALANCE_READJUSTMENT = "balance_readjustment"


class BalanceUpdateStatus(str, enum.Enum):
    """Pending until a transfer takes the update, In transit while in a live transfer, then Applied."""

    PENDING = "pending"
    IN_TRANSIT = "in_transit"
    APPLIED = "applied"


class TransferStatus(str, enum.Enum):
    """A bank transfer's state; ALLOWED_TRANSFER_MOVES says where each state may go."""

    WAITING_CONFIRMATION = "waiting_confirmation"
    SENDING = "sending"
    IN_TRANSIT = "in_transit"
    APPLIED = "applied"
    CANCELLED = "cancelled"
    REJECTED = "rejected"

    @property
    def is_live(self) -> bool:
        """True while the transfer holds its balance updates: waiting confirmation, sending or in transit."""
        return self in LIVE_TRANSFER_STATUSES


LIVE_TRANSFER_STATUSES = frozenset(
    {TransferStatus.WAITING_CONFIRMATION, TransferStatus.SENDING, TransferStatus.IN_TRANSIT}
)

ALLOWED_TRANSFER_MOVES: dict[TransferStatus, frozenset[TransferStatus]] = {
    TransferStatus.WAITING_CONFIRMATION: frozenset({TransferStatus.SENDING, TransferStatus.CANCELLED}),
    TransferStatus.SENDING: frozenset({TransferStatus.IN_TRANSIT, TransferStatus.CANCELLED}),
    TransferStatus.IN_TRANSIT: frozenset({TransferStatus.APPLIED, TransferStatus.CANCELLED, TransferStatus.REJECTED}),
    TransferStatus.APPLIED: frozenset({TransferStatus.REJECTED}),
    TransferStatus.CANCELLED: frozenset(),
    TransferStatus.REJECTED: frozenset(),
}


def can_move(current: TransferStatus, target: TransferStatus) -> bool:
    """Whether a transfer may go from ``current`` to ``target`` (ALLOWED_TRANSFER_MOVES)."""
    return target in ALLOWED_TRANSFER_MOVES[current]


@dataclass(eq=False)
class BalanceUpdateStatusChange:
    """One row of a balance update's status history."""

    status: BalanceUpdateStatus
    at: datetime
    previous_status: BalanceUpdateStatus | None = None
    balance_update_id: int | None = None
    id: int | None = None


@dataclass(eq=False)
class TransferStatusChange:
    """One row of a bank transfer's status history."""

    status: TransferStatus
    at: datetime
    previous_status: TransferStatus | None = None
    reason: str | None = None
    bank_transfer_id: int | None = None
    id: int | None = None


@dataclass(eq=False)
class BalanceUpdate:
    """One movement of a store's balance (BU)."""

    store_id: int
    type: BalanceUpdateType
    status: BalanceUpdateStatus
    amount: int
    previous_balance: int
    new_balance: int
    sequence: int
    currency: str
    created_at: datetime
    credit_id: int | None = None
    # Set on a Disbursement or Disbursement override: the transfer it records.
    # Membership of a transfer is BankTransfer.balance_updates, kept for the transfer's life.
    bank_transfer_id: int | None = None
    admin_creator_id: int | None = None
    note: str | None = None
    overwritten: bool = False
    overwritten_by_id: int | None = None
    idempotency_key: str | None = None
    id: int | None = None
    history: list[BalanceUpdateStatusChange] = field(default_factory=list)
    overwritten_by: BalanceUpdate | None = None

    def move_to(self, status: BalanceUpdateStatus, at: datetime) -> None:
        """Move to a status and record it in the history; moving to the current status does nothing."""
        if status == self.status:
            return
        self.history.append(BalanceUpdateStatusChange(status=status, at=at, previous_status=self.status))
        self.status = status

    def overwrite_with(self, other: BalanceUpdate) -> None:
        """Mark this update overwritten by ``other``, the update that compensates or overrides it."""
        self.overwritten = True
        self.overwritten_by = other


@dataclass(eq=False)
class BankTransfer:
    """Money owed to a store, sent as one bank order; built only from balance updates."""

    store_id: int
    status: TransferStatus
    amount: int
    currency: str
    created_at: datetime
    trigger_key: str
    requires_confirmation: bool = False
    returned_after_applied: bool = False
    status_reason: str | None = None
    updated_at: datetime | None = None
    approval_reason: str | None = None  # why it waits for treasury's approval
    barred_approver_id: int | None = None  # the person who may not approve it
    approved_by_id: int | None = None
    id: int | None = None
    balance_updates: list[BalanceUpdate] = field(default_factory=list)
    history: list[TransferStatusChange] = field(default_factory=list)

    def move_to(self, status: TransferStatus, at: datetime, reason: str | None = None) -> None:
        """Move to a status, recording it with the reason; raises LedgerError for a move
        ALLOWED_TRANSFER_MOVES forbids."""
        if not can_move(self.status, status):
            raise LedgerError(f"transfer {self.id} cannot move from {self.status.value} to {status.value}")
        self.history.append(TransferStatusChange(status=status, at=at, previous_status=self.status, reason=reason))
        self.status = status
        self.status_reason = reason
        self.updated_at = at


class LedgerHead(Protocol):
    """What appending needs of a store: its id, currency, balance and last sequence number."""

    balance: int
    last_sequence: int

    @property
    def id(self) -> int | None:
        """The store's id; None until its repository adds it."""
        ...

    @property
    def currency(self) -> str:
        """The currency of the store's balance updates."""
        ...


@dataclass
class StoreHead:
    """A store as appending to its ledger sees it, read under its lock: the few columns the busiest step
    (a contribution) needs, instead of the whole store."""

    id: int
    currency: str
    balance: int
    last_sequence: int
    instant: bool  # evaluated after each contribution (instant mode, automation on)


def check_move(store: LedgerHead, amount: int) -> None:
    """BalanceOutOfRange when moving the store's balance by ``amount`` would take it beyond +/- MAX_BALANCE."""
    if abs(store.balance + amount) > MAX_BALANCE:
        raise BalanceOutOfRange(f"store {store.id}: a balance of {store.balance + amount} is beyond "
                                f"+/-{MAX_BALANCE}; the move is refused")


def append(
    store: LedgerHead,
    type: BalanceUpdateType,
    amount: int,
    status: BalanceUpdateStatus,
    at: datetime,
    **links: object,
) -> BalanceUpdate:
    """Chain a new balance update onto the store's ledger (the caller holds the store lock)."""
    check_move(store, amount)
    bu = BalanceUpdate(
        store_id=id_of(store),
        type=type,
        status=status,
        amount=amount,
        previous_balance=store.balance,
        new_balance=store.balance + amount,
        sequence=store.last_sequence + 1,
        currency=store.currency,
        created_at=at,
        **links,  # type: ignore[arg-type]
    )
    bu.history.append(BalanceUpdateStatusChange(status=status, at=at))
    store.balance = bu.new_balance
    store.last_sequence = bu.sequence
    return bu


def contribute(store: LedgerHead, credit_id: int, contribution: int, at: datetime) -> BalanceUpdate:
    """A delivered credit, net of commission and tax, owed to the store."""
    return append(store, BalanceUpdateType.CONTRIBUTION, contribution, BalanceUpdateStatus.PENDING, at, credit_id=credit_id)


def cancel_contribution(store: LedgerHead, contribution: BalanceUpdate, at: datetime) -> BalanceUpdate:
    """Compensate a contribution, whatever its status, and mark it overwritten."""
    if contribution.type != BalanceUpdateType.CONTRIBUTION:
        raise LedgerError("only a contribution can be cancelled")
    if contribution.overwritten:
        raise LedgerError(f"contribution of credit {contribution.credit_id} is already cancelled")
    bu = append(
        store, BalanceUpdateType.CREDIT_CANCELLATION, -contribution.amount, BalanceUpdateStatus.PENDING, at,
        credit_id=contribution.credit_id,
    )
    contribution.overwrite_with(bu)
    return bu


def adjust(store: LedgerHead, amount: int, admin_id: int | None, at: datetime, note: str | None = None,
           idempotency_key: str | None = None) -> BalanceUpdate:
    """A manual correction by an authorised admin, considered in the next transfer."""
    if amount == 0:
        raise LedgerError("an adjustment of zero changes nothing")
    return append(
        store, BalanceUpdateType.ADJUSTMENT, amount, BalanceUpdateStatus.PENDING, at,
        admin_creator_id=admin_id, note=note, idempotency_key=idempotency_key,
    )


@dataclass(frozen=True)
class TransferDecision:
    """Whether pending balance updates become a transfer, and why not when they do not."""

    pay: bool
    total: int
    reason: str


def decide_transfer(pending_total: int, minimum: int, automation: bool) -> TransferDecision:
    """Whether a pending total (centavos) becomes a transfer: only with automation on and a positive
    total that reaches the minimum; the decision always carries its reason."""
    if not automation:
        return TransferDecision(False, pending_total, "automation is off")
    if pending_total <= 0:
        return TransferDecision(False, pending_total, "nothing to pay: pending total is zero or negative")
    if pending_total < minimum:
        return TransferDecision(False, pending_total, f"pending total {pending_total} is below the minimum {minimum}")
    return TransferDecision(True, pending_total, "pending total reaches the minimum")


def open_transfer(
    store: LedgerHead,
    pending: Sequence[BalanceUpdate],
    trigger_key: str,
    requires_confirmation: bool,
    at: datetime,
) -> BankTransfer:
    """Put every pending balance update into one new transfer; they go In transit."""
    if any(bu.status != BalanceUpdateStatus.PENDING for bu in pending):
        raise LedgerError("a transfer is built from pending balance updates only")
    total = sum(bu.amount for bu in pending)
    if total <= 0:
        raise LedgerError("no transfer of zero or negative amount")
    status = TransferStatus.WAITING_CONFIRMATION if requires_confirmation else TransferStatus.SENDING
    transfer = BankTransfer(
        store_id=id_of(store), status=status, amount=total, currency=store.currency, created_at=at,
        trigger_key=trigger_key, requires_confirmation=requires_confirmation, updated_at=at,
    )
    transfer.history.append(TransferStatusChange(status=status, at=at))
    for bu in pending:
        bu.move_to(BalanceUpdateStatus.IN_TRANSIT, at)
        transfer.balance_updates.append(bu)
    return transfer


def _release(transfer: BankTransfer, at: datetime) -> None:
    for bu in transfer.balance_updates:
        bu.move_to(BalanceUpdateStatus.PENDING, at)


def credits_of(transfer: BankTransfer) -> list[int]:
    """The ids of the credits whose Contributions the transfer pays (credit cancellations not included)."""
    return [bu.credit_id for bu in transfer.balance_updates
            if bu.credit_id is not None and bu.type == BalanceUpdateType.CONTRIBUTION]


def liquidate(store: LedgerHead, transfer: BankTransfer, at: datetime) -> BalanceUpdate:
    """The bank paid: the transfer and its updates are Applied, and one Disbursement records it."""
    transfer.move_to(TransferStatus.APPLIED, at)
    for bu in transfer.balance_updates:
        bu.move_to(BalanceUpdateStatus.APPLIED, at)
    return append(
        store, BalanceUpdateType.DISBURSEMENT, -transfer.amount, BalanceUpdateStatus.APPLIED, at,
        bank_transfer_id=transfer.id,
    )


def cancel_transfer(transfer: BankTransfer, at: datetime, reason: str | None = None) -> None:
    """The order did not go out (or treasury refused it): its updates are Pending again."""
    transfer.move_to(TransferStatus.CANCELLED, at, reason)
    _release(transfer, at)


def return_transfer(
    store: LedgerHead, transfer: BankTransfer, disbursement: BalanceUpdate | None, at: datetime,
    reason: str | None = None,
) -> BalanceUpdate | None:
    """The money came back. After liquidation a Disbursement override restores the balance."""
    was_applied = transfer.status == TransferStatus.APPLIED
    if was_applied and (disbursement is None or disbursement.type != BalanceUpdateType.DISBURSEMENT
                        or disbursement.bank_transfer_id != transfer.id or disbursement.overwritten):
        raise LedgerError(f"applied transfer {transfer.id} has no disbursement of its own to override")
    transfer.move_to(TransferStatus.REJECTED, at, reason)
    _release(transfer, at)
    if not was_applied or disbursement is None:  # (checked above: an applied transfer has its disbursement)
        return None
    transfer.returned_after_applied = True
    override = append(
        store, BalanceUpdateType.DISBURSEMENT_OVERRIDE, transfer.amount, BalanceUpdateStatus.APPLIED, at,
        bank_transfer_id=transfer.id,
    )
    disbursement.overwrite_with(override)
    return override


def pending_total(updates: Iterable[BalanceUpdate]) -> int:
    """The sum of the amounts (centavos) of the pending updates among ``updates``."""
    return sum(bu.amount for bu in updates if bu.status == BalanceUpdateStatus.PENDING)
