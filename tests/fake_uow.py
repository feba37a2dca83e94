"""A unit of work in memory, with repositories that answer as the SQL ones do, so that the use cases
run without MariaDB. ``commit()`` is recorded; messages and events are kept in lists to read."""
from __future__ import annotations

import copy
import itertools
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from types import SimpleNamespace
from typing import Any, Callable, Generic, Iterable, Sequence, TypeVar

from adapters.db.uow import UnitOfWork as SqlUnitOfWork
from domain.bank_events import BankEvent, BankEventStatus
from domain.batches import Batch, BatchStatus, InstructionStatus
from domain.connectors import Connector
from domain.commission import CommissionUpdate
from domain.credits import Credit, CreditStatus
from domain.customers import Customer, CustomerStatus, automatic_events
from domain.dead_letters import DeadLetter, DeadLetterStatus
from domain.dual_control import AdjustmentRequest, Person
from domain.errors import NotFound
from domain.identity import id_of
from domain.instructions import Instruction
from domain.ledger import StoreHead
from domain.ledger import BalanceUpdate, BalanceUpdateStatus, BalanceUpdateType, BankTransfer, TransferStatus
from domain.merchants import Merchant, PaymentOption, Store
from domain.messages import Step
from domain.payment_orders import PaymentOrder, PaymentOrderStatus
from domain.loan_balances import (
    AppliedPayment, InterestState, LoanPosition, LoanRecord, Period, inactive_periods, loan_record, position,
)
from domain.loan_servicing import ServicedSlice, StoredInstallment, StoredLoan, standing_installments
from domain.loan_schedules import Installment
from domain.loan_requests import LoanRequest, LoanRequestStatus
from domain.loans import LoanStatusChange
from domain.products import Product, ProductStatus
from domain.reconciliation import Mismatch
from domain.repayments import PaymentStatus, Repayment
from domain.schedules import DisbursementMode
from domain.sub_batches import SubBatch, SubBatchStatus
from domain.tenants import Tenant
from domain.triggers import EvaluationOutcome, TriggerEvaluation
from domain.wallets import Wallet, WalletEntry, Withdrawal
from usecases.ports import CustomerLoans, ReadingUnitOfWork, UnitOfWork

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


class FakeProducts(FakeRepository[Product]):
    name = "product"

    def default_for(self, currency: str, at: datetime) -> Product:
        found = self.where(default_for_currency=currency)
        return found[0] if found else self.add(Product(name=f"Default {currency}", currency=currency, created_at=at,
                                                       default_for_currency=currency))


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


class FakeCustomers(FakeRepository[Customer]):
    """Customers in memory: one per lender and external id, and per lender and CURP, as the unique keys."""

    name = "customer"

    def add(self, entity: Customer) -> Customer:
        if self.by_external_id(entity.lender, entity.external_id) is not None:
            raise AssertionError("duplicate (lender, external_id): the unique key would refuse it")
        return super().add(entity)

    def save(self, customer: Customer) -> None:
        holders = [c.id for c in self.rows.values() if c.lender == customer.lender and c.national_id
                   and c.national_id == customer.national_id]
        assert len(holders) <= 1, "duplicate (lender, national_id_digest): the unique key would refuse it"

    def by_external_id(self, lender: str, external_id: str) -> Customer | None:
        return next((c for c in self.rows.values() if c.lender == lender and c.external_id == external_id), None)

    def id_by_national_id(self, lender: str, national_id: str) -> int | None:
        return next((c.id for c in self.rows.values() if c.lender == lender and c.national_id == national_id), None)

    def page(self, lender: str, external_id: str | None, status: CustomerStatus | None, offset: int,
             limit: int) -> tuple[list[Customer], int]:
        found = [c for _, c in sorted(self.rows.items()) if c.lender == lender
                 and external_id in (None, c.external_id) and status in (None, c.status)]
        return found[offset:offset + limit], len(found)


