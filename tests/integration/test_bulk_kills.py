"""A bulk worker killed (SIGKILL) again and again in the middle of its sub-batches: every redelivered
sub-batch picks up where the last committed chunk left it, and no row is paid twice."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest
from falcon import testing

from adapters.sealing import KEYRING
from bootstrap import Container, build_container, web_app
from tests.integration.helpers import REPO, VENV_BIN, RelayThread, isolated_settings, rows, scalar, worker_env
from usecases import tenants
from usecases.verify import verify_all

pytestmark = pytest.mark.integration
ROWS = 3000


@pytest.fixture
def services(db_url: str, tmp_path: Path) -> Iterator[tuple[Container, Path]]:
    settings = isolated_settings(db_url, bulk_storage_dir=str(tmp_path / "batches"), max_retries=50,
                                 min_backoff_ms=20, max_backoff_ms=200)
    container = build_container(settings)
    container.broker.flush_all()
    container.redis.flushdb()
    yield container, tmp_path
    container.broker.flush_all()
    container.broker.close()
    container.engine.dispose()


def _worker(container: Container, tmp_path: Path, n: int) -> subprocess.Popen[bytes]:
    env = worker_env(container.settings, DISPERSA_BULK_STORAGE_DIR=container.settings.bulk_storage_dir,
                     DISPERSA_WORKER_METRICS_PORT="0")
    log = open(tmp_path / f"worker-{n}.log", "wb")
    return subprocess.Popen([str(VENV_BIN / "dramatiq"), "workers.main", "--processes", "1", "--threads", "4",
                             "--queues", "bulk"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)


def test_killing_the_bulk_worker_mid_sub_batch_pays_no_row_twice(services: tuple[Container, Path]) -> None:
    container, tmp_path = services
    with container.uow() as uow:
        made = tenants.put(uow, "payroll", {"payment-modes": {"wallet": "closedloop"}, "partylookup.enable": False,
                                            "splitting.sub-batch-size": 100})
        key = tenants.key_for(uow, made.tenant)
        tenants.fund(uow, "payroll", "1000000", "MXN")
        uow.commit()
    content = "id,payment_mode,payee_identifier_type,payee_identifier,amount,currency\n" + "".join(
        f"{i},wallet,accountid,employee-{i % 700},{10 + i % 90}.{i % 100:02d},MXN\n" for i in range(ROWS))
    expected = sum((10 + i % 90) * 100 + i % 100 for i in range(ROWS))
    client = testing.TestClient(web_app(container))
    answer = client.simulate_post("/batchtransactions", params={"type": "csv"}, body=content.encode(), headers={
        "Authorization": f"Bearer {key}", "Platform-TenantId": "payroll", "X-CorrelationID": "payroll-2026-12",
        "Content-Type": "text/csv"})
    assert answer.status_code == 202, answer.text
    batch_id = answer.json["batch_id"]

    relay = RelayThread(container).start()
    kills, n = 0, 0
    worker = _worker(container, tmp_path, n)
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline:
            status = scalar(container, "SELECT status FROM batches WHERE batch_id = :b", b=batch_id)
            if status in ("completed", "failed"):
                break
            paid = scalar(container, "SELECT COUNT(*) FROM wallet_entries WHERE reference LIKE :p", p=f"{batch_id}:%")
            if kills < 6 and 0 < paid < ROWS:
                time.sleep(0.05 * (kills + 1))
                _kill(worker)
                kills += 1
                n += 1
                worker = _worker(container, tmp_path, n)
            time.sleep(0.1)
    finally:
        _kill(worker)
        relay.stop()
    assert kills >= 3, "the worker was not killed mid-batch: the test did not test anything"
    assert scalar(container, "SELECT status FROM batches WHERE batch_id = :b", b=batch_id) == "completed", \
        (tmp_path / f"worker-{n}.log").read_text()[-3000:]
    [paid] = rows(container, "SELECT COUNT(*) AS n, COUNT(DISTINCT reference) AS once, SUM(amount) AS total "
                             "FROM wallet_entries WHERE reference LIKE :p", p=f"{batch_id}:%")
    assert (paid.n, paid.once, int(paid.total)) == (ROWS, ROWS, expected)
    assert scalar(container, "SELECT COUNT(*) FROM instructions WHERE status = 'success'") == ROWS
    assert scalar(container, "SELECT balance FROM wallets WHERE owner_digest = :d", d=KEYRING.digest("float")) == 100_000_000 - expected
    assert verify_all(container.sessions).violations == []
