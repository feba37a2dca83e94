"""Closed-loop money leaving (seed 002, "Payment Routing": a receiver withdraws out of its wallet): a wallet
and its entries, shown to its tenant, and a withdrawal paid over SPEI through the payment-order pipeline.

A withdrawal is made once per the tenant's reference (a unique key): a repeat answers the first, a repeat
asking for something else is refused. In one transaction the wallet is debited (into the tenant's SPEI
payouts wallet) and the payment order is made; when the bank cancels or returns the order, the amount goes
back into the wallet, once (its entry's reference is unique). Locks are taken as every closed-loop step
takes them: the tenant's float and SPEI payouts wallet first, then the payee's wallet."""
from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from usecases.ports import UnitOfWork
from domain.identity import id_of
from domain import masking, stp
from domain.money import Money, MoneyError, bounded
from domain.payment_orders import (
    Payee, PaymentOrder, PaymentOrderError, PaymentOrderStatus, PaymentSource, new_order,
)
from domain.stp import OrderOutcome
from domain.tenants import RESERVED_OWNERS, Tenant
from domain.tracking import PaymentEventKind
from domain.wallets import InsufficientFunds, Wallet, WalletError, Withdrawal, WithdrawalStatus, move
from usecases import spei_funds, steps, tracking
from usecases.access import Principal
from usecases.errors import Conflict, Forbidden, Invalid, NotFound


@dataclass(frozen=True)
class WithdrawalRequest:
    """What the tenant asks: an amount (a decimal in major units) to a CLABE and its holder, under its own
    reference."""

    reference: str
    amount: str
    currency: str
    clabe: str
    beneficiary_name: str
    rfc_curp: str = ""
    concept: str = ""

    @property
    def digest(self) -> str:
        """What was asked, as a digest: a repeat of the reference must ask for the same."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()


def wallets_of(uow: UnitOfWork, tenant: Tenant, owner: str) -> list[Wallet]:
    """The owner's wallets of the tenant (one per currency); NotFound when it has none."""
    found = uow.withdrawals.wallets_of(id_of(tenant), owner)
    if not found:
        raise NotFound(f"tenant {tenant.name} has no wallet {masking.account(owner)!r}")
    return found


def view(uow: UnitOfWork, tenant: Tenant, owner: str, page: int, per_page: int) -> dict[str, Any]:
    """A wallet as its tenant sees it: its balance per currency and a page of its entries, the latest first."""
    wallets = wallets_of(uow, tenant, owner)
    ids = {id_of(w) for w in wallets}
    entries, total = uow.withdrawals.entries(sorted(ids), page, per_page)
    other = uow.withdrawals.owners({e.credit_wallet_id if e.debit_wallet_id in ids else e.debit_wallet_id
                                    for e in entries})
    return {"owner": owner,
            "balances": [{"currency": w.currency, "balance": w.balance,
                          "amount": Money(w.balance, w.currency).to_decimal_string()} for w in wallets],
            "entries": [_entry_view(e, ids, other) for e in entries], "page": page, "per_page": per_page,
            "total": total}


def _entry_view(e: Any, ids: set[int], owners: dict[int, str]) -> dict[str, Any]:
    out = e.debit_wallet_id in ids
    counterparty = owners.get(e.credit_wallet_id if out else e.debit_wallet_id, "")
    return {"id": e.id, "at": e.at, "direction": "out" if out else "in", "amount_minor": e.amount,
            "amount": Money(e.amount, e.currency).to_decimal_string(), "currency": e.currency,
            "reference": e.reference,
            "counterparty": counterparty if counterparty in RESERVED_OWNERS else masking.account(counterparty)}


