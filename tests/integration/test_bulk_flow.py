"""Bulk batches on MariaDB, RabbitMQ and Redis, through the HTTP API as the seed's curl commands send them:
submitted, split, planned, executed through their connectors and read back."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Iterator

import pytest
from falcon import testing

from bootstrap import Container, build_container, web_app
from domain.tenants import FLOAT
from tests.integration.helpers import count, running_worker, settle, traffic_of
from usecases import access, tenants

pytestmark = pytest.mark.integration

SEED_CSV = Path(__file__).parent.parent / "data" / "ph-ee-bulk-demo-6.csv"


@pytest.fixture
def bulk(settings: Any, clock: Any, tmp_path: Path) -> Iterator[tuple[Container, testing.TestClient]]:
    s = settings.model_copy(update={"bulk_storage_dir": str(tmp_path / "batches"), "webhook_secret": "cb-secret"})
    container = build_container(s, clock=clock)
    container.broker.flush_all()
    container.redis.flushdb()
    traffic_of(container.broker).queues = frozenset({"bulk", "ledger", "bank"})
    yield container, testing.TestClient(web_app(container))
    container.broker.flush_all()
    container.broker.close()
    container.engine.dispose()


def tenant(container: Container, name: str, config: dict[str, Any], float_amount: str = "0",
           currency: str = "USD", wallets: tuple[str, ...] = ()) -> dict[str, str]:
    with container.uow() as uow:
        made = tenants.put(uow, name, config)
        key = tenants.key_for(uow, made.tenant)
        if float_amount != "0":
            tenants.fund(uow, name, float_amount, currency)
        for owner in wallets:
            uow.wallets.lock(made.tenant.id or 0, owner, currency, uow.clock())
        uow.commit()
    return {"Authorization": f"Bearer {key}", "Platform-TenantId": name}


def upload(client: testing.TestClient, headers: dict[str, str], content: bytes, request_id: str,
           **extra: str) -> testing.Result:
    return client.simulate_post("/batchtransactions", params={"type": "csv"}, headers={
        **headers, "X-CorrelationID": request_id, "filename": "ph-ee-bulk-demo-6.csv",
        "Content-Type": "text/csv", **extra}, body=content)


CLOSED = ("id,request_id,payment_mode,payer_identifier_type,payer_identifier,payee_identifier_type,payee_identifier,"
          "amount,currency,note,program_shortcode,cycle\n"
          "0,r0,slcb,accountNumber,003001003874120160,accountNumber,927549027483,850,USD,Pay,MDM,1\n"
          "1,r1,slcb,accountNumber,003001003873110196,accountNumber,927549027483,222.50,USD,Pay,MDM,1\n"
          "2,r2,slcb,accountNumber,003001003873110196,accountNumber,nobody,10,USD,Pay,MDM,1\n")


def test_a_closed_loop_batch_is_paid_from_the_float_into_the_wallets(bulk: tuple[Container, testing.TestClient]) -> None:
    container, client = bulk
    headers = tenant(container, "ibank", {"payment-modes": {"slcb": "closedloop"}}, "5000", wallets=("927549027483",))
    answer = upload(client, headers, CLOSED.encode(), "req-1")
    assert answer.status_code == 202, answer.text
    batch_id = answer.json["batch_id"]
    assert answer.json["status"] == "queued" and answer.json["PollingPath"].endswith(batch_id)
    with running_worker(container) as traffic:
        settle(container, traffic)
    summary = client.simulate_get(f"/api/v1/batchtransactions/{batch_id}", headers=headers).json
    assert summary["status"] == "completed", summary
    assert (summary["total"], summary["successful"], summary["failed"]) == (3, 2, 1)
    assert summary["totalAmount"] == "1082.50" and summary["successfulAmount"] == "1072.50"
    with container.uow() as uow:
        t = uow.tenants.get("ibank")
        assert uow.wallets.find(t.id or 0, FLOAT, "USD").balance == 500_000 - 107_250  # type: ignore[union-attr]
        assert uow.wallets.find(t.id or 0, "927549027483", "USD").balance == 107_250  # type: ignore[union-attr]
    result = client.simulate_get(f"/api/v1/batchtransactions/{batch_id}/result", headers=headers).text
    lines = result.strip().splitlines()
    assert lines[0].endswith("status,error_code,error_description") and len(lines) == 4
    assert lines[3].split(",")[12:14] == ["FAILURE", "PARTY_LOOKUP_FAILED"]
    again = upload(client, headers, CLOSED.encode(), "req-1")
    assert again.status_code == 200 and again.json["batch_id"] == batch_id
    assert upload(client, headers, CLOSED.encode() + b"3,r3,slcb,a,b,c,927549027483,1,USD,,,\n",
                  "req-1").status_code == 409
    assert count(container, "batches") == 1
