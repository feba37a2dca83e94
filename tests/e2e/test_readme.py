"""The README as a new user follows it: `make up` (isolated by its documented variables) says when the
API is ready, and the walkthrough's block, run as written, pays a credit out through the sandbox."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.support import REPO, free_port, fresh_database

pytestmark = pytest.mark.e2e


def walkthrough(name: str = "walkthrough") -> str:
    readme = (REPO / "README.md").read_text()
    block = re.search(rf"<!-- {name}[^>]*-->\s*```sh\n(.*?)```\s*<!-- /{name} -->", readme, re.S)
    assert block, f"the README's {name} block is marked"
    return block.group(1)


def env_file_settings(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


@pytest.fixture(scope="module")
def make_up(tmp_path_factory):
    work = tmp_path_factory.mktemp("make-up")
    url = fresh_database("readme", create=False)  # `make up` creates it
    subprocess.run(["redis-cli", "-n", "12", "flushdb"], capture_output=True)
    web, metrics = f"127.0.0.1:{free_port()}", free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISPERSA_", "DEV_"))}
    env.update({"DEV_DATABASE_URL": url.render_as_string(hide_password=False), "DEV_WEB_BIND": web,
                "DEV_SANDBOX_PORT": str(free_port()), "DEV_RABBITMQ_VHOST": str(url.database),
                "DEV_REDIS_URL": "redis://127.0.0.1:6379/12", "DEV_ENV_FILE": str(work / ".env"),
                "DEV_WORKER_METRICS_PORT": str(metrics)})
    subprocess.run(["make", "-s", ".dev/stp.pem"], cwd=REPO, env=env, check=True, capture_output=True)
    log = open(work / "up.log", "wb")
    up = subprocess.Popen(["bash", "scripts/up.sh"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                          start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while b"API ready at" not in (work / "up.log").read_bytes():
            assert up.poll() is None and time.monotonic() < deadline, (work / "up.log").read_text()[-4000:]
            time.sleep(0.5)
        yield web, work, env
    finally:
        os.killpg(up.pid, signal.SIGTERM)
        try:
            up.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(up.pid, signal.SIGKILL)
        log.close()


def test_make_up_says_when_the_api_is_ready_and_how_to_make_a_key(make_up):
    web, work, env = make_up
    out = (work / "up.log").read_text()
    assert f"API ready at http://{web}; create a key with: .venv/bin/dispersa apikey create --role admin" in out
    assert "test database" not in out
    settings = env_file_settings(work / ".env")
    assert settings["DISPERSA_WEB_BIND"] == web and settings["DISPERSA_DATABASE_URL"].endswith("_readme")
    assert settings["DISPERSA_WORKER_METRICS_PORT"] == env["DEV_WORKER_METRICS_PORT"]  # not 9191


def test_the_second_checkout_recipe_sets_every_address_make_up_takes() -> None:
    taken = re.findall(r'^: "\$\{(DEV_\w+):=', (REPO / "scripts" / "up.sh").read_text(), re.M)
    recipe = next(line for line in (REPO / "README.md").read_text().splitlines() if line.startswith("`make up DEV_"))
    assert "DEV_WORKER_METRICS_PORT" in taken
    assert sorted(set(taken) - {"DEV_ENV_FILE"}) == sorted(re.findall(r"(DEV_\w+)=", recipe))


def test_the_readme_walkthrough_runs_as_written(make_up):
    web, work, env = make_up
    shell_env = {k: v for k, v in env.items() if not k.startswith("DEV_")}
    shell_env.update(env_file_settings(work / ".env"))  # what ./.env gives a user in the checkout
    shell_env["API"] = f"http://{web}"
    run = subprocess.run(["timeout", "120", "bash", "-euo", "pipefail", "-c", walkthrough()], cwd=REPO,
                         env=shell_env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:] + (work / "up.log").read_text()[-4000:]
    out = run.stdout
    assert '"contribution": 238400' in out
    assert '"balance": 0, "pending": 0, "in_transit": 0' in out
    assert re.search(r'"status": "applied"', out)
    csv_lines = [line for line in out.splitlines() if line.startswith(("transfer_id,", "1,"))]
    assert csv_lines[0].startswith("transfer_id,tracking_key,bank_order_id")
    assert csv_lines[-1].split(",")[6] == "total" and "2384.00" in csv_lines[-1]


def after_the_walkthrough_s_first_lines(name: str) -> str:
    """A block the README shows after the walkthrough, with what the walkthrough set up first ($API, $KEY,
    $H, $J), as a reader who follows the README has them."""
    first = walkthrough().split("\ncurl ", 1)[0]
    assert first.rstrip().endswith('J="Content-Type: application/json"'), first
    return first + "\n" + walkthrough(name)


def run_block(make_up, name: str) -> str:
    web, work, env = make_up
    shell_env = {k: v for k, v in env.items() if not k.startswith("DEV_")}
    shell_env.update(env_file_settings(work / ".env"))
    shell_env.update(API=f"http://{web}", TMPDIR=str(work))
    run = subprocess.run(["timeout", "120", "bash", "-euo", "pipefail", "-c", after_the_walkthrough_s_first_lines(name)],
                         cwd=REPO, env=shell_env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:] + (work / "up.log").read_text()[-4000:]
    return run.stdout


def test_the_readme_tenants_block_runs_in_the_order_it_is_read(make_up):
    out = run_block(make_up, "tenants")
    assert out.strip().splitlines()[0].startswith("dsp_")  # the tenant's key
    assert "float credited with 25000.50 USD" in out
    assert '"sub-batch-size"' in out or '"splitting.sub-batch-size": 50' in out
    assert '"balance": 2600050' in out  # 25000.50 + 1000.00, in minor units


def test_the_readme_tracking_block_reads_the_walkthrough_s_payout_and_its_receipt(make_up):
    _, work, _ = make_up
    out = run_block(make_up, "tracking")
    assert '"status": "liquidated"' in out and '"timeline"' in out
    assert (work / "receipt.pdf").read_bytes().startswith(b"%PDF")


def test_the_readme_lists_every_route_that_needs_no_key_and_one_list_of_queues() -> None:
    from usecases.steps import QUEUES
    from web.routes import ROUTES

    readme = (REPO / "README.md").read_text()
    listed = readme.split("<!-- no-key routes", 1)[1].split("\n\n", 1)[0]
    open_routes = {f"{op.method} {route.openapi_path}" for route in ROUTES for op in route.operations
                   if op.action is None}
    assert open_routes and {r for r in open_routes if f"`{r}`" not in listed} == set()
    queues = re.findall(r"`(\w+)`", readme.split("<!-- queues -->", 1)[1].split("<!-- /queues -->", 1)[0])
    assert sorted(queues) == sorted(QUEUES)
    assert not re.search(r"queue \(`ledger`, `bank`|every queue \(`", readme), "a second, partial list of queues"


def test_the_readme_bulk_walkthrough_runs_as_written(make_up):
    web, work, env = make_up
    shell_env = {k: v for k, v in env.items() if not k.startswith("DEV_")}
    shell_env.update(env_file_settings(work / ".env"))
    shell_env.update(API=f"http://{web}", TMPDIR=str(work))
    run = subprocess.run(["timeout", "120", "bash", "-euo", "pipefail", "-c", walkthrough("bulk-walkthrough")],
                         cwd=REPO, env=shell_env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:] + (work / "up.log").read_text()[-4000:]
    out = run.stdout
    assert '"status": "queued"' in out and '"status": "completed"' in out
    assert '"total": 12, "successful": 12, "failed": 0, "ongoing": 0, "totalAmount": "6432.00"' in out
    result = [line for line in out.splitlines() if re.match(r"^\d+,[0-9a-f-]{36},", line)]
    assert len(result) == 12 and all(line.split(",")[12] == "SUCCESS" for line in result)
    assert "id,request_id,payment_mode,payer_identifier_type" in out  # the template


def test_the_readme_loans_block_runs_in_the_order_it_is_read(make_up):
    out = run_block(make_up, "loans")
    assert '"status": "enabled"' in out
    assert '"status": "completed", "rejection": null, "loan_id": 2' in out
    assert '"allowed": true, "to_status": "in_dispute"' in out
    assert '"status": "frozen"' in out and '"as_of": "2030-01-31"' in out
    late, frozen = [line for line in out.splitlines() if '"as_of": "2030-01-31"' in line]
    assert '"bucket": "90+"' in late and '"status": "active"' in late
    assert '"bucket": "healthy"' in frozen and '"status": "frozen"' in frozen
    assert '"event": "freeze", "from_status": "active", "to_status": "frozen"' in out
