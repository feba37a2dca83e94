"""Repositories on the unit of work, named after the business: what the write-side use cases load, lock
and add, and the questions they ask, without SQL of their own. Columns are read as the tables'
typed columns (``tables.credits.c.store_id``), not as mapped attributes."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import CursorResult, Result, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from adapters.db import tables as t
from adapters.db.errors import insert_unless_present
from adapters.sealing import KEYRING, Bound
from domain.bank_events import BankEvent, BankEventStatus
from domain.commission import CommissionUpdate
from domain.credits import Credit, CreditStatus
from domain.errors import NotFound
from domain.ledger import StoreHead
from domain.ledger import BalanceUpdate, BalanceUpdateStatus, BalanceUpdateType, BankTransfer, TransferStatus
from domain.dead_letters import DeadLetter, DeadLetterStatus
from domain.dual_control import AdjustmentRequest, Person
from domain.tenants import Tenant
from domain.wallets import OUTSIDE, Wallet, WalletEntry
from domain.merchants import CommissionTierRow, Merchant, PaymentOption, Store
from domain.payment_orders import PaymentOrder, PaymentOrderStatus
from domain.products import PaymentFrequency, Product, ProductStatus
from domain.reconciliation import Mismatch
from domain.schedules import DisbursementMode
from domain.triggers import EvaluationOutcome, TriggerEvaluation

E = TypeVar("E")


def _inserted_id(result: Result[Any]) -> int:
    key = cast(CursorResult[Any], result).inserted_primary_key
    assert key is not None
    return int(key[0])


class Repository(Generic[E]):
    """Load by id (NotFound when there is none), lock (SELECT … FOR UPDATE), add."""

    entity: type[E]
    name: str

    def __init__(self, session: Session):
        self._session = session

    def get(self, id_: int) -> E:
        found = self._session.get(self.entity, id_)
        if found is None:
            raise NotFound(f"{self.name} {id_} does not exist")
        return found

    def lock(self, id_: int) -> E:
        """Load with a row lock held to the end of the transaction, read afresh."""
        found = self._session.get(self.entity, id_, with_for_update=True, populate_existing=True)
        if found is None:
            raise NotFound(f"{self.name} {id_} does not exist")
        return found

    def add(self, entity: E) -> E:
        """Add and flush, so that the entity has its id."""
        self._session.add(entity)
        self._session.flush()
        return entity


class Merchants(Repository[Merchant]):
    entity, name = Merchant, "merchant"

    def replace_tiers(self, merchant: Merchant, tiers: list[CommissionTierRow]) -> None:
        """The merchant's tiers become ``tiers``: the old rows go before the new ones are written, so that a
        tier that starts where an old one did does not collide with it."""
        merchant.tiers = []
        self._session.flush()
        merchant.tiers = tiers

    def with_tiers(self) -> list[Merchant]:
        """The merchants whose commission follows monthly tiers."""
        return list(self._session.scalars(select(Merchant).where(
            t.merchants.c.id.in_(select(t.commission_tiers.c.merchant_id).distinct())).order_by(t.merchants.c.id)))


class Stores(Repository[Store]):
    """``lock`` is the ledger lock: every append to a store's chain holds its row lock first."""

    entity, name = Store, "store"

    def scheduled(self) -> list[Store]:
        """Stores with automation on and a schedule (every mode but instant)."""
        return list(self._session.scalars(select(Store).where(
            t.stores.c.automation_enabled.is_(True), t.stores.c.disbursement_mode != DisbursementMode.INSTANT)))

    def lock_head(self, store_id: int) -> StoreHead:
        """The store's ledger head, its row locked to the end of the transaction (one narrow SELECT)."""
        s = t.stores.c
        row = self._session.execute(select(s.id, s.currency, s.balance, s.last_sequence, s.disbursement_mode,
                                           s.automation_enabled).where(s.id == store_id).with_for_update()).first()
        if row is None:
            raise NotFound(f"store {store_id} does not exist")
        return StoreHead(row.id, row.currency, int(row.balance), int(row.last_sequence),
                         row.disbursement_mode == DisbursementMode.INSTANT and bool(row.automation_enabled))

    def save_head(self, head: StoreHead) -> None:
        """Write the head's balance and last sequence back (the caller holds its lock)."""
        self._session.execute(update(t.stores).where(t.stores.c.id == head.id).values(
            balance=head.balance, last_sequence=head.last_sequence))

    def instant_with_balance(self) -> list[Store]:
        return list(self._session.scalars(select(Store).where(
            t.stores.c.automation_enabled.is_(True), t.stores.c.disbursement_mode == DisbursementMode.INSTANT,
            t.stores.c.balance > 0)))


