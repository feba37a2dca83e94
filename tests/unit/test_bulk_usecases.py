"""The bulk use cases on an in-memory unit of work: a batch submitted, split, planned (the threshold, the
approval), its sub-batches handed to the closed loop, SPEI and a remote connector (at most once, asked
again when in doubt), the bank's word on its orders, the sweeps, the acknowledgements and what a tenant
reads. The same use cases run on MariaDB, RabbitMQ and Redis in tests/integration/test_bulk_*.py."""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, BinaryIO, Callable

import pytest

from adapters.clock import ManualClock
from domain import clabe
from domain.batches import BatchError, BatchStatus, InstructionStatus as IS
from domain.connectors import Answer, Connector, Outcome, Payment
from domain.payment_orders import Ordering
from domain.stp import DEFAULT_ESTADOS, OrderOutcome
from domain.sub_batches import SubBatch, SubBatchStatus
from domain.tenants import FLOAT, SPEI_PAYOUTS
from tests.fake_uow import FakeUnitOfWork
from usecases import (bulk_acknowledgement, bulk_outcomes, bulk_plan, bulk_progress, bulk_reading, bulk_sending,
                      bulk_split, bulk_submission, bulk_sweeps, steps, tenants)
from domain.access import Role
from usecases.access import Principal
from usecases.bulk_sending import StillInDoubt
from usecases.bulk_submission import Submission
from usecases.errors import Conflict, Forbidden, Invalid
from usecases.payouts import PayoutConfig

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)
PAYOUT = PayoutConfig(Ordering("DISPERSA", "646180500000000004", "DISPERSA SA", "DIS200101AB1"), "DSP",
                      DEFAULT_ESTADOS)
HEADER = ("id,request_id,payment_mode,payer_identifier_type,payer_identifier,payee_identifier_type,payee_identifier,"
          "amount,currency,note,program_shortcode,cycle")
CLABE = clabe.make("012", "180", "42")
MODES = {"closedloop": "closedloop", "spei": "spei", "gsma": "gsma"}


class Files:
    """The stored uploads, by where they are kept."""

    def __init__(self) -> None:
        self.kept: dict[str, bytes] = {}

    def open(self, stored_at: str) -> BinaryIO:
        return io.BytesIO(self.kept[stored_at])


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork(ManualClock(NOW))


@pytest.fixture
def clock(uow: FakeUnitOfWork) -> ManualClock:
    assert isinstance(uow.clock, ManualClock)
    return uow.clock


@pytest.fixture
def files() -> Files:
    return Files()


def tenant(uow: FakeUnitOfWork, config: dict[str, Any] | None = None, float_amount: str = "0",
           wallets: tuple[str, ...] = ()) -> int:
    """A tenant paying closedloop, spei and gsma rows (no party lookup unless asked), its float funded in MXN
    and payee wallets made; its id."""
    made = tenants.put(uow, "acme", {"payment-modes": MODES, "partylookup.enable": False, **(config or {})})
    tenant_id = made.tenant.id or 0
    if float_amount != "0":
        tenants.fund(uow, "acme", float_amount, "MXN")
    for owner in wallets:
        uow.wallets.lock(tenant_id, owner, "MXN", uow.clock())
    return tenant_id


def row(n: int, mode: str, payee: str, amount: str = "10.00", note: str = "") -> str:
    return f"{n},r{n},{mode},,,msisdn,{payee},{amount},MXN,{note},,"


def submitted(uow: FakeUnitOfWork, files: Files, rows: list[str], request_id: str = "req-1",
              key_id: int | None = None, callback_url: str | None = None) -> str:
    """The file kept and submitted by tenant acme; its batch id."""
    content = "\n".join([HEADER, *rows]).encode() + b"\n"
    files.kept[request_id] = content
    batch, _ = bulk_submission.submit(uow, uow.tenants.get("acme"), Submission(
        request_id, request_id, len(content), hashlib.sha256(content).hexdigest(), "csv",
        callback_url=callback_url), key_id)
    return batch.batch_id


def split(uow: FakeUnitOfWork, files: Files, batch_id: str, page_rows: int = 1000) -> None:
    """Every page of the batch's file split, as the split steps would."""
    while True:
        batch = uow.batches.get(batch_id)
        if batch.status != BatchStatus.QUEUED or batch.split_offset >= batch.size_bytes:
            return
        bulk_split.split_page(uow, files.open, batch_id, batch.split_page, page_rows)


