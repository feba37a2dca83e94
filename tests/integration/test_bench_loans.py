"""The loan servicing bench's book writer with small numbers: the loans it writes are a book the run
services (every loan carried to the day, installments falling due, late loans), as the bench times it."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from bench import loans as bench_loans
from bench.db import bench_engine
from bootstrap import build_container
from tests.servicing_factories import sql_shop, sql_tx
from usecases import loan_servicing

pytestmark = pytest.mark.integration


def test_the_bench_book_is_serviced_by_the_run(settings, clock) -> None:
    container = build_container(settings.model_copy(update={"broker": "stub"}), clock=clock)
    shop = sql_shop(container)
    engine = bench_engine(settings.database_url)
    try:
        book = bench_loans.write_book(engine, (shop.merchant_id, shop.store_id, shop.option_id), 3_000,
                                      date(2026, 11, 23))
        with engine.connect() as conn:
            counts = conn.execute(text("SELECT COUNT(*), SUM(status = 'frozen'), SUM(days_past_due > 0), "
                                       "COUNT(DISTINCT customer_id) FROM credits")).one()
            installments = conn.execute(text("SELECT COUNT(*) FROM loan_installments")).scalar()
        assert (counts[0], counts[1], counts[3]) == (3_000, 30, 750) and counts[2] > 100
        assert 6 * 3_000 <= installments <= 12 * 3_000
        tx = sql_tx(container)
        done = [tx(lambda uow: loan_servicing.service_slice(uow, book.as_of, n, 1_000, 30)) for n in range(3)]
        assert sum(d.done.loans for d in done if d) == 3_000
        assert sum(d.done.fell_due for d in done if d) > 0
        sent_at = 0.0
        read = bench_loans.serviced(engine, book.as_of, sent_at)
        assert (read.slices, read.loans) == (3, 3_000) and bench_loans.slices_done(engine, book.as_of) == 3
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM credits WHERE serviced_on = :d"),
                                {"d": book.as_of}).scalar() == 3_000
    finally:
        engine.dispose()
        container.engine.dispose()