class FakeLoans:
    """The loan book in memory (usecases.ports.Loans): schedules, status histories (one move per key),
    payments set by the test or the repayments' fake, products' status changes."""

    def __init__(self, credits: FakeCredits | None = None) -> None:
        self.credits = credits or FakeCredits(FakeBalanceUpdates())
        self.schedules: dict[int, tuple[Installment, ...]] = {}
        self.histories: dict[int, list[LoanStatusChange]] = {}
        self.move_keys: set[str] = set()
        self.applied: dict[int, list[AppliedPayment]] = {}
        self.product_changes: dict[int, list[tuple[ProductStatus, date]]] = {}
        self.positions: dict[int, LoanPosition] = {}

    def add_schedule(self, credit_id: int, schedule: Sequence[Installment]) -> None:
        assert credit_id not in self.schedules, "duplicate (credit_id, number): the unique key would refuse it"
        self.schedules[credit_id] = tuple(schedule)

    def schedule(self, credit_id: int) -> tuple[Installment, ...]:
        return self.schedules.get(credit_id, ())

    def history(self, credit_id: int) -> list[LoanStatusChange]:
        return list(self.histories.get(credit_id, []))

    def add_change(self, credit_id: int, change: LoanStatusChange, move_key: str | None = None) -> bool:
        if move_key is not None:
            if move_key in self.move_keys:
                return False
            self.move_keys.add(move_key)
        self.histories.setdefault(credit_id, []).append(change)
        return True

    def moved(self, move_key: str) -> bool:
        return move_key in self.move_keys

    def payments(self, credit_id: int) -> list[AppliedPayment]:
        return list(self.applied.get(credit_id, []))

    def product_inactive(self, product_id: int | None) -> list[Period]:
        return inactive_periods((status == ProductStatus.ACTIVE, on)
                                for status, on in self.product_changes.get(product_id or 0, []))

    def add_product_change(self, product_id: int, status: ProductStatus, on: date, at: datetime) -> None:
        self.product_changes.setdefault(product_id, []).append((status, on))

    def record(self, credit: Credit) -> LoanRecord:
        assert credit.id is not None
        return loan_record(self.schedule(credit.id), self.history(credit.id), self.payments(credit.id),
                           self.product_inactive(credit.product_id), credit.status)

    def write_position(self, credit_id: int, position: LoanPosition) -> None:
        self.positions[credit_id] = position

    def page(self, customer_id: int | None, status: CreditStatus | None, days_past_due: tuple[int, int] | None,
             offset: int, limit: int) -> tuple[list[Credit], int]:
        found = [c for _, c in sorted(self.credits.rows.items()) if c.is_loan and customer_id in (None, c.customer_id)
                 and status in (None, c.status)
                 and (days_past_due is None or days_past_due[0] <= c.days_past_due <= days_past_due[1])]
        return found[offset:offset + limit], len(found)


class FakeLoanRequests(FakeRepository[LoanRequest]):
    """Loan requests in memory: one per lender and external id, as the unique key."""

    name = "loan request"

    def add(self, entity: LoanRequest) -> LoanRequest:
        if self.by_external_id(entity.lender, entity.external_id) is not None:
            raise AssertionError("duplicate (lender, external_id): the unique key would refuse it")
        return super().add(entity)

    def by_external_id(self, lender: str, external_id: str) -> LoanRequest | None:
        return next((r for r in self.rows.values() if r.lender == lender and r.external_id == external_id), None)

    def page(self, lender: str, customer_id: int | None, status: LoanRequestStatus | None, offset: int,
             limit: int) -> tuple[list[LoanRequest], int]:
        found = [r for _, r in sorted(self.rows.items()) if r.lender == lender
                 and customer_id in (None, r.customer_id) and status in (None, r.status)]
        return found[offset:offset + limit], len(found)