def planned(uow: FakeUnitOfWork, files: Files, rows: list[str], parallel: int = 2, **submit: Any) -> str:
    batch_id = submitted(uow, files, rows, **submit)
    split(uow, files, batch_id)
    bulk_plan.plan(uow, batch_id, parallel)
    return batch_id


def rows_of(uow: FakeUnitOfWork, batch_id: str) -> list[Any]:
    return sorted(uow.instructions.where(batch_pk=uow.batches.get(batch_id).id), key=lambda i: i.row)


@dataclass
class Remote:
    """A remote connector that answers from a script: ``pay`` and ``status`` answers by UETR, in turn."""

    pays: dict[str, list[Answer]] = field(default_factory=dict)
    statuses: dict[str, list[Answer]] = field(default_factory=dict)
    confirms: dict[str, Answer] = field(default_factory=dict)
    paid: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)

    def pay(self, payment: Payment) -> Answer:
        self.paid.append(payment.instruction_id)
        script = self.pays.get(payment.instruction_id)
        return script.pop(0) if script else Answer(Outcome.SUCCESS, f"ref-{len(self.paid)}")

    def status(self, payment: Payment) -> Answer:
        self.asked.append(payment.instruction_id)
        script = self.statuses.get(payment.instruction_id)
        return script.pop(0) if script else Answer.failed("404", "not known to the provider")

    def confirm(self, payment: Payment, reference: str | None = None) -> Answer:
        return self.confirms[payment.instruction_id]


@dataclass
class Connectors:
    """What bulk_sending needs from the process, in memory: one remote connector, throttles counted."""

    gsma: Remote = field(default_factory=Remote)
    throttled: list[tuple[Connector, int]] = field(default_factory=list)
    chunk_rows: int = 500

    @property
    def remote(self) -> Callable[[Connector], Remote]:
        return lambda connector: self.gsma

    @property
    def throttle(self) -> Callable[[Connector, int], None]:
        return lambda connector, rows: self.throttled.append((connector, rows))

    @property
    def callback_base(self) -> Callable[[], str]:
        return lambda: "https://dispersa.example"

    @property
    def chunk(self) -> Callable[[Connector], int]:
        return lambda connector: self.chunk_rows


def execute(uow: FakeUnitOfWork, connectors: Connectors, batch_id: str, number: int = 0) -> int:
    return bulk_sending.execute_sub_batch(lambda: uow, connectors, batch_id, number, PAYOUT)


def one_gsma_row(uow: FakeUnitOfWork, files: Files, first: Answer) -> tuple[str, Any, Connectors]:
    """A batch of one GSMA row whose first payment gets ``first``: its id, the row, the connectors."""
    tenant(uow)
    batch_id = planned(uow, files, [row(1, "gsma", "5215550001")])
    [r] = rows_of(uow, batch_id)
    connectors = Connectors()
    connectors.gsma.pays[r.uetr] = [first]
    return batch_id, r, connectors


# --- submission -------------------------------------------------------------------------------------------

def test_the_same_file_under_the_same_correlation_id_is_one_batch_and_other_content_is_refused(uow, files):
    tenant(uow)
    first = submitted(uow, files, [row(1, "closedloop", "5215550001")])
    again = submitted(uow, files, [row(1, "closedloop", "5215550001")])
    assert first == again and len(uow.batches.rows) == 1
    assert uow.outbox.to(steps.SPLIT_BATCH) == [(first, 0)]
    with pytest.raises(Conflict, match="other content"):
        submitted(uow, files, [row(1, "closedloop", "5215550002")])
    assert len(uow.batches.rows) == 1


def test_a_date_type_is_refused_when_unknown_or_when_the_tenant_is_outside_the_dates_trial(uow):
    tenant(uow)
    acme = uow.tenants.get("acme")
    with pytest.raises(Invalid, match="dates.enable is off"):
        bulk_submission.date_type_of(acme, "delivery")
    tenants.put(uow, "acme", {"dates.enable": True})
    with pytest.raises(Invalid, match="delivery or execution"):
        bulk_submission.date_type_of(acme, "tomorrow")
    assert bulk_submission.date_type_of(acme, None) == "execution"


# --- split ------------------------------------------------------------------------------------------------

