"""What the bulk tests share: the composition root with its upload storage in a temporary directory and a
worker's traffic counted on the bulk, ledger and bank queues; tenants with their float and wallets; a
worker run until the batch settles, and what a batch and a wallet hold then."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from falcon import testing

from bootstrap import Container, build_container
from tests.integration.helpers import running_worker, settle, traffic_of
from usecases import access, tenants

HEADER = ("id,request_id,payment_mode,payer_identifier_type,payer_identifier,payee_identifier_type,payee_identifier,"
          "amount,currency,note,program_shortcode,cycle")
Bulk = tuple[Container, testing.TestClient]


def make_bulk(settings: Any, clock: Any, tmp_path: Path, **overrides: Any) -> Container:
    """A container whose batches are kept under ``tmp_path`` and whose GSMA callbacks are signed with
    ``cb-secret`` (STP's webhook has a secret of its own)."""
    s = settings.model_copy(update={"bulk_storage_dir": str(tmp_path / "batches"), "webhook_secret": "stp-secret",
                                    "gsma_callback_secret": "cb-secret",
                                    **overrides})
    container = build_container(s, clock=clock)
    container.broker.flush_all()
    container.redis.flushdb()
    traffic_of(container.broker).queues = frozenset({"bulk", "dates", "ledger", "bank"})
    return container


def close(container: Container) -> None:
    container.broker.flush_all()
    container.broker.close()
    container.engine.dispose()


def tenant(container: Container, name: str, config: dict[str, Any], float_amount: str = "0",
           currency: str = "USD", wallets: tuple[str, ...] = ()) -> dict[str, str]:
    """A tenant with its configuration, its float funded and payee wallets made; its key's headers."""
    with container.uow() as uow:
        made = tenants.put(uow, name, config)
        key = tenants.key_for(uow, made.tenant)
        if float_amount != "0":
            tenants.fund(uow, name, float_amount, currency)
        for owner in wallets:
            uow.wallets.lock(made.tenant.id or 0, owner, currency, uow.clock())
        uow.commit()
    return {"Authorization": f"Bearer {key}", "Platform-TenantId": name}


def new_key(container: Container, role: str, owner: str | None = None) -> tuple[int, str]:
    """A key of another role (treasury, admin), with its id; one person per role unless ``owner`` says."""
    with container.uow() as uow:
        key_id, key = access.new_api_key(uow, role, label=f"{role} for the bulk tests",
                                         owner=owner or f"{role}@tests.example")
        uow.commit()
    return key_id, key


def process(container: Container, threads: int = 2) -> None:
    """A worker on the container's queues until nothing is left to do."""
    with running_worker(container, threads) as traffic:
        settle(container, traffic)


def summary(client: testing.TestClient, headers: dict[str, str], batch_id: str) -> dict[str, Any]:
    """The batch's summary, as the tenant reads it."""
    answer = client.simulate_get(f"/api/v1/batchtransactions/{batch_id}", headers=headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json)


def balance(container: Container, tenant_name: str, owner: str, currency: str = "USD") -> int | None:
    """A wallet's balance in minor units; None when it does not exist."""
    with container.uow() as uow:
        t = uow.tenants.get(tenant_name)
        wallet = uow.wallets.find(t.id or 0, owner, currency)
        return None if wallet is None else wallet.balance
