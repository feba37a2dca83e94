"""`dispersa demo` as a user runs it: the embedded stack, the sandbox in process, the ledger check;
piped, it says how far it got; the same seed plays the same week."""
from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


def demo(tmp_path: Path, name: str, seed: int = 5) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPERSA_")}
    database = f"sqlite:///{tmp_path / f'{name}.db'}"
    return subprocess.run([REPO / ".venv" / "bin" / "dispersa", "demo", "--credits", "40", "--seed", str(seed),
                           "--database", database], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One demo run both tests read (the lender's months are part of every run)."""
    where = tmp_path_factory.mktemp("demo")
    return where, demo(where, "first")


def test_the_demo_pays_out_and_ends_with_a_passing_ledger_check(first_run, tmp_path):
    where, done = first_run
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert [line for line in out.splitlines() if line.startswith("day ")][-1].startswith("day 7 of 7 simulated")
    assert "bank orders paid" in out and "Each day reconciled with the bank's books" in out
    reconciled = out[out.index("Each day reconciled"):]
    assert re.search(r"│\s+2026-1[12]-\d\d │", reconciled) and not re.search(r"2026\d{4}", reconciled), \
        "dates read as dates"
    assert "balance = pending + in transit" in out
    assert "13 loans, 0 violations — ledger check passed" in out  # the daily check's loan book part too
    assert out.strip().splitlines()[-1] == "loans verify: 13 loans as of 2027-03-18, 0 violations — loan book " \
                                           "check passed"
    assert "database: sqlite:///" in done.stderr
    assert "same type twice" not in done.stdout + done.stderr  # one worker, its middleware added once
    assert not (where / "dispersa-demo.db").exists()

    again = demo(tmp_path, "second")
    assert again.returncode == 0
    summary = [line for line in out.splitlines() if "balance updates" in line]
    assert summary == [line for line in again.stdout.splitlines() if "balance updates" in line]
    tables = out[out.index("Stores after"):]
    assert tables == again.stdout[again.stdout.index("Stores after"):], "the same seed plays the same week"


def rows_of(out: str, title: str) -> dict[str, list[str]]:
    """A printed table's rows by their first cell."""
    table = out[out.index(title):].split("└")[0]
    cells = [[c.strip() for c in line.strip("│ ").split("│")] for line in table.splitlines() if line.startswith("│")]
    return {row[0]: row[1:] for row in cells}


def test_the_lenders_months_reach_every_bucket_and_status_and_a_clean_loan_book(first_run):
    where, done = first_run
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert [line for line in out.splitlines() if line.startswith("lender's day")][-1] == \
        "lender's day 106 of 106 (Wed 2027-03-17)"
    buckets = rows_of(out, "The loan book on 2027-03-18")
    assert {b: n for b, (n, _) in buckets.items()} == {
        "healthy": "4", "1-15": "2", "16-30": "2", "31-60": "1", "61-90": "3", "90+": "1"}
    assert buckets["90+"][1] == "3,000.00"  # a loan never paid owes all its principal
    assert rows_of(out, "Customers by status") == {
        "blocked": ["1"], "deleted": ["1"], "disabled": ["3"], "enabled": ["7"], "unregistered": ["1"]}
    assert rows_of(out, "Loans by status") == {"active": ["9"], "cancelled": ["1"], "paid": ["3"]}
    assert rows_of(out, "Repayments by status") == {"completed (accepted)": ["18"], "completed (reversed)": ["2"]}
    assert re.search(r"refused request: customer \d+ is unregistered: it may not request loan", out)
    assert "on day 22 customer fraud is blocked" in out
    assert "on day 45 customer cured is disabled (a loan 38 days late)" in out
    assert "customer cured is enabled again after paying" in out

    db = sqlite3.connect(where / "first.db")
    pii = "first_name, last_name, second_last_name, phone, email, address, national_id"
    assert db.execute(f"SELECT {pii} FROM customers WHERE status = 'deleted'").fetchall() == [(None,) * 7]
    events = dict(db.execute("SELECT event, count(*) FROM customer_status_history GROUP BY event").fetchall())
    assert events["fell_past_due"] >= 3 and events["cured"] >= 1 and events["fraud_cancellation"] == 1
    moves = dict(db.execute("SELECT event, count(*) FROM loan_status_history GROUP BY event").fetchall())
    assert {e: moves.get(e) for e in ("freeze", "unfreeze", "open_dispute", "resolve_dispute", "cancel", "settle",
                                      "reopen")} == {
        "freeze": 1, "unfreeze": 1, "open_dispute": 1, "resolve_dispute": 1, "cancel": 1, "settle": 4, "reopen": 1}
    runs = db.execute("SELECT count(DISTINCT as_of) FROM loan_servicing_runs").fetchone()[0]
    assert runs == 106  # the scheduler's run, every day
