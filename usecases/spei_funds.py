"""A tenant's SPEI rows are paid from its own float, as its closed-loop rows are: each row handed to the
bank moves its amount out of the float (in the row's currency) into the tenant's SPEI payouts wallet,
in the step that makes its payment order. A row the float cannot cover fails INSUFFICIENT_FUNDS and no
order is made. When the bank cancels or returns the order, the amount moves back into the float.

Each movement's reference is unique: the row's instruction id for the payout, ``<id>:back`` for its
return, so that neither ever happens twice."""
from __future__ import annotations

from dataclasses import dataclass

from usecases.ports import UnitOfWork
from domain.instructions import Instruction
from domain.tenants import FLOAT, SPEI_PAYOUTS
from domain.wallets import InsufficientFunds, Wallet, WalletEntry, WalletError, move

INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"


def back_reference(instruction_id: str) -> str:
    """The reference of a row's money coming back to the float."""
    return f"{instruction_id}:back"


@dataclass
class Payouts:
    """A chunk's SPEI payouts out of one tenant's float in one currency: the two wallets, locked, and
    the movements made so far (written by ``record``)."""

    float_wallet: Wallet
    payouts_wallet: Wallet
    entries: list[WalletEntry]

    def take(self, uow: UnitOfWork, row: Instruction) -> bool:
        """Move the row's amount out of the float; False (the row failed INSUFFICIENT_FUNDS, or the
        wallets refused) when it cannot."""
        try:
            self.entries.append(move(self.float_wallet, self.payouts_wallet, row.amount or 0, row.instruction_id,
                                     uow.clock()))
        except WalletError as e:
            code = INSUFFICIENT_FUNDS if isinstance(e, InsufficientFunds) else "WALLET_REFUSED"
            row.settle(False, uow.clock(), code, f"the tenant's {row.currency} float cannot pay it: {e}")
            return False
        return True

    def record(self, uow: UnitOfWork) -> None:
        """Write the movements and the balances they left."""
        uow.wallets.record_many(self.entries, [self.float_wallet, self.payouts_wallet])


def payouts(uow: UnitOfWork, tenant_id: int, currency: str) -> Payouts:
    """The tenant's float and SPEI payouts wallet in ``currency``, locked (the caller holds its rows' locks)."""
    wallets = uow.wallets.lock_many(tenant_id, [FLOAT, SPEI_PAYOUTS], currency, uow.clock(), create=True)
    return Payouts(wallets[FLOAT], wallets[SPEI_PAYOUTS], [])


def give_back(uow: UnitOfWork, tenant_id: int, row: Instruction, why: str) -> None:
    """The bank cancelled or returned the row's order: its amount goes back into the float. A row whose
    payout left no movement (paid before the float paid SPEI rows) gives nothing back."""
    paid = uow.wallets.entry(row.instruction_id)
    if paid is None or uow.wallets.entry(back_reference(row.instruction_id)) is not None:
        return
    wallets = payouts(uow, tenant_id, paid.currency)
    entry = move(wallets.payouts_wallet, wallets.float_wallet, paid.amount, back_reference(row.instruction_id),
                 uow.clock())
    uow.wallets.record(entry, wallets.payouts_wallet, wallets.float_wallet)
    uow.log("spei_row_refunded", f"{why}: {paid.amount} {paid.currency} of row {row.row} back to the tenant's "
            "float", reference=row.uetr)
