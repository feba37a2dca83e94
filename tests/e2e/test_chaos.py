"""`dispersa chaos --quick` as a user runs it: the Procfile's processes and the sandbox under injected
faults, then the books proved. It must pass, having injected faults, with no ledger violation, no
difference from the bank's books, no order paid twice and no money lost; and its bulk batch of SPEI and
closed-loop rows, submitted while the faults were injected, completed with no row paid twice and its
totals the money that moved."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import MYSQL_URL

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


def chaos_testbed_name() -> str:
    """A testbed beside the test database (``<test db>_chaos``), so that runs against other test
    databases, and a `dispersa chaos` of someone's own, do not share a database or a vhost."""
    database = str(make_url(MYSQL_URL).database)
    return f"{database.removeprefix('dispersa_')}_chaos"


@pytest.mark.timeout(900)
def test_chaos_quick_injects_faults_and_the_books_still_prove(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPERSA_")}
    report = tmp_path / "chaos.json"
    done = subprocess.run([REPO / ".venv" / "bin" / "dispersa", "chaos", "--quick", "--seed", "11",
                           "--name", chaos_testbed_name(), "--redis-db", "10", "--workdir", str(tmp_path / "work"),
                           "--out", str(report)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=840)
    out = done.stdout
    assert done.returncode == 0, out[-6000:] + done.stderr[-3000:]
    assert "Faults injected" in out and "Ledger violations (dispersa ledger verify)" in out
    assert ", 0 violations (exit 0)" in out
    assert "PASSED: " in out and "FAILED" not in out

    data = json.loads(report.read_text())
    assert data["ok"] is True and data["failures"] == []
    assert data["faults"]["total"] >= 10
    assert all(f["ok"] for f in data["faults"]["injected"])
    assert {k.split(":")[0] for k in data["faults"]["by_kind"]} == {"kill", "rabbitmq", "mysql"}
    assert data["faults"]["crashes"] == []
    assert data["verify"]["exit_code"] == 0 and data["verify"]["violations"] == []
    books = data["books"]
    assert books["compared"] > 0 and books["mismatches"] == [] and books["paid_twice"] == []
    assert books["sent_twice"] == [] and data["money_lost"] == 0
    assert sum(data["bank_faults"].values()) > 0, "the sandbox's scenario injected bank faults too"

    bulk = data["bulk"]
    assert bulk["status"] == "completed" and bulk["problems"] == []
    assert bulk["rows"] == 100 and bulk["spei_rows"] > 0 and bulk["closedloop_rows"] > 0
    assert bulk["api"]["total"] == bulk["rows"] and bulk["api"]["ongoing"] == 0
    assert bulk["api"]["successful"] + bulk["api"]["failed"] == bulk["rows"]
    assert bulk["api"]["totalAmount"] == bulk["planned_total"]
    assert bulk["submitted"] in (200, 202)  # 200: a retry (the web killed) found the batch made
    assert (bulk["again"], bulk["same_batch_again"], bulk["conflict"]) == (200, True, 409)
    assert bulk["tenant_batches"] == 1
    assert bulk["paid_twice"] == 0 and bulk["sent_twice"] == 0 and bulk["twice"] == [] and bulk["orphan_orders"] == 0
    assert bulk["row_mismatches"] == []
    # every closed-loop row payable, each paid once out of the float; the SPEI rows paid out of it too
    assert bulk["by_status"].get("closedloop success") == bulk["closedloop_rows"]
    assert bulk["closedloop_success"] == bulk["closedloop_success_api"] == bulk["closedloop_entries"] > 0
    assert bulk["spei_success"] == bulk["spei_success_api"] == bulk["bank_liquidated"]
    assert bulk["float_decrease"] == bulk["closedloop_success"] + bulk["spei_success"]
    assert sum(bulk["faults_in_flight"].values()) >= 1, "no fault landed on the batch while it executed"
    assert "The bulk batch against the API, the wallet ledger and the bank" in out