class PaymentOptions(Repository[PaymentOption]):
    entity, name = PaymentOption, "payment option"

    def auto_updatable(self, merchant_id: int) -> list[PaymentOption]:
        return list(self._session.scalars(select(PaymentOption).where(
            t.payment_options.c.merchant_id == merchant_id,
            t.payment_options.c.can_commission_be_auto_updated.is_(True))))


class Products(Repository[Product]):
    entity, name = Product, "product"

    def default_for(self, currency: str, at: datetime) -> Product:
        """The currency's default product, made (monthly, active) on first need; a concurrent maker's is
        taken (the unique default_for_currency keeps it one)."""
        def present() -> bool:
            return self._session.scalars(select(Product).where(t.products.c.default_for_currency == currency)
                                         ).first() is not None

        if not present():
            insert_unless_present(self._session, insert(t.products).values(
                name=f"Default {currency}", currency=currency, payment_frequency=PaymentFrequency.MONTHLY,
                status=ProductStatus.ACTIVE, default_for_currency=currency, created_at=at), present)
        return self._session.scalars(select(Product).where(t.products.c.default_for_currency == currency)).one()


class Credits(Repository[Credit]):
    entity, name = Credit, "credit"

    def by_external_id(self, external_id: str) -> Credit | None:
        return self._session.scalars(select(Credit).where(t.credits.c.external_id == external_id)).first()

    def origination(self, merchant_id: int, start: datetime, end: datetime) -> int:
        """The amount signed in [start, end), cancelled credits left out."""
        total = self._session.execute(select(func.coalesce(func.sum(t.credits.c.amount), 0)).where(
            t.credits.c.merchant_id == merchant_id, t.credits.c.signed_at >= start, t.credits.c.signed_at < end,
            t.credits.c.status != CreditStatus.CANCELLED)).scalar()
        return int(total or 0)

    def flag_disbursed(self, credit_ids: list[int], disbursed: bool) -> None:
        """One statement for all of a transfer's credits: a monthly transfer can pay thousands."""
        if credit_ids:
            self._session.execute(update(Credit).where(t.credits.c.id.in_(credit_ids)).values(disbursed=disbursed)
                                  .execution_options(synchronize_session="fetch"))

    def delivered_without_contribution(self, before: datetime) -> list[int]:
        contribution = t.balance_updates.alias("contribution")
        return list(self._session.scalars(
            select(t.credits.c.id).outerjoin(contribution, and_(
                contribution.c.credit_id == t.credits.c.id, contribution.c.type == BalanceUpdateType.CONTRIBUTION))
            .where(t.credits.c.delivered_at.is_not(None), t.credits.c.delivered_at < before,
                   contribution.c.id.is_(None))))

    def cancelled_without_cancellation(self, before: datetime) -> list[int]:
        cancellation = t.balance_updates.alias("cancellation")
        return list(self._session.scalars(
            select(t.credits.c.id).outerjoin(cancellation, and_(
                cancellation.c.credit_id == t.credits.c.id,
                cancellation.c.type == BalanceUpdateType.CREDIT_CANCELLATION))
            .where(t.credits.c.status == CreditStatus.CANCELLED, t.credits.c.delivered_at.is_not(None),
                   t.credits.c.cancelled_at < before, cancellation.c.id.is_(None))))


