"""The ledger invariants of DESIGN.md, checked over one store's books at a time."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from domain.credits import Credit
from domain.payment_orders import PaymentOrder, PaymentOrderStatus as O
from domain.ledger import (
    BalanceUpdate,
    BalanceUpdateStatus as S,
    BalanceUpdateType as T,
    BankTransfer,
    TransferStatus,
)


@dataclass
class StoreBooks:
    """Everything the checks read of one store: its balance, updates, transfers and credits."""

    store_id: int
    balance: int
    updates: Sequence[BalanceUpdate]
    transfers: Sequence[BankTransfer]
    credits: Sequence[Credit] = field(default_factory=list)
    members: dict[int, list[BalanceUpdate]] | None = None  # transfer id -> its updates, when not on the transfer
    orders: Sequence[PaymentOrder] | None = None  # None: the books do not include the bank side

    def updates_of(self, transfer: BankTransfer) -> list[BalanceUpdate]:
        """A transfer's balance updates: from ``members`` when given, else the transfer's own list."""
        if self.members is not None:
            return self.members.get(transfer.id or 0, [])
        return list(transfer.balance_updates)


def check_chain(b: StoreBooks) -> Iterable[str]:
    """The chain of balance updates: sequence numbers run 1, 2, 3..., each previous balance is the prior
    new balance, new balance = previous + amount, and the store's balance is the last new balance."""
    expected, seq = 0, 0
    for bu in sorted(b.updates, key=lambda u: u.sequence):
        seq += 1
        if bu.sequence != seq:
            yield f"store {b.store_id}: sequence {bu.sequence} where {seq} was expected"
            seq = bu.sequence
        if bu.previous_balance != expected:
            yield f"store {b.store_id}: BU {bu.id} previous_balance {bu.previous_balance} != prior new_balance {expected}"
        if bu.new_balance != bu.previous_balance + bu.amount:
            yield f"store {b.store_id}: BU {bu.id} new_balance {bu.new_balance} != previous {bu.previous_balance} + amount {bu.amount}"
        expected = bu.new_balance
    if b.balance != expected:
        yield f"store {b.store_id}: balance {b.balance} != last new_balance {expected}"


def check_balance_split(b: StoreBooks) -> Iterable[str]:
    """The store's balance equals the sum of its pending and in-transit balance updates."""
    open_total = sum(bu.amount for bu in b.updates if bu.status in (S.PENDING, S.IN_TRANSIT))
    if open_total != b.balance:
        yield f"store {b.store_id}: balance {b.balance} != pending + in transit {open_total}"


def check_transfers(b: StoreBooks) -> Iterable[str]:
    """Each transfer against its balance updates: its amount is positive and their sum; members of a
    live transfer are in transit and in no other live transfer; an applied transfer has one
    Disbursement and applied members; one returned after liquidation has one Disbursement and one
    Disbursement override; a cancelled one has no Disbursement; no in-transit update is outside a
    live transfer."""
    live_membership: Counter[int] = Counter()
    by_transfer: dict[int | None, Counter[T]] = {}
    for bu in b.updates:
        if bu.type in (T.DISBURSEMENT, T.DISBURSEMENT_OVERRIDE):
            by_transfer.setdefault(bu.bank_transfer_id, Counter())[bu.type] += 1
    for t in b.transfers:
        members = b.updates_of(t)
        total = sum(bu.amount for bu in members)
        if t.amount != total:
            yield f"transfer {t.id}: amount {t.amount} != sum of its BUs {total}"
        if t.amount <= 0:
            yield f"transfer {t.id}: amount {t.amount} is not positive"
        kinds = by_transfer.get(t.id, Counter())
        if t.status.is_live:
            for bu in members:
                live_membership[bu.id or id(bu)] += 1
                if bu.status != S.IN_TRANSIT:
                    yield f"transfer {t.id} ({t.status.value}): BU {bu.id} is {bu.status.value}, not in transit"
        if t.status == TransferStatus.APPLIED:
            if kinds[T.DISBURSEMENT] != 1:
                yield f"transfer {t.id}: applied with {kinds[T.DISBURSEMENT]} disbursement BUs"
            for bu in members:
                if bu.status != S.APPLIED:
                    yield f"transfer {t.id}: applied but BU {bu.id} is {bu.status.value}"
        if t.returned_after_applied and (kinds[T.DISBURSEMENT] != 1 or kinds[T.DISBURSEMENT_OVERRIDE] != 1):
            yield (f"transfer {t.id}: returned after applied with {kinds[T.DISBURSEMENT]} disbursement and "
                   f"{kinds[T.DISBURSEMENT_OVERRIDE]} override BUs")
        if t.status == TransferStatus.CANCELLED and kinds[T.DISBURSEMENT]:
            yield f"transfer {t.id}: cancelled but has a disbursement BU"
    for bu_id, n in live_membership.items():
        if n > 1:
            yield f"store {b.store_id}: BU {bu_id} is in {n} live transfers"
    for bu in b.updates:
        if bu.status == S.IN_TRANSIT and not live_membership.get(bu.id or id(bu)):
            yield f"store {b.store_id}: BU {bu.id} is in transit but in no live transfer"


