"""The closed loop's books on MariaDB: ``dispersa ledger verify`` finds a wallet whose balance is not its
entries, money made out of nothing, and an entry across tenants; the CHECK constraints refuse a balance
below zero, an entry of no amount and one that pays its own wallet."""
from __future__ import annotations

import subprocess

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from adapters.settings import Settings
from bootstrap import Container
from tests.integration.bulk_support import Bulk, process, summary, tenant
from tests.integration.helpers import REPO, VENV_BIN, cli_env, execute, scalar
from usecases.verify import verify_all

pytestmark = pytest.mark.integration
PAYEE = "5512345678"


def funded_books(bulk: Bulk, name: str = "ibank") -> int:
    """A tenant funded with 1,000.00 MXN whose closed-loop batch paid 300.00 into a payee's wallet (by the
    bulk workers); returns the payee wallet's id."""
    return funded_tenant(bulk, name)[0]


def funded_tenant(bulk: Bulk, name: str) -> tuple[int, dict[str, str]]:
    """funded_books, and the headers of the tenant's key."""
    container, client = bulk
    headers = tenant(container, name, {"payment-modes": {"monedero": "closedloop"}}, "1000", currency="MXN",
                     wallets=(PAYEE,))
    answer = client.simulate_post("/batchtransactions", params={"type": "csv"}, headers={
        **headers, "X-CorrelationID": f"{name}-1", "Content-Type": "text/csv"}, body=(
        "id,payment_mode,payee_identifier_type,payee_identifier,amount,currency\n"
        f"0,monedero,accountid,{PAYEE},300,MXN\n").encode())
    assert answer.status_code == 202, answer.text
    process(container)
    assert summary(client, headers, answer.json["batch_id"])["successful"] == 1
    return int(scalar(container, "SELECT id FROM wallets WHERE balance = 30000 AND tenant_id = "
                                 "(SELECT id FROM tenants WHERE name = :n)", n=name)), headers


def violations(container: Container) -> list[str]:
    return verify_all(container.sessions).violations


def test_verify_finds_a_balance_that_is_not_its_entries_and_money_out_of_nothing(bulk: Bulk, settings: Settings) -> None:
    container, _ = bulk
    payee = funded_books(bulk)
    assert violations(container) == []
    execute(container, "UPDATE wallets SET balance = balance + 1 WHERE id = :w", w=payee)
    found = violations(container)
    assert any(f"MXN wallet {payee} (******5678): balance 30001, its entries bring in 30000 and take out 0" in v
               for v in found), found
    assert any("MXN wallets hold 100001; funded 100000 less paid out 0 is 100000" in v for v in found), found
    assert all(PAYEE not in v for v in found)  # a payee is shown by its last four digits

    done = subprocess.run([str(VENV_BIN / "dispersa"), "ledger", "verify"], cwd=REPO,
                          env=cli_env(settings.database_url), capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "its entries bring in 30000 and take out 0" in done.stdout


def test_verify_finds_an_entry_across_tenants(bulk: Bulk) -> None:
    container, _ = bulk
    payee = funded_books(bulk)
    other = funded_books(bulk, "otro")
    execute(container, "UPDATE wallet_entries SET credit_wallet_id = :o WHERE credit_wallet_id = :p", o=other, p=payee)
    found = violations(container)
    assert any("(MXN): from tenant 1's MXN wallet to tenant 2's MXN wallet" in v for v in found), found
    assert scalar(container, "SELECT balance FROM wallets WHERE id = :w", w=payee) == 30_000


@pytest.mark.parametrize("statement", [
    "UPDATE wallets SET balance = -1 WHERE id = :w",
    "UPDATE wallet_entries SET amount = 0 WHERE credit_wallet_id = :w",
    "UPDATE wallet_entries SET debit_wallet_id = credit_wallet_id WHERE credit_wallet_id = :w",
    "UPDATE wallet_entries SET debit_wallet_id = NULL WHERE credit_wallet_id = :w",
])
def test_the_database_refuses_what_the_books_forbid(bulk: Bulk, statement: str) -> None:
    container, _ = bulk
    payee = funded_books(bulk)
    with pytest.raises((IntegrityError, OperationalError)):
        execute(container, statement, w=payee)
    assert violations(container) == []


def test_the_outside_account_alone_goes_below_zero(bulk: Bulk) -> None:
    container, _ = bulk
    funded_books(bulk)
    assert scalar(container, "SELECT balance FROM wallets WHERE outside") == -100_000
    with pytest.raises((IntegrityError, OperationalError)):
        execute(container, "UPDATE wallets SET outside = FALSE WHERE outside")