class AdjustmentRequests(Repository[AdjustmentRequest]):
    """Adjustments held for a second person's approval."""

    entity, name = AdjustmentRequest, "adjustment request"

    def by_idempotency_key(self, key: str) -> AdjustmentRequest | None:
        return self._session.scalars(select(AdjustmentRequest).where(
            t.adjustment_requests.c.idempotency_key == key)).first()


class BalanceUpdates(Repository[BalanceUpdate]):
    entity, name = BalanceUpdate, "balance update"

    def pending(self, store_id: int) -> list[BalanceUpdate]:
        """A store's pending balance updates, in sequence."""
        return list(self._session.scalars(select(BalanceUpdate).where(
            t.balance_updates.c.store_id == store_id, t.balance_updates.c.status == BalanceUpdateStatus.PENDING)
            .order_by(t.balance_updates.c.sequence)))

    def of_credit(self, credit_id: int, type_: BalanceUpdateType) -> BalanceUpdate | None:
        return self._session.scalars(select(BalanceUpdate).where(
            t.balance_updates.c.credit_id == credit_id, t.balance_updates.c.type == type_)).first()

    def of_transfer(self, transfer_id: int, type_: BalanceUpdateType) -> BalanceUpdate | None:
        """The disbursement (or its override) that records a transfer."""
        return self._session.scalars(select(BalanceUpdate).where(
            t.balance_updates.c.bank_transfer_id == transfer_id, t.balance_updates.c.type == type_)).first()

    def by_idempotency_key(self, key: str) -> BalanceUpdate | None:
        return self._session.scalars(select(BalanceUpdate).where(t.balance_updates.c.idempotency_key == key)).first()

    def adjusted_alone_since(self, store_id: int, since: datetime) -> int:
        """What the store's adjustments made since ``since`` without a second person's approval add up to,
        each counted either way (an approved request's balance update is not counted)."""
        b, r = t.balance_updates.c, t.adjustment_requests.c
        approved = select(r.balance_update_id).where(r.store_id == store_id, r.balance_update_id.is_not(None))
        return int(self._session.execute(select(func.coalesce(func.sum(func.abs(b.amount)), 0)).where(
            b.store_id == store_id, b.type == BalanceUpdateType.ADJUSTMENT, b.created_at >= since,
            b.id.not_in(approved))).scalar_one())

    def exists(self, credit_id: int, type_: BalanceUpdateType) -> bool:
        """Whether the credit has a balance update of this type (one small indexed read)."""
        b = t.balance_updates.c
        return self._session.execute(select(b.id).where(b.credit_id == credit_id, b.type == type_)).first() is not None

    def append(self, bu: BalanceUpdate) -> BalanceUpdate:
        """Write a new balance update and its first status without the ORM: the busiest step's two INSERTs."""
        b = t.balance_updates
        bu.id = _inserted_id(self._session.execute(insert(b).values(
            store_id=bu.store_id, type=bu.type, status=bu.status, amount=bu.amount,
            previous_balance=bu.previous_balance, new_balance=bu.new_balance, sequence=bu.sequence,
            currency=bu.currency, credit_id=bu.credit_id, bank_transfer_id=bu.bank_transfer_id,
            admin_creator_id=bu.admin_creator_id, note=bu.note, overwritten=bu.overwritten,
            idempotency_key=bu.idempotency_key, created_at=bu.created_at)))
        self._session.execute(insert(t.balance_update_status_history), [
            {"balance_update_id": bu.id, "previous_status": h.previous_status, "status": h.status, "at": h.at}
            for h in bu.history])
        return bu