def test_a_split_page_writes_each_row_once_with_its_connector_and_fails_those_it_cannot_pay(uow, files):
    tenant(uow, {"deduplication.enable": True})
    batch_id = submitted(uow, files, [row(1, "closedloop", "5215550001"), row(2, "paypal", "5215550002"),
                                      row(3, "closedloop", "5215550001"), row(4, "gsma", "5215550004", "abc")])
    assert bulk_split.split_page(uow, files.open, batch_id, 0) == 4
    assert bulk_split.split_page(uow, files.open, batch_id, 0) == 0  # a redelivered page
    one, two, three, four = rows_of(uow, batch_id)
    assert (one.connector, one.status) == (Connector.CLOSED_LOOP, IS.PENDING)
    assert (two.connector, two.status, two.error_code) == (None, IS.FAILURE, "MODE_NOT_CONFIGURED")
    assert (three.status, three.error_code) == (IS.FAILURE, "DUPLICATE")
    assert four.status == IS.FAILURE and four.amount is None
    batch = uow.batches.get(batch_id)
    assert (batch.rows, batch.settled, batch.split_page) == (4, 3, 1)
    assert uow.outbox.to(steps.PLAN_BATCH) == [(batch_id,)]


def test_a_file_is_split_a_page_at_a_time_and_the_last_page_queues_the_plan(uow, files):
    tenant(uow)
    batch_id = submitted(uow, files, [row(n, "closedloop", f"52155500{n:02}") for n in range(1, 4)])
    assert bulk_split.split_page(uow, files.open, batch_id, 0, page_rows=2) == 2
    assert uow.outbox.to(steps.SPLIT_BATCH)[-1] == (batch_id, 1) and not uow.outbox.to(steps.PLAN_BATCH)
    assert bulk_split.split_page(uow, files.open, batch_id, 1, page_rows=2) == 1
    assert uow.outbox.to(steps.PLAN_BATCH) == [(batch_id,)]
    assert [r.row for r in rows_of(uow, batch_id)] == [0, 1, 2]


def test_a_file_that_cannot_be_read_fails_its_batch_with_an_alert(uow, files):
    tenant(uow)
    batch_id = submitted(uow, files, [])
    files.kept["req-1"] = b"who,knows\n1,2\n"
    assert bulk_split.split_page(uow, files.open, batch_id, 0) == 0
    batch = uow.batches.get(batch_id)
    assert batch.status == BatchStatus.FAILED and "cannot be read" in (batch.reason or "")
    assert uow.kinds("ALERT") == ["batch_unreadable"]


# --- plan ---------------------------------------------------------------------------------------------------

def test_a_plan_cuts_each_payment_mode_into_sub_batches_and_queues_as_many_as_run_at_once(uow, files):
    tenant(uow, {"splitting.sub-batch-size": 2})
    batch_id = planned(uow, files, [row(1, "closedloop", "5215550001"), row(2, "gsma", "5215550002"),
                                    row(3, "closedloop", "5215550003"), row(4, "closedloop", "5215550004")])
    batch = uow.batches.get(batch_id)
    assert (batch.status, batch.sub_batch_count, batch.parallel_sub_batches) == (BatchStatus.PROCESSING, 3, 2)
    subs = uow.sub_batches.of_batch(batch.id or 0)
    assert [(s.number, s.payment_mode, s.connector, s.rows, s.status) for s in subs] == [
        (0, "closedloop", Connector.CLOSED_LOOP, 2, SubBatchStatus.PENDING),
        (1, "closedloop", Connector.CLOSED_LOOP, 1, SubBatchStatus.PENDING),
        (2, "gsma", Connector.GSMA, 1, SubBatchStatus.PENDING)]
    assert uow.outbox.to(steps.EXECUTE_SUB_BATCH) == [(batch_id, 0), (batch_id, 1)]
    assert bulk_plan.plan(uow, batch_id, 2) == BatchStatus.PROCESSING and len(uow.sub_batches.rows) == 3


def test_a_batch_below_its_success_threshold_fails_before_any_money_moves(uow, files):
    tenant(uow, {"success-threshold-check": {"enable": True, "success-rate": "75"}})
    batch_id = planned(uow, files, [row(1, "closedloop", "5215550001"), row(2, "paypal", "5215550002")])
    batch = uow.batches.get(batch_id)
    assert batch.status == BatchStatus.FAILED and "only 1 of 2 rows" in (batch.reason or "")
    assert [r.error_code for r in rows_of(uow, batch_id)] == ["THRESHOLD_NOT_MET", "MODE_NOT_CONFIGURED"]
    assert batch.settled == 2 and not uow.outbox.to(steps.EXECUTE_SUB_BATCH) and not uow.sub_batches.rows


