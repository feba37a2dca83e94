"""The workload, over the HTTP API as a client would drive it: the stores of every mode (validated, their
scheduled triggers due during the run), then the credits — originated, delivered, some cancelled before or
after delivery — by a few client threads, while a treasury thread asks for transfers now, adjusts balances
and approves or rejects the transfers that wait for it, and a tenant's client submits its bulk file (and
sends it again). What the API answered is kept, so that what each store is owed, and what the batch paid,
can be checked against the ledger and the bank afterwards."""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

import httpx

from chaos.api import Api
from chaos.plan import BULK_CONFIG, CANCEL_AFTER, CANCEL_BEFORE, BulkPlan, CreditPlan, Plan, StorePlan, TimedAction
from domain import clabe
from testbed import Testbed

STORE_ZONE = ZoneInfo("America/Mexico_City")
PAYMENTS = 6
ANCHOR_LEAD = timedelta(seconds=25)


@dataclass(frozen=True)
class StoreRef:
    """A store the run made: its id, CLABE, plan, and when its scheduled trigger is due (UTC)."""

    id: int
    clabe: str
    plan: StorePlan
    due_at: datetime | None


@dataclass
class Expected:
    """What the API said the run did: each credit's contribution and fate, and each adjustment."""

    contributions: dict[int, tuple[int, int]] = field(default_factory=dict)  # credit -> (store, contribution)
    delivered: set[int] = field(default_factory=set)
    cancelled: set[int] = field(default_factory=set)
    adjustments: dict[int, int] = field(default_factory=dict)  # store -> sum
    actions: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, action: str, n: int = 1) -> None:
        """Count one action of the run (credits originated, transfers approved, ...)."""
        with self._lock:
            self.actions[action] += n

    def credit(self, credit_id: int, store_id: int, contribution: int) -> None:
        """A credit was originated with this contribution."""
        with self._lock:
            self.contributions[credit_id] = (store_id, contribution)

    def mark(self, credit_id: int, delivered: bool) -> None:
        """A credit was delivered (or cancelled)."""
        with self._lock:
            (self.delivered if delivered else self.cancelled).add(credit_id)

    def adjusted(self, store_id: int, amount: int) -> None:
        """An adjustment was written."""
        with self._lock:
            self.adjustments[store_id] = self.adjustments.get(store_id, 0) + amount

    def owed(self) -> dict[int, int]:
        """What each store has earned: its delivered credits' contributions that were not cancelled,
        and its adjustments."""
        owed = dict(self.adjustments)
        for credit_id in self.delivered - self.cancelled:
            store_id, contribution = self.contributions[credit_id]
            owed[store_id] = owed.get(store_id, 0) + contribution
        return owed


def _anchor(now: datetime) -> datetime:
    """The first whole minute at least ANCHOR_LEAD from now, in the stores' zone."""
    local = (now + ANCHOR_LEAD).astimezone(STORE_ZONE)
    return local.replace(second=0, microsecond=0) + timedelta(minutes=1)


def _schedule(store: StorePlan, anchor: datetime) -> dict[str, Any]:
    """The schedule fields that make the store's trigger due at ``anchor`` (an hourly store's every hour)."""
    if store.mode == "instant":
        return {}
    fields: dict[str, Any] = {"time_of_day": anchor.strftime("%H:%M")}
    if store.mode == "weekly":
        fields["weekday"] = anchor.weekday()
    if store.mode == "monthly":
        fields["day_of_month"] = anchor.day
    return fields


def create_store(api: Api, store: StorePlan, account: int, anchor: datetime) -> StoreRef:
    """A merchant with one validated store and one validated payment option."""
    merchant = api.json("POST", "/merchants", json={"name": store.name})
    number = clabe.make("646", "180", f"{account:011d}")
    body = {"name": store.name, "clabe": number, "beneficiary_name": store.name,
            "disbursement_mode": store.mode, "automation_enabled": True,
            "requires_confirmation": store.requires_confirmation, "minimum_transfer": store.minimum_transfer,
            **_schedule(store, anchor)}
    made = api.json("POST", f"/merchants/{merchant['id']}/stores", json=body)
    option = api.json("POST", f"/stores/{made['id']}/payment-options", json={
        "number_of_payments": PAYMENTS, "merchant_commission": store.commission, "min_amount": 100,
        "max_amount": 10**8})
    api.call("POST", f"/payment-options/{option['id']}/validate")
    api.call("POST", f"/payment-options/{option['id']}/enable")
    api.call("POST", f"/stores/{made['id']}/validate")
    api.call("POST", f"/merchants/{merchant['id']}/validate")
    due = anchor.astimezone(timezone.utc) if store.mode != "instant" else None
    return StoreRef(made["id"], number, store, due)


