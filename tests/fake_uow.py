"""A unit of work in memory, with repositories that answer as the SQL ones do, so that the use cases
run without MariaDB. ``commit()`` is recorded; messages and events are kept in lists to read."""
from __future__ import annotations

import copy
import itertools
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any, Callable, Generic, Iterable, TypeVar

from domain.bank_events import BankEvent, BankEventStatus
from domain.commission import CommissionUpdate
from domain.credits import Credit, CreditStatus
from domain.dead_letters import DeadLetter, DeadLetterStatus
from domain.dual_control import AdjustmentRequest, Person
from domain.errors import NotFound
from domain.ledger import StoreHead
from domain.ledger import BalanceUpdate, BalanceUpdateStatus, BalanceUpdateType, BankTransfer, TransferStatus
from domain.merchants import Merchant, PaymentOption, Store
from domain.messages import Step
from domain.payment_orders import PaymentOrder, PaymentOrderStatus
from domain.reconciliation import Mismatch
from domain.schedules import DisbursementMode
from domain.triggers import EvaluationOutcome, TriggerEvaluation

E = TypeVar("E")


class FakeRepository(Generic[E]):
    """get, lock (the same as get: one thread, no other transaction) and add, which gives an id."""

    name = "thing"

    def __init__(self) -> None:
        self.rows: dict[int, E] = {}
        self._ids = itertools.count(1)

    def get(self, id_: int) -> E:
        if id_ not in self.rows:
            raise NotFound(f"{self.name} {id_} does not exist")
        return self.rows[id_]

    lock = get

    def add(self, entity: E) -> E:
        if getattr(entity, "id", None) is None:
            entity.id = next(self._ids)  # type: ignore[attr-defined]
        self.rows[entity.id] = entity  # type: ignore[attr-defined]
        return entity

    def all(self) -> list[E]:
        return list(self.rows.values())

    def where(self, **equal: Any) -> list[E]:
        return [e for e in self.rows.values() if all(getattr(e, k) == v for k, v in equal.items())]


class FakeMerchants(FakeRepository[Merchant]):
    name = "merchant"

    def replace_tiers(self, merchant: Merchant, tiers: list[Any]) -> None:
        merchant.tiers = tiers

    def with_tiers(self) -> list[Merchant]:
        return [m for m in self.rows.values() if m.tiers]


class FakeStores(FakeRepository[Store]):
    name = "store"

    def __init__(self, merchants: FakeMerchants) -> None:
        super().__init__()
        self._merchants = merchants

    def add(self, store: Store) -> Store:
        super().add(store)
        merchant = self._merchants.rows.get(store.merchant_id)
        if merchant is not None and store not in merchant.stores:
            merchant.stores.append(store)
        return store

    def scheduled(self) -> list[Store]:
        return [s for s in self.rows.values() if s.automation_enabled and s.disbursement_mode != DisbursementMode.INSTANT]

    def lock_head(self, store_id: int) -> StoreHead:
        s = self.get(store_id)
        return StoreHead(store_id, s.currency, s.balance, s.last_sequence,
                         s.disbursement_mode == DisbursementMode.INSTANT and s.automation_enabled)

    def save_head(self, head: StoreHead) -> None:
        s = self.get(head.id)
        s.balance, s.last_sequence = head.balance, head.last_sequence

    def instant_with_balance(self) -> list[Store]:
        return [s for s in self.rows.values()
                if s.automation_enabled and s.disbursement_mode == DisbursementMode.INSTANT and s.balance > 0]


class FakeOptions(FakeRepository[PaymentOption]):
    name = "payment option"

    def __init__(self, stores: FakeStores) -> None:
        super().__init__()
        self._stores = stores

    def add(self, option: PaymentOption) -> PaymentOption:
        super().add(option)
        store = self._stores.rows.get(option.store_id)
        if store is not None and option not in store.options:
            store.options.append(option)
        return option

    def auto_updatable(self, merchant_id: int) -> list[PaymentOption]:
        return self.where(merchant_id=merchant_id, can_commission_be_auto_updated=True)