@dataclass
class FakeLoanBook:
    """The loan book as the customers' rules ask it, from the fake's credits and the positions written."""

    credits: FakeCredits
    loans: FakeLoans

    def _loans_of(self, customer_id: int) -> list[Credit]:
        return [c for c in self.credits.rows.values() if c.customer_id == customer_id]

    def outstanding(self, customer_id: int) -> int:
        positions = [self.loans.positions.get(c.id or 0) for c in self._loans_of(customer_id)]
        return sum(p.principal_outstanding + p.interest_due for p in positions if p is not None)

    def max_days_past_due(self, customer_id: int) -> int:
        return max((c.days_past_due for c in self._loans_of(customer_id) if c.status != CreditStatus.CANCELLED),
                   default=0)


class FakeRepayments(FakeRepository[Repayment]):
    """Repayments in memory, one per lender and external id; ``save`` feeds the loan book's applied payments
    (FakeLoans.applied), as the SQL repository's rows feed Loans.payments."""

    name = "repayment"

    def __init__(self, loans: FakeLoans) -> None:
        super().__init__()
        self._loans = loans
        self.allocated: set[tuple[int, int]] = set()  # (repayment, installment), the unique key

    def add(self, entity: Repayment) -> Repayment:
        if self.by_external_id(entity.lender, entity.external_id) is not None:
            raise AssertionError("duplicate (lender, external_id): the unique key would refuse it")
        return super().add(entity)

    def by_external_id(self, lender: str, external_id: str) -> Repayment | None:
        return next((r for r in self.rows.values() if r.lender == lender and r.external_id == external_id), None)

    def page(self, loan_id: int | None, status: str | None, offset: int, limit: int) -> tuple[list[Repayment], int]:
        def matches(r: Repayment) -> bool:
            statuses = {r.status.value, r.payment_status.value if r.payment_status else None}
            return loan_id in (None, r.loan_id) and (status is None or status in statuses)
        found = [r for _, r in sorted(self.rows.items()) if matches(r)]
        return found[offset:offset + limit], len(found)

    def save(self, repayment: Repayment) -> None:
        assert repayment.id is not None and repayment.loan_id is not None
        keys = {(repayment.id, a.installment) for a in repayment.allocations}
        if keys and not keys & self.allocated:
            self.allocated |= keys
        assert keys <= self.allocated, "allocations written twice: the unique key would refuse them"
        self._loans.applied[repayment.loan_id] = [
            applied for r in sorted(self.rows.values(), key=lambda r: r.id or 0)
            if r.loan_id == repayment.loan_id and r.payment_status in (PaymentStatus.ACCEPTED, PaymentStatus.REVERSED)
            and (applied := r.applied()) is not None]