class Transfers(Repository[BankTransfer]):
    entity, name = BankTransfer, "transfer"

    def by_key(self, store_id: int, trigger_key: str) -> BankTransfer | None:
        return self._session.scalars(select(BankTransfer).where(
            t.bank_transfers.c.store_id == store_id, t.bank_transfers.c.trigger_key == trigger_key)).first()

    def sending_without_order(self, before: datetime) -> list[int]:
        return list(self._session.scalars(
            select(t.bank_transfers.c.id)
            .outerjoin(t.payment_orders, t.payment_orders.c.bank_transfer_id == t.bank_transfers.c.id)
            .where(t.bank_transfers.c.status == TransferStatus.SENDING, t.bank_transfers.c.updated_at < before,
                   t.payment_orders.c.id.is_(None))))


class Evaluations(Repository[TriggerEvaluation]):
    """One evaluation per store and period key."""

    entity, name = TriggerEvaluation, "trigger evaluation"

    def of(self, store_id: int, period_key: str) -> TriggerEvaluation | None:
        return self._session.scalars(select(TriggerEvaluation).where(
            t.trigger_evaluations.c.store_id == store_id, t.trigger_evaluations.c.period_key == period_key)).first()

    def later_than(self, store_id: int, due_at: datetime) -> str | None:
        """The key of a period of the store due after ``due_at`` that was already evaluated."""
        return self._session.execute(select(t.trigger_evaluations.c.period_key).where(
            t.trigger_evaluations.c.store_id == store_id, t.trigger_evaluations.c.due_at > due_at)
            .order_by(t.trigger_evaluations.c.due_at.desc()).limit(1)).scalar()

    def last_due(self) -> dict[int, datetime]:
        """Per store, when its last evaluated scheduled period was due."""
        rows = self._session.execute(
            select(t.trigger_evaluations.c.store_id, func.max(t.trigger_evaluations.c.due_at))
            .where(t.trigger_evaluations.c.due_at.is_not(None)).group_by(t.trigger_evaluations.c.store_id))
        return {store_id: due for store_id, due in rows}

    def requested_before(self, before: datetime) -> list[TriggerEvaluation]:
        """Treasury's requests the ledger worker has not decided since ``before``."""
        return list(self._session.scalars(select(TriggerEvaluation).where(
            t.trigger_evaluations.c.outcome == EvaluationOutcome.REQUESTED,
            t.trigger_evaluations.c.evaluated_at < before)))


class Orders(Repository[PaymentOrder]):
    entity, name = PaymentOrder, "payment order"

    def payer_of(self, order_id: int) -> tuple[int | None, int | None]:
        """The transfer an order pays and that transfer's store, in one read (before any lock is taken);
        NotFound when there is no such order."""
        o, b = t.payment_orders, t.bank_transfers
        row = self._session.execute(select(o.c.bank_transfer_id, b.c.store_id).select_from(
            o.outerjoin(b, b.c.id == o.c.bank_transfer_id)).where(o.c.id == order_id)).first()
        if row is None:
            raise NotFound(f"payment order {order_id} does not exist")
        return row.bank_transfer_id, row.store_id

    def of_transfer(self, transfer_id: int) -> PaymentOrder | None:
        return self._session.scalars(select(PaymentOrder).where(
            t.payment_orders.c.bank_transfer_id == transfer_id)).first()

    def matching(self, bank_order_id: int | None, tracking_key: str | None) -> PaymentOrder | None:
        """The order a callback names, by the bank's id or by our tracking key."""
        clauses = []
        if bank_order_id:
            clauses.append(t.payment_orders.c.bank_order_id == bank_order_id)
        if tracking_key:
            clauses.append(t.payment_orders.c.tracking_key == tracking_key)
        if not clauses:
            return None
        return self._session.scalars(select(PaymentOrder).where(or_(*clauses))).first()

    def on_day(self, operation_date: str) -> list[PaymentOrder]:
        return list(self._session.scalars(select(PaymentOrder).where(
            t.payment_orders.c.operation_date == operation_date)))

    def id_of(self, uetr: str) -> int:
        """The id of the order of this UETR; NotFound when there is none."""
        found = self._session.execute(select(t.payment_orders.c.id).where(t.payment_orders.c.uetr == uetr)).scalar()
        if found is None:
            raise NotFound(f"payment order {uetr} does not exist")
        return int(found)

    def with_status(self, statuses: list[PaymentOrderStatus], updated_before: datetime) -> list[str]:
        """The UETRs of orders in one of ``statuses`` not touched since ``updated_before``."""
        return list(self._session.scalars(select(t.payment_orders.c.uetr).where(
            t.payment_orders.c.status.in_(statuses), t.payment_orders.c.updated_at < updated_before)))

    def liquidated_between(self, start: datetime, end: datetime, modulo: int, remainder: int) -> list[str]:
        """The UETRs of orders liquidated in [start, end), the share whose id leaves ``remainder`` divided by
        ``modulo``."""
        return list(self._session.scalars(select(t.payment_orders.c.uetr).where(
            t.payment_orders.c.status == PaymentOrderStatus.LIQUIDATED,
            t.payment_orders.c.liquidated_at >= start, t.payment_orders.c.liquidated_at < end,
            t.payment_orders.c.id % modulo == remainder)))


