"""The closed loop: wallets in a double-entry ledger, the tenant's float among them. Money moves from one
wallet to another in a single entry with two legs. Money from outside the loop (treasury's funding of a
float) comes out of the tenant's outside account in that currency, the one wallet whose balance goes below
zero: every other stays at zero or above, and the balances of one tenant's wallets in one currency add up
to zero."""
from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from domain import masking
from domain.errors import DomainError
from domain.money import MAX_MINOR, within_bound


OUTSIDE = "outside"  # the owner of a tenant's outside account: where fundings come from
SPEI_PAYOUTS = "spei:payouts"  # the wallet of what left the loop over SPEI (back out of it when it returns)
FLOAT = "float"  # the owner of a tenant's own wallet


class WalletError(DomainError):
    """A movement the wallets cannot make: not enough money, other currencies, the same wallet."""


class InsufficientFunds(WalletError):
    """The paying wallet holds less than the movement."""


@dataclass(eq=False)
class Wallet:
    """A wallet of the closed loop: whose it is, its currency and its balance in minor units."""

    tenant_id: int
    owner: str  # the payee identifier it is paid by; ``float`` for the tenant's own
    currency: str
    balance: int = 0
    id: int | None = None

    @property
    def outside(self) -> bool:
        """The tenant's outside account: its balance is minus what came into the loop, so it may be below zero."""
        return self.owner == OUTSIDE


@dataclass(eq=False)
class WalletEntry:
    """One movement: ``amount`` out of ``debit`` and into ``credit``, for a reason (an instruction, a funding)."""

    debit_wallet_id: int
    credit_wallet_id: int
    amount: int
    currency: str
    reference: str
    at: datetime
    id: int | None = None


class WithdrawalStatus(str, enum.Enum):
    """Where a withdrawal stands before its order goes to the bank; WITHDRAWAL_MOVES says where each may go."""

    AWAITING_APPROVAL = "awaiting_approval"  # above the approval bound: a treasury person other than the requester
    APPROVED = "approved"                    # its order goes to the bank (at once when within the bound)
    REJECTED = "rejected"                    # its order cancelled, its amount back in the wallet


WITHDRAWAL_MOVES: dict[WithdrawalStatus, frozenset[WithdrawalStatus]] = {
    WithdrawalStatus.AWAITING_APPROVAL: frozenset({WithdrawalStatus.APPROVED, WithdrawalStatus.REJECTED}),
    WithdrawalStatus.APPROVED: frozenset(),
    WithdrawalStatus.REJECTED: frozenset(),
}


@dataclass(eq=False)
class Withdrawal:
    """A wallet's money paid out over SPEI: once per the client's reference, by the payment order of
    ``uetr`` (the wallet debited when the order is made, credited back if the bank cancels or returns it)."""

    tenant_id: int
    wallet_id: int
    reference: str
    request_sha256: str
    amount: int
    currency: str
    uetr: str
    created_at: datetime
    requested_by_key_id: int | None = None
    payment_order_id: int | None = None
    id: int | None = None
    status: WithdrawalStatus = WithdrawalStatus.APPROVED
    decided_by_key_id: int | None = None

    def decide(self, status: WithdrawalStatus, key_id: int) -> None:
        """Treasury's approval or rejection of a waiting withdrawal; WalletError for any other move."""
        if status not in WITHDRAWAL_MOVES[self.status]:
            raise WalletError(f"withdrawal {self.reference} is {self.status.value}, not awaiting approval")
        self.status, self.decided_by_key_id = status, key_id

    @property
    def paid_reference(self) -> str:
        """The reference of the wallet's entry paying it out."""
        return f"withdrawal:{self.uetr}"

    @property
    def back_reference(self) -> str:
        """The reference of the entry giving it back (unique: at most once)."""
        return f"withdrawal:{self.uetr}:back"


def fund(outside: Wallet, float_wallet: Wallet, amount: int, reference: str, at: datetime) -> WalletEntry:
    """Money from outside into the tenant's float (treasury's funding), out of its outside account."""
    if not outside.outside or float_wallet.owner != FLOAT:
        raise WalletError("a funding moves money from the tenant's outside account into its float")
    if amount <= 0:
        raise WalletError("a funding is a positive amount")
    return move(outside, float_wallet, amount, reference, at)


def move(debit: Wallet, credit: Wallet, amount: int, reference: str, at: datetime) -> WalletEntry:
    """Pay ``amount`` from one wallet into another; raises WalletError when it would leave ``debit``
    below zero, mixes currencies or names one wallet twice."""
    if amount <= 0:
        raise WalletError("a movement is a positive amount")
    if debit is credit or (debit.id is not None and debit.id == credit.id):
        raise WalletError("a wallet cannot pay itself")
    if debit.currency != credit.currency:
        raise WalletError(f"cannot move {debit.currency} into a {credit.currency} wallet")
    if debit.tenant_id != credit.tenant_id:
        raise WalletError("money does not move between two tenants' wallets")
    if credit.outside:
        raise WalletError("no money goes back to the outside account")
    if debit.balance < amount and not debit.outside:
        raise InsufficientFunds(f"insufficient funds: the wallet holds {debit.balance}, the payment is {amount}")
    _may_hold(debit, -amount, "the outside account")
    _may_hold(credit, amount, "the float" if credit.owner == FLOAT else "the payee's wallet")
    debit.balance -= amount
    credit.balance += amount
    return WalletEntry(_id(debit), _id(credit), amount, debit.currency, reference, at)


