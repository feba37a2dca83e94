"""The client's confirmation of a dated batch (usecases.bulk_plan.confirm and cancel) on the fake unit of
work: planned with dates.client-confirmation.enable, a dated batch waits and nothing is queued; its
tenant's own key confirms it (on to approval or to its sub-batches) or cancels it (every row fails); no
other key decides."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pytest

from domain.access import Role
from domain.batches import Batch, BatchStatus, InstructionStatus
from domain.errors import NotFound
from domain.sub_batches import SubBatch
from domain.tenants import Tenant
from tests.fake_uow import FakeUnitOfWork
from usecases import bulk_plan, steps
from usecases.access import Principal
from usecases.errors import Conflict, Forbidden

AT = datetime(2026, 12, 1, 18, 0, tzinfo=timezone.utc)
CONFIRMING = {"payment-modes": {"monedero": "closedloop"}, "dates.enable": True,
              "dates.client-confirmation.enable": True}


@dataclass
class Row:
    uetr: str
    status: InstructionStatus = InstructionStatus.PENDING
    error_code: str | None = None


class FakeBatches:
    def __init__(self) -> None:
        self.by_id: dict[str, Batch] = {}

    def get(self, batch_id: str, lock: bool = False) -> Batch:
        if batch_id not in self.by_id:
            raise NotFound(f"batch {batch_id} does not exist")
        return self.by_id[batch_id]

    def save(self, batch: Batch) -> None:
        self.by_id[batch.batch_id] = batch

    def count_settled(self, batch: Batch, count: int) -> None:
        batch.settled += count


class FakeInstructions:
    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self.numbered: list[tuple[str, int, int]] = []

    def count(self, batch_pk: int, status: InstructionStatus) -> int:
        return sum(1 for r in self.rows if r.status == status)

    def fail_pending(self, batch_pk: int, code: str, reason: str, at: datetime) -> list[str]:
        failed = [r for r in self.rows if r.status == InstructionStatus.PENDING]
        for r in failed:
            r.status, r.error_code = InstructionStatus.FAILURE, code
        return [r.uetr for r in failed]

    def pending_modes(self, batch_pk: int) -> list[tuple[str, str, int, int]]:
        return [("monedero", "closedloop", self.count(batch_pk, InstructionStatus.PENDING), 0)]

    def assign_sub_batch(self, batch_pk: int, mode: str, first: int, size: int, order_by: str | None) -> None:
        self.numbered.append((mode, first, size))


class FakeSubBatches:
    def __init__(self) -> None:
        self.added: list[tuple[int, str]] = []

    def add(self, sub: SubBatch) -> None:
        self.added.append((sub.number, sub.payment_mode))


class FakeTenants:
    def __init__(self, tenants: list[Tenant]) -> None:
        self.by_id = {t.id: t for t in tenants}

    def of_id(self, tenant_id: int) -> Tenant:
        return self.by_id[tenant_id]


def books(config: dict[str, Any] = CONFIRMING) -> Any:
    """A fake unit of work holding tenant 1's dated batch of three rows, split and ready to plan."""
    uow: Any = FakeUnitOfWork(clock=lambda: AT)
    uow.tenants = FakeTenants([Tenant("nomina", config, "s", AT, AT, id=1), Tenant("otra", CONFIRMING, "s", AT, AT,
                                                                                   id=2)])
    uow.batches = FakeBatches()
    uow.instructions = FakeInstructions([Row(f"u-{n}") for n in range(3)])
    uow.sub_batches = FakeSubBatches()
    uow.batches.save(Batch("b-1", 1, "r-1", "0" * 64, "csv", "k", AT, rows=3, id=1, date_type="delivery",
                           dated_rows=3))
    assert bulk_plan.plan(uow, "b-1", parallel=2) == BatchStatus.AWAITING_CONFIRMATION
    return uow


def key(role: Role, tenant_id: int | None = None) -> Principal:
    return Principal(key_id=7, role=role, merchant_id=None, tenant_id=tenant_id)


def test_a_dated_batch_waits_for_its_client_and_nothing_is_queued() -> None:
    uow = books()
    assert uow.outbox.to(steps.EXECUTE_SUB_BATCH) == [] and uow.sub_batches.added == []
    assert "batch_awaiting_confirmation" in uow.kinds()


def test_its_tenants_own_key_confirms_it_and_its_sub_batches_are_queued() -> None:
    uow = books()
    batch = bulk_plan.confirm(uow, "b-1", key(Role.TENANT, 1))
    assert batch.status == BatchStatus.PROCESSING
    assert uow.outbox.to(steps.EXECUTE_SUB_BATCH) == [("b-1", 0)] and uow.sub_batches.added == [(0, "monedero")]
    with pytest.raises(Conflict, match="not awaiting confirmation"):
        bulk_plan.confirm(uow, "b-1", key(Role.TENANT, 1))


def test_confirmed_it_still_waits_for_treasurys_approval_when_the_tenant_asks_for_it() -> None:
    uow = books({**CONFIRMING, "approval.enable": True})
    assert bulk_plan.confirm(uow, "b-1", key(Role.TENANT, 1)).status == BatchStatus.AWAITING_APPROVAL
    assert uow.outbox.to(steps.EXECUTE_SUB_BATCH) == []


def test_cancelled_every_row_fails_and_nothing_is_paid() -> None:
    uow = books()
    batch = bulk_plan.cancel(uow, "b-1", key(Role.TENANT, 1))
    assert (batch.status, batch.settled) == (BatchStatus.FAILED, 3)
    assert {r.error_code for r in uow.instructions.rows} == {"CANCELLED"}
    assert uow.outbox.to(steps.EXECUTE_SUB_BATCH) == []
    with pytest.raises(Conflict):
        bulk_plan.confirm(uow, "b-1", key(Role.TENANT, 1))


@pytest.mark.parametrize("who, error", [
    (key(Role.TENANT, 2), NotFound),  # another tenant's key: no such batch, as for one that does not exist
    (key(Role.ADMIN), Forbidden), (key(Role.TREASURY), Forbidden), (key(Role.OPERATOR), Forbidden),
])
def test_no_other_key_decides_for_the_client(who: Principal, error: type[Exception]) -> None:
    uow = books()
    for decision in (bulk_plan.confirm, bulk_plan.cancel):
        with pytest.raises(error):
            decision(uow, "b-1", who)
    assert uow.batches.get("b-1").status == BatchStatus.AWAITING_CONFIRMATION
    assert all(r.status == InstructionStatus.PENDING for r in uow.instructions.rows)


def test_a_batch_without_dates_or_without_the_setting_does_not_wait() -> None:
    for config, date_type in ((CONFIRMING, None), ({**CONFIRMING, "dates.client-confirmation.enable": False},
                                                   "delivery")):
        uow: Any = FakeUnitOfWork(clock=lambda: AT)
        uow.tenants = FakeTenants([Tenant("nomina", config, "s", AT, AT, id=1)])
        uow.batches, uow.sub_batches = FakeBatches(), FakeSubBatches()
        uow.instructions = FakeInstructions([Row("u-0")])
        uow.batches.save(Batch("b-2", 1, "r-2", "0" * 64, "csv", "k", AT, rows=1, id=2, date_type=date_type))
        assert bulk_plan.plan(uow, "b-2", parallel=2) == BatchStatus.PROCESSING