class FakeLoanServicing:
    """The servicing run one loan at a time through the domain (usecases.ports.LoanServicing): each loan's
    position as of the day written back, then each customer's automatic events: what the set-based SQL must
    equal."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow
        self.runs: dict[tuple[date, int], ServicedSlice] = {}

    def claim(self, as_of: date, slice_number: int, started_at: datetime) -> bool:
        if (as_of, slice_number) in self.runs:
            return False
        self.runs[(as_of, slice_number)] = ServicedSlice(0, 0, 0, 0)
        return True

    def finish(self, as_of: date, slice_number: int, milliseconds: int, done: ServicedSlice) -> None:
        self.runs[(as_of, slice_number)] = done

    def last_loan_id(self) -> int:
        return max((c.id or 0 for c in self.uow.credits.all() if c.is_loan), default=0)

    def last_run_day(self) -> date | None:
        return max((day for day, _ in self.runs), default=None)

    def _behind(self, as_of: date, first_id: int, last_id: int) -> list[Credit]:
        return [c for c in self.uow.credits.all() if c.is_loan and first_id <= (c.id or 0) <= last_id
                and c.serviced_on is not None and c.serviced_on < as_of]

    def service(self, as_of: date, first_id: int, last_id: int) -> ServicedSlice:
        loans = fell_due = moved = late = 0
        for credit in self._behind(as_of, first_id, last_id):
            assert credit.id is not None and credit.serviced_on is not None
            before = position(self.uow.loans.record(credit), credit.serviced_on).installments
            now = position(self.uow.loans.record(credit), as_of)
            self.uow.loans.write_position(credit.id, now)
            fell_due += sum(b.interest_state == InterestState.NOT_DUE != a.interest_state
                            for b, a in zip(before, now.installments))
            moved += sum(b.due_on != a.due_on for b, a in zip(before, now.installments))
            credit.serviced_on, credit.days_past_due = as_of, now.days_past_due
            loans += 1
            late += now.days_past_due > 0
        return ServicedSlice(loans, fell_due, moved, late)

    def move_customers(self, first_id: int, last_id: int, threshold: int, at: datetime) -> int:
        ids = {c.customer_id for c in self.uow.credits.all() if c.is_loan and first_id <= (c.id or 0) <= last_id}
        made = 0
        for customer_id in sorted(i for i in ids if i is not None):
            customer = self.uow.customers.get(customer_id)
            worst = max((c.days_past_due for c in self.uow.credits.all() if c.customer_id == customer_id
                         and c.status != CreditStatus.CANCELLED), default=0)
            for event in automatic_events(customer.status, customer.registered, worst, threshold, False,
                                          customer.held):
                move = customer.move(event, at)
                self.uow.log("customer_status_changed", f"customer {customer_id} {move.previous.value} -> "
                             f"{move.status.value} ({event.value})")
                made += 1
        return made

    def loan_count(self) -> int:
        return sum(c.is_loan for c in self.uow.credits.all())

    def loan_ids_after(self, after: int, limit: int) -> list[int]:
        return sorted(c.id for c in self.uow.credits.all() if c.is_loan and c.id is not None and c.id > after)[:limit]

    def stored_loans(self, credit_ids: Sequence[int]) -> list[StoredLoan]:
        found = []
        for credit_id in credit_ids:
            credit = self.uow.credits.get(credit_id)
            record = self.uow.loans.record(credit)
            at = self.uow.loans.positions.get(credit_id)
            stored = standing_installments(at) if at is not None else tuple(
                StoredInstallment(i.number, i.due_on, 0, 0, InterestState.NOT_DUE) for i in record.schedule)
            found.append(StoredLoan(credit_id, credit.amount, credit.status, credit.serviced_on,
                                    credit.days_past_due, record, stored))
        return found


@dataclass
class FakeCustomerLoans:
    """The loan book as the customers' rules ask it (usecases.ports.CustomerLoans): what every customer owes
    and how many days past due, set by the test."""

    owed: int = 0
    dpd: int = 0

    def outstanding(self, customer_id: int) -> int:
        return self.owed

    def max_days_past_due(self, customer_id: int) -> int:
        return self.dpd


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


class FakeLedgerChecks:
    """Runs of the ledger invariants, kept in a list."""

    def __init__(self) -> None:
        self.runs: list[tuple[datetime, list[str], str]] = []

    def record(self, started_at: datetime, seconds: int, stores: int, balance_updates: int, transfers: int,
               violations: list[str], source: str) -> int:
        self.runs.append((started_at, violations, source))
        return len(self.runs)


class FakeTenants:
    """Tenants by name (their ids given as they are added)."""

    def __init__(self) -> None:
        self.rows: dict[int, Tenant] = {}

    def get(self, name: str, lock: bool = False) -> Tenant:
        found = next((t for t in self.rows.values() if t.name == name), None)
        if found is None:
            raise NotFound(f"tenant {name} does not exist")
        return found

    def of_id(self, tenant_id: int) -> Tenant:
        if tenant_id not in self.rows:
            raise NotFound(f"tenant {tenant_id} does not exist")
        return self.rows[tenant_id]

    def exists(self, name: str) -> bool:
        return any(t.name == name for t in self.rows.values())

    def add(self, tenant: Tenant) -> Tenant:
        tenant.id = len(self.rows) + 1
        self.rows[tenant.id] = tenant
        return tenant

    def save(self, tenant: Tenant) -> None:
        return None


class FakeWallets:
    """Wallets by tenant, owner and currency, and their entries; a second entry under one reference is
    refused, as the unique reference refuses it."""

    def __init__(self) -> None:
        self.rows: dict[tuple[int, str, str], Wallet] = {}
        self.entries: dict[str, WalletEntry] = {}

    def lock(self, tenant_id: int, owner: str, currency: str, at: datetime) -> Wallet:
        return self.lock_many(tenant_id, [owner], currency, at, create=True)[owner]

    def lock_many(self, tenant_id: int, owners: list[str], currency: str, at: datetime,
                  create: bool) -> dict[str, Wallet]:
        for owner in owners:
            if create and (tenant_id, owner, currency) not in self.rows:
                self.rows[(tenant_id, owner, currency)] = Wallet(tenant_id, owner, currency, 0, len(self.rows) + 1)
        return {o: self.rows[(tenant_id, o, currency)] for o in owners if (tenant_id, o, currency) in self.rows}

    def existing(self, tenant_id: int, owners: list[str]) -> set[str]:
        return {o for (t, o, _) in self.rows if t == tenant_id and o in owners}

    def record(self, entry: WalletEntry, *wallets: Wallet) -> None:
        self.record_many([entry], list(wallets))

    def record_many(self, entries: list[WalletEntry], wallets: list[Wallet]) -> None:
        for e in entries:
            if e.reference in self.entries:
                raise ValueError(f"duplicate wallet entry {e.reference}")
            e.id = len(self.entries) + 1
            self.entries[e.reference] = e

    def entry(self, reference: str) -> WalletEntry | None:
        return self.entries.get(reference)

    def of_tenant(self, tenant_id: int) -> list[Wallet]:
        return sorted((w for w in self.rows.values() if w.tenant_id == tenant_id), key=lambda w: (w.owner, w.currency))

    def balance(self, tenant_id: int, owner: str, currency: str = "MXN") -> int:
        wallet = self.rows.get((tenant_id, owner, currency))
        return wallet.balance if wallet else 0


class FakeWithdrawals:
    """Withdrawals by tenant and reference (a second of one reference is not added), over the fake wallets."""

    def __init__(self, wallets: FakeWallets) -> None:
        self.rows: dict[tuple[int, str], Withdrawal] = {}
        self._wallets = wallets

    def by_reference(self, tenant_id: int, reference: str) -> Withdrawal | None:
        return self.rows.get((tenant_id, reference))

    def of_order(self, payment_order_id: int) -> Withdrawal | None:
        return next((w for w in self.rows.values() if w.payment_order_id == payment_order_id), None)

    def add(self, w: Withdrawal) -> bool:
        if (w.tenant_id, w.reference) in self.rows:
            return False
        w.id = len(self.rows) + 1
        self.rows[(w.tenant_id, w.reference)] = w
        return True

    def by_uetr(self, uetr: str, lock: bool = False) -> Withdrawal:
        found = next((w for w in self.rows.values() if w.uetr == uetr), None)
        if found is None:
            raise NotFound(f"withdrawal {uetr} does not exist")
        return found

    def save(self, w: Withdrawal) -> None:
        return None

    def entries(self, wallet_ids: list[int], page: int, per_page: int) -> tuple[list[WalletEntry], int]:
        touching = [e for e in reversed(list(self._wallets.entries.values()))
                    if e.debit_wallet_id in wallet_ids or e.credit_wallet_id in wallet_ids]
        return touching[(page - 1) * per_page:page * per_page], len(touching)

    def wallets_of(self, tenant_id: int, owner: str) -> list[Wallet]:
        return sorted((w for (t, o, _), w in self._wallets.rows.items() if t == tenant_id and o == owner),
                      key=lambda w: w.currency)

    def wallet(self, wallet_id: int) -> Wallet:
        return next(w for w in self._wallets.rows.values() if w.id == wallet_id)

    def owners(self, wallet_ids: set[int]) -> dict[int, str]:
        return {w.id: w.owner for w in self._wallets.rows.values() if w.id in wallet_ids}


class FakeBatches:
    """Batches by batch_id; one per tenant and X-CorrelationID."""

    def __init__(self, instructions: FakeInstructions, tenants: FakeTenants) -> None:
        self.rows: dict[int, Batch] = {}
        self._instructions, self._tenants = instructions, tenants

    def add(self, batch: Batch) -> tuple[Batch, bool]:
        found = self.of_request(batch.tenant_id, batch.request_id)
        if found is not None:
            return found, False
        batch.id = len(self.rows) + 1
        batch.updated_at = batch.updated_at or batch.created_at
        self.rows[batch.id] = batch
        return batch, True

    def of_request(self, tenant_id: int, request_id: str) -> Batch | None:
        return next((b for b in self.rows.values() if (b.tenant_id, b.request_id) == (tenant_id, request_id)), None)

    def get(self, batch_id: str, lock: bool = False) -> Batch:
        found = next((b for b in self.rows.values() if b.batch_id == batch_id), None)
        if found is None:
            raise NotFound(f"batch {batch_id} does not exist")
        return found

    def of_pk(self, batch_pk: int) -> Batch:
        if batch_pk not in self.rows:
            raise NotFound(f"batch {batch_pk} does not exist")
        return self.rows[batch_pk]

    def id_of(self, batch_pk: int) -> str:
        return self.of_pk(batch_pk).batch_id

    def save(self, batch: Batch) -> None:
        return None

    def count_settled(self, batch: Batch, settled: int) -> None:
        batch.settled += settled

    def page(self, tenant_id: int | None, offset: int, limit: int, sorted_by: str,
             descending: bool) -> tuple[list[Batch], int]:
        found = sorted((b for b in self.rows.values() if tenant_id in (None, b.tenant_id)),
                       key=lambda b: (b.created_at, b.id or 0), reverse=descending)
        return found[offset:offset + limit], len(found)

    def due_sub_batches(self, due: date, limit: int) -> list[tuple[str, int]]:
        found = sorted({(b.batch_id, i.sub_batch) for b in self.rows.values() if b.status == BatchStatus.PROCESSING
                        for i in self._instructions.where(batch_pk=b.id, status=InstructionStatus.PENDING)
                        if i.sub_batch is not None and i.execution_date is not None and i.execution_date <= due})
        return found[:limit]

    def standing(self, before: datetime, limit: int) -> list[Batch]:
        return [b for b in self.rows.values() if b.status in (BatchStatus.QUEUED, BatchStatus.PROCESSING)
                and b.updated_at is not None and b.updated_at < before][:limit]

    def tenant_names(self, tenant_ids: Iterable[int]) -> dict[int, str]:
        return {i: self._tenants.rows[i].name for i in set(tenant_ids) if i in self._tenants.rows}


class FakeInstructions(FakeRepository[Instruction]):
    """A batch's rows; ``updated`` keeps when each was last written, as the column does."""

    name = "instruction"

    def __init__(self) -> None:
        super().__init__()
        self.dedupe_keys: dict[int, str] = {}
        self.updated: dict[int, datetime] = {}
        self.positions: dict[int, int] = {}

    def add_many(self, rows: Sequence[Instruction], dedupe_keys: Sequence[str | None], at: datetime) -> int:
        written = {(i.batch_pk, i.row) for i in self.rows.values()}
        new = 0
        for row, key in zip(rows, dedupe_keys):
            if (row.batch_pk, row.row) in written:
                continue
            self.add(row)
            self.updated[id_of(row)] = at
            if key:
                self.dedupe_keys[id_of(row)] = key
            new += 1
        return new

    def known_duplicates(self, batch_pk: int, keys: Iterable[str]) -> set[str]:
        return set(keys) & {k for i, k in self.dedupe_keys.items() if self.rows[i].batch_pk == batch_pk}

    def count(self, batch_pk: int, status: InstructionStatus | None = None) -> int:
        return sum(1 for i in self.where(batch_pk=batch_pk) if status in (None, i.status))

    def ongoing(self, batch_pk: int) -> int:
        return sum(1 for i in self.where(batch_pk=batch_pk) if not i.status.is_final)

    def _in_order(self, rows: Iterable[Instruction]) -> list[Instruction]:
        return sorted(rows, key=lambda i: (self.positions.get(id_of(i), 0), id_of(i)))

    def pending_of_sub_batch(self, batch_pk: int, number: int, limit: int, due: date | None = None) -> list[Instruction]:
        return self._in_order(i for i in self.where(batch_pk=batch_pk, sub_batch=number, status=InstructionStatus.PENDING)
                              if due is None or i.execution_date is None or i.execution_date <= due)[:limit]

    def has_pending(self, batch_pk: int, number: int) -> bool:
        return bool(self.where(batch_pk=batch_pk, sub_batch=number, status=InstructionStatus.PENDING))

    def in_doubt_of_sub_batch(self, batch_pk: int, number: int) -> list[Instruction]:
        return self._in_order(self.where(batch_pk=batch_pk, sub_batch=number, status=InstructionStatus.IN_PROGRESS,
                                         connector_reference=None))

    def fail_pending(self, batch_pk: int, code: str, description: str, at: datetime) -> list[str]:
        failed = self.where(batch_pk=batch_pk, status=InstructionStatus.PENDING)
        for row in failed:
            row.settle(False, at, code, description)
        return [row.uetr for row in failed]

    def pending_modes(self, batch_pk: int) -> list[tuple[str, Connector | None, int, int]]:
        modes: dict[tuple[str, Connector | None], list[int]] = {}
        for i in sorted(self.where(batch_pk=batch_pk, status=InstructionStatus.PENDING), key=lambda i: i.row):
            modes.setdefault((i.payment_mode, i.connector), []).append(i.row)
        return [(mode, connector, len(rows), rows[0]) for (mode, connector), rows in modes.items()]

    def assign_sub_batch(self, batch_pk: int, payment_mode: str, first: int, size: int, order_by: str | None) -> None:
        def key(i: Instruction) -> tuple[Any, ...]:
            if order_by == "amount":
                return (i.amount, i.row)
            if order_by == "execution_date":
                return (i.execution_date, i.row)
            return (i.fields.get(order_by, ""), i.row) if order_by else (i.row,)
        ranked = sorted(self.where(batch_pk=batch_pk, payment_mode=payment_mode, status=InstructionStatus.PENDING),
                        key=key)
        for rank, row in enumerate(ranked):
            row.sub_batch, self.positions[id_of(row)] = first + rank // size, rank

    def save_many(self, rows: Sequence[Instruction], at: datetime) -> None:
        for row in rows:
            self.updated[id_of(row)] = at

    def by_uetr(self, uetr: str, lock: bool = False) -> Instruction:
        found = next(iter(self.where(uetr=uetr)), None)
        if found is None:
            raise NotFound(f"instruction {uetr} does not exist")
        return found

    def of_order(self, payment_order_id: int, lock: bool = False) -> Instruction | None:
        return next(iter(self.where(payment_order_id=payment_order_id)), None)

    def page(self, batch_pk: int, after_row: int, limit: int, status: Sequence[InstructionStatus] = (),
             offset: int = 0, sub_batch: int | None = None) -> list[Instruction]:
        rows = sorted((i for i in self.where(batch_pk=batch_pk) if i.row > after_row
                       and (not status or i.status in status)
                       and (sub_batch is None or i.sub_batch == (None if sub_batch < 0 else sub_batch))),
                      key=lambda i: i.row)
        return rows[offset:offset + limit]

    def tally(self, batch_pk: int) -> list[tuple[int | None, InstructionStatus, str, int, int]]:
        groups: dict[tuple[int | None, InstructionStatus, str], list[int]] = {}
        for i in self.where(batch_pk=batch_pk):
            groups.setdefault((i.sub_batch, i.status, i.currency), []).append(i.amount or 0)
        return [(sub, status, currency, len(amounts), sum(amounts)) for (sub, status, currency), amounts in groups.items()]

    def in_progress_since(self, before: datetime, connectors: Iterable[Connector], limit: int) -> list[Instruction]:
        wanted = set(connectors)
        return [i for i in self.where(status=InstructionStatus.IN_PROGRESS)
                if i.connector in wanted and self.updated[id_of(i)] < before][:limit]