def _may_hold(wallet: Wallet, amount: int, whose: str) -> None:
    if not within_bound(wallet.balance + amount):
        raise WalletError(f"{whose} holds {wallet.balance} {wallet.currency}; {amount:+} would take it beyond "
                          f"{MAX_MINOR} minor units, the largest balance")


def _id(wallet: Wallet) -> int:
    if wallet.id is None:
        raise WalletError("the wallet is not stored yet")
    return wallet.id


# --- the books' checks (``dispersa ledger verify``) ----------------------------------------------------


@dataclass(frozen=True)
class WalletTotals:
    """A wallet beside what its entries bring in (it is their credit) and take out (their debit)."""

    wallet: Wallet
    came_in: int
    went_out: int


def totals_of(wallets: Iterable[Wallet], entries: Iterable[WalletEntry]) -> list[WalletTotals]:
    """Each wallet's totals, summed from the entries."""
    came_in: dict[int, int] = defaultdict(int)
    went_out: dict[int, int] = defaultdict(int)
    for e in entries:
        came_in[e.credit_wallet_id] += e.amount
        went_out[e.debit_wallet_id] += e.amount
    return [WalletTotals(w, came_in[_id(w)], went_out[_id(w)]) for w in wallets]


def check_entries(entries: Iterable[WalletEntry], wallets: dict[int, Wallet]) -> Iterable[str]:
    """Each entry a positive amount between two wallets of one tenant in its own currency, never into the
    outside account."""
    for e in entries:
        debit, credit = wallets.get(e.debit_wallet_id), wallets.get(e.credit_wallet_id)
        if e.amount <= 0:
            yield f"wallet entry {e.reference}: an amount of {e.amount}, not a positive one"
        if debit is None or credit is None or debit is credit:
            yield f"wallet entry {e.reference}: moves from wallet {e.debit_wallet_id} to {e.credit_wallet_id}"
        elif (debit.tenant_id, debit.currency, e.currency) != (credit.tenant_id, credit.currency, debit.currency):
            yield (f"wallet entry {e.reference} ({e.currency}): from tenant {debit.tenant_id}'s {debit.currency} "
                   f"wallet to tenant {credit.tenant_id}'s {credit.currency} wallet")
        elif credit.outside:
            yield f"wallet entry {e.reference}: pays into the outside account"


def check_books(totals: Iterable[WalletTotals]) -> list[str]:
    """The closed loop's books, for each tenant and currency:

    1. each wallet's balance is what its entries bring in less what they take out;
    2. no wallet is below zero but the outside account (which is below zero by all that came in);
    3. the money in the loop (every wallet but the outside account and the SPEI payouts wallet) is
       exactly the fundings (what left the outside account) less the payouts (what the SPEI payouts
       wallet holds: what left over SPEI and did not come back)."""
    out: list[str] = []
    groups: dict[tuple[int, str], list[WalletTotals]] = defaultdict(list)
    for t in totals:
        w = t.wallet
        groups[(w.tenant_id, w.currency)].append(t)
        if w.balance != t.came_in - t.went_out:
            out.append(f"{_name(w)}: balance {w.balance}, its entries bring in {t.came_in} and take out "
                       f"{t.went_out} ({t.came_in - t.went_out})")
        if w.balance < 0 and not w.outside:
            out.append(f"{_name(w)}: balance {w.balance}, below zero")
        if w.balance > 0 and w.outside:
            out.append(f"{_name(w)}: balance {w.balance}, more went back out than came in")
    for (tenant_id, currency), group in sorted(groups.items()):
        funded = sum(t.went_out - t.came_in for t in group if t.wallet.outside)
        paid_out = sum(t.wallet.balance for t in group if t.wallet.owner == SPEI_PAYOUTS)
        held = sum(t.wallet.balance for t in group if not t.wallet.outside and t.wallet.owner != SPEI_PAYOUTS)
        if held != funded - paid_out:
            out.append(f"tenant {tenant_id}'s {currency} wallets hold {held}; funded {funded} less paid out "
                       f"{paid_out} is {funded - paid_out}")
    return out


def _name(wallet: Wallet) -> str:
    reserved = wallet.owner in (FLOAT, OUTSIDE, SPEI_PAYOUTS)
    shown = wallet.owner if reserved else masking.account(wallet.owner)
    return f"tenant {wallet.tenant_id}'s {wallet.currency} wallet {wallet.id} ({shown})"
