"""The Procfile's processes (gunicorn, dramatiq, scheduler, relay) and `dispersa sandbox`, started as
a user would, drive stores from credits to liquidated transfers over HTTP."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from adapters.bank.signer import generate_key_pair
from domain import clabe
from domain.commission import split_credit
from domain.money import Money
from tests.conftest import TEST_DATA_KEYS
from tests.e2e.support import BIN, REPO, Processes, free_port, fresh_database, ok, wait_for
from tests.integration.helpers import rabbitmq_url_for
from web.limits import BODY_METHODS
from web.routes import ROUTES

pytestmark = pytest.mark.e2e
BODY_SECONDS, HEADER_SECONDS = 4, 5  # DISPERSA_BODY_READ_SECONDS here, and DISPERSA_WEB_KEEPALIVE_SECONDS' default
MX = ZoneInfo("America/Mexico_City")
FINAL = {"applied", "cancelled", "rejected"}


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    work = tmp_path_factory.mktemp("e2e")
    url = fresh_database("e2e")
    private, public = generate_key_pair("e2e-frase")
    (work / "stp.pem").write_bytes(private)
    (work / "stp.pub").write_bytes(public)
    (work / "empty.env").write_text("")
    web_port, bank_port, metrics_port, secret = free_port(), free_port(), free_port(), "secreto-e2e"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPERSA_")}
    env.update({
        "PATH": f"{BIN}:{env.get('PATH', '')}",
        "DISPERSA_DATABASE_URL": url.render_as_string(hide_password=False),
        "DISPERSA_BROKER": "rabbitmq",
        "DISPERSA_DATA_KEYS": TEST_DATA_KEYS,
        "DISPERSA_RABBITMQ_URL": rabbitmq_url_for(url.database),
        "DISPERSA_REDIS_URL": "redis://127.0.0.1:6379/14",
        "DISPERSA_WEB_BIND": f"127.0.0.1:{web_port}",
        "DISPERSA_STP_BASE_URL": f"http://127.0.0.1:{bank_port}",
        "DISPERSA_STP_EFWS_URL": f"http://127.0.0.1:{bank_port}",
        "DISPERSA_STP_PRIVATE_KEY_PATH": str(work / "stp.pem"),
        "DISPERSA_STP_PASSPHRASE": "e2e-frase",
        "DISPERSA_WEBHOOK_SECRET": secret,
        "DISPERSA_SCHEDULER_TICK_SECONDS": "2",
        "DISPERSA_MIN_BACKOFF_MS": "100",
        "DISPERSA_MAX_BACKOFF_MS": "2000",
        "DISPERSA_WORKER_METRICS_PORT": str(metrics_port),
        "DISPERSA_WORKER_METRICS_DIR": str(work / "worker-metrics"),
        "DISPERSA_BODY_READ_SECONDS": str(BODY_SECONDS),
    })
    subprocess.run([BIN / "dispersa", "db", "upgrade"], cwd=REPO, env=env, check=True, capture_output=True)
    subprocess.run(["redis-cli", "-n", "14", "flushdb"], capture_output=True)
    procs = Processes(work, env)
    try:
        procs.start("honcho", str(BIN / "honcho"), "start", "-f", "Procfile", "-e", str(work / "empty.env"))
        procs.start("sandbox", str(BIN / "dispersa"), "sandbox", "--port", str(bank_port), "--public-key",
                    str(work / "stp.pub"), "--webhook-url", f"http://127.0.0.1:{web_port}/webhooks/stp/order-status",
                    "--webhook-secret", secret, "--scenario", "mixed", "--seed", "5")
        base = f"http://127.0.0.1:{web_port}"
        wait_for(lambda: httpx.get(f"{base}/health", timeout=5).status_code == 200, 60, "GET /health", procs.logs)
        key = subprocess.run([BIN / "dispersa", "apikey", "create", "--role", "admin", "--owner", "ana@example.com"], cwd=REPO, env=env,
                             check=True, capture_output=True, text=True).stdout.strip()
        client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=10)
        yield client, env, procs
        client.close()
    finally:
        procs.stop()


def validated_store(client: httpx.Client, name: str, account: int, **schedule: Any) -> int:
    merchant = ok(client.post("/merchants", json={"name": name}), 201)
    store = ok(client.post(f"/merchants/{merchant['id']}/stores", json={
        "name": name, "clabe": clabe.make("646", "180", f"{account:011d}"), "beneficiary_name": name,
        "automation_enabled": True, **schedule}), 201)
    option = ok(client.post(f"/stores/{store['id']}/payment-options", json={
        "number_of_payments": 6, "merchant_commission": "0.04", "min_amount": 100, "max_amount": 10**8}), 201)
    ok(client.post(f"/payment-options/{option['id']}/validate"))
    ok(client.post(f"/payment-options/{option['id']}/enable"))
    ok(client.post(f"/stores/{store['id']}/validate"))
    ok(client.post(f"/merchants/{merchant['id']}/validate"))
    return store["id"]


def deliver_credits(client: httpx.Client, store_id: int, amounts: list[int]) -> None:
    for i, amount in enumerate(amounts):
        credit = ok(client.post("/credits", json={"store_id": store_id, "external_id": f"e2e-{store_id}-{i}",
                                                  "amount": amount, "number_of_payments": 6}), 201)
        ok(client.post(f"/credits/{credit['id']}/delivery"))


def settled_transfers(client: httpx.Client, store_id: int, at_least: int) -> list[dict[str, Any]] | None:
    items = ok(client.get("/transfers", params={"store": store_id, "per_page": 200}))["items"]
    if len(items) >= at_least and all(t["status"] in FINAL for t in items):
        return items
    return None


def test_credits_become_liquidated_transfers_through_the_real_processes(system):
    client, env, procs = system
    instant = validated_store(client, "Instantanea", 1, disbursement_mode="instant")
    # An hourly store due a minute from now: the scheduler process must evaluate it.
    due = datetime.now(MX) + timedelta(minutes=1)
    hourly = validated_store(client, "Por hora", 2, disbursement_mode="hourly", time_of_day=due.strftime("00:%M"))
    deliver_credits(client, instant, [250_000, 180_050, 99_999])
    deliver_credits(client, hourly, [500_000, 320_000])

    transfers = wait_for(lambda: settled_transfers(client, instant, 1), 90, "instant transfers to settle",
                         procs.logs)
    assert {t["status"] for t in transfers} <= FINAL
    assert all(t["tracking_key"] and t["uetr"] for t in transfers)
    hourly_transfers = wait_for(lambda: settled_transfers(client, hourly, 1), 180, "the hourly trigger",
                                procs.logs)
    assert hourly_transfers[-1]["trigger_key"].startswith("hourly:")
    assert hourly_transfers[-1]["amount"] == sum(
        split_credit(Money(a), Decimal("0.04"), Decimal("0.16")).contribution.minor for a in (500_000, 320_000))

    for store_id in (instant, hourly):
        balance = ok(client.get(f"/stores/{store_id}/balance"))
        assert balance["balance"] == balance["pending"] + balance["in_transit"]
        applied = [t for t in ok(client.get("/transfers", params={"store": store_id}))["items"]
                   if t["status"] == "applied"]
        for t in applied:
            report = ok(client.get(f"/transfers/{t['id']}/report"))
            assert report["transfer"]["bank_order_id"] and report["transfer"]["liquidated_at"]

    day = datetime.now(MX).date().isoformat()
    ok(client.post(f"/reconciliations/{day}"), 202)
    run = wait_for(lambda: (r := client.get(f"/reconciliations/{day}")).status_code == 200 and r.json(), 60,
                   "the reconciliation", procs.logs)
    assert run["mismatch_list"] == [] and run["ledger_orders"] == run["bank_orders"] >= 2

    verify = subprocess.run([BIN / "dispersa", "ledger", "verify"], cwd=REPO, env=env, capture_output=True,
                            text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert verify.stdout.strip().splitlines()[-1].endswith(", 0 violations")


def public_requests() -> list[tuple[str, str]]:
    """(method, path) of every operation that needs no key, its path parameters filled in: a connector's
    callback for each connector."""
    found = []
    for route in ROUTES:
        for op in route.operations:
            if op.action is not None:
                continue
            for connector in ("gsma", "mojaloop"):
                path = re.sub(r"\{(\w+)(?::(\w+))?\}", lambda m: {"connector": connector}.get(
                    m[1], "1" if m[2] == "int" else "5f0c7d8e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"), route.path)
                found.append((op.method, path))
    return sorted(set(found))


def slow_clients(port: int, method: str, path: str, count: int, body: bool) -> list[socket.socket]:
    """``count`` connections that send the start of a request and then nothing: headers that never end,
    or (``body``) complete headers announcing a body that never comes; no key, a wrong secret."""
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        start = f"{method} {path} HTTP/1.1\r\nHost: x\r\n".encode()
        if body:
            s.sendall(start + b"Content-Type: application/json\r\nContent-Length: 500\r\nX-Webhook-Secret: wrong\r\n"
                              b"X-Callback-Signature: wrong\r\n\r\n{\"estado\": ")
        else:
            s.sendall(start + b"X-Slow: ")
        socks.append(s)
    return socks


def what_came_back(s: socket.socket, until: float) -> bytes | None:
    """What the server sent before it closed the connection, or None when it still held it at ``until``."""
    s.settimeout(max(0.1, until - time.monotonic()))
    got = b""
    try:
        while chunk := s.recv(4096):
            got += chunk
    except (ConnectionResetError, BrokenPipeError):
        pass
    except socket.timeout:
        return got or None
    return got


def test_every_route_without_a_key_cuts_slow_headers_and_bodies_while_health_and_the_webhook_answer(system):
    client, env, procs = system
    port = int(env["DISPERSA_WEB_BIND"].rsplit(":", 1)[1])
    requests = public_requests()
    assert ("PUT", "/callbacks/gsma/5f0c7d8e-1a2b-4c3d-8e9f-0a1b2c3d4e5f") in requests
    assert ("POST", "/webhooks/stp/order-status") in requests and ("GET", "/health") in requests
    started = time.monotonic()
    headers = {(m, p): slow_clients(port, m, p, 20, body=False) for m, p in requests}
    bodies = {(m, p): slow_clients(port, m, p, 20, body=True) for m, p in requests if m in BODY_METHODS}
    try:
        for _ in range(5):
            assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
        webhook = httpx.post(f"http://127.0.0.1:{port}/webhooks/stp/order-status", timeout=5,
                             json={"estado": "LQ", "id": 1}, headers={"X-Webhook-Secret": "secreto-e2e"})
        assert webhook.status_code == 200
        assert time.monotonic() - started < HEADER_SECONDS
        # line and headers that never end: the connection is closed after DISPERSA_WEB_KEEPALIVE_SECONDS
        for request, socks in headers.items():
            for s in socks:
                assert what_came_back(s, started + HEADER_SECONDS + 5) is not None, (request, "headers held")
        # a body that trickles in: 408 after DISPERSA_BODY_READ_SECONDS, whatever the route
        for request, socks in bodies.items():
            for s in socks:
                answer = what_came_back(s, started + BODY_SECONDS + 5)
                assert answer is not None and answer.startswith(b"HTTP/1.1 408"), (request, answer and answer[:200])
        # A 40 MB callback is refused from its Content-Length, before its body is read.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as big:
            big.sendall(b"POST /webhooks/stp/order-status HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        b"Content-Length: 40000000\r\nX-Webhook-Secret: secreto-e2e\r\n\r\n" + b"{" * 65536)
            assert big.recv(4096).startswith(b"HTTP/1.1 413")
    finally:
        for s in [s for socks in (*headers.values(), *bodies.values()) for s in socks]:
            s.close()


def metric(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus's text format, or None when it is not there."""
    wanted = name + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}" if labels else "")
    for line in text.splitlines():
        if not line.startswith("#") and line.rsplit(" ", 1)[0] == wanted:
            return float(line.rsplit(" ", 1)[1])
    return None