def create_stores(api: Api, plan: Plan) -> list[StoreRef]:
    """Every store of the plan; scheduled ones due at the same minute, a minute or two from now."""
    anchor = _anchor(datetime.now(timezone.utc))
    return [create_store(api, s, 7_000_000 + plan.seed % 1000 * 1000 + s.index, anchor) for s in plan.stores]


class Driven:
    """How far the drive got: credits driven so far, shared with the fault and treasury threads."""

    def __init__(self) -> None:
        self._done = 0
        self._changed = threading.Condition()
        self.finished = threading.Event()

    @property
    def done(self) -> int:
        """Credits driven so far."""
        return self._done

    def add(self) -> None:
        """One more credit driven."""
        with self._changed:
            self._done += 1
            self._changed.notify_all()


class CreditDriver:
    """One client thread's share of the credits: every ``of``-th credit of the plan, from ``first``."""

    def __init__(self, api: Api, plan: Plan, stores: list[StoreRef], expected: Expected, driven: Driven,
                 stopping: threading.Event, rate: float):
        self.api, self.plan, self.stores, self.expected = api, plan, stores, expected
        self.driven, self.stopping, self.rate = driven, stopping, rate
        self._later: list[tuple[int, int, str]] = []  # (cancel at, credit id, reason)
        self._started = time.monotonic()

    def run(self, first: int, of: int) -> None:
        """Drive this thread's credits, each no sooner than its slot at ``rate`` credits a second, then
        the cancellations still due."""
        try:
            for credit in self.plan.credits[first::of]:
                if self.stopping.wait(max(0.0, self._started + credit.index / self.rate - time.monotonic())):
                    return
                self._drive(credit)
                self._cancel_due(self.driven.done)
                self.driven.add()
            self._cancel_due(None)
        finally:
            self.api.close()

    def _drive(self, credit: CreditPlan) -> None:
        store = self.stores[credit.store]
        made = self.api.json("POST", "/credits", json={
            "store_id": store.id, "external_id": f"chaos-{self.plan.seed}-{credit.index}", "amount": credit.amount,
            "number_of_payments": PAYMENTS})
        self.expected.credit(made["id"], store.id, made["contribution"])
        self.expected.count("credits originated")
        if credit.fate == CANCEL_BEFORE:
            self._cancel(made["id"], credit.reason or "rejected", "credits cancelled before delivery")
            return
        self.api.call("POST", f"/credits/{made['id']}/delivery")
        self.expected.mark(made["id"], delivered=True)
        self.expected.count("credits delivered")
        if credit.fate == CANCEL_AFTER and credit.cancel_at is not None:
            self._later.append((credit.cancel_at, made["id"], credit.reason or "rejected"))

    def _cancel(self, credit_id: int, reason: str, action: str) -> None:
        self.api.call("POST", f"/credits/{credit_id}/cancellation", json={"reason": reason})
        self.expected.mark(credit_id, delivered=False)
        self.expected.count(action)

    def _cancel_due(self, done: int | None) -> None:
        due = [c for c in self._later if done is None or c[0] <= done]
        for item in due:
            self._later.remove(item)
            self._cancel(item[1], item[2], "credits cancelled after delivery")


