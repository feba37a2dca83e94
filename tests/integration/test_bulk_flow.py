"""Bulk batches on MariaDB, RabbitMQ and Redis, through the HTTP API as the seed's curl commands send them:
submitted, split, planned, executed through their connectors and read back."""
from __future__ import annotations

from pathlib import Path

import pytest
from falcon import testing

from bootstrap import Container
from domain.tenants import FLOAT
from tests.integration.bulk_support import tenant
from tests.integration.helpers import count, running_worker, settle

pytestmark = pytest.mark.integration

SEED_CSV = Path(__file__).parent.parent / "data" / "ph-ee-bulk-demo-6.csv"


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