class FakeCredits(FakeRepository[Credit]):
    name = "credit"

    def __init__(self, updates: FakeBalanceUpdates) -> None:
        super().__init__()
        self._updates = updates

    def by_external_id(self, external_id: str) -> Credit | None:
        return next(iter(self.where(external_id=external_id)), None)

    def origination(self, merchant_id: int, start: datetime, end: datetime) -> int:
        return sum(c.amount for c in self.rows.values() if c.merchant_id == merchant_id
                   and start <= c.signed_at < end and c.status != CreditStatus.CANCELLED)

    def flag_disbursed(self, credit_ids: Iterable[int], disbursed: bool) -> None:
        for credit_id in credit_ids:
            self.rows[credit_id].disbursed = disbursed

    def delivered_without_contribution(self, before: datetime) -> list[int]:
        return [c.id for c in self.rows.values() if c.delivered_at is not None and c.delivered_at < before  # type: ignore[misc]
                and self._updates.of_credit(c.id, BalanceUpdateType.CONTRIBUTION) is None]  # type: ignore[arg-type]

    def cancelled_without_cancellation(self, before: datetime) -> list[int]:
        return [c.id for c in self.rows.values()  # type: ignore[misc]
                if c.status == CreditStatus.CANCELLED and c.delivered_at is not None
                and c.cancelled_at is not None and c.cancelled_at < before
                and self._updates.of_credit(c.id, BalanceUpdateType.CREDIT_CANCELLATION) is None]  # type: ignore[arg-type]


class FakeBalanceUpdates(FakeRepository[BalanceUpdate]):
    name = "balance update"

    def pending(self, store_id: int) -> list[BalanceUpdate]:
        return sorted(self.where(store_id=store_id, status=BalanceUpdateStatus.PENDING), key=lambda bu: bu.sequence)

    def of_credit(self, credit_id: int, type_: BalanceUpdateType) -> BalanceUpdate | None:
        return next(iter(self.where(credit_id=credit_id, type=type_)), None)

    def of_transfer(self, transfer_id: int, type_: BalanceUpdateType) -> BalanceUpdate | None:
        return next(iter(self.where(bank_transfer_id=transfer_id, type=type_)), None)

    def by_idempotency_key(self, key: str) -> BalanceUpdate | None:
        return next(iter(self.where(idempotency_key=key)), None)

    def exists(self, credit_id: int, type_: BalanceUpdateType) -> bool:
        return self.of_credit(credit_id, type_) is not None

    append = FakeRepository.add

    requests: FakeAdjustmentRequests | None = None  # set by the unit of work

    def adjusted_alone_since(self, store_id: int, since: datetime) -> int:
        approved = {r.balance_update_id for r in self.requests.all()} if self.requests else set()
        return sum(abs(bu.amount) for bu in self.where(store_id=store_id, type=BalanceUpdateType.ADJUSTMENT)
                   if bu.created_at >= since and bu.id not in approved)


class FakeTransfers(FakeRepository[BankTransfer]):
    name = "transfer"

    def __init__(self, orders: FakeOrders) -> None:
        super().__init__()
        self._orders = orders

    def by_key(self, store_id: int, trigger_key: str) -> BankTransfer | None:
        return next(iter(self.where(store_id=store_id, trigger_key=trigger_key)), None)

    def sending_without_order(self, before: datetime) -> list[int]:
        return [t.id for t in self.rows.values() if t.status == TransferStatus.SENDING  # type: ignore[misc]
                and t.updated_at is not None and t.updated_at < before and self._orders.of_transfer(t.id) is None]  # type: ignore[arg-type]