def test_an_approval_is_refused_to_its_submitter_and_to_a_batch_not_waiting(uow, files):
    tenant(uow, {"approval.enable": True})
    batch_id = planned(uow, files, [row(1, "closedloop", "5215550001")], key_id=7)
    assert uow.batches.get(batch_id).status == BatchStatus.AWAITING_APPROVAL
    with pytest.raises(Forbidden, match="dual control"):
        bulk_plan.approve(uow, batch_id, Principal(7, Role.TREASURY, None))
    assert not uow.sub_batches.rows
    bulk_plan.approve(uow, batch_id, Principal(8, Role.TREASURY, None))
    assert uow.batches.get(batch_id).status == BatchStatus.PROCESSING
    assert uow.batches.get(batch_id).approved_by_key_id == 8
    with pytest.raises(Conflict, match="not awaiting approval"):
        bulk_plan.reject(uow, batch_id, Principal(8, Role.TREASURY, None), "late")


def test_a_rejected_batch_fails_every_waiting_row_with_the_reason(uow, files):
    tenant(uow, {"approval.enable": True})
    batch_id = planned(uow, files, [row(1, "closedloop", "5215550001"), row(2, "closedloop", "5215550002")])
    bulk_plan.reject(uow, batch_id, Principal(8, Role.TREASURY, None), "wrong month")
    assert uow.batches.get(batch_id).status == BatchStatus.FAILED
    assert {(r.status, r.error_code) for r in rows_of(uow, batch_id)} == {(IS.FAILURE, "REJECTED")}


# --- execution: the closed loop ---------------------------------------------------------------------------

def test_a_closed_loop_sub_batch_pays_from_the_float_and_a_row_it_cannot_cover_fails(uow, files):
    tenant_id = tenant(uow, float_amount="15.00")
    batch_id = planned(uow, files, [row(1, "closedloop", "5215550001"), row(2, "closedloop", "5215550002")])
    connectors = Connectors()
    assert execute(uow, connectors, batch_id) == 1
    one, two = rows_of(uow, batch_id)
    assert (one.status, two.status, two.error_code) == (IS.SUCCESS, IS.FAILURE, "INSUFFICIENT_FUNDS")
    assert uow.wallets.balance(tenant_id, FLOAT) == 500 and uow.wallets.balance(tenant_id, "5215550001") == 1000
    assert uow.sub_batches.get(uow.batches.get(batch_id).id or 0, 0).status == SubBatchStatus.DONE
    assert connectors.throttled == [(Connector.CLOSED_LOOP, 500)]
    assert uow.outbox.to(steps.MERGE_BATCH) == [(batch_id,)]
    assert bulk_progress.merge(uow, batch_id) == BatchStatus.COMPLETED


def test_a_sub_batch_executed_again_pays_no_row_twice(uow, files):
    tenant_id = tenant(uow, float_amount="100.00")
    batch_id = planned(uow, files, [row(1, "closedloop", "5215550001")])
    execute(uow, Connectors(), batch_id)
    assert execute(uow, Connectors(), batch_id) == 0  # a redelivered message: the sub-batch is done
    assert uow.wallets.balance(tenant_id, "5215550001") == 1000 and len(uow.wallets.entries) == 2


def test_chunks_hand_a_sub_batch_over_and_the_last_queues_the_sub_batch_whose_turn_comes(uow, files):
    tenant(uow, {"splitting.sub-batch-size": 3}, float_amount="100.00")
    batch_id = planned(uow, files, [row(n, "closedloop", f"52155500{n:02}") for n in range(1, 8)], parallel=1)
    assert uow.outbox.to(steps.EXECUTE_SUB_BATCH) == [(batch_id, 0)]
    assert execute(uow, Connectors(chunk_rows=2), batch_id) == 2
    assert uow.outbox.to(steps.EXECUTE_SUB_BATCH) == [(batch_id, 0), (batch_id, 1)]
    assert [r.status for r in rows_of(uow, batch_id)] == [IS.SUCCESS] * 3 + [IS.PENDING] * 4


