"""The closed loop: wallets in a double-entry ledger, the tenant's float among them. Money moves from one
wallet to another in a single entry with two legs; no wallet's balance ever goes below zero."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.errors import DomainError
from domain.money import MAX_MINOR, within_bound


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


@dataclass(eq=False)
class WalletEntry:
    """One movement: ``amount`` out of ``debit`` and into ``credit``, for a reason (an instruction, a funding)."""

    debit_wallet_id: int | None  # None: money from outside (treasury funding the float)
    credit_wallet_id: int
    amount: int
    currency: str
    reference: str
    at: datetime
    id: int | None = None


def fund(float_wallet: Wallet, amount: int, reference: str, at: datetime) -> WalletEntry:
    """Money from outside into the tenant's float (treasury's funding)."""
    if amount <= 0:
        raise WalletError("a funding is a positive amount")
    _may_hold(float_wallet, amount, "the float")
    float_wallet.balance += amount
    return WalletEntry(None, _id(float_wallet), amount, float_wallet.currency, reference, at)


def move(debit: Wallet, credit: Wallet, amount: int, reference: str, at: datetime) -> WalletEntry:
    """Pay ``amount`` from one wallet into another; raises WalletError when it would leave ``debit``
    below zero, mixes currencies or names one wallet twice."""
    if amount <= 0:
        raise WalletError("a movement is a positive amount")
    if debit is credit or (debit.id is not None and debit.id == credit.id):
        raise WalletError("a wallet cannot pay itself")
    if debit.currency != credit.currency:
        raise WalletError(f"cannot move {debit.currency} into a {credit.currency} wallet")
    if debit.balance < amount:
        raise InsufficientFunds(f"insufficient funds: the wallet holds {debit.balance}, the payment is {amount}")
    _may_hold(credit, amount, "the payee's wallet")
    debit.balance -= amount
    credit.balance += amount
    return WalletEntry(_id(debit), _id(credit), amount, debit.currency, reference, at)


def _may_hold(wallet: Wallet, amount: int, whose: str) -> None:
    if not within_bound(wallet.balance + amount):
        raise WalletError(f"{whose} holds {wallet.balance} {wallet.currency}; {amount} more would take it beyond "
                          f"{MAX_MINOR} minor units, the largest balance")


def _id(wallet: Wallet) -> int:
    if wallet.id is None:
        raise WalletError("the wallet is not stored yet")
    return wallet.id
