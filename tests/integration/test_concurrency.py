"""Two worker processes (the dramatiq CLI, as operations run it) append to one store's ledger at once,
while the test process delivers, cancels, adjusts and asks for transfers: the chain stays 1..N with
no gap and every invariant of ``dispersa ledger verify`` holds."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from adapters.settings import Settings
from tests.conftest import FakeClock
from tests.integration.helpers import (
    LEDGER_QUEUE, WorkerProcesses, actor_failures, cancel, count, deliver, new_store, originate,
    rows, unpublished, wait_until, worker_env,
)
from usecases import ledger
from usecases.verify import verify_all
from adapters.relay import Relay
from bootstrap import Container, relay as relay_of

pytestmark = pytest.mark.integration
CREDITS = 150
CHUNK = 10


@pytest.fixture
def worker_processes(container: Container, settings: Settings, tmp_path: Path) -> Iterator[WorkerProcesses]:
    """Two ``dramatiq workers.main --processes 1 --threads 4 --queues ledger``; always stopped."""
    procs = WorkerProcesses(worker_env(settings), tmp_path)
    try:
        procs.start(2, threads=4)
        wait_until(lambda: all("ready for action" in procs.stderr(i) for i in range(2)), 60,
                   "both worker processes to boot", check=procs.check_alive)
        yield procs
    finally:
        procs.stop()


def all_done(container: Container, relay: Relay, delivered: int, cancelled: int, manual_keys: list[str]) -> bool:
    relay.drain()  # actors record follow-up messages (a transfer's bank step) that the relay publishes
    transfers = {r.trigger_key for r in rows(container, "SELECT trigger_key FROM bank_transfers")}
    skipped = " ".join(r.message for r in rows(container, "SELECT message FROM event_log "
                                                          "WHERE kind = 'transfer_skipped'"))
    return (count(container, "balance_updates", "type = 'contribution'") == delivered
            and count(container, "balance_updates", "type = 'credit_cancellation'") == cancelled
            and all(k in transfers or k in skipped for k in manual_keys)
            and unpublished(container) == 0)


def progress(container: Container, procs: WorkerProcesses) -> str:
    found = rows(container, "SELECT type, COUNT(*) AS n FROM balance_updates GROUP BY type")
    return (f"balance updates by type: {[tuple(r) for r in found]}; unpublished outbox rows: "
            f"{unpublished(container)}; failures: {actor_failures(container)[:5]}\n{procs.stderr_tails()}")


def test_two_worker_processes_keep_the_chain_intact(container: Container, worker_processes: WorkerProcesses,
                                                     clock: FakeClock) -> None:
    store = new_store(container)
    credit_ids = [originate(container, store, f"conc-{i}", 50_000 + 137 * i) for i in range(CREDITS)]
    relay = relay_of(container)
    cancelled: list[int] = []
    adjustments = 0
    manual_keys: list[str] = []
    for start in range(0, CREDITS, CHUNK):
        chunk = credit_ids[start:start + CHUNK]
        for credit_id in chunk:
            deliver(container, credit_id)
        for credit_id in chunk[::4]:  # cancelled at once: the cancel message races the contribute message
            cancel(container, credit_id, "returned")
            cancelled.append(credit_id)
        with container.uow() as uow:  # treasury appends to the same chain from this process
            ledger.adjust(uow, store, 1_000 + start if start % 20 else -(500 + start), admin_id=1, note="concurrent")
            if start % 50 == 0:
                clock.now = clock.now.replace(second=start // 50)  # a distinct manual key each time
                manual_keys.append(ledger.request_transfer(uow, store))
            uow.commit()
        adjustments += 1
        relay.drain()
        worker_processes.check_alive()

    wait_until(lambda: all_done(container, relay, CREDITS, len(cancelled), manual_keys), 90,
               "every contribution, cancellation and transfer", check=worker_processes.check_alive,
               diagnose=lambda: progress(container, worker_processes))

    report = verify_all(container.sessions)
    assert report.violations == [], "\n".join(report.violations)
    sequences = [r.sequence for r in rows(container, "SELECT sequence FROM balance_updates WHERE store_id = :s "
                                                     "ORDER BY sequence", s=store)]
    transfers = count(container, "bank_transfers")
    disbursements = 0  # no bank in this issue: no transfer is liquidated
    assert sequences == list(range(1, CREDITS + len(cancelled) + adjustments + disbursements + 1))
    assert rows(container, "SELECT credit_id FROM balance_updates WHERE credit_id IS NOT NULL "
                           "GROUP BY credit_id, type HAVING COUNT(*) > 1") == []
    assert {r.credit_id for r in rows(container, "SELECT credit_id FROM balance_updates "
                                                 "WHERE type = 'credit_cancellation'")} == set(cancelled)
    assert transfers >= 1, "at least one manual transfer found money to pay"
    assert container.broker.get_queue_message_counts(LEDGER_QUEUE)[2] == 0, "no message was dead-lettered"
    failures = actor_failures(container)
    assert failures == [], "\n".join(failures) + "\n" + worker_processes.stderr_tails()