class FakeEvaluations(FakeRepository[TriggerEvaluation]):
    name = "trigger evaluation"

    def of(self, store_id: int, period_key: str) -> TriggerEvaluation | None:
        return next(iter(self.where(store_id=store_id, period_key=period_key)), None)

    def later_than(self, store_id: int, due_at: datetime) -> str | None:
        later = [e for e in self.where(store_id=store_id) if e.due_at is not None and e.due_at > due_at]
        return max(later, key=lambda e: e.due_at).period_key if later else None  # type: ignore[arg-type, return-value]

    def last_due(self) -> dict[int, datetime]:
        found: dict[int, datetime] = {}
        for e in self.rows.values():
            if e.due_at is not None and (e.store_id not in found or e.due_at > found[e.store_id]):
                found[e.store_id] = e.due_at
        return found

    def requested_before(self, before: datetime) -> list[TriggerEvaluation]:
        return [e for e in self.rows.values() if e.outcome == EvaluationOutcome.REQUESTED and e.evaluated_at < before]


class FakeOrders(FakeRepository[PaymentOrder]):
    name = "payment order"
    transfers: FakeRepository[BankTransfer]  # set by the unit of work

    def payer_of(self, order_id: int) -> tuple[int | None, int | None]:
        transfer_id = self.get(order_id).bank_transfer_id
        return (transfer_id, self.transfers.get(transfer_id).store_id) if transfer_id is not None else (None, None)

    def of_transfer(self, transfer_id: int) -> PaymentOrder | None:
        return next(iter(self.where(bank_transfer_id=transfer_id)), None)

    def matching(self, bank_order_id: int | None, tracking_key: str | None) -> PaymentOrder | None:
        return next((o for o in self.rows.values() if (bank_order_id and o.bank_order_id == bank_order_id)
                     or (tracking_key and o.tracking_key == tracking_key)), None)

    def on_day(self, operation_date: str) -> list[PaymentOrder]:
        return self.where(operation_date=operation_date)

    def id_of(self, uetr: str) -> int:
        found = next((o.id for o in self.rows.values() if o.uetr == uetr), None)
        if found is None:
            raise NotFound(f"payment order {uetr} does not exist")
        return found

    def with_status(self, statuses: list[PaymentOrderStatus], updated_before: datetime) -> list[str]:
        return [o.uetr for o in self.rows.values()
                if o.status in statuses and o.updated_at is not None and o.updated_at < updated_before]

    def liquidated_between(self, start: datetime, end: datetime, modulo: int, remainder: int) -> list[str]:
        return [o.uetr for o in self.rows.values() if o.status == PaymentOrderStatus.LIQUIDATED
                and o.liquidated_at is not None and start <= o.liquidated_at < end and o.id % modulo == remainder]  # type: ignore[operator]


class FakeBankEvents(FakeRepository[BankEvent]):
    name = "bank event"

    def by_hash(self, body_hash: str) -> BankEvent | None:
        return next(iter(self.where(body_hash=body_hash)), None)

    def record(self, event: BankEvent) -> tuple[int, bool]:
        existing = self.by_hash(event.body_hash)
        if existing is not None:
            return existing.id, False  # type: ignore[return-value]
        return self.add(event).id, True  # type: ignore[return-value]

    def waiting(self, status: BankEventStatus, received_before: datetime | None = None) -> list[BankEvent]:
        return [e for e in self.where(status=status) if received_before is None or e.received_at < received_before]


class FakeCommissionUpdates(FakeRepository[CommissionUpdate]):
    name = "commission update"

    def of(self, merchant_id: int, month: str) -> CommissionUpdate | None:
        return next(iter(self.where(merchant_id=merchant_id, month=month)), None)


@dataclass
class FakeReconciliations:
    runs: list[tuple[str, int, int, int, list[Mismatch]]] = field(default_factory=list)

    def record(self, day: str, at: datetime, bank_orders: int, ledger_orders: int, matched: int,
               mismatches: list[Mismatch]) -> int:
        self.runs.append((day, bank_orders, ledger_orders, matched, mismatches))
        return len(self.runs)


