"""What the scenarios work on: validated stores made through the API as a client makes them, and credits
signed in bulk (the bench's preparation, never timed) with the split the domain computes."""
from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Callable
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import Engine, insert

from bench import db
from bench.context import Run
from testbed import Testbed

CREATE_THREADS = 4
AMOUNTS = tuple(10_000 + 1_000 * k for k in range(50))  # centavos: 100.00 to 590.00 MXN
_accounts = itertools.count(1)


@dataclass(frozen=True)
class StoreSet:
    """A merchant's validated stores, each with its one payment option."""

    label: str
    merchant_id: int
    tax_rate: Decimal
    commission_rate: Decimal
    stores: list[tuple[int, int]]  # (store id, payment option id)

    @property
    def store_ids(self) -> list[int]:
        """The stores' ids."""
        return [store for store, _ in self.stores]

    def id_list(self) -> str:
        """The stores' ids for an SQL ``IN (...)`` (integers only)."""
        return ",".join(str(int(s)) for s in self.store_ids)


def ok(response: httpx.Response, status: int = 200) -> Any:
    """The answer's JSON; RuntimeError naming the call when the status is not the one expected."""
    if response.status_code != status:
        raise RuntimeError(f"{response.request.method} {response.request.url.path} answered {response.status_code}: "
                           f"{response.text[:500]}")
    return response.json()


def far_from_now(zone: str = "America/Mexico_City") -> str:
    """A time of day twelve hours away, so that the scheduler never decides a daily period during the run."""
    return (datetime.now(ZoneInfo(zone)) + timedelta(hours=12)).strftime("%H:%M")


def make_store(api: httpx.Client, merchant_id: int, label: str, n: int,
               store_fields: dict[str, Any]) -> tuple[int, int]:
    """One store with one payment option, both validated by treasury (bottom up)."""
    from domain import clabe

    account = clabe.make("646", "180", f"{next(_accounts):011d}")
    store = ok(api.post(f"/merchants/{merchant_id}/stores", json={
        "name": f"bench {label} {n}", "clabe": account, "beneficiary_name": f"Bench {label} {n}", **store_fields}), 201)
    option = ok(api.post(f"/stores/{store['id']}/payment-options", json={
        "number_of_payments": 6, "merchant_commission": "0.04", "min_amount": 100, "max_amount": 10**8}), 201)
    ok(api.post(f"/payment-options/{option['id']}/validate"))
    ok(api.post(f"/payment-options/{option['id']}/enable"))
    ok(api.post(f"/stores/{store['id']}/validate"))
    return int(store["id"]), int(option["id"])


def make_stores(bed: Testbed, label: str, count: int, update: Callable[[int], None] = lambda n: None,
                **store_fields: Any) -> StoreSet:
    """A validated merchant with ``count`` validated stores (``store_fields`` as the API takes them);
    ``update`` is told how many are made."""
    with bed.api() as api:
        merchant = ok(api.post("/merchants", json={"name": f"bench {label}"}), 201)

    def one(n: int) -> tuple[int, int]:
        with bed.api() as api:
            return make_store(api, merchant["id"], label, n, store_fields)

    stores = []
    with ThreadPoolExecutor(CREATE_THREADS) as pool:
        for made in pool.map(one, range(1, count + 1)):
            stores.append(made)
            update(len(stores))
    stores.sort()
    with bed.api() as api:
        merchant = ok(api.post(f"/merchants/{merchant['id']}/validate"))
    return StoreSet(label, int(merchant["id"]), Decimal(str(merchant["tax_rate"])), Decimal("0.04"), stores)


def store_set(run: Run, label: str, **store_fields: Any) -> StoreSet:
    """The run's number of stores for a scenario, made through the API, with progress."""
    count = run.config.sizes.stores
    with run.reporter.counting(f"{label} stores made", count) as update:
        return make_stores(run.bed, label, count, update, **store_fields)


def sign_credits(engine: Engine, stores: StoreSet, count: int, at: datetime | None = None) -> list[int]:
    """``count`` signed credits spread round robin over the stores, written in bulk with the commission,
    tax and contribution the domain's ``split_credit`` gives; their ids in order."""
    from adapters.db.tables import credits
    from domain.commission import split_credit
    from domain.credits import CreditStatus
    from domain.money import Money

    at = at or db.utc_now()
    rows = []
    for i in range(count):
        store, option = stores.stores[i % len(stores.stores)]
        amount = AMOUNTS[i % len(AMOUNTS)]
        split = split_credit(Money(amount, "MXN"), stores.commission_rate, stores.tax_rate)
        rows.append({"external_id": f"bench-{stores.label}-{i}", "merchant_id": stores.merchant_id, "store_id": store,
                     "payment_option_id": option, "amount": amount, "currency": "MXN", "number_of_payments": 6,
                     "commission_rate": stores.commission_rate, "tax_rate": stores.tax_rate,
                     "commission": split.commission.minor, "tax": split.tax.minor,
                     "contribution": split.contribution.minor, "status": CreditStatus.SIGNED, "signed_at": at,
                     "disbursed": False})
    with engine.begin() as conn:
        for start in range(0, len(rows), 2000):
            conn.execute(insert(credits), rows[start:start + 2000])
    found = db.rows(engine, f"SELECT id FROM credits WHERE store_id IN ({stores.id_list()}) AND status = 'signed' "
                    "ORDER BY id")
    return [int(r[0]) for r in found]


def deliver_in_bulk(bed: Testbed, credit_ids: list[int], update: Callable[[int], None], batch: int = 250) -> None:
    """Deliver credits with the product's own use case (each writes its contribute message to the outbox),
    ``batch`` per transaction: the contributions scenario's preparation."""
    from adapters.clock import utc_now
    from adapters.db.engine import build_engine, session_factory
    from adapters.db.outbox import new_message_id
    from adapters.db.uow import UnitOfWork
    from usecases.credits import deliver

    engine = build_engine(bed.env["DISPERSA_DATABASE_URL"])
    sessions = session_factory(engine)
    try:
        for start in range(0, len(credit_ids), batch):
            with UnitOfWork(sessions, utc_now, new_message_id) as uow:
                for credit_id in credit_ids[start:start + batch]:
                    deliver(uow, credit_id)
                uow.commit()
            update(min(start + batch, len(credit_ids)))
    finally:
        engine.dispose()
