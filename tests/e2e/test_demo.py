"""`dispersa demo` as a user runs it: the embedded stack, the sandbox in process, the ledger check."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


def test_the_demo_pays_out_and_ends_with_a_passing_ledger_check(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPERSA_")}
    database = f"sqlite:///{tmp_path / 'demo.db'}"
    done = subprocess.run([REPO / ".venv" / "bin" / "dispersa", "demo", "--credits", "40", "--seed", "5",
                           "--database", database], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "orders liquidated" in out and "Reconciliation with the bank's books" in out
    assert out.strip().splitlines()[-1].endswith("0 violations — ledger check passed")
