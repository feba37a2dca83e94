"""Tenants on MariaDB: created or reconfigured by admins (CLI and API), each change audited with the old
and new configuration; a key bound to the tenant; the float funded by treasury only, audited."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from falcon import testing

from bootstrap import Container, web_app
from tests.integration.helpers import REPO, VENV_BIN, cli_env, count, rows
from usecases import access

pytestmark = pytest.mark.integration


def cli(container: Container, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VENV_BIN / "dispersa"), "tenant", *argv], cwd=REPO,
                          env=cli_env(container.settings.database_url), capture_output=True, text=True, timeout=120)


def keys(container: Container, *roles: str) -> dict[str, dict[str, str]]:
    with container.uow() as uow:
        made = {role: {"Authorization": "Bearer " + access.create_api_key(uow, role, owner=f"{role}@tests.example")}
                for role in roles}
        uow.commit()
    return made


def test_the_cli_creates_a_tenant_from_yaml_prints_a_key_bound_to_it_and_updates_it(container: Container,
                                                                                   tmp_path: Path) -> None:
    config = tmp_path / "ibank.yaml"
    config.write_text("splitting:\n  enable: true\n  sub-batch-size: 5\n"
                      "payment-modes: {slcb: closedloop, mojaloop: mojaloop, gsma: gsma, spei: spei}\n")
    made = cli(container, "create", "ibank-usa", "--config", str(config))
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("dsp_") and "created" in made.stderr
    with container.uow() as uow:
        who = access.authenticate(uow, key)
        tenant = uow.tenants.get("ibank-usa")
    assert who is not None and (who.role.value, who.tenant_id) == ("tenant", tenant.id)
    assert tenant.config["splitting.sub-batch-size"] == 5 and tenant.bulk.connector_of("SLCB") == "closedloop"
    assert f"signed (HMAC-SHA256) with the secret {tenant.secret}" in made.stderr  # to check acknowledgements
    (tmp_path / "more.json").write_text(json.dumps({"approval.enable": True}))
    again = cli(container, "create", "ibank-usa", "--config", str(tmp_path / "more.json"))
    assert again.returncode == 0 and "updated" in again.stderr
    with container.uow() as uow:
        tenant = uow.tenants.get("ibank-usa")
    assert tenant.bulk.approval_enable and tenant.bulk.splitting_sub_batch_size == 5  # the rest kept
    assert count(container, "api_keys", "role = 'tenant'") == 2


@pytest.mark.parametrize("content, words", [
    ("splitting:\n  enabled: true\n", "unknown configuration key 'splitting.enabled'"),
    ("- a list\n", "is a mapping of the stage keys"),
    ("payment-modes: {slcb: fineract}\n", "the connectors are"),
])
def test_a_bad_configuration_file_is_one_line_and_changes_nothing(container: Container, tmp_path: Path,
                                                                  content: str, words: str) -> None:
    (tmp_path / "bad.yaml").write_text(content)
    done = cli(container, "create", "ibank", "--config", str(tmp_path / "bad.yaml"))
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr
    assert count(container, "tenants") == 0


def test_funding_the_float_from_the_cli_credits_it_and_is_audited(container: Container) -> None:
    assert cli(container, "create", "ibank").returncode == 0
    funded = cli(container, "fund", "ibank", "25000.50", "usd")
    assert funded.returncode == 0, funded.stderr
    assert "balance 25000.50 USD" in funded.stdout
    assert cli(container, "fund", "ibank", "0", "USD").returncode == 2
    assert cli(container, "fund", "ibank", "10.505", "USD").returncode == 2
    assert cli(container, "fund", "nobody", "10", "USD").returncode == 2
    [entry] = rows(container, "SELECT e.amount, e.currency, w.outside, w.balance FROM wallet_entries e "
                              "JOIN wallets w ON w.id = e.debit_wallet_id")
    assert (entry.amount, entry.currency, entry.outside, entry.balance) == (2_500_050, "USD", 1, -2_500_050)
    assert count(container, "audit_log", "action = 'fund_tenant'") == 1


def test_admins_put_and_read_tenants_over_the_api_audited_with_old_and_new(container: Container) -> None:
    client = testing.TestClient(web_app(container))
    k = keys(container, "admin", "treasury", "operator")
    created = client.simulate_put("/api/v1/tenants/ibank-usa", json={"splitting": {"sub-batch-size": 5}},
                                  headers=k["admin"])
    assert created.status_code == 201 and created.json["config"]["splitting.sub-batch-size"] == 5
    changed = client.simulate_put("/api/v1/tenants/ibank-usa", json={"payment-modes": {"spei": "spei"}},
                                  headers=k["admin"])
    assert changed.status_code == 200 and changed.json["config"]["payment-modes"] == {"spei": "spei"}
    assert changed.json["config"]["splitting.sub-batch-size"] == 5
    for role in ("treasury", "operator"):
        assert client.simulate_put("/api/v1/tenants/ibank-usa", json={}, headers=k[role]).status_code == 403
    assert client.simulate_put("/api/v1/tenants/ibank-usa", json={"approval.enable": "maybe"},
                               headers=k["admin"]).status_code == 422
    assert client.simulate_put("/api/v1/tenants/Not A Name", json={}, headers=k["admin"]).status_code == 422
    assert client.simulate_put("/api/v1/tenants/ibank-usa", headers=k["admin"]).status_code == 422  # no body
    assert client.simulate_get("/api/v1/tenants/nobody", headers=k["admin"]).status_code == 404
    audited = rows(container, "SELECT details FROM audit_log WHERE action = 'put_tenant' ORDER BY id")
    details: Any = audited[1].details
    details = json.loads(details) if isinstance(details, str) else details
    assert details["config"]["old"]["payment-modes"] == {} and details["config"]["new"]["payment-modes"] == {
        "spei": "spei"}
    assert "secret" not in client.simulate_get("/api/v1/tenants/ibank-usa", headers=k["admin"]).text


def test_treasury_funds_a_float_over_the_api_and_an_operator_cannot(container: Container) -> None:
    client = testing.TestClient(web_app(container))
    k = keys(container, "admin", "treasury", "operator")
    client.simulate_put("/api/v1/tenants/ibank", json={}, headers=k["admin"])
    path = "/api/v1/tenants/ibank/float"
    assert client.simulate_post(path, json={"amount": "100", "currency": "USD"}, headers=k["operator"]).status_code == 403
    for amount in ("100", "50.25"):
        assert client.simulate_post(path, json={"amount": amount, "currency": "USD"},
                                    headers=k["treasury"]).status_code == 200
    shown = client.simulate_get("/api/v1/tenants/ibank", headers=k["admin"]).json
    assert shown["float"] == [{"currency": "USD", "balance": 15025, "amount": "150.25"}]
    for bad in ({"amount": "0", "currency": "USD"}, {"amount": "1.5", "currency": "JPY"},
                {"amount": "1", "currency": "XYZ"}, {"amount": "-1", "currency": "USD"}):
        assert client.simulate_post(path, json=bad, headers=k["treasury"]).status_code == 422, bad
    assert count(container, "audit_log", "action = 'fund_tenant'") == 2