@dataclass
class FakeApiKeys:
    keys: dict[int, dict[str, Any]] = field(default_factory=dict)

    people: FakePeople = field(default_factory=lambda: FakePeople())

    def add(self, prefix: str, key_hash: str, role: str, merchant_id: int | None, label: str, at: datetime,
            tenant_id: int | None, person_id: int) -> int:
        key_id = len(self.keys) + 1
        self.keys[key_id] = dict(id=key_id, prefix=prefix, key_hash=key_hash, role=role, merchant_id=merchant_id,
                                 label=label, created_at=at, revoked_at=None, tenant_id=tenant_id,
                                 person_id=person_id, email=self.people.get(person_id).email)
        return key_id

    def person_of(self, key_id: int) -> Person | None:
        return self.people.get(self.keys[key_id]["person_id"]) if key_id in self.keys else None

    def lock(self, key_id: int) -> Any:
        if key_id not in self.keys:
            raise NotFound(f"API key {key_id} does not exist")
        return SimpleNamespace(**self.keys[key_id])

    def revoke(self, key_id: int, at: datetime) -> None:
        self.keys[key_id]["revoked_at"] = at

    def active(self, key_hash: str) -> Any:
        found = [k for k in self.keys.values() if k["key_hash"] == key_hash and k["revoked_at"] is None]
        return SimpleNamespace(**found[0]) if found else None


class FakePeople:
    def __init__(self) -> None:
        self.rows: dict[int, Person] = {}

    def get_or_add(self, email: str, at: datetime) -> Person:
        return self.by_email(email) or self.rows.setdefault(len(self.rows) + 1, Person(len(self.rows) + 1, email))

    def by_email(self, email: str) -> Person | None:
        return next((p for p in self.rows.values() if p.email == email), None)

    def emails(self, person_ids: set[int]) -> dict[int, str]:
        return {i: self.rows[i].email for i in person_ids if i in self.rows}

    def get(self, person_id: int) -> Person:
        if person_id not in self.rows:
            raise NotFound(f"person {person_id} does not exist")
        return self.rows[person_id]


class FakeAdjustmentRequests(FakeRepository[AdjustmentRequest]):
    name = "adjustment request"

    def by_idempotency_key(self, key: str) -> AdjustmentRequest | None:
        return next(iter(self.where(idempotency_key=key)), None)


@dataclass
class FakeAuditLog:
    entries: list[dict[str, Any]] = field(default_factory=list)

    def add(self, at: datetime, api_key_id: int | None, role: str, action: str, resource: str,
            resource_id: str | None, details: dict[str, Any] | None, person_id: int | None = None) -> None:
        self.entries.append(dict(at=at, api_key_id=api_key_id, role=role, action=action, resource=resource,
                                 resource_id=resource_id, details=details))


class FakeDeadLetters(FakeRepository[DeadLetter]):
    name = "dead letter"

    def by_message_id(self, message_id: str, lock: bool = False) -> DeadLetter | None:
        return next((d for d in self.rows.values() if d.message_id == message_id), None)

    def dead(self, queue_name: str | None = None) -> list[int]:
        return sorted(i for i, d in self.rows.items() if d.status == DeadLetterStatus.DEAD
                      and queue_name in (None, d.queue_name))


@dataclass
class FakeOutbox:
    """Messages by step and arguments; a second one with the same business key is dropped, as the
    outbox's unique dedupe key drops it."""

    messages: list[tuple[Step, tuple[Any, ...]]] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
    resent: list[tuple[str, str, tuple[Any, ...]]] = field(default_factory=list)

    def send(self, step: Step, *args: Any, again: str | None = None, delay_ms: int | None = None) -> bool:
        key = step.dedupe_key(args, again)
        if key in self.keys:
            return False
        self.keys.add(key)
        self.messages.append((step, args))
        return True

    def unpublished(self, before: datetime) -> int:
        return 0

    def resend(self, message_id: str, queue_name: str, actor_name: str, args: list[Any], occasion: str) -> None:
        self.resent.append((message_id, actor_name, tuple(args)))

    def to(self, step: Step) -> list[tuple[Any, ...]]:
        return [args for s, args in self.messages if s == step]


