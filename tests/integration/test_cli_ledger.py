"""``dispersa ledger verify`` as an operator runs it, against books written by the real actors:
a summary line and exit 0 on good books; a line per violation and exit 1 once a balance is corrupted."""
from __future__ import annotations

import re
import subprocess
from typing import Iterator

import pytest

from adapters.settings import Settings
from tests.integration.helpers import (
    REPO, VENV_BIN, Traffic, cancel, cli_env, count, delivered_credits, execute, new_store, rows,
    running_worker, settle,
)
from usecases import ledger
from bootstrap import Container

pytestmark = pytest.mark.integration
SUMMARY = re.compile(r"^(\d+) stores, (\d+) balance updates, (\d+) transfers, \d+ batches, \d+ loans, (\d+) violations$")


@pytest.fixture
def traffic(container: Container) -> Iterator[Traffic]:
    with running_worker(container) as t:
        yield t


def verify(database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VENV_BIN / "dispersa"), "ledger", "verify"], cwd=REPO, env=cli_env(database_url),
                          capture_output=True, text=True, timeout=120)


def books(container: Container, traffic: Traffic) -> int:
    """Two stores: a daily one with a cancellation and a transfer treasury asked for, an instant one
    paid on each contribution. Returns the daily store's id."""
    daily = new_store(container)
    credits = delivered_credits(container, daily, [100_000, 200_000, 300_000], prefix="daily")
    settle(container, traffic)
    cancel(container, credits[1])
    with container.uow() as uow:
        ledger.request_transfer(uow, daily)
        uow.commit()
    instant = new_store(container, disbursement_mode="instant")
    for i, amount in enumerate((50_000, 70_000)):  # one at a time: one transfer each
        delivered_credits(container, instant, [amount], prefix=f"instant{i}")
        settle(container, traffic)
    return daily


def test_ledger_verify_on_good_and_corrupted_books(container: Container, traffic: Traffic,
                                                   settings: Settings) -> None:
    store = books(container, traffic)
    expected = (count(container, "stores"), count(container, "balance_updates"), count(container, "bank_transfers"))
    assert expected == (2, 6, 3)

    good = verify(settings.database_url)
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.strip().splitlines() == [f"{expected[0]} stores, {expected[1]} balance updates, "
                                                f"{expected[2]} transfers, 0 batches, 0 loans, 0 violations"]

    [first] = rows(container, "SELECT id, new_balance FROM balance_updates WHERE store_id = :s AND sequence = 1",
                   s=store)
    execute(container, "UPDATE balance_updates SET new_balance = new_balance + 1 WHERE id = :b", b=first.id)

    bad = verify(settings.database_url)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    *violations, summary = bad.stdout.strip().splitlines()
    found = SUMMARY.match(summary)
    assert found, summary
    assert tuple(int(g) for g in found.groups()[:3]) == expected
    assert int(found.group(4)) == len(violations) >= 2
    assert f"store {store}: BU {first.id} new_balance {first.new_balance + 1} != previous 0 + amount " \
           f"{first.new_balance}" in violations
    assert all(line.startswith(f"store {store}: ") for line in violations), violations


def test_stp_sign_takes_stps_own_json_with_monto_as_a_number(tmp_path):
    import json as json_

    from adapters.bank.signer import Verifier, generate_key_pair

    private, public = generate_key_pair("frase")
    (tmp_path / "k.pem").write_bytes(private)
    order = {"institucionContraparte": 40012, "empresa": "DISPERSA", "claveRastreo": "DSP123", "monto": 1.2,
             "tipoPago": 1, "cuentaBeneficiario": "012180000000000000", "nombreBeneficiario": "Ana",
             "referenciaNumerica": 1234567, "conceptoPago": "Pago", "rfcCurpBeneficiario": "ND"}
    for monto in (1.2, "1.20", 1.20):
        run = subprocess.run([str(VENV_BIN / "dispersa"), "stp", "sign", "--key", str(tmp_path / "k.pem"),
                              "--passphrase", "frase"], input=json_.dumps({**order, "monto": monto}), text=True,
                             capture_output=True, cwd=REPO, env=cli_env(""))
        assert run.returncode == 0, run.stderr
        signed = json_.loads(run.stdout)
        assert "|1.20|" in signed["cadena_original"] and "|40012|DISPERSA|" in signed["cadena_original"]
        assert Verifier.from_pem(public).verify(signed["cadena_original"], signed["firma"])


def dispersa(*args: str, env: dict[str, str], cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VENV_BIN / "dispersa"), *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_without_a_database_url_the_cli_says_so_in_one_line_and_creates_nothing(tmp_path):
    for command in (("apikey", "create", "--role", "admin", "--owner", "ana@example.com"), ("ledger", "verify"), ("apikey", "list")):
        run = dispersa(*command, env=cli_env(""), cwd=tmp_path)
        assert run.returncode == 2
        assert run.stderr.strip().startswith("error: DISPERSA_DATABASE_URL is not set")
        assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_unmigrated_or_unreachable_database_is_one_clear_line(tmp_path, migrated_db):
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    empty = make_url(migrated_db).set(database="dispersa_test_unmigrated")
    engine = create_engine(empty.set(database=""))
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{empty.database}`"))
        conn.execute(text(f"CREATE DATABASE `{empty.database}`"))
    engine.dispose()
    run = dispersa("apikey", "create", "--role", "admin", "--owner", "ana@example.com", env=cli_env(empty.render_as_string(False)), cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.splitlines()[0] == f"database: {empty.render_as_string(hide_password=True)}"
    assert run.stderr.splitlines()[1].startswith("error: the database") and "run `dispersa db upgrade`" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 2
    nowhere = "mysql+pymysql://root@127.0.0.1:1/nowhere"
    run = dispersa("ledger", "verify", env=cli_env(nowhere), cwd=tmp_path)
    assert run.returncode == 2 and run.stderr.splitlines()[1].startswith("error: cannot reach the database")
    assert "Traceback" not in run.stderr


def test_every_command_says_which_database_it_used_and_keys_are_listed_and_revoked(db_url, tmp_path):
    run = dispersa("apikey", "create", "--role", "treasury", "--owner", "Luis@Example.com", "--label", "tesorería",
                   env=cli_env(db_url),
                   cwd=tmp_path)
    assert run.returncode == 0 and run.stderr.startswith("database: mysql+pymysql://root@127.0.0.1")
    key = run.stdout.strip().splitlines()[-1]
    assert key.startswith("dsp_")
    listed = dispersa("apikey", "list", env=cli_env(db_url), cwd=tmp_path)
    assert listed.returncode == 0 and key[:12] in listed.stdout and "treasury" in listed.stdout
    assert "luis@example.com" in listed.stdout
    assert key not in listed.stdout
    revoked = dispersa("apikey", "revoke", "1", env=cli_env(db_url), cwd=tmp_path)
    assert (revoked.returncode, revoked.stdout.strip()) == (0, "API key 1 revoked")
    assert "revoked" in dispersa("apikey", "revoke", "1", env=cli_env(db_url), cwd=tmp_path).stdout
    missing = dispersa("apikey", "revoke", "99", env=cli_env(db_url), cwd=tmp_path)
    assert missing.returncode == 2 and "API key 99 does not exist" in missing.stderr