def test_a_sub_batch_moves_pending_executing_done_and_never_back():
    sub = SubBatch(1, 0, "gsma", Connector.GSMA, 10, NOW)
    sub.start(NOW)
    sub.start(NOW + timedelta(minutes=1))  # a second chunk: it is executing already
    assert (sub.status, sub.started_at) == (SubBatchStatus.EXECUTING, NOW)
    sub.move_to(SubBatchStatus.DONE, NOW + timedelta(minutes=2))
    assert sub.done and sub.completed_at == NOW + timedelta(minutes=2)
    with pytest.raises(BatchError, match="cannot move from done to executing"):
        sub.move_to(SubBatchStatus.EXECUTING, NOW)
    with pytest.raises(BatchError, match="cannot move from done to pending"):
        sub.move_to(SubBatchStatus.PENDING, NOW)


# --- execution: SPEI and the bank's word -------------------------------------------------------------------

def test_a_spei_row_becomes_a_payment_order_paid_from_the_float(uow, files):
    tenant_id = tenant(uow, float_amount="100.00")
    batch_id = planned(uow, files, [row(1, "spei", CLABE, "25.00", "Ana Lopez")])
    execute(uow, Connectors(), batch_id)
    [r] = rows_of(uow, batch_id)
    [order] = uow.orders.all()
    assert (r.status, r.payment_order_id, r.connector_reference) == (IS.IN_PROGRESS, order.id, order.tracking_key)
    assert (order.uetr, order.amount, order.beneficiary_account) == (r.uetr, 2500, CLABE)
    assert uow.outbox.to(steps.SEND_PAYMENT_ORDER) == [(order.uetr,)]
    assert (uow.wallets.balance(tenant_id, FLOAT), uow.wallets.balance(tenant_id, SPEI_PAYOUTS)) == (7500, 2500)
    bulk_outcomes.order_settled(uow, order, OrderOutcome.LIQUIDATED, None)
    assert r.status == IS.SUCCESS and uow.outbox.to(steps.MERGE_BATCH) == [(batch_id,)]


def test_a_spei_order_the_bank_returns_fails_its_row_and_its_money_goes_back_to_the_float_once(uow, files):
    tenant_id = tenant(uow, float_amount="100.00")
    batch_id = planned(uow, files, [row(1, "spei", CLABE, "25.00", "Ana Lopez")])
    execute(uow, Connectors(), batch_id)
    [order] = uow.orders.all()
    bulk_outcomes.order_settled(uow, order, OrderOutcome.LIQUIDATED, None)
    bulk_outcomes.order_settled(uow, order, OrderOutcome.RETURNED, "cuenta cancelada")
    bulk_outcomes.order_settled(uow, order, OrderOutcome.RETURNED, "cuenta cancelada")  # told twice
    [r] = rows_of(uow, batch_id)
    assert (r.status, r.error_code) == (IS.FAILURE, "RETURNED")
    assert (uow.wallets.balance(tenant_id, FLOAT), uow.wallets.balance(tenant_id, SPEI_PAYOUTS)) == (10_000, 0)
    assert uow.batches.get(batch_id).settled == 1


def test_a_spei_row_the_float_cannot_cover_fails_and_no_order_is_made(uow, files):
    tenant(uow, float_amount="1.00")
    batch_id = planned(uow, files, [row(1, "spei", CLABE, "25.00", "Ana Lopez")])
    execute(uow, Connectors(), batch_id)
    [r] = rows_of(uow, batch_id)
    assert (r.status, r.error_code) == (IS.FAILURE, "INSUFFICIENT_FUNDS") and not uow.orders.all()


# --- execution: a remote connector ---------------------------------------------------------------------------

def test_a_remote_row_is_committed_in_progress_before_its_call_and_settled_by_the_answer(uow, files):
    tenant(uow)
    batch_id = planned(uow, files, [row(1, "gsma", "5215550001"), row(2, "gsma", "5215550002")])
    one, two = rows_of(uow, batch_id)
    connectors = Connectors()
    connectors.gsma.pays[two.uetr] = [Answer(Outcome.PENDING, "gsma-2")]
    commits = uow.commits
    assert execute(uow, connectors, batch_id) == 2
    assert connectors.gsma.paid == [one.uetr, two.uetr] and uow.commits - commits >= 3
    assert (one.status, two.status, two.connector_reference) == (IS.SUCCESS, IS.IN_PROGRESS, "gsma-2")
    assert [Connector.GSMA] * 2 == [c for c, _ in connectors.throttled]