class BankEvents(Repository[BankEvent]):
    entity, name = BankEvent, "bank event"

    def record(self, event: BankEvent) -> tuple[int, bool]:
        """Store a callback unless one with the same body is stored (its unique hash): (id, whether new).
        One INSERT for a new callback, the webhook's common case."""
        e = t.bank_events

        def stored() -> int | None:
            return self._session.execute(select(e.c.id).where(e.c.body_hash == event.body_hash)).scalar()

        result = insert_unless_present(self._session, insert(e).values(
            body_hash=event.body_hash, body=event.body, estado=event.estado, received_at=event.received_at,
            bank_order_id=event.bank_order_id, folio_origen=event.folio_origen, status=event.status,
            attempts=event.attempts), lambda: stored() is not None)
        if result is not None:
            return _inserted_id(result), True
        return int(stored() or 0), False

    def waiting(self, status: BankEventStatus, received_before: datetime | None = None) -> list[BankEvent]:
        stmt = select(BankEvent).where(t.bank_events.c.status == status)
        if received_before is not None:
            stmt = stmt.where(t.bank_events.c.received_at < received_before)
        return list(self._session.scalars(stmt))


class CommissionUpdates(Repository[CommissionUpdate]):
    entity, name = CommissionUpdate, "commission update"

    def of(self, merchant_id: int, month: str) -> CommissionUpdate | None:
        return self._session.scalars(select(CommissionUpdate).where(
            t.commission_updates.c.merchant_id == merchant_id, t.commission_updates.c.month == month)).first()


class Reconciliations:
    """Runs of the daily reconciliation, each with its mismatches."""

    def __init__(self, session: Session):
        self._session = session

    def record(self, day: str, at: datetime, bank_orders: int, ledger_orders: int, matched: int,
               mismatches: list[Mismatch]) -> int:
        run_id = _inserted_id(self._session.execute(insert(t.reconciliation_runs).values(
            operation_date=day, started_at=at, bank_orders=bank_orders, ledger_orders=ledger_orders,
            matched=matched, mismatches=len(mismatches))))
        for m in mismatches:
            self._session.execute(insert(t.reconciliation_mismatches).values(
                run_id=run_id, tracking_key=m.tracking_key, kind=m.kind, ours=m.ours, bank=m.bank))
        return run_id


class LedgerChecks:
    """Runs of the ledger invariants, whoever ran them (the CLI, the daily job)."""

    def __init__(self, session: Session):
        self._session = session

    def record(self, started_at: datetime, seconds: int, stores: int, balance_updates: int, transfers: int,
               violations: list[str], source: str) -> int:
        """One run: what it went through, how many violations, the first of them."""
        return _inserted_id(self._session.execute(insert(t.ledger_checks).values(
            started_at=started_at, seconds=seconds, stores=stores, balance_updates=balance_updates,
            transfers=transfers, violations=len(violations), first_violations=violations[:20], source=source)))


