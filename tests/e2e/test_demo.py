"""`dispersa demo` as a user runs it: the embedded stack, the sandbox in process, the ledger check;
piped, it says how far it got; the same seed plays the same week."""
from __future__ import annotations

import os
import re
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


def test_the_demo_pays_out_and_ends_with_a_passing_ledger_check(tmp_path):
    done = demo(tmp_path, "first")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert [line for line in out.splitlines() if line.startswith("day ")][-1].startswith("day 7 of 7 simulated")
    assert "bank orders paid" in out and "Each day reconciled with the bank's books" in out
    reconciled = out[out.index("Each day reconciled"):]
    assert re.search(r"│\s+2026-1[12]-\d\d │", reconciled) and not re.search(r"2026\d{4}", reconciled), \
        "dates read as dates"
    assert "balance = pending + in transit" in out
    assert out.strip().splitlines()[-1].endswith("0 violations — ledger check passed")
    assert "database: sqlite:///" in done.stderr
    assert "same type twice" not in done.stdout + done.stderr  # one worker, its middleware added once
    assert not (tmp_path / "dispersa-demo.db").exists()

    again = demo(tmp_path, "second")
    assert again.returncode == 0
    summary = [line for line in out.splitlines() if "balance updates" in line]
    assert summary == [line for line in again.stdout.splitlines() if "balance updates" in line]
    tables = out[out.index("Stores after"):]
    assert tables == again.stdout[again.stdout.index("Stores after"):], "the same seed plays the same week"
