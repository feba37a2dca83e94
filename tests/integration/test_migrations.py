"""The migrations build exactly the schema the code maps (no drift), on MariaDB and on the demo's SQLite,
and every one of them can be undone and done again."""
from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from adapters.db.migrate import alembic_config, current, head, upgrade
from adapters.db.tables import metadata
from tests.conftest import MYSQL_URL

pytestmark = pytest.mark.integration


@pytest.fixture
def scratch_mysql() -> str:
    url = make_url(MYSQL_URL).set(database=f"{make_url(MYSQL_URL).database}_migrations")
    server = create_engine(url.set(database=""))
    with server.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{url.database}`"))
        conn.execute(text(f"CREATE DATABASE `{url.database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    yield url.render_as_string(hide_password=False)
    with server.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{url.database}`"))
    server.dispose()


def drift(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), metadata))
    finally:
        engine.dispose()


@pytest.mark.parametrize("database", ["mariadb", "sqlite"])
def test_the_migrations_build_the_mapped_schema_and_undo_cleanly(database: str, scratch_mysql: str,
                                                                tmp_path: Path) -> None:
    url = scratch_mysql if database == "mariadb" else f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    assert current(url) == head()
    assert drift(url) == []
    command.downgrade(alembic_config(url), "base")
    assert current(url) is None
    upgrade(url)
    assert current(url) == head() and drift(url) == []


def test_fundings_move_onto_an_outside_account_and_the_books_hold(scratch_mysql: str) -> None:
    from adapters.sealing import KEYRING, place

    command.upgrade(alembic_config(scratch_mysql), "0015")
    engine = create_engine(scratch_mysql)
    digest = KEYRING.digest("float")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO tenants (id, name, config, secret, created_at, updated_at) "
                          "VALUES (1, 'ibank', '{}', 's', NOW(), NOW())"))
        conn.execute(text("INSERT INTO wallets (id, tenant_id, owner, owner_digest, currency, balance, created_at) "
                          "VALUES (1, 1, :owner, :digest, 'MXN', 700, NOW())"),
                     {"owner": KEYRING.seal("float", place("wallets", "owner", digest)), "digest": digest})
        for n, amount in enumerate((500, 200)):
            conn.execute(text("INSERT INTO wallet_entries (debit_wallet_id, credit_wallet_id, amount, currency, "
                              "reference, at) VALUES (NULL, 1, :a, 'MXN', :r, NOW())"), {"a": amount, "r": f"fund:{n}"})
    upgrade(scratch_mysql)
    with engine.connect() as conn:
        [outside] = conn.execute(text("SELECT id, balance, owner_digest FROM wallets WHERE outside")).all()
        assert (outside.balance, outside.owner_digest) == (-700, KEYRING.digest("outside"))
        assert conn.execute(text("SELECT DISTINCT debit_wallet_id FROM wallet_entries")).scalars().all() == [outside.id]
    from sqlalchemy.orm import Session
    from usecases.verify_wallets import check_wallets
    with Session(engine) as session:
        assert check_wallets(session) == []
    command.downgrade(alembic_config(scratch_mysql), "0015")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM wallets")).scalar() == 1
        assert conn.execute(text("SELECT COUNT(*) FROM wallet_entries WHERE debit_wallet_id IS NULL")).scalar() == 2
    engine.dispose()


def test_existing_options_get_their_currencys_default_product_and_a_status(scratch_mysql: str) -> None:
    command.upgrade(alembic_config(scratch_mysql), "0017")
    engine = create_engine(scratch_mysql)
    with engine.begin() as conn:
        for merchant, currency in ((1, "MXN"), (2, "USD"), (3, "MXN")):
            conn.execute(text("INSERT INTO merchants (id, name, currency, tax_rate, timezone, status, validated, "
                              "created_at) VALUES (:id, 'M', :c, '0.16', 'America/Mexico_City', 'enabled', 1, NOW())"),
                         {"id": merchant, "c": currency})
            conn.execute(text("INSERT INTO stores (id, merchant_id, name, clabe, beneficiary_name, rfc_curp, currency, "
                              "disbursement_mode, time_of_day, weekday, day_of_month, timezone, minimum_transfer, "
                              "automation_enabled, requires_confirmation, validated, balance, last_sequence, "
                              "created_at) VALUES (:id, :id, 'S', 'x', 'x', '', :c, 'daily', '00:00', 0, 1, "
                              "'America/Mexico_City', 0, 0, 0, 1, 0, 0, NOW())"), {"id": merchant, "c": currency})
        for option, store, validated in ((1, 1, True), (2, 1, False), (3, 2, True), (4, 3, True)):
            conn.execute(text("INSERT INTO payment_options (id, store_id, merchant_id, number_of_payments, "
                              "a0_interest_rate, c3_interest_rate, discount_percentage, merchant_commission, "
                              "first_payment_month_shift, priority, identifier_code, min_amount, max_amount, type, "
                              "is_promo, is_active, can_commission_be_auto_updated, is_in_trial_period, validated, "
                              "created_at) VALUES (:id, :s, :s, 3, '0', '0', '0', '0.05', 0, 0, '', 1, 100, "
                              "'regular', 0, 1, 0, 0, :v, NOW())"), {"id": option, "s": store, "v": validated})
    upgrade(scratch_mysql)
    with engine.connect() as conn:
        products = {r.default_for_currency: r for r in conn.execute(text(
            "SELECT id, name, currency, payment_frequency, status, default_for_currency FROM products"))}
        assert set(products) == {"MXN", "USD"}
        assert (products["MXN"].name, products["MXN"].payment_frequency, products["MXN"].status) == (
            "Default MXN", "monthly", "active")
        options = conn.execute(text("SELECT id, product_id, status FROM payment_options ORDER BY id")).all()
        assert [tuple(o) for o in options] == [(1, products["MXN"].id, "enabled"), (2, products["MXN"].id, "draft"),
                                               (3, products["USD"].id, "enabled"), (4, products["MXN"].id, "enabled")]
    assert drift(scratch_mysql) == []
    command.downgrade(alembic_config(scratch_mysql), "0017")
    with engine.connect() as conn:
        assert "products" not in {r[0] for r in conn.execute(text("SHOW TABLES"))}
        assert conn.execute(text("SELECT COUNT(*) FROM payment_options")).scalar() == 4
    engine.dispose()
