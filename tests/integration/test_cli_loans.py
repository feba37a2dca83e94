"""``dispersa loans`` as an operator runs it: a loan as of a day as a table, a move audited via the terminal,
a refused move or a bad date one line and exit 2 with nothing changed."""
from __future__ import annotations

import subprocess

import pytest

from bootstrap import Container
from tests.integration.helpers import REPO, VENV_BIN, cli_env, rows, scalar
from tests.integration.test_loan_actors import delivered_loan

pytestmark = pytest.mark.integration


def dispersa(container: Container, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VENV_BIN / "dispersa"), "loans", *args], cwd=REPO,
                          env=cli_env(container.settings.database_url), capture_output=True, text=True, timeout=120)


def test_an_operator_reads_and_moves_a_loan_from_the_terminal(container: Container) -> None:
    loan_id = str(delivered_loan(container))
    shown = dispersa(container, "show", loan_id, "--as-of", "2027-01-02")
    assert shown.returncode == 0, shown.stderr
    first = shown.stdout.splitlines()[0]
    assert first == (f"loan {loan_id} (act-loan) of customer 1: active; as of 2027-01-02: active, 10 days past due "
                     "(1-15)")
    assert "principal outstanding" in shown.stdout and "300000" in shown.stdout and "3 installments" in shown.stdout

    frozen = dispersa(container, "move", loan_id, "freeze", "--detail", "huracan")
    assert frozen.returncode == 0, frozen.stderr
    assert f"loan {loan_id} (act-loan) of customer 1: frozen" in frozen.stdout
    refused = dispersa(container, "move", loan_id, "resolve_dispute")
    assert refused.returncode == 2 and "frozen cannot resolve_dispute" in refused.stderr and refused.stdout == ""
    automatic = dispersa(container, "move", loan_id, "settle")
    assert automatic.returncode == 2 and "platform's own" in automatic.stderr
    bad_day = dispersa(container, "show", loan_id, "--as-of", "2027-02-30")
    assert bad_day.returncode == 2 and "not a date" in bad_day.stderr
    far = dispersa(container, "show", loan_id, "--as-of", "9999-12-31")
    assert far.returncode == 2 and "from 2000 to 2099" in far.stderr
    assert dispersa(container, "show", "999").returncode == 2

    assert scalar(container, "SELECT status FROM credits WHERE id = :c", c=loan_id) == "frozen"
    audit = rows(container, "SELECT action, role, details FROM audit_log WHERE resource = 'loan'")
    assert [(a, r) for a, r, _ in audit] == [("move_loan", "system")]
    assert '"via": "cli ' in audit[0][2] and '"detail": "huracan"' in audit[0][2]
    assert scalar(container, "SELECT actor FROM loan_status_history WHERE event = 'freeze'").startswith("cli")