class Treasury:
    """Treasury's side of the run: transfers now and adjustments at their planned moments, and a decision
    on every transfer that waits for approval (most approved, some rejected, as the plan draws), by a second
    treasury person (``approver``): the one who asks for a transfer may not approve it."""

    def __init__(self, api: Api, approver: Api, plan: Plan, stores: list[StoreRef], expected: Expected,
                 driven: Driven):
        self.api, self.plan, self.stores, self.expected, self.driven = api, plan, stores, expected, driven
        self.approver = approver
        self._requests, self._adjustments = list(plan.requests), list(plan.adjustments)
        self._adjusted = 0

    def step(self) -> int:
        """One pass: what is due of the plan, then the waiting transfers; returns how many were decided."""
        done = self.driven.done
        while self._requests and self._requests[0].at_credit <= done:
            self.request(self.stores[self._requests.pop(0).store])
        while self._adjustments and self._adjustments[0].at_credit <= done:
            self._adjust(self._adjustments.pop(0))
        return self.decide_waiting()

    def request(self, store: StoreRef) -> None:
        """Ask for a transfer of the store's pending balance now."""
        self.api.call("POST", f"/stores/{store.id}/transfers")
        self.expected.count("transfers requested now")

    def _adjust(self, action: TimedAction) -> None:
        self._adjusted += 1
        store = self.stores[action.store]
        self.api.call("POST", f"/stores/{store.id}/adjustments", json={"amount": action.amount, "note": "chaos"},
                      headers={"Idempotency-Key": f"chaos-{self.plan.seed}-adjustment-{self._adjusted}"})
        self.expected.adjusted(store.id, action.amount)
        self.expected.count("adjustments")

    def decide_waiting(self) -> int:
        """Approve or reject every transfer waiting for confirmation."""
        waiting = self.api.json("GET", "/transfers", params={"status": "waiting_confirmation", "per_page": 200})
        for transfer in waiting["items"]:
            self._decide(transfer["id"])
        return len(waiting["items"])

    def _decide(self, transfer_id: int) -> None:
        if self.plan.approves(transfer_id):
            answer = self.approver.call("POST", f"/transfers/{transfer_id}/approve", expect=(200, 409))
            self.expected.count("transfers approved" if answer.status_code == 200 else "approvals refused (409)")
            return
        answer = self.api.call("POST", f"/transfers/{transfer_id}/reject", expect=(200, 409),
                               json={"reason": "chaos: treasury rejects this one"})
        self.expected.count("transfers rejected" if answer.status_code == 200 else "rejections refused (409)")

    def run(self, stopping: threading.Event, errors: list[BaseException], pause: float = 1.0) -> None:
        """Step until ``stopping``; a failure is kept in ``errors`` for the run to report."""
        try:
            while not stopping.wait(pause):
                self.step()
        except BaseException as e:  # the run reports it; the thread must not die silently
            errors.append(e)
        finally:
            self.api.close()


