"""Payee accounts and names sealed at rest on MariaDB: nothing stored shows them, everything reads them
back, a new key rotates in beside live data (`dispersa keys rotate`), and migration 0011 seals and
unseals rows that were already there."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest
from alembic import command
from falcon import testing
from sqlalchemy import create_engine, text

from adapters.db.migrate import alembic_config, upgrade
from adapters.db.rekeying import survey_or_rotate
from adapters.sealing import KEYRING, Misplaced, generate_key, place
from bootstrap import Container, web_app
from tests.conftest import TEST_DATA_KEYS
from tests.integration.bulk_support import HEADER, close, make_bulk, tenant
from tests.integration.helpers import (
    REPO, VENV_BIN, cli_env, database_at, rows, running_worker, settle, traffic_of,
)
from tests.integration.orders import order_in_sending
from usecases import queries

pytestmark = pytest.mark.integration

CLABE = "646180000000000025"
NAME = "Ana Ruiz Pérez"
PHONE = "5215512345678"
PAYER = "003001003874120160"


@pytest.fixture
def bulk(settings: Any, clock: Any, tmp_path: Path) -> Iterator[Container]:
    container = make_bulk(settings, clock, tmp_path)
    traffic_of(container.broker).queues = frozenset({"bulk", "dates", "ledger"})  # the order stays unsent
    yield container
    close(container)


@pytest.fixture
def keys_restored() -> Iterator[None]:
    yield
    KEYRING.load(TEST_DATA_KEYS)


def payee_data(container: Container) -> tuple[int, str]:
    """A store paid by a payment order, and a closed-loop batch paying PHONE (its note NAME); the store
    id and the batch id."""
    order_in_sending(container, clabe=CLABE, beneficiary_name=NAME)
    headers = tenant(container, "acme", {"payment-modes": {"slcb": "closedloop"}}, "100", wallets=(PHONE,))
    body = f"{HEADER}\n0,r0,slcb,accountNumber,{PAYER},msisdn,{PHONE},10,USD,{NAME},MDM,1\n"
    answer = testing.TestClient(web_app(container)).simulate_post(
        "/batchtransactions", params={"type": "csv"}, body=body.encode(),
        headers={**headers, "X-CorrelationID": "sealed-1", "filename": "sealed.csv", "Content-Type": "text/csv"})
    assert answer.status_code == 202, answer.text
    with running_worker(container) as traffic:
        settle(container, traffic)
    [store_id] = [r.id for r in rows(container, "SELECT id FROM stores")]
    return store_id, str(answer.json["batch_id"])


def stored(container: Container) -> str:
    """Every stored value of the sealed columns, as the database holds them."""
    found = rows(container, "SELECT clabe, beneficiary_name, validated_clabe, validated_beneficiary_name FROM stores")
    found += rows(container, "SELECT beneficiary_account, beneficiary_name FROM payment_orders")
    found += rows(container, "SELECT payee_identifier, fields FROM instructions")
    found += rows(container, "SELECT owner, owner_digest FROM wallets")
    return json.dumps([list(map(str, r)) for r in found], ensure_ascii=False)


def test_nothing_stored_shows_a_payee_and_every_reader_gets_them_back(bulk: Container) -> None:
    store_id, batch_id = payee_data(bulk)
    raw = stored(bulk)
    for secret in (CLABE, NAME, "Ana", "Perez", PHONE, PAYER):
        assert secret not in raw
    assert 'payment_mode\\": \\"slcb' in raw  # the rest of a bulk row stays plain, for SQL to order by
    with bulk.uow() as uow:
        store = uow.stores.get(store_id)
        assert (store.clabe, store.validated_clabe, store.beneficiary_name) == (CLABE, CLABE, NAME)
        [order] = uow.orders.on_day(uow.orders.of_transfer(
            rows(bulk, "SELECT id FROM bank_transfers")[0].id).operation_date)
        assert (order.beneficiary_account, order.beneficiary_name) == (CLABE, "Ana Ruiz Perez")  # STP's ASCII
        row = uow.instructions.page(uow.batches.get(batch_id).id or 0, -1, 10)[0]
        assert (row.payee_identifier, row.fields["note"], row.fields["payer_identifier"]) == (PHONE, NAME, PAYER)
        assert row.status.value == "success"
        acme = uow.tenants.get("acme")
        assert uow.wallets.find(acme.id or 0, PHONE, "USD") is not None
        shown = queries.store(uow, store_id, None)
    assert (shown["clabe"], shown["validated_clabe"]) == ("**************0025",) * 2
    assert (shown["beneficiary_name"], shown["validated_beneficiary_name"]) == ("A*** R*** P***",) * 2


def keys(*args: str, data_keys: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**cli_env(database_url), "DISPERSA_DATA_KEYS": data_keys}
    return subprocess.run([str(VENV_BIN / "dispersa"), "keys", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def test_a_new_key_rotates_in_beside_the_data_and_the_old_one_can_then_go(bulk: Container, keys_restored: None) -> None:
    store_id, batch_id = payee_data(bulk)
    url = bulk.settings.database_url
    new = generate_key()
    KEYRING.load(f"{new},{TEST_DATA_KEYS}")  # step 2 of docs/keys.md: the new key first, the old one after
    with bulk.uow() as uow:
        acme = uow.tenants.get("acme").id or 0
        wallet = uow.wallets.find(acme, PHONE, "USD")
        assert wallet is not None
        assert uow.wallets.lock(acme, PHONE, "USD", uow.clock()).id == wallet.id  # found, not made again
        uow.commit()
    before = {(t.table, t.column): t for t in survey_or_rotate(bulk.engine, resealing=False)}
    assert before["stores", "clabe"].values == 1 and before["stores", "clabe"].current == 0
    assert before["instructions", "fields"].values == 3  # payer, payee and note of the one row

    status = keys("status", data_keys=f"{new},{TEST_DATA_KEYS}", database_url=url)
    assert status.returncode == 0 and "still under an older key" in status.stdout, status.stdout + status.stderr
    rotated = keys("rotate", data_keys=f"{new},{TEST_DATA_KEYS}", database_url=url)
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    assert "older keys can be dropped" in rotated.stdout and "re-sealed" in rotated.stdout

    KEYRING.load(new)  # step 4: the old key dropped
    after = survey_or_rotate(bulk.engine, resealing=False)
    assert all(t.current == t.values and t.unreadable == 0 for t in after)
    with bulk.uow() as uow:
        assert uow.stores.get(store_id).clabe == CLABE
        assert uow.wallets.lock(acme, PHONE, "USD", uow.clock()).id == wallet.id  # its digest moved too
        row = uow.instructions.page(uow.batches.get(batch_id).id or 0, -1, 10)[0]
        assert row.fields["payee_identifier"] == PHONE
    # the float, the outside account its funding came out of, and PHONE's, never a fourth
    assert rows(bulk, "SELECT COUNT(*) AS n FROM wallets")[0].n == 3

    lost = keys("status", data_keys=TEST_DATA_KEYS, database_url=url)
    assert lost.returncode == 1 and "not in DISPERSA_DATA_KEYS" in lost.stderr
    missing = keys("status", data_keys="", database_url=url)
    assert missing.returncode == 2 and "DISPERSA_DATA_KEYS is not set" in missing.stderr


# --- migration 0011 on rows that were already there ------------------------------------------------

@pytest.fixture(params=["mariadb", "sqlite"])
def at_0010(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_at(request.param, "0010", "sealing", tmp_path) as address:
        yield address


PLAIN_ROWS = [
    "INSERT INTO stores (id, merchant_id, name, clabe, beneficiary_name, rfc_curp, currency, disbursement_mode, "
    "time_of_day, weekday, day_of_month, timezone, minimum_transfer, automation_enabled, requires_confirmation, "
    "validated, validated_clabe, validated_beneficiary_name, balance, last_sequence, created_at) VALUES (1, 1, 'S', "
    f"'{CLABE}', '{NAME}', '', 'MXN', 'daily', '10:00', 0, 1, 'America/Mexico_City', 0, 1, 0, 1, '{CLABE}', "
    f"'{NAME}', 0, 0, CURRENT_TIMESTAMP)",
    "INSERT INTO payment_orders (id, uetr, tracking_key, source, status, amount, currency, beneficiary_account, "
    "beneficiary_name, beneficiary_rfc_curp, beneficiary_institution, concept, numeric_reference, operation_date, "
    f"attempts, created_at) VALUES (1, 'u-1', 'DSP1', 'store_transfer', 'created', 100, 'MXN', '{CLABE}', '{NAME}', "
    "'', '90646', 'pago', 1000001, '20261201', 0, CURRENT_TIMESTAMP)",
    "INSERT INTO instructions (id, batch_pk, `row`, instruction_id, fields, payment_mode, payee_identifier, currency, "
    f"status, created_at, updated_at, uetr) VALUES (1, 1, 0, 'i-0', '{{\"payee_identifier\": \"{PHONE}\", "
    f"\"note\": \"{NAME}\", \"payment_mode\": \"slcb\"}}', 'slcb', '{PHONE}', 'USD', 'success', CURRENT_TIMESTAMP, "
    "CURRENT_TIMESTAMP, 'u-2')",
    "INSERT INTO tenants (id, name, config, secret, created_at, updated_at) VALUES (1, 'acme', '{}', 's', "
    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",  # 0016 makes it an outside account for the funding below
    f"INSERT INTO wallets (id, tenant_id, owner, currency, balance, created_at) VALUES (1, 1, '{PHONE}', 'USD', 5, "
    "CURRENT_TIMESTAMP)",
    "INSERT INTO wallet_entries (id, credit_wallet_id, amount, currency, reference, at) VALUES (1, 1, 5, 'USD', 'f-1', "
    "CURRENT_TIMESTAMP)",  # a child row: SQLite's rebuilt wallets table must not refuse it
    "INSERT INTO payment_events (id, uetr, kind, at, details, projected) VALUES (1, 'u-1', 'initiated', "
    f"CURRENT_TIMESTAMP, '{{\"payee_account\": \"{CLABE}\", \"amount\": 100}}', 1)",
    "INSERT INTO audit_log (id, at, role, action, resource, resource_id, details) VALUES (1, CURRENT_TIMESTAMP, "
    f"'treasury', 'validate_store', 'store', '1', '{{\"validated\": {{\"beneficiary_name\": \"{NAME}\", "
    "\"clabe\": \"646***********0025\"}}')",
]


def test_migration_0011_seals_the_rows_already_there_and_its_downgrade_unseals_them(at_0010: str) -> None:
    """0011 seals the plain rows (a value a stopped run sealed already is sealed once); 0015 then binds every
    token to its row, as the tokens read here show, and the downgrades undo both."""
    engine = create_engine(at_0010)
    sealed_before = KEYRING.seal_unbound(CLABE)  # as a run of 0011 that stopped half way left it
    try:
        with engine.begin() as conn:
            if engine.dialect.name != "sqlite":
                conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
            for sql in PLAIN_ROWS:
                conn.execute(text(sql))
            if engine.dialect.name != "sqlite":  # the column as the stopped run left it: TEXT, its value sealed
                conn.execute(text("ALTER TABLE stores MODIFY validated_clabe TEXT"))
            conn.execute(text("UPDATE stores SET validated_clabe = :v"), {"v": sealed_before})
        upgrade(at_0010)
        with engine.connect() as conn:
            store = conn.execute(text("SELECT id, clabe, beneficiary_name, validated_clabe FROM stores")).one()
            order = conn.execute(text("SELECT uetr, beneficiary_account, beneficiary_name FROM payment_orders")).one()
            row = conn.execute(text("SELECT uetr, payee_identifier, fields FROM instructions")).one()
            wallet = conn.execute(text("SELECT owner, owner_digest FROM wallets WHERE id = 1")).one()  # not 0016's
            # outside account, which its funding now comes out of
            event = json.loads(conn.execute(text("SELECT details FROM payment_events")).scalar())
            audit = json.loads(conn.execute(text("SELECT details FROM audit_log")).scalar())
        assert CLABE not in str(store) + str(order) and PHONE not in str(row) + str(wallet)
        opened = [KEYRING.unseal(getattr(store, c), place("stores", c, store.id))
                  for c in ("clabe", "beneficiary_name", "validated_clabe")]
        opened += [KEYRING.unseal(getattr(order, c), place("payment_orders", c, order.uetr))
                   for c in ("beneficiary_account", "beneficiary_name")]
        assert opened == [CLABE, NAME, CLABE, CLABE, NAME]  # sealed once, each bound to its row
        with pytest.raises(Misplaced):
            KEYRING.unseal(store.clabe, place("stores", "validated_clabe", store.id))
        fields = json.loads(row.fields)
        assert KEYRING.unseal(row.payee_identifier, place("instructions", "payee_identifier", row.uetr)) == PHONE
        assert KEYRING.unseal(fields["payee_identifier"], place("instructions", "fields.payee_identifier")) == PHONE
        assert KEYRING.unseal(fields["note"], place("instructions", "fields.note")) == NAME
        assert fields["payment_mode"] == "slcb"
        assert KEYRING.unseal(wallet.owner, place("wallets", "owner", wallet.owner_digest)) == PHONE
        assert wallet.owner_digest == KEYRING.digest(PHONE)
        assert event == {"payee_account": "**************0025", "amount": 100}
        assert audit["validated"]["beneficiary_name"] == "A*** R*** P***"

        command.downgrade(alembic_config(at_0010), "0010")
        with engine.connect() as conn:
            assert tuple(conn.execute(text("SELECT clabe, beneficiary_name FROM stores")).one()) == (CLABE, NAME)
            assert conn.execute(text("SELECT owner FROM wallets")).scalar() == PHONE
            assert json.loads(conn.execute(text("SELECT fields FROM instructions")).scalar())["note"] == NAME
            assert conn.execute(text("SELECT COUNT(*) FROM wallet_entries")).scalar() == 1
    finally:
        engine.dispose()
