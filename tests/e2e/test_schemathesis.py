"""schemathesis, every check on, against the web process as the Procfile runs it (gunicorn, gevent
workers) on MariaDB, RabbitMQ and Redis: the OpenAPI document and the server agree, status codes
included, and no input makes the server fail. Rules JSON Schema cannot state are listed, with why,
in schemathesis.toml beside this file."""
from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import httpx
import pytest

from domain import clabe
from domain.customers import with_check_digit
from tests.conftest import TEST_DATA_KEYS
from tests.e2e.support import BIN, REPO, Processes, free_port, fresh_database, ok, wait_for
from tests.integration.helpers import rabbitmq_url_for

pytestmark = pytest.mark.e2e
HERE = Path(__file__).resolve().parent
EXAMPLES = os.environ.get("DISPERSA_SCHEMATHESIS_EXAMPLES", "25")
SEED = os.environ.get("DISPERSA_SCHEMATHESIS_SEED", "1")
WEBHOOK_SECRET = "secreto-st"  # given on every request, so that the webhook's bodies are checked, not only its 401


def procfile_command(name: str) -> list[str]:
    line = next(line for line in (REPO / "Procfile").read_text().splitlines() if line.startswith(f"{name}:"))
    return shlex.split(line.split(":", 1)[1])


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    work = tmp_path_factory.mktemp("schemathesis")
    url = fresh_database("st")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPERSA_")}
    env.update({"PATH": f"{BIN}:{env.get('PATH', '')}", "DISPERSA_DATABASE_URL": url.render_as_string(False),
                "DISPERSA_BROKER": "rabbitmq", "DISPERSA_RABBITMQ_URL": rabbitmq_url_for(url.database),
                "DISPERSA_REDIS_URL": "redis://127.0.0.1:6379/13", "DISPERSA_WEB_BIND": f"127.0.0.1:{port}",
                "DISPERSA_WEBHOOK_SECRET": WEBHOOK_SECRET, "DISPERSA_DATA_KEYS": TEST_DATA_KEYS})
    subprocess.run([BIN / "dispersa", "db", "upgrade"], cwd=REPO, env=env, check=True, capture_output=True)
    key = subprocess.run([BIN / "dispersa", "apikey", "create", "--role", "admin", "--owner", "ana@example.com"], cwd=REPO, env=env, check=True,
                         capture_output=True, text=True).stdout.strip().splitlines()[-1]
    procs = Processes(work, env)
    try:
        procs.start("web", *procfile_command("web"))
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: httpx.get(f"{base}/health", timeout=5).status_code == 200, 60, "GET /health", procs.logs)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=10) as client:
            seed_one_of_each(client)
        yield base, key, env, procs
    finally:
        procs.stop()


def seed_one_of_each(client: httpx.Client) -> None:
    """Id 1 of every resource exists, so that the generated requests reach past a 404."""
    merchant = ok(client.post("/merchants", json={"name": "Semilla"}), 201)
    store = ok(client.post(f"/merchants/{merchant['id']}/stores", json={
        "name": "Semilla", "clabe": clabe.make("646", "180", "1"), "disbursement_mode": "daily",
        "automation_enabled": True, "requires_confirmation": True}), 201)
    option = ok(client.post(f"/stores/{store['id']}/payment-options", json={
        "number_of_payments": 3, "merchant_commission": "0.04", "min_amount": 1, "max_amount": 10**9}), 201)
    ok(client.post(f"/payment-options/{option['id']}/validate"))
    ok(client.post(f"/payment-options/{option['id']}/enable"))
    ok(client.post(f"/stores/{store['id']}/validate"))
    ok(client.post(f"/merchants/{merchant['id']}/validate"))
    customer = ok(client.post("/api/v1/customers", json={
        "external_id": "semilla-1", "first_name": "Semilla", "last_name": "Uno", "phone": "5512345678",
        "email": "semilla@example.com", "address": "Calle 1", "national_id": with_check_digit("SEMI900101HDFMLL0")}),
        201)
    ok(client.post(f"/api/v1/customers/{customer['id']}/score", json={"risk_profile": "A0"}))
    request = ok(client.post("/api/v1/loan-requests", json={
        "external_id": "semilla-1", "customer_id": customer["id"], "store_id": store["id"], "amount": 100_000,
        "number_of_payments": 3}), 201)
    loan = ok(client.post(f"/api/v1/loan-requests/{request['id']}/completion"))  # credit 1 is a loan
    ok(client.post(f"/credits/{loan['loan_id']}/delivery"))
    ok(client.post("/api/v1/repayments", json={"external_id": "semilla-1", "loan_id": loan["loan_id"],
                                               "amount": 1_000, "channel": "voluntary"}), 201)  # repayment 1
    credit = ok(client.post("/credits", json={"store_id": store["id"], "external_id": "semilla-2",
                                              "amount": 100_000, "number_of_payments": 3}), 201)
    ok(client.post(f"/credits/{credit['id']}/delivery"))


@pytest.mark.timeout(900)  # the run's own limit below: on a busy machine it takes more than the default
def test_schemathesis_finds_no_failure_with_every_check(web, tmp_path):
    base, key, env, procs = web
    run = subprocess.run(
        [BIN / "schemathesis", "--config-file", HERE / "schemathesis.toml", "run", f"{base}/openapi.json",
         "--checks", "all", "-H", f"Authorization: Bearer {key}", "-H", f"X-Webhook-Secret: {WEBHOOK_SECRET}",
         "--max-examples", EXAMPLES, "--seed", SEED,
         "--no-color", "--warnings", "off"],
        cwd=tmp_path, env={**env, "SCHEMATHESIS_HOOKS": "tests.e2e.schemathesis_hooks", "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-12000:] + run.stderr[-3000:] + procs.logs()
    assert " passed" in run.stdout and "failures" not in run.stdout.lower().split("summary")[-1]