def drive_credits(api: Api, plan: Plan, stores: list[StoreRef], expected: Expected, driven: Driven,
                  stopping: threading.Event, clients: int, rate: float, on_tick: Callable[[], None]) -> None:
    """Drive every credit of the plan with ``clients`` threads, ``rate`` credits a second at most;
    ``on_tick`` runs about once a second."""
    errors: list[BaseException] = []

    def _one(first: int) -> None:
        try:
            CreditDriver(api, plan, stores, expected, driven, stopping, rate).run(first, clients)
        except BaseException as e:  # re-raised below, in the calling thread
            errors.append(e)
            stopping.set()

    threads = [threading.Thread(target=_one, args=(n,), name=f"chaos-client-{n}", daemon=True)
               for n in range(clients)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        on_tick()
        time.sleep(1)
    driven.finished.set()
    if errors:
        raise errors[0]


# --- the bulk tenant -------------------------------------------------------------------------------------

BULK_FINAL = ("completed", "failed")


@dataclass
class BulkDriven:
    """What the API answered the bulk tenant's client: the batch it made, what sending the same file
    again answered (the same batch, 200), other content under the same X-CorrelationID (409), and the
    batch's summary at the end."""

    tenant: str = ""
    funded: int = 0  # minor units credited to the tenant's float before the run
    submitted_at_credit: int | None = None
    submitted_at_seconds: float | None = None  # into the run
    completed_at_seconds: float | None = None  # into the run, as the summary's completed_at says
    batch_id: str | None = None
    submitted: int | None = None  # the submission's answer: 202, or 200 when a retry found it made
    again_batch_id: str | None = None
    again: int | None = None
    conflict: int | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    waited_seconds: float = 0.0


def create_tenant(bed: Testbed, bulk: BulkPlan, workdir: Path) -> tuple[str, int]:
    """The tenant as an operator makes it (``dispersa tenant create --config``, ``dispersa tenant fund``):
    its API key and what its float was funded with (minor units)."""
    config = workdir / "bulk-tenant.json"
    config.write_text(json.dumps(BULK_CONFIG))
    key = bed.run("dispersa", "tenant", "create", bulk.tenant, "--config", str(config)).strip().splitlines()[-1]
    funding = bulk.float_funding
    bed.run("dispersa", "tenant", "fund", bulk.tenant, f"{funding // 100}.{funding % 100:02d}", "MXN")
    return key, funding


class BulkDriver:
    """The tenant's client: the file submitted once the drive reaches its moment (a web down or a 5xx is
    sent again under the same X-CorrelationID, which idempotency makes safe), sent again later, then
    other content under the same X-CorrelationID; at the end, the batch waited for through the API."""

    def __init__(self, api: Api, bulk: BulkPlan, driven: Driven, outcome: BulkDriven, started: float,
                 say: Callable[[str], None]):
        self.api, self.bulk, self.driven, self.outcome, self.started = api, bulk, driven, outcome, started
        self.say = say
        self.filename = f"{bulk.request_id}.csv"

    def _headers(self) -> dict[str, str]:
        return {"Platform-TenantId": self.bulk.tenant, "X-CorrelationID": self.bulk.request_id,
                "filename": self.filename}

    def submit(self, content: bytes, multipart: bool, expect: tuple[int, ...]) -> httpx.Response:
        """POST /batchtransactions?type=csv: the file as the multipart part ``data``, or a text/csv body."""
        if multipart:
            return self.api.call("POST", "/batchtransactions", params={"type": "csv"}, headers=self._headers(),
                                 files={"data": (self.filename, content, "text/csv")}, expect=expect)
        return self.api.call("POST", "/batchtransactions", params={"type": "csv"}, content=content,
                             headers={**self._headers(), "Content-Type": "text/csv"}, expect=expect)

    def _wait_for(self, at_credit: int, stopping: threading.Event) -> bool:
        while self.driven.done < at_credit and not self.driven.finished.is_set():
            if stopping.wait(0.3):
                return False
        return True

    def run(self, stopping: threading.Event, errors: list[BaseException]) -> None:
        """Submit at the plan's moment, send again at the next; a failure is kept in ``errors``."""
        o = self.outcome
        try:
            if not self._wait_for(self.bulk.at_credit, stopping):
                return
            o.submitted_at_credit = self.driven.done
            o.submitted_at_seconds = round(time.monotonic() - self.started, 1)
            answer = self.submit(self.bulk.csv(), multipart=True, expect=(200, 202))
            o.submitted, o.batch_id = answer.status_code, str(answer.json()["batch_id"])
            self.say(f"bulk batch {o.batch_id} submitted at credit {o.submitted_at_credit} ({len(self.bulk.rows)} "
                     f"rows; answered {o.submitted})")
            if not self._wait_for(self.bulk.again_at_credit, stopping):
                return
            again_at = self.driven.done
            again = self.submit(self.bulk.csv(), multipart=False, expect=(200, 202))
            o.again, o.again_batch_id = again.status_code, str(again.json()["batch_id"])
            conflict = self.submit(self.bulk.conflicting_csv(), multipart=True, expect=(200, 202, 409))
            o.conflict = conflict.status_code
            same = "the same batch" if o.again_batch_id == o.batch_id else f"ANOTHER batch {o.again_batch_id}"
            self.say(f"bulk file sent again at credit {again_at}: answered {o.again} ({same}); other content "
                     f"under its X-CorrelationID: {o.conflict}")
        except BaseException as e:  # the run reports it; the thread must not die silently
            errors.append(e)
        finally:
            self.api.close()

    def summary(self) -> dict[str, Any]:
        """GET /api/v1/batchtransactions/{id}: the batch as the tenant reads it."""
        answer: dict[str, Any] = self.api.json("GET", f"/api/v1/batchtransactions/{self.outcome.batch_id}",
                                               headers={"Platform-TenantId": self.bulk.tenant})
        return answer

    def finish(self, timeout: float) -> dict[str, Any]:
        """Wait (up to ``timeout`` seconds) until the batch is completed or failed; its last summary."""
        started = time.monotonic()
        summary: dict[str, Any] = {}
        try:
            while self.outcome.batch_id is not None:
                summary = self.summary()
                if summary.get("status") in BULK_FINAL or time.monotonic() - started > timeout:
                    break
                time.sleep(1.0)
        finally:
            self.api.close()
        self.outcome.summary = summary
        self.outcome.waited_seconds = round(time.monotonic() - started, 1)
        completed = summary.get("completed_at")
        if isinstance(completed, (int, float)):
            ago = time.time() - completed / 1000
            self.outcome.completed_at_seconds = round(time.monotonic() - ago - self.started, 1)
        return summary