def test_a_remote_row_without_a_clear_answer_is_asked_where_it_stands_before_it_is_paid_again(uow, files):
    batch_id, r, connectors = one_gsma_row(uow, files, Answer.in_doubt("timed out"))
    with pytest.raises(StillInDoubt, match="1 row"):
        execute(uow, connectors, batch_id)
    assert (r.status, r.connector_reference, r.attempts) == (IS.IN_PROGRESS, None, 1)
    connectors.gsma.statuses[r.uetr] = [Answer(Outcome.SUCCESS, "gsma-1")]
    execute(uow, connectors, batch_id)  # the retried message
    assert connectors.gsma.paid == [r.uetr] and connectors.gsma.asked == [r.uetr]
    assert (r.status, r.connector_reference, r.attempts) == (IS.SUCCESS, "gsma-1", 2)


def test_a_remote_row_the_provider_never_received_is_paid_on_the_retry(uow, files):
    batch_id, r, connectors = one_gsma_row(uow, files, Answer.in_doubt("connection refused"))
    with pytest.raises(StillInDoubt):
        execute(uow, connectors, batch_id)
    execute(uow, connectors, batch_id)  # status says 404: not known, so it is paid (same idempotency key)
    assert connectors.gsma.paid == [r.uetr, r.uetr] and r.status == IS.SUCCESS


def test_the_sweeps_sync_asks_a_remote_row_in_progress_and_leaves_a_settled_one_alone(uow, files):
    batch_id, r, connectors = one_gsma_row(uow, files, Answer(Outcome.PENDING, "gsma-1"))
    execute(uow, connectors, batch_id)
    connectors.gsma.statuses[r.uetr] = [Answer.failed("REJECTED", "payee barred", "gsma-1")]
    assert bulk_sending.sync_instruction(lambda: uow, connectors, r.uetr) is False
    assert (r.status, r.error_code) == (IS.FAILURE, "REJECTED")
    assert bulk_sending.sync_instruction(lambda: uow, connectors, r.uetr) is False
    assert connectors.gsma.asked == [r.uetr]


def test_a_callback_is_applied_only_when_the_connectors_own_query_shows_the_same_word(uow, files):
    tenant(uow)
    batch_id = planned(uow, files, [row(1, "gsma", "5215550001"), row(2, "gsma", "5215550002")])
    one, two = rows_of(uow, batch_id)
    connectors = Connectors()
    connectors.gsma.pays = {one.uetr: [Answer(Outcome.PENDING, "g-1")], two.uetr: [Answer(Outcome.PENDING, "g-2")]}
    execute(uow, connectors, batch_id)
    connectors.gsma.confirms = {one.uetr: Answer(Outcome.SUCCESS, "g-1"), two.uetr: Answer.in_doubt("timeout")}
    claim = {"connector": "gsma", "outcome": "success", "reference": "g-1"}
    assert bulk_sending.confirm_callback(lambda: uow, connectors, one.uetr, claim) is True
    with pytest.raises(StillInDoubt, match="no clear answer"):
        bulk_sending.confirm_callback(lambda: uow, connectors, two.uetr, {**claim, "reference": "g-2"})
    assert (one.status, two.status) == (IS.SUCCESS, IS.IN_PROGRESS)


# --- sweeps -------------------------------------------------------------------------------------------------

def test_the_sweep_drives_again_a_batch_standing_still_at_each_stage(uow, files, clock):
    tenant(uow)
    queued = submitted(uow, files, [row(1, "closedloop", "5215550001")], request_id="a")
    processing = planned(uow, files, [row(1, "gsma", "5215550001")], request_id="b")
    clock.now = NOW + timedelta(minutes=20)
    found = bulk_sweeps.sweep_batches(uow, clock.now, timedelta(minutes=10))
    assert found == {"batches_split": 1, "batches_planned": 0, "sub_batches": 1, "batches_merged": 0}
    assert uow.outbox.to(steps.SPLIT_BATCH)[-1] == (queued, 0)
    assert uow.outbox.to(steps.EXECUTE_SUB_BATCH)[-1] == (processing, 0)