class ApiKeys:
    """API keys, stored as hashes."""

    def __init__(self, session: Session):
        self._session = session

    def add(self, prefix: str, key_hash: str, role: str, merchant_id: int | None, label: str, at: datetime,
            tenant_id: int | None, person_id: int) -> int:
        return _inserted_id(self._session.execute(insert(t.api_keys).values(
            prefix=prefix, key_hash=key_hash, role=role, merchant_id=merchant_id, label=label, created_at=at,
            tenant_id=tenant_id, person_id=person_id)))

    def lock(self, key_id: int) -> Any:
        """The key's row (prefix, revoked_at), locked; NotFound when there is none."""
        row = self._session.execute(select(t.api_keys.c.prefix, t.api_keys.c.revoked_at).where(
            t.api_keys.c.id == key_id).with_for_update()).first()
        if row is None:
            raise NotFound(f"API key {key_id} does not exist")
        return row

    def person_of(self, key_id: int) -> Person | None:
        """The person the key belongs to, or None when there is no such key."""
        row = self._session.execute(select(t.people.c.id, t.people.c.email).join(
            t.api_keys, t.api_keys.c.person_id == t.people.c.id).where(t.api_keys.c.id == key_id)).first()
        return Person(row.id, row.email) if row else None

    def revoke(self, key_id: int, at: datetime) -> None:
        self._session.execute(update(t.api_keys).where(t.api_keys.c.id == key_id).values(revoked_at=at))

    def active(self, key_hash: str) -> Any:
        """The live key with this hash (id, role, merchant_id, tenant_id, person_id and the person's email),
        or None."""
        return self._session.execute(select(
            t.api_keys.c.id, t.api_keys.c.role, t.api_keys.c.merchant_id, t.api_keys.c.tenant_id,
            t.api_keys.c.person_id, t.people.c.email).join(t.people, t.people.c.id == t.api_keys.c.person_id).where(
            t.api_keys.c.key_hash == key_hash, t.api_keys.c.revoked_at.is_(None))).first()


class People:
    """The people keys (and console users) belong to, by e-mail address."""

    def __init__(self, session: Session):
        self._session = session

    def get_or_add(self, email: str, at: datetime) -> Person:
        """The person with this address, added when there is none (a race for the same new address ends
        in one row: the loser's insert fails on the unique address and reads the winner's)."""
        found = self.by_email(email)
        if found is not None:
            return found
        insert_unless_present(self._session, insert(t.people).values(email=email, created_at=at),
                              lambda: self.by_email(email) is not None)
        found = self.by_email(email)
        assert found is not None
        return found

    def emails(self, person_ids: set[int]) -> dict[int, str]:
        """Each of these people's address, in one read."""
        if not person_ids:
            return {}
        rows = self._session.execute(select(t.people.c.id, t.people.c.email).where(t.people.c.id.in_(person_ids)))
        return {row.id: row.email for row in rows}

    def by_email(self, email: str) -> Person | None:
        row = self._session.execute(select(t.people.c.id, t.people.c.email).where(t.people.c.email == email)).first()
        return Person(row.id, row.email) if row else None

    def get(self, person_id: int) -> Person:
        """The person; NotFound when there is none."""
        row = self._session.execute(select(t.people.c.id, t.people.c.email).where(
            t.people.c.id == person_id)).first()
        if row is None:
            raise NotFound(f"person {person_id} does not exist")
        return Person(row.id, row.email)


class AuditLog:
    """Privileged actions, each written in the action's own transaction."""

    def __init__(self, session: Session):
        self._session = session

    def add(self, at: datetime, api_key_id: int | None, role: str, action: str, resource: str,
            resource_id: str | None, details: dict[str, Any] | None, person_id: int | None = None) -> None:
        self._session.execute(insert(t.audit_log).values(
            at=at, api_key_id=api_key_id, role=role, action=action, resource=resource, resource_id=resource_id,
            details=details, person_id=person_id))