def withdraw(uow: UnitOfWork, tenant: Tenant, owner: str, asked: WithdrawalRequest, key_id: int | None,
             tracking_prefix: str, approval_above: int | None = None) -> tuple[dict[str, Any], bool]:
    """Pay ``asked`` out of the owner's wallet over SPEI; returns the withdrawal as shown and whether it is
    new. Above ``approval_above`` (minor units) its order waits for treasury's approval, the wallet already
    debited. Raises Invalid (bad amount, CLABE, name; a reserved wallet), NotFound (no such wallet), Conflict
    (the wallet holds less; the reference was used for another withdrawal). Nothing changes then."""
    if owner in RESERVED_OWNERS:
        raise Invalid(f"{owner!r} is the tenant's own account, not a wallet one withdraws from")
    at, uetr = uow.clock(), str(uuid.uuid4())
    try:
        money = Money.parse(asked.amount, asked.currency.strip().upper())
        bounded(money.minor, "a withdrawal")
        order = new_order(uetr, tracking_prefix, PaymentSource.WALLET_WITHDRAWAL, money,
                          Payee(asked.clabe.strip(), asked.beneficiary_name, asked.rfc_curp),
                          asked.concept or f"Retiro {asked.reference}", stp.operation_date(at), at)
    except (MoneyError, PaymentOrderError) as e:
        raise Invalid(str(e)) from None
    funds = spei_funds.payouts(uow, id_of(tenant), money.currency)
    found = uow.withdrawals.by_reference(id_of(tenant), asked.reference)
    if found is not None:
        return _repeat(uow, found, asked), False
    wallet = uow.wallets.lock_many(id_of(tenant), [owner], money.currency, at, create=False).get(owner)
    if wallet is None:
        raise NotFound(f"tenant {tenant.name} has no {money.currency} wallet {masking.account(owner)!r}")
    try:
        entry = move(wallet, funds.payouts_wallet, money.minor, f"withdrawal:{uetr}", at)
    except InsufficientFunds as e:
        raise Conflict(f"the wallet cannot pay {money}: {e}") from None
    except WalletError as e:
        raise Invalid(str(e)) from None
    uow.orders.add(order)
    waits = approval_above is not None and money.minor > approval_above
    withdrawal = Withdrawal(id_of(tenant), id_of(wallet), asked.reference, asked.digest, money.minor,
                            money.currency, uetr, at, key_id, order.id,
                            status=WithdrawalStatus.AWAITING_APPROVAL if waits else WithdrawalStatus.APPROVED)
    if not uow.withdrawals.add(withdrawal):  # made meanwhile in another currency's transaction
        raise Conflict(f"withdrawal {asked.reference!r} is being made; ask again for its outcome")
    uow.wallets.record(entry, wallet, funds.payouts_wallet)
    if waits:
        uow.alert("wallet_withdrawal_awaiting_approval", f"{money} out of wallet {masking.account(owner)} of tenant "
                f"{tenant.name} is above {Money(approval_above or 0, money.currency)}: it waits for a treasury "
                "person's approval", reference=order.tracking_key, uetr=uetr)
    else:
        uow.outbox.send(steps.SEND_PAYMENT_ORDER, uetr)
    tracking.record(uow, [tracking.event(
        uow, uetr, PaymentEventKind.INITIATED, source="wallet_withdrawal", amount=money.minor,
        currency=money.currency, payee_account=masking.account(order.beneficiary_account),
        payee_name=masking.name(order.beneficiary_name), tracking_key=order.tracking_key, rail="SPEI",
        tenant_id=tenant.id,
        execution_date=tracking.at_operation_date(order.operation_date),
        delivery_date=tracking.at_operation_date(order.operation_date))])
    uow.log("wallet_withdrawal", f"{money} out of wallet {masking.account(owner)} of tenant {tenant.name} to "
            f"{masking.account(order.beneficiary_account)} (order {order.tracking_key})",
            reference=order.tracking_key, uetr=uetr)
    return shown(withdrawal, order, wallet), True


def _repeat(uow: UnitOfWork, found: Withdrawal, asked: WithdrawalRequest) -> dict[str, Any]:
    if found.request_sha256 != asked.digest:
        raise Conflict(f"reference {asked.reference!r} was used for another withdrawal; nothing was paid")
    order = uow.orders.get(found.payment_order_id or 0)
    return shown(found, order, uow.withdrawals.wallet(found.wallet_id))


def shown(w: Withdrawal, order: PaymentOrder, wallet: Wallet) -> dict[str, Any]:
    """A withdrawal as its tenant is answered: the payee masked, the order's status and the wallet's balance."""
    return {"reference": w.reference, "uetr": w.uetr, "tracking_key": order.tracking_key,
            "status": order.status.value, "approval": w.status.value, "amount": Money(w.amount, w.currency).to_decimal_string(),
            "amount_minor": w.amount, "currency": w.currency,
            "clabe": masking.account(order.beneficiary_account), "beneficiary_name": masking.name(order.beneficiary_name),
            "balance": wallet.balance, "created_at": w.created_at}