class FakeSubBatches:
    """A batch's sub-batches by (batch, number); a second add of one is dropped, as the unique key drops it."""

    def __init__(self) -> None:
        self.rows: dict[tuple[int, int], SubBatch] = {}

    def add(self, sub: SubBatch) -> None:
        if (sub.batch_pk, sub.number) not in self.rows:
            sub.id = len(self.rows) + 1
            sub.updated_at = sub.updated_at or sub.created_at
            self.rows[(sub.batch_pk, sub.number)] = sub

    def get(self, batch_pk: int, number: int) -> SubBatch | None:
        return self.rows.get((batch_pk, number))

    def lock(self, batch_pk: int, number: int) -> SubBatch:
        found = self.get(batch_pk, number)
        if found is None:
            raise NotFound(f"sub-batch {number} of batch {batch_pk} does not exist")
        return found

    def save(self, sub: SubBatch) -> None:
        return None

    def of_batch(self, batch_pk: int) -> list[SubBatch]:
        return sorted((s for (b, _), s in self.rows.items() if b == batch_pk), key=lambda s: s.number)

    def unfinished(self, batch_pk: int, before: datetime, parallel: int) -> list[int]:
        subs = [s for s in self.of_batch(batch_pk) if not s.done]
        executing = [s for s in subs if s.status == SubBatchStatus.EXECUTING]
        pending = [s for s in subs if s.status == SubBatchStatus.PENDING]
        turn = executing + pending[:max(0, parallel - len(executing))]
        return [s.number for s in turn if s.updated_at is not None and s.updated_at < before]


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
        self.products = FakeProducts()
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
        self.ledger_checks = FakeLedgerChecks()
        self.tenants = FakeTenants()
        self.wallets = FakeWallets()
        self.withdrawals = FakeWithdrawals(self.wallets)
        self.customers = FakeCustomers()
        self.loans = FakeLoans(self.credits)
        self.loan_requests = FakeLoanRequests()
        self.customer_loans: CustomerLoans = FakeLoanBook(self.credits, self.loans)
        self.repayments = FakeRepayments(self.loans)
        self.servicing = FakeLoanServicing(self)
        self.instructions = FakeInstructions()
        self.sub_batches = FakeSubBatches()
        self.batches = FakeBatches(self.instructions, self.tenants)
        self.events: list[tuple[str, str, str]] = []
        self.event_details: list[dict[str, Any] | None] = []
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
        self.event_details.append(details)

    def alert(self, kind: str, message: str, details: dict[str, Any] | None = None, **refs: Any) -> None:
        self.log(kind, message, level="ALERT")

    def kinds(self, level: str | None = None) -> list[str]:
        return [kind for lvl, kind, _ in self.events if level is None or lvl == level]


def _checked(fake: FakeUnitOfWork, sql: SqlUnitOfWork) -> None:
    """Never called: mypy checks here that the fake (and the SQL one) are what the use cases take."""
    as_taken: UnitOfWork = fake
    loans: CustomerLoans = FakeCustomerLoans()
    read_with: ReadingUnitOfWork = sql
    del as_taken, loans, read_with