class DeadLetters(Repository[DeadLetter]):
    """One dead letter per message id, whatever how often the message died."""

    entity, name = DeadLetter, "dead letter"

    def by_message_id(self, message_id: str, lock: bool = False) -> DeadLetter | None:
        """The message's dead letter, locked to the end of the transaction when ``lock``."""
        stmt = select(DeadLetter).where(t.dead_letters.c.message_id == message_id)
        if lock:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return self._session.scalars(stmt).first()

    def dead(self, queue_name: str | None = None) -> list[int]:
        """Ids of the dead letters still dead (of one queue, when given), oldest first."""
        stmt = select(t.dead_letters.c.id).where(t.dead_letters.c.status == DeadLetterStatus.DEAD)
        if queue_name is not None:
            stmt = stmt.where(t.dead_letters.c.queue_name == queue_name)
        return list(self._session.scalars(stmt.order_by(t.dead_letters.c.id)))


class Tenants:
    """Tenants by name; their configuration kept as the seed's dotted keys."""

    def __init__(self, session: Session):
        self._session = session

    def _of(self, row: Any) -> Tenant:
        return Tenant(row.name, dict(row.config), row.secret, row.created_at, row.updated_at, row.id)

    def get(self, name: str, lock: bool = False) -> Tenant:
        """The tenant of this name (its row locked when ``lock``); NotFound when there is none."""
        stmt = select(t.tenants).where(t.tenants.c.name == name)
        row = self._session.execute(stmt.with_for_update() if lock else stmt).first()
        if row is None:
            raise NotFound(f"tenant {name!r} does not exist")
        return self._of(row)

    def of_id(self, tenant_id: int) -> Tenant:
        """The tenant with this id; NotFound when there is none."""
        row = self._session.execute(select(t.tenants).where(t.tenants.c.id == tenant_id)).first()
        if row is None:
            raise NotFound(f"tenant {tenant_id} does not exist")
        return self._of(row)

    def exists(self, name: str) -> bool:
        return self._session.execute(select(t.tenants.c.id).where(t.tenants.c.name == name)).first() is not None

    def add(self, tenant: Tenant) -> Tenant:
        tenant.id = _inserted_id(self._session.execute(insert(t.tenants).values(
            name=tenant.name, config=tenant.config, secret=tenant.secret, created_at=tenant.created_at,
            updated_at=tenant.updated_at)))
        return tenant

    def save(self, tenant: Tenant) -> None:
        self._session.execute(update(t.tenants).where(t.tenants.c.id == tenant.id).values(
            config=tenant.config, updated_at=tenant.updated_at))