@dataclass
class FakePaymentEvents:
    """Payment events in the order they were appended."""

    rows: list[tuple[int, Any, bool]] = field(default_factory=list)

    def append(self, events: Any) -> None:
        for e in events:
            self.rows.append((len(self.rows) + 1, e, False))

    def unprojected(self, limit: int) -> list[tuple[int, Any]]:
        return [(i, e) for i, e, done in self.rows if not done][:limit]

    def mark_projected(self, ids: Any) -> None:
        wanted = set(ids)
        self.rows = [(i, e, done or i in wanted) for i, e, done in self.rows]

    def timeline(self, uetr: str) -> list[tuple[int, Any]]:
        return [(i, e) for i, e, _ in self.rows if e.uetr == uetr]

    def unprojected_count(self) -> int:
        return sum(1 for _, _, done in self.rows if not done)

    def kinds(self, uetr: str) -> list[str]:
        return [e.kind.value for _, e in self.timeline(uetr)]


@dataclass
class FakePaymentTracking:
    """The read model by UETR."""

    rows: dict[str, tuple[Any, int]] = field(default_factory=dict)

    def views(self, uetrs: Any) -> dict[str, tuple[Any, int]]:
        return {u: self.rows[u] for u in uetrs if u in self.rows}

    def get(self, uetr: str) -> Any:
        return copy.deepcopy(self.rows.get(uetr))  # as a read from the database: the caller's own copy

    def save_many(self, views: Any) -> None:
        for view, last_event_id, _ in views:
            self.rows[view.uetr] = (view, last_event_id)


class FakeUnitOfWork:
    """The UnitOfWork's interface in memory. One instance plays every transaction of a test: entering it
    again sees what earlier ones wrote (commits are counted, not enforced)."""

    def __init__(self, clock: Callable[[], datetime] | None = None):
        self.clock = clock or (lambda: datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc))
        self.new_id: Callable[[], str] = lambda: str(uuid.uuid4())
        self.merchants = FakeMerchants()
        self.stores = FakeStores(self.merchants)
        self.options = FakeOptions(self.stores)
        self.balance_updates = FakeBalanceUpdates()
        self.credits = FakeCredits(self.balance_updates)
        self.orders = FakeOrders()
        self.transfers = FakeTransfers(self.orders)
        self.orders.transfers = self.transfers
        self.evaluations = FakeEvaluations()
        self.bank_events = FakeBankEvents()
        self.commission_updates = FakeCommissionUpdates()
        self.reconciliations = FakeReconciliations()
        self.people = FakePeople()
        self.api_keys = FakeApiKeys(people=self.people)
        self.adjustment_requests = FakeAdjustmentRequests()
        self.balance_updates.requests = self.adjustment_requests
        self.audit = FakeAuditLog()
        self.dead_letters = FakeDeadLetters()
        self.outbox = FakeOutbox()
        self.payment_events = FakePaymentEvents()
        self.payment_tracking = FakePaymentTracking()
        self.events: list[tuple[str, str, str]] = []
        self.commits = 0

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def commit(self) -> None:
        self.commits += 1

    def log(self, kind: str, message: str, level: str = "INFO", details: dict[str, Any] | None = None,
            **refs: Any) -> None:
        self.events.append((level, kind, message))

    def alert(self, kind: str, message: str, details: dict[str, Any] | None = None, **refs: Any) -> None:
        self.log(kind, message, level="ALERT")

    def kinds(self, level: str | None = None) -> list[str]:
        return [kind for lvl, kind, _ in self.events if level is None or lvl == level]