def order_settled(uow: UnitOfWork, order: PaymentOrder, outcome: OrderOutcome) -> None:
    """The bank's word on a withdrawal's order: cancelled or returned (even after it was liquidated), its
    amount goes back into the wallet, once. The caller holds the order's lock."""
    withdrawal = uow.withdrawals.of_order(id_of(order))
    if withdrawal is None or outcome == OrderOutcome.LIQUIDATED:
        return
    if uow.wallets.entry(withdrawal.back_reference) is not None:
        return
    funds = spei_funds.payouts(uow, withdrawal.tenant_id, withdrawal.currency)
    wallet = uow.withdrawals.wallet(withdrawal.wallet_id)
    locked = uow.wallets.lock_many(withdrawal.tenant_id, [wallet.owner], withdrawal.currency, uow.clock(),
                                   create=False)[wallet.owner]
    entry = move(funds.payouts_wallet, locked, withdrawal.amount, withdrawal.back_reference, uow.clock())
    uow.wallets.record(entry, funds.payouts_wallet, locked)
    uow.log("wallet_withdrawal_back", f"order {order.tracking_key} {outcome.value} by the bank: "
            f"{Money(withdrawal.amount, withdrawal.currency)} back into wallet {masking.account(wallet.owner)}",
            reference=order.tracking_key, uetr=order.uetr)



def held(uow: UnitOfWork, order: PaymentOrder) -> bool:
    """Whether a withdrawal's order may not go to the bank yet: its withdrawal waits for approval (or was
    rejected)."""
    withdrawal = uow.withdrawals.of_order(id_of(order))
    return withdrawal is not None and withdrawal.status != WithdrawalStatus.APPROVED


def _waiting(uow: UnitOfWork, uetr: str, who: Principal, decision: WithdrawalStatus) -> tuple[Withdrawal, PaymentOrder]:
    """The withdrawal and its order, locked (the order first, as the send step locks it), decided by a
    person other than the one whose key asked for it (maker-checker)."""
    order = uow.orders.lock(uow.orders.id_of(uetr))
    withdrawal = uow.withdrawals.by_uetr(uetr, lock=True)
    requester = uow.api_keys.person_of(withdrawal.requested_by_key_id) if withdrawal.requested_by_key_id else None
    if withdrawal.requested_by_key_id == who.key_id or (requester and who.person and requester.id == who.person.id):
        raise Forbidden(f"dual control: withdrawal {uetr} was asked for by {requester.email if requester else 'this key'}"
                        "; a treasury or admin person other than the requester decides it")
    try:
        withdrawal.decide(decision, who.key_id)
    except WalletError as e:
        raise Conflict(str(e)) from None
    uow.withdrawals.save(withdrawal)
    return withdrawal, order


def approve(uow: UnitOfWork, uetr: str, who: Principal) -> dict[str, Any]:
    """Treasury's approval of a withdrawal above the bound: its order goes to the bank."""
    withdrawal, order = _waiting(uow, uetr, who, WithdrawalStatus.APPROVED)
    uow.outbox.send(steps.SEND_PAYMENT_ORDER, uetr)
    uow.log("wallet_withdrawal_approved", f"withdrawal {withdrawal.reference} (order {order.tracking_key}) approved",
            reference=order.tracking_key, uetr=uetr)
    return shown(withdrawal, order, uow.withdrawals.wallet(withdrawal.wallet_id))


def reject(uow: UnitOfWork, uetr: str, who: Principal, reason: str) -> dict[str, Any]:
    """Treasury's rejection: the order is cancelled, never sent, and the amount goes back into the wallet."""
    withdrawal, order = _waiting(uow, uetr, who, WithdrawalStatus.REJECTED)
    order.move_to(PaymentOrderStatus.CANCELLED, uow.clock(), f"rejected by treasury: {reason}"[:255])
    tracking.record(uow, [tracking.event(uow, uetr, PaymentEventKind.CANCELLED, reason=f"rejected by treasury: {reason}")])
    order_settled(uow, order, OrderOutcome.CANCELLED)
    return shown(withdrawal, order, uow.withdrawals.wallet(withdrawal.wallet_id))
