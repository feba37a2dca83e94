"""`dispersa batch submit` and `dispersa batch status`, the real console script against MariaDB: a tenant made
and funded with the CLI, the seed's sample file submitted straight to the database and followed to the end
by a real worker process and relay; the same file again is the same batch; bad input is one line, exit 2,
and nothing stored."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
from pathlib import Path
from typing import IO, Iterator

import pytest

from adapters.settings import Settings
from bootstrap import Container
from tests.integration.helpers import REPO, VENV_BIN, count, rows, wait_until, worker_env
from usecases.bulk_files_io import request_id_of

pytestmark = pytest.mark.integration

SEED_CSV = Path(__file__).parent.parent / "data" / "ph-ee-bulk-demo-6.csv"
CONFIG = ("payment-modes: {slcb: closedloop}\n"
          "partylookup.enable: false\n"  # the payees' wallets are made as they are paid
          "splitting:\n  sub-batch-size: 3\n")


def dispersa(env: dict[str, str], *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VENV_BIN / "dispersa"), *argv], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)


def errors(done: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in done.stderr, done.stderr
    return [line for line in done.stderr.splitlines() if line.startswith("error:")]


@pytest.fixture
def env(container: Container, settings: Settings, tmp_path: Path) -> dict[str, str]:
    """The environment of the CLI, the worker and the relay: the test services, storage in a tmp dir."""
    return worker_env(settings, DISPERSA_BULK_STORAGE_DIR=str(tmp_path / "batches"),
                      DISPERSA_WORKER_METRICS_PORT="0")


@pytest.fixture
def ibank(env: dict[str, str], tmp_path: Path) -> str:
    """The tenant ibank-usa, made and funded with the CLI: slcb rows paid through the closed loop."""
    (tmp_path / "ibank.yaml").write_text(CONFIG)
    made = dispersa(env, "tenant", "create", "ibank-usa", "--config", str(tmp_path / "ibank.yaml"))
    assert made.returncode == 0, made.stderr
    funded = dispersa(env, "tenant", "fund", "ibank-usa", "10000", "USD")
    assert funded.returncode == 0, funded.stderr
    return "ibank-usa"


@pytest.fixture
def processes(env: dict[str, str], tmp_path: Path) -> Iterator[None]:
    """A dramatiq worker on the bulk queue and the outbox relay, as the Procfile runs them; always stopped."""
    started: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []
    commands = {"worker": [str(VENV_BIN / "dramatiq"), "workers.main", "--processes", "1", "--threads", "4",
                           "--queues", "bulk"],
                "relay": [str(VENV_BIN / "python"), "-m", "workers.relay"]}
    try:
        for name, command in commands.items():
            log = open(tmp_path / f"{name}.log", "w+b")
            started.append((subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                             start_new_session=True), log))
        worker, _ = started[0]

        def alive() -> None:
            for proc, _ in started:
                if proc.poll() is not None:
                    raise AssertionError(f"{proc.args} exited with {proc.returncode}:\n{logs(tmp_path)}")

        wait_until(lambda: "ready for action" in (tmp_path / "worker.log").read_text(errors="replace"), 60,
                   "the worker to boot", check=alive, diagnose=lambda: logs(tmp_path))
        yield
    finally:
        for proc, _ in started:
            _signal(proc, signal.SIGTERM)
        for proc, log in started:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                _signal(proc, signal.SIGKILL)
                proc.wait(timeout=10)
            log.close()


def _signal(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def logs(tmp_path: Path) -> str:
    return "\n".join(f"--- {p.name} ---\n{p.read_text(errors='replace')[-3000:]}" for p in tmp_path.glob("*.log"))


def table_parts(text: str) -> dict[str, tuple[list[str], list[str]]]:
    """The summary table as printed, by its first column: each part's line of counts, then the line under it
    of their amounts (both as stripped cells after the label)."""
    lines = [[cell.strip() for cell in line.split("│")[1:-1]] for line in text.splitlines() if line.startswith("│")]
    return {line[0]: (line[1:], below[1:]) for line, below in zip(lines, lines[1:]) if line[0]}


def stored_files(env: dict[str, str]) -> list[Path]:
    root = Path(env["DISPERSA_BULK_STORAGE_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_the_seed_file_is_submitted_followed_to_the_end_and_the_same_file_again_is_the_same_batch(
        container: Container, env: dict[str, str], ibank: str, processes: None, tmp_path: Path) -> None:
    done = dispersa(env, "batch", "submit", str(SEED_CSV), "--tenant", ibank, "--purpose", "payroll", "--wait",
                    "--timeout", "90")
    assert done.returncode == 0, done.stdout + done.stderr + logs(tmp_path)
    assert errors(done) == [] and "database: " in done.stderr and "received" in done.stderr
    [batch_id] = [r.batch_id for r in rows(container, "SELECT batch_id FROM batches")]
    out = done.stdout
    progress = [line for line in out.splitlines() if line.startswith(f"batch {batch_id}: ")]
    assert progress and progress[-1] == f"batch {batch_id}: completed, 12 of 12 rows settled", out
    table = out[out.index(progress[-1]) + len(progress[-1]):]  # the summary comes after the progress
    assert f"batch {batch_id}: completed" in table
    parts = table_parts(table)
    assert parts["batch"] == (["slcb", "completed", "12", "4", "8", "0"], ["", "", "6432.00", "2144.00", "4288.00",
                                                                          "0.00"]), table
    # the seed's four slcb rows in sub-batches of 3; its mojaloop and gsma rows are not configured: failed
    assert parts["sub-batch 0"][0][0] == parts["sub-batch 1"][0][0] == "slcb → closedloop", table
    assert parts["sub-batch 0"][0][2:] == ["3", "3", "0", "0"] and parts["sub-batch 0"][1][2:4] == ["1922.00"] * 2
    assert parts["sub-batch 1"][0][2:] == ["1", "1", "0", "0"] and parts["sub-batch 1"][1][2:4] == ["222.00"] * 2
    assert len(parts) == 3 and "33.33 % successful" in table and "amount in USD" in table
    assert count(container, "audit_log", "action = 'submit_batch'") == 1
    [batch] = rows(container, "SELECT request_id, submitted_by_key_id, source, filename, purpose, stored_at "
                              "FROM batches")
    assert batch.submitted_by_key_id is None and (batch.source, batch.filename, batch.purpose) == (
        "csv", SEED_CSV.name, "payroll")
    assert batch.request_id == request_id_of(hashlib.sha256(SEED_CSV.read_bytes()).hexdigest())  # a uuid5
    assert (Path(env["DISPERSA_BULK_STORAGE_DIR"]) / batch.stored_at).read_bytes() == SEED_CSV.read_bytes()

    again = dispersa(env, "batch", "submit", str(SEED_CSV), "--tenant", ibank)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == batch_id and "nothing new" in again.stderr
    assert count(container, "batches") == 1

    shown = dispersa(env, "batch", "status", batch_id)
    assert shown.returncode == 0, shown.stderr
    assert f"batch {batch_id}: completed" in shown.stdout and "sub-batch 1" in shown.stdout
    as_json = dispersa(env, "batch", "status", batch_id, "--json")
    assert as_json.returncode == 0, as_json.stderr
    summary = json.loads(as_json.stdout)
    assert (summary["status"], summary["total"], summary["successful"], summary["failed"], summary["ongoing"]) == (
        "completed", 12, 4, 8, 0)
    assert (summary["totalAmount"], summary["successfulAmount"], summary["successPercentage"]) == (
        "6432.00", "2144.00", "33.33")
    assert summary["request_id"] == batch.request_id and len(summary["subBatches"]) == 2


def test_without_wait_the_batch_id_is_the_last_line_and_a_json_array_is_submitted_as_its_csv(
        container: Container, env: dict[str, str], ibank: str, tmp_path: Path) -> None:
    items = [{"creditParty": [{"key": "accountNumber", "value": "927549027483"}],
              "debitParty": [{"key": "accountNumber", "value": "003001003874120160"}],
              "paymentMode": "slcb", "amount": "850.50", "currency": "USD", "descriptionText": "Pay"}]
    (tmp_path / "raw.json").write_text(json.dumps(items))
    done = dispersa(env, "batch", "submit", str(tmp_path / "raw.json"), "--tenant", ibank, "--request-id", "r-1")
    assert done.returncode == 0, done.stderr
    batch_id = done.stdout.strip().splitlines()[-1]
    [batch] = rows(container, "SELECT batch_id, request_id, source, status, stored_at FROM batches")
    assert (batch.batch_id, batch.request_id, batch.source, batch.status) == (batch_id, "r-1", "raw", "queued")
    stored = (Path(env["DISPERSA_BULK_STORAGE_DIR"]) / batch.stored_at).read_text()
    assert stored.splitlines()[0].startswith("id,request_id,payment_mode") and ",850.50,USD,Pay," in stored
    shown = dispersa(env, "batch", "status", batch_id)
    assert shown.returncode == 0 and f"batch {batch_id}: queued" in shown.stdout
    # no worker runs here: waiting gives up after --timeout, exit 1, the batch left as it is
    waited = dispersa(env, "batch", "submit", str(tmp_path / "raw.json"), "--tenant", ibank, "--request-id", "r-1",
                      "--wait", "--timeout", "1")
    assert waited.returncode == 1 and "still queued after 1 s" in waited.stderr, waited.stderr
    assert waited.stdout.splitlines() == [f"batch {batch_id}: queued, 0 of ? rows settled"]
    # the same request id with other content is refused before anything is stored
    other = tmp_path / "other.csv"
    other.write_text(SEED_CSV.read_text().replace("850,USD", "851,USD"))
    before = stored_files(env)
    clash = dispersa(env, "batch", "submit", str(other), "--tenant", ibank, "--request-id", "r-1")
    assert clash.returncode == 2 and len(errors(clash)) == 1 and "other content" in clash.stderr
    assert stored_files(env) == before and count(container, "batches") == 1


@pytest.mark.parametrize("content, words", [
    ("id,request_id,payment_mode,colour\n0,r,slcb,red\n", "colour"),  # an unknown column, required ones missing
    (SEED_CSV.read_text().splitlines()[0] + "\n", "no payments"),
    ("", "is empty"),
])
def test_a_bad_file_is_one_line_exit_2_and_nothing_stored(container: Container, env: dict[str, str], ibank: str,
                                                          tmp_path: Path, content: str, words: str) -> None:
    (tmp_path / "bad.csv").write_text(content)
    done = dispersa(env, "batch", "submit", str(tmp_path / "bad.csv"), "--tenant", ibank)
    assert done.returncode == 2 and words in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and errors(done)  # checked before any database is used
    assert done.stdout == "" and count(container, "batches") == 0 and stored_files(env) == []


def test_a_dated_file_for_a_tenant_outside_the_dates_trial_is_one_line_exit_2_and_nothing_stored(
        container: Container, env: dict[str, str], ibank: str, tmp_path: Path) -> None:
    header, row = SEED_CSV.read_text().splitlines()[:2]
    (tmp_path / "dated.csv").write_text(f"{header},date\n{row},2026-12-14\n")
    done = dispersa(env, "batch", "submit", str(tmp_path / "dated.csv"), "--tenant", ibank)
    assert done.returncode == 2 and len(errors(done)) == 1, done.stderr
    assert "column date" in done.stderr and "dates.enable is off" in done.stderr
    assert done.stdout == "" and count(container, "batches") == 0 and stored_files(env) == []


def test_bad_input_is_one_error_line_and_exit_2(container: Container, env: dict[str, str], ibank: str,
                                                tmp_path: Path) -> None:
    cases = [
        (("batch", "submit", str(tmp_path / "missing.csv"), "--tenant", ibank), {}, "no such file"),
        (("batch", "submit", str(SEED_CSV), "--tenant", "nobody"), {}, "tenant 'nobody' does not exist"),
        (("batch", "submit", str(SEED_CSV), "--tenant", ibank), {"DISPERSA_BULK_MAX_BYTES": "100"},
         "larger than DISPERSA_BULK_MAX_BYTES"),
        (("batch", "submit", str(SEED_CSV), "--tenant", ibank, "--callback-url", "ftp://x"), {}, "--callback-url"),
        (("batch", "submit", str(SEED_CSV), "--tenant", ibank, "--callback-url", "http://169.254.169.254/x"), {},
         "metadata"),
        (("batch", "status", "00000000-0000-0000-0000-000000000000"), {}, "does not exist"),
        (("batch", "status", "nonsense"), {}, "does not exist"),
    ]
    for argv, extra, words in cases:
        done = dispersa({**env, **extra}, *argv)
        assert done.returncode == 2, (argv, done.stdout, done.stderr)
        assert len(errors(done)) == 1 and words in done.stderr, (argv, done.stderr)
    assert count(container, "batches") == 0 and stored_files(env) == []
