"""DISPERSA_BULK_PARALLEL_SUB_BATCHES on MariaDB, RabbitMQ and Redis: a batch keeps the number it was
planned with, and every step that queues a sub-batch (the plan, the approval, each sub-batch done, the
sweep) follows it, so that all its sub-batches run without the sweep and never more than that many at
once."""
from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import dramatiq
import pytest
from falcon import testing

from bootstrap import Container, web_app
from tests.integration.bulk_support import HEADER, close, make_bulk, new_key, process, summary, tenant
from tests.integration.helpers import execute, rows, scalar
from usecases import bulk_sweeps

pytestmark = pytest.mark.integration
SUB_BATCHES = 7
CONFIG = {"partylookup.enable": False, "payment-modes": {"slcb": "closedloop"}, "splitting.sub-batch-size": 1}


class Running(dramatiq.Middleware):
    """How many sub-batches of a batch run at once, at most: as each one starts, those started before and
    not done yet (as the database says), itself included. Each start is held a moment, so that overlaps
    would show."""

    def __init__(self, container: Container) -> None:
        self.container, self.lock, self.started, self.peak = container, threading.Lock(), set[int](), 0

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        if message.actor_name != "execute_sub_batch":
            return
        batch_id, number = message.args
        with self.lock:
            self.started.add(number)
            done = {int(r.number) for r in rows(
                self.container, "SELECT s.number FROM sub_batches s JOIN batches b ON b.id = s.batch_pk "
                                "WHERE b.batch_id = :b AND s.status = 'done'", b=batch_id)}
            self.peak = max(self.peak, len(self.started - done))
        time.sleep(0.05)


Bulk = tuple[Container, testing.TestClient, Running]


@pytest.fixture(params=[1, 2, 3], ids=lambda n: f"{n}-at-once")
def bulk(request: Any, settings: Any, clock: Any, tmp_path: Path) -> Iterator[Bulk]:
    container = make_bulk(settings, clock, tmp_path, bulk_parallel_sub_batches=request.param)
    running = Running(container)
    container.broker.add_middleware(running)
    yield container, testing.TestClient(web_app(container)), running
    close(container)


def upload(client: testing.TestClient, headers: dict[str, str], request_id: str) -> str:
    lines = [f"{i},r{i},slcb,accountNumber,003001003874120160,accountNumber,p{i},1,USD,Pay {i},MDM,1"
             for i in range(SUB_BATCHES)]
    answer = client.simulate_post("/batchtransactions", params={"type": "csv"}, body="\n".join([HEADER, *lines]) + "\n",
                                  headers={**headers, "X-CorrelationID": request_id, "Content-Type": "text/csv"})
    assert answer.status_code == 202, answer.text
    return str(answer.json["batch_id"])


def executions(container: Container, batch_id: str) -> list[int]:
    """The sub-batches queued, in the order they were queued."""
    return [int(r.number) for r in rows(container, "SELECT JSON_EXTRACT(args, '$[1]') AS number FROM outbox "
                                                   "WHERE actor_name = 'execute_sub_batch' "
                                                   "AND JSON_UNQUOTE(JSON_EXTRACT(args, '$[0]')) = :b ORDER BY id",
                                        b=batch_id)]


def all_ran_without_the_sweep(container: Container, client: testing.TestClient, headers: dict[str, str],
                              batch_id: str, running: Running, parallel: int) -> None:
    process(container, threads=parallel + 2)
    s = summary(client, headers, batch_id)
    assert (s["status"], s["successful"], len(s["subBatches"])) == ("completed", SUB_BATCHES, SUB_BATCHES), s
    queued = executions(container, batch_id)
    assert queued[:parallel] == list(range(parallel))  # the first wave
    assert sorted(queued) == list(range(SUB_BATCHES))  # then each one done queued one more, each once
    assert 1 <= running.peak <= parallel
    assert scalar(container, "SELECT parallel_sub_batches FROM batches WHERE batch_id = :b", b=batch_id) == parallel


def test_every_sub_batch_runs_without_the_sweep_never_more_than_the_setting_at_once(bulk: Bulk) -> None:
    container, client, running = bulk
    parallel = container.settings.bulk_parallel_sub_batches
    headers = tenant(container, "many", CONFIG, "100")
    batch_id = upload(client, headers, "many")
    all_ran_without_the_sweep(container, client, headers, batch_id, running, parallel)


def test_an_approved_batch_runs_as_many_at_once_as_when_it_was_planned(bulk: Bulk) -> None:
    container, client, running = bulk
    parallel = container.settings.bulk_parallel_sub_batches
    headers = tenant(container, "approved", {**CONFIG, "approval.enable": True}, "100")
    _, treasury = new_key(container, "treasury")
    batch_id = upload(client, headers, "approved")
    process(container)
    assert summary(client, headers, batch_id)["status"] == "awaiting_approval"
    answer = client.simulate_post(f"/api/v1/batchtransactions/{batch_id}/approve", headers={
        "Authorization": f"Bearer {treasury}", "Platform-TenantId": "approved"})
    assert answer.status_code == 200, answer.text
    all_ran_without_the_sweep(container, client, headers, batch_id, running, parallel)


def test_the_sweep_drives_no_more_sub_batches_than_the_batch_runs_at_once(bulk: Bulk, clock: Any) -> None:
    container, client, _ = bulk
    parallel = container.settings.bulk_parallel_sub_batches
    headers = tenant(container, "stuck", CONFIG, "100")
    batch_id = upload(client, headers, "stuck")
    process(container)
    # as if every message after the plan had been lost: one sub-batch executing, the others pending
    execute(container, "UPDATE sub_batches s JOIN batches b ON b.id = s.batch_pk SET s.status = 'pending' "
                       "WHERE b.batch_id = :b", b=batch_id)
    execute(container, "UPDATE sub_batches s JOIN batches b ON b.id = s.batch_pk SET s.status = 'executing' "
                       "WHERE b.batch_id = :b AND s.number = 0", b=batch_id)
    execute(container, "UPDATE batches SET status = 'processing', settled = 0 WHERE batch_id = :b", b=batch_id)
    clock.now += timedelta(hours=1)
    with container.uow() as uow:
        found = bulk_sweeps.sweep_batches(uow, clock(), timedelta(minutes=15))
        uow.commit()
    assert found["sub_batches"] == parallel  # the executing one, and pending ones up to the batch's number