def check_credits(b: StoreBooks) -> Iterable[str]:
    """Each credit against its balance updates: one Contribution, of the credit's contribution, once
    delivered and none before; one Credit cancellation when cancelled after delivery, none otherwise;
    and amount - commission - tax = contribution."""
    kinds: dict[int, Counter[T]] = {}
    contribution_amount: dict[int, int] = {}
    for bu in b.updates:
        if bu.credit_id is not None:
            kinds.setdefault(bu.credit_id, Counter())[bu.type] += 1
            if bu.type == T.CONTRIBUTION:
                contribution_amount[bu.credit_id] = bu.amount
    for c in b.credits:
        k = kinds.get(c.id or 0, Counter())
        delivered = c.delivered_at is not None
        if delivered and k[T.CONTRIBUTION] != 1:
            yield f"credit {c.id}: delivered with {k[T.CONTRIBUTION]} contribution BUs"
        if not delivered and k[T.CONTRIBUTION]:
            yield f"credit {c.id}: not delivered but has a contribution BU"
        cancelled_after_delivery = delivered and c.cancelled_at is not None
        if k[T.CREDIT_CANCELLATION] != (1 if cancelled_after_delivery else 0):
            yield f"credit {c.id}: {k[T.CREDIT_CANCELLATION]} credit cancellation BUs"
        if c.amount - c.commission - c.tax != c.contribution:
            yield f"credit {c.id}: contribution {c.contribution} != amount {c.amount} - commission {c.commission} - tax {c.tax}"
        if delivered and contribution_amount.get(c.id or 0, c.contribution) != c.contribution:
            yield f"credit {c.id}: contribution BU {contribution_amount[c.id or 0]} != credit contribution {c.contribution}"


ORDER_MATCHES_TRANSFER = {
    O.CREATED: {TransferStatus.SENDING}, O.SENDING: {TransferStatus.SENDING}, O.SENT: {TransferStatus.IN_TRANSIT},
    O.LIQUIDATED: {TransferStatus.APPLIED}, O.CANCELLED: {TransferStatus.CANCELLED},
    O.RETURNED: {TransferStatus.REJECTED},
}


def check_orders(b: StoreBooks) -> Iterable[str]:
    """What the bank was told and answered agrees with the ledger, order by order."""
    if b.orders is None:
        return
    transfers = {t.id: t for t in b.transfers}
    ordered = set()
    for order in b.orders:
        t = transfers.get(order.bank_transfer_id)
        if t is None:
            continue
        ordered.add(t.id)
        if order.amount != t.amount:
            yield f"order {order.tracking_key}: amount {order.amount} != transfer {t.id} amount {t.amount}"
        if t.status not in ORDER_MATCHES_TRANSFER[order.status]:
            yield f"order {order.tracking_key} is {order.status.value} but transfer {t.id} is {t.status.value}"
    for t in b.transfers:
        if t.status in (TransferStatus.IN_TRANSIT, TransferStatus.APPLIED) and t.id not in ordered:
            yield f"transfer {t.id} is {t.status.value} without a payment order"


CHECKS = (check_chain, check_balance_split, check_transfers, check_credits, check_orders)


def verify(books: StoreBooks) -> list[str]:
    """Every violation found in one store's books, as one line each."""
    return [line for check in CHECKS for line in check(books)]
