"""The closed-loop connector: rows paid from the tenant's float wallet into the payees' wallets, in the
step's own transaction. Each movement's reference is the instruction's id, unique in the wallet ledger,
so that no row is ever paid twice; a row the float cannot cover fails and the others go on."""
from __future__ import annotations

from itertools import groupby

from usecases.ports import UnitOfWork
from domain import masking
from domain.identity import id_of
from domain.instructions import Instruction
from domain.tenants import FLOAT, RESERVED_OWNERS
from domain.wallets import InsufficientFunds, Wallet, WalletEntry, WalletError, move


def pay(uow: UnitOfWork, tenant_id: int, rows: list[Instruction], create_payees: bool) -> None:
    """Pay each row (its status set to success or failure; the caller saves them). The float is locked
    before the payees' wallets, as every closed-loop step locks them."""
    at = uow.clock()
    for currency, group in groupby(sorted(rows, key=lambda r: r.currency), key=lambda r: r.currency):
        same = list(group)
        source = uow.wallets.lock(tenant_id, FLOAT, currency, at)
        payees = uow.wallets.lock_many(tenant_id, [r.payee_identifier for r in same
                                                   if r.payee_identifier not in RESERVED_OWNERS],
                                       currency, at, create_payees)
        entries: list[WalletEntry] = []
        touched: dict[int, Wallet] = {id_of(source): source}
        for row in same:
            payee = payees.get(row.payee_identifier)
            if payee is None:
                row.settle(False, at, "PARTY_NOT_FOUND", f"no wallet {masking.account(row.payee_identifier)!r} in the closed loop")
                continue
            try:
                entries.append(move(source, payee, row.amount or 0, row.instruction_id, at))
            except WalletError as e:
                row.settle(False, at, "INSUFFICIENT_FUNDS" if isinstance(e, InsufficientFunds) else "WALLET_REFUSED",
                           str(e))
                continue
            touched[id_of(payee)] = payee
            row.settle(True, at)
            row.connector_reference = row.instruction_id
        uow.wallets.record_many(entries, list(touched.values()))