def test_the_web_and_the_worker_export_prometheus_metrics(system):
    """Run after the payout test: its orders, callbacks and contributions are what the metrics count."""
    client, env, procs = system
    text = wait_for(lambda: (r := httpx.get(f"{client.base_url}/metrics", timeout=10)).status_code == 200 and r.text,
                    30, "GET /metrics", procs.logs)
    assert metric(text, "dispersa_metrics_source_up", source="database") == 1
    assert metric(text, "dispersa_metrics_source_up", source="broker") == 1
    assert metric(text, "dispersa_queue_messages", queue="ledger.XQ") is not None
    orders = sum(metric(text, "dispersa_payment_orders", status=s) or 0
                 for s in ("liquidated", "cancelled", "returned"))
    assert orders >= 2, text  # the payout test's orders, each settled by the sandbox's callbacks
    assert (metric(text, "dispersa_webhook_events", result="applied") or 0) >= 2, text
    assert metric(text, "dispersa_outbox_oldest_unpublished_age_seconds") is not None
    assert metric(text, "dispersa_ledger_check_last_violations") == 0  # the payout test's `ledger verify`
    worker = f"http://127.0.0.1:{env['DISPERSA_WORKER_METRICS_PORT']}/metrics"
    counts = wait_for(lambda: (r := httpx.get(worker, timeout=5)).status_code == 200 and r.text, 30,
                      "the worker's metrics", procs.logs)
    assert (metric(counts, "dramatiq_messages_total", actor_name="contribute", queue_name="ledger") or 0) >= 5
    assert "dramatiq_message_duration_milliseconds_bucket" in counts