class Wallets:
    """The closed loop's wallets and their entries. An owner is sealed at rest and found by its digest,
    under every data key while a rotation is under way (adapters.sealing)."""

    def __init__(self, session: Session):
        self._session = session

    def lock(self, tenant_id: int, owner: str, currency: str, at: datetime) -> Wallet:
        """The wallet, made empty if it does not exist yet, its row locked to the end of the transaction."""
        return self.lock_many(tenant_id, [owner], currency, at, create=True)[owner]

    def find(self, tenant_id: int, owner: str, currency: str) -> Wallet | None:
        """The wallet if it exists (no lock)."""
        w = t.wallets
        row = self._session.execute(select(w).where(w.c.tenant_id == tenant_id, w.c.currency == currency,
                                                    w.c.owner_digest.in_(KEYRING.digests(owner)))).first()
        return _wallet(row) if row else None

    def record(self, entry: WalletEntry, *wallets: Wallet) -> None:
        """Write a movement and the balances it left (the caller holds the wallets' locks)."""
        entry.id = _inserted_id(self._session.execute(insert(t.wallet_entries).values(
            debit_wallet_id=entry.debit_wallet_id, credit_wallet_id=entry.credit_wallet_id, amount=entry.amount,
            currency=entry.currency, reference=entry.reference, at=entry.at)))
        for wallet in wallets:
            self._session.execute(update(t.wallets).where(t.wallets.c.id == wallet.id).values(balance=wallet.balance))

    def lock_many(self, tenant_id: int, owners: list[str], currency: str, at: datetime,
                  create: bool) -> dict[str, Wallet]:
        """The wallets of these owners in one currency, locked in one statement (in digest order, as every
        step locks them); missing ones are made empty first when ``create``."""
        w = t.wallets
        wanted = sorted(set(owners))
        if not wanted:
            return {}
        digests = [d for o in wanted for d in KEYRING.digests(o)]
        where = (w.c.tenant_id == tenant_id, w.c.currency == currency, w.c.owner_digest.in_(digests))
        if create and self._missing(wanted, where):
            # Made one tenant at a time: two processes whose first keys differ (a rotation under way) would
            # otherwise each make the wallet under its own digest. Already kept under any key's, it is found.
            self._session.execute(select(t.tenants.c.id).where(t.tenants.c.id == tenant_id).with_for_update())
            missing = self._missing(wanted, where)
            if missing:
                digests_of = {o: KEYRING.digest(o) for o in missing}  # a wallet's owner is bound to its digest
                self._session.execute(insert(w), [dict(tenant_id=tenant_id, owner=Bound(o, d), owner_digest=d,
                                                       currency=currency, balance=0, created_at=at,
                                                       outside=o == OUTSIDE)
                                                  for o, d in digests_of.items()])
        rows = self._session.execute(select(w).where(*where).order_by(w.c.owner_digest).with_for_update())
        return {r.owner: _wallet(r) for r in rows}

    def _missing(self, wanted: list[str], where: tuple[Any, ...]) -> list[str]:
        """Which owners have no wallet under any key's digest (compared as digests: nothing is unsealed)."""
        found = set(self._session.scalars(select(t.wallets.c.owner_digest).where(*where)))
        return [o for o in wanted if found.isdisjoint(KEYRING.digests(o))]

    def existing(self, tenant_id: int, owners: list[str]) -> set[str]:
        """Which of these owners have a wallet (in any currency)."""
        w = t.wallets
        wanted = sorted(set(owners))
        if not wanted:
            return set()
        owner_of = {d: o for o in wanted for d in KEYRING.digests(o)}
        return {owner_of[d] for d in self._session.scalars(select(w.c.owner_digest).where(
            w.c.tenant_id == tenant_id, w.c.owner_digest.in_(sorted(owner_of))))}

    def record_many(self, entries: list[WalletEntry], wallets: list[Wallet]) -> None:
        """Write movements and the balances they left, a statement for each kind (the caller holds the locks)."""
        if not entries:
            return
        self._session.execute(insert(t.wallet_entries), [dict(
            debit_wallet_id=e.debit_wallet_id, credit_wallet_id=e.credit_wallet_id, amount=e.amount,
            currency=e.currency, reference=e.reference, at=e.at) for e in entries])
        self._session.execute(update(t.wallets).where(t.wallets.c.id == bindparam("_id")).values(
            balance=bindparam("_balance")), [{"_id": w.id, "_balance": w.balance} for w in wallets])

    def entry(self, reference: str) -> WalletEntry | None:
        """The movement of this reference, if there is one (references are unique)."""
        e = t.wallet_entries
        row = self._session.execute(select(e).where(e.c.reference == reference)).first()
        return None if row is None else WalletEntry(row.debit_wallet_id, row.credit_wallet_id, int(row.amount),
                                                    row.currency, row.reference, row.at, row.id)

    def of_tenant(self, tenant_id: int) -> list[Wallet]:
        w = t.wallets
        return sorted((_wallet(r) for r in self._session.execute(select(w).where(w.c.tenant_id == tenant_id))),
                      key=lambda wallet: (wallet.owner, wallet.currency))


def _wallet(row: Any) -> Wallet:
    return Wallet(row.tenant_id, row.owner, row.currency, int(row.balance), row.id)