def test_a_remote_row_without_a_word_past_the_deadline_is_flagged_once_with_an_alert(uow, files, clock):
    batch_id, r, connectors = one_gsma_row(uow, files, Answer(Outcome.PENDING, "g-1"))
    execute(uow, connectors, batch_id)
    early = bulk_sweeps.sweep_remote_rows(uow, NOW + timedelta(minutes=40), timedelta(minutes=30), timedelta(hours=24))
    late = bulk_sweeps.sweep_remote_rows(uow, NOW + timedelta(hours=25), timedelta(minutes=30), timedelta(hours=24))
    again = bulk_sweeps.sweep_remote_rows(uow, NOW + timedelta(hours=26), timedelta(minutes=30), timedelta(hours=24))
    assert (early, late["bulk_rows_flagged"], again["bulk_rows_flagged"]) == (
        {"bulk_rows_asked": 1, "bulk_rows_flagged": 0}, 1, 0)
    assert (r.status, r.error_code) == (IS.IN_PROGRESS, bulk_sweeps.NO_ANSWER)
    assert uow.kinds("ALERT") == ["bulk_row_no_answer"]


def test_rows_held_for_their_execution_date_are_released_on_that_day(uow, files, clock):
    tenant(uow)
    batch_id = planned(uow, files, [row(1, "closedloop", "5215550001")])
    [r] = rows_of(uow, batch_id)
    r.execution_date = date(2026, 11, 25)
    assert bulk_sweeps.release_due(uow, clock.now) == 0
    clock.now = datetime(2026, 11, 25, 7, 0, tzinfo=timezone.utc)  # 01:00 in Mexico City
    assert bulk_sweeps.release_due(uow, clock.now) == 1
    assert uow.outbox.to(steps.EXECUTE_SUB_BATCH)[-1] == (batch_id, 0)


# --- acknowledgements and reading ------------------------------------------------------------------------------

def test_progress_marks_are_acknowledged_signed_and_given_up_once(uow, files):
    tenant(uow, {"acknowledgement.enable": True}, float_amount="100.00")
    batch_id = planned(uow, files, [row(1, "closedloop", "5215550001")], callback_url="https://acme.example/cb")
    execute(uow, Connectors(), batch_id)
    assert uow.outbox.to(steps.ACKNOWLEDGE_BATCH) == [(batch_id, mark) for mark in (20, 40, 60, 80, 100)]
    ack = bulk_acknowledgement.acknowledgement(uow, batch_id, 100)
    assert ack is not None and ack.url == "https://acme.example/cb"
    assert ack.signature == bulk_acknowledgement.sign(uow.tenants.get("acme").secret, ack.body)
    assert b'"progress":100' in ack.body and b'"successful":1' in ack.body
    assert bulk_acknowledgement.give_up(uow, batch_id, 100, "410 Gone") is True
    assert bulk_acknowledgement.give_up(uow, batch_id, 100, "410 Gone") is False
    assert bulk_acknowledgement.acknowledgement(uow, batch_id, 100) is None
    assert uow.kinds("ALERT") == ["acknowledgements_given_up"]


def test_a_tenant_without_acknowledgements_is_sent_none(uow, files):
    tenant(uow, float_amount="100.00")
    batch_id = planned(uow, files, [row(1, "closedloop", "5215550001")], callback_url="https://acme.example/cb")
    execute(uow, Connectors(), batch_id)
    assert not uow.outbox.to(steps.ACKNOWLEDGE_BATCH)
    assert bulk_acknowledgement.acknowledgement(uow, batch_id, 100) is None


def test_the_summary_shows_each_sub_batch_and_the_result_file_each_rows_status(uow, files):
    tenant(uow, float_amount="15.00")
    batch_id = planned(uow, files, [row(1, "closedloop", "5215550001"), row(2, "closedloop", "5215550002"),
                                    row(3, "paypal", "5215550003")])
    execute(uow, Connectors(), batch_id)
    batch = uow.batches.get(batch_id)
    summary = bulk_reading.summary(uow, batch)
    assert (summary["total"], summary["successful"], summary["failed"]) == (3, 1, 2)
    [sub] = summary["subBatches"]
    assert (sub["status"], sub["connector"], sub["total"]) == ("done", "closedloop", 2)
    assert [(n, values[-3]) for n, values in bulk_reading.result_rows(uow, batch, -1)] == [
        (0, "SUCCESS"), (1, "FAILURE"), (2, "FAILURE")]
