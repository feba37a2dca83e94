"""``dispersa loans verify`` and the loan book in the daily ledger check, on MariaDB: a good book passes; each
kind of violation, planted by altering one stored row, is reported (and the CLI exits 1)."""
from __future__ import annotations

import re
import subprocess
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from adapters.settings import Settings
from bootstrap import build_container
from tests.integration.helpers import REPO, VENV_BIN, cli_env
from tests.servicing_factories import SqlPayments, new_customer, new_loan, pay, sql_shop, sql_tx
from usecases import loan_servicing, verify
from usecases.verify_loans import verify_loans

pytestmark = pytest.mark.integration
START = date(2026, 6, 1)
SERVICED = START + timedelta(days=70)


@pytest.fixture
def books(settings, clock):
    container = build_container(settings.model_copy(update={"broker": "stub"}), clock=clock)
    yield container
    container.engine.dispose()


def a_book(container: Any) -> tuple[int, int]:
    """Two late loans serviced to SERVICED, the first partly paid. Returns their ids."""
    tx = sql_tx(container)
    shop = sql_shop(container)
    customer = tx(lambda uow: new_customer(uow))
    paid = tx(lambda uow: new_loan(uow, shop, customer, START).id)
    unpaid = tx(lambda uow: new_loan(uow, shop, customer, START).id)
    tx(lambda uow: pay(uow, SqlPayments(), uow.credits.lock(paid), START + timedelta(days=35), 150_000))
    tx(lambda uow: loan_servicing.service_slice(uow, SERVICED, 0, 100, 30))
    return paid, unpaid


PLANTS = {
    "an installment's interest state": (
        "UPDATE loan_installments SET interest_state = 'waived' WHERE credit_id = {unpaid} AND number = 1",
        r"loan {unpaid}: installment 1 stored as .* waived; its record gives .* active"),
    "an installment's due date": (
        "UPDATE loan_installments SET due_on = due_on + INTERVAL 1 DAY WHERE credit_id = {unpaid} AND number = 3",
        r"loan {unpaid}: installment 3 stored as due"),
    "a loan's days past due": (
        "UPDATE credits SET days_past_due = days_past_due + 1 WHERE id = {unpaid}",
        r"loan {unpaid}: (\d+) days past due stored, (\d+) as of"),
    "an installment's paid parts": (
        "UPDATE loan_installments SET principal_paid = principal_paid - 1 WHERE credit_id = {paid} AND number = 1",
        r"loan {paid}: installment 1 stored as paid \d+ principal .* the payments standing on .* allocate"),
    "a payment applied in part": (
        "UPDATE repayment_allocations SET interest = interest - 1 WHERE credit_id = {paid} AND installment = 1",
        r"loan {paid}: payment \d+ of 150000 is allocated 149999"),
    "a payment applied to no installment": (
        "UPDATE repayment_allocations SET installment = 99 WHERE credit_id = {paid} AND installment = 6",
        r"loan {paid}: payment \d+ pays installment 99, which its schedule does not have"),
    "a paid loan that owes": (
        "UPDATE credits SET status = 'paid' WHERE id = {unpaid}",
        r"loan {unpaid}: paid but owes principal"),
    "a principal that does not add up": (
        "UPDATE credits SET amount = amount + 1 WHERE id = {unpaid}",
        r"loan {unpaid}: principal 600001 != repaid 0 \+ outstanding 600000"),
    "interest paid that was never charged": (
        "UPDATE loan_installments SET interest_paid = 1 WHERE credit_id = {unpaid} AND number = 5",
        r"loan {unpaid}: installment 5 stored as paid 0 principal \+ 1 interest"),
}


def test_a_good_book_has_no_violation(books) -> None:
    a_book(books)
    report = verify_loans(books.uow, SERVICED + timedelta(days=3))
    assert (report.loans, report.violations) == (2, [])


@pytest.mark.parametrize("plant", list(PLANTS))
def test_each_planted_violation_is_reported(books, plant: str) -> None:
    paid, unpaid = a_book(books)
    sql, expected = PLANTS[plant]
    with books.engine.begin() as conn:
        assert conn.execute(text(sql.format(paid=paid, unpaid=unpaid))).rowcount == 1
    report = verify_loans(books.uow)
    pattern = re.compile(expected.format(paid=paid, unpaid=unpaid))
    assert any(pattern.search(v) for v in report.violations), report.violations


def test_the_cli_prints_a_table_of_violations_and_exits_1(books, settings: Settings) -> None:
    paid, unpaid = a_book(books)
    good = run_cli(settings, "--as-of", "2026-09-01")
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.strip().splitlines()[-1] == "2 loans as of 2026-09-01, 0 violations"
    with books.engine.begin() as conn:
        conn.execute(text(f"UPDATE credits SET days_past_due = 0 WHERE id = {unpaid}"))
    bad = run_cli(settings)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "1 violations" in bad.stdout and "days past due stored" in bad.stdout
    assert bad.stdout.strip().splitlines()[-1].endswith(", 1 violations")
    refused = run_cli(settings, "--as-of", "2026-13-01")
    assert refused.returncode == 2 and "--as-of is a date YYYY-MM-DD" in refused.stderr


def test_the_daily_ledger_check_includes_the_loan_book_and_alerts(books) -> None:
    _, unpaid = a_book(books)
    with books.engine.begin() as conn:
        conn.execute(text(f"UPDATE credits SET days_past_due = 0 WHERE id = {unpaid}"))
    report = verify.check_ledger(books.uow, books.sessions, "daily")
    assert (report.loans, report.loan_violations) == (2, 1)
    assert ", 2 loans, " in report.summary()  # (the test's credits have no contributions: the ledger says so)
    with books.engine.connect() as conn:
        alerts = conn.execute(text("SELECT kind, message FROM event_log WHERE level = 'ALERT' ORDER BY id")).all()
    assert [a.kind for a in alerts] == ["loan_book_violation", "ledger_violation"]
    assert f"loan {unpaid}: 0 days past due stored" in alerts[0].message


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VENV_BIN / "dispersa"), "loans", "verify", *args], cwd=REPO,
                          env=cli_env(settings.database_url), capture_output=True, text=True, timeout=120)
