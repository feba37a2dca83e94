"""Text from clients never rewrites an operator's terminal: the API refuses control characters in names,
labels and file names (the OpenAPI patterns say so, and mean what the server means), and the CLI shows
whatever is stored with its control characters as visible escapes and its Rich markup inert."""
from __future__ import annotations

import subprocess
from typing import Any

import pytest

from bootstrap import Container
from tests.integration.helpers import REPO, VENV_BIN, cli_env, count
from tests.integration.test_web_access import Api, expect, is_error
from usecases import access, tenants
from web import routes
from web.schema import NAME, PLAIN_TEXT

pytestmark = pytest.mark.integration

ESC_CLEAR = "\x1b[2J\x1b[H"  # clears the screen and homes the cursor
MARKUP = "[bold red]OK[/bold red]"


def dispersa(container: Container, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VENV_BIN / "dispersa"), *argv], cwd=REPO, env={
        **cli_env(container.settings.database_url), "COLUMNS": "200"}, capture_output=True, text=True, timeout=120)


@pytest.fixture
def api(container: Container) -> Api:
    return Api(container)


@pytest.mark.parametrize("bad", ["Muebles\x1b[2J", "Muebles\x00", "Muebles\n", "Mue\x9bbles", "\x07"])
def test_a_merchant_or_store_name_with_a_control_character_is_422_and_stores_nothing(api: Api, bad: str) -> None:
    is_error(api.operator.post("/merchants", json={"name": bad}), 422, "name", "no control characters")
    merchant = expect(api.operator.post("/merchants", json={"name": "Muebles"}), 201)
    is_error(api.operator.post(f"/merchants/{merchant['id']}/stores", json=api.store_fields(name=bad)), 422,
             "no control characters")
    is_error(api.operator.post(f"/merchants/{merchant['id']}/stores",
                               json=api.store_fields(beneficiary_name=bad)), 422, "beneficiary_name")
    assert count(api.container, "merchants") == 1 and count(api.container, "stores") == 0


def test_a_key_label_or_a_batch_s_headers_with_control_characters_are_refused(api: Api) -> None:
    before = count(api.container, "api_keys")
    is_error(api.admin.post("/api/v1/api-keys", json={"role": "operator", "owner": "eva@example.com",
                                                      "label": "ops" + ESC_CLEAR}), 422, "label")
    assert count(api.container, "api_keys") == before
    with api.container.uow() as uow:
        tenants.put(uow, "ibank", {})
        uow.commit()
    for header in ("filename", "Purpose", "X-CorrelationID"):
        answer = api.admin.post("/batchtransactions", headers={
            "Platform-TenantId": "ibank", "X-CorrelationID": "r-1", header: "x\x85y", "Content-Type": "text/csv"},
            body=b"id,request_id\n")
        is_error(answer, 422, header, "no control characters")
    assert count(api.container, "batches") == 0


def test_the_schema_s_end_anchor_takes_no_trailing_newline_as_json_schema_reads_it(api: Api) -> None:
    """Python's ``$`` matches before a last newline; JSON Schema's does not, and the server agrees with the
    document: a tenant's name and a CLABE followed by a newline are refused."""
    is_error(api.admin.client.simulate_put("/api/v1/tenants/ibank%0A", json={},
                                           headers={"Authorization": f"Bearer {api.admin.key}"}), 422, "tenant")
    good = api.store_fields()["clabe"]
    merchant = expect(api.operator.post("/merchants", json={"name": "Muebles"}), 201)
    is_error(api.operator.post(f"/merchants/{merchant['id']}/stores", json=api.store_fields(clabe=good + "\n")),
             422, "clabe")
    assert count(api.container, "tenants") == 0 and count(api.container, "stores") == 0


def test_every_name_and_label_of_the_api_carries_a_pattern_without_control_characters() -> None:
    fields = {(body.name, f.name): f for body in (routes.MERCHANT_CREATE, routes.STORE_CREATE, routes.CREDIT_CREATE,
                                                  routes.API_KEY_CREATE, routes.ADJUSTMENT, routes.REJECTION,
                                                  routes.DEAD_LETTER_DROP, routes.BATCH_REJECTION)
              for f in body.fields if f.kind == "string" and not f.choices and f.format is None}
    patterns = {key: f.pattern for key, f in fields.items() if key[1] not in ("clabe", "rfc_curp", "owner")}
    assert patterns and all(p in (NAME, PLAIN_TEXT) for p in patterns.values()), patterns
    for param in (routes.FILENAME, routes.PURPOSE, routes.CORRELATION_ID, routes.TENANT_HEADER,
                  routes.IDEMPOTENCY_KEY):
        assert param.openapi()["schema"]["pattern"] == PLAIN_TEXT


def stored_key_with(container: Container, label: str, owner: str = "eve@example.com") -> None:
    """A key stored as an older release (or another writer) may have stored it: its label unchecked."""
    with container.uow() as uow:
        access.create_api_key(uow, "operator", label=label, owner=owner)
        uow.commit()


def test_the_cli_shows_stored_text_with_visible_escapes_and_inert_markup(container: Container) -> None:
    stored_key_with(container, f"ops{ESC_CLEAR}{MARKUP}\x00\u202e")
    listed = dispersa(container, "apikey", "list")
    assert listed.returncode == 0, listed.stderr
    assert "\x1b" not in listed.stdout and "\x00" not in listed.stdout and "\u202e" not in listed.stdout
    assert "ops\\x1b[2J\\x1b[H" in listed.stdout and MARKUP in listed.stdout and "\\u202e" in listed.stdout


@pytest.mark.parametrize("argv, words", [
    (("tenant", "create", "ibank\n"), "tenant name 'ibank\\n'"),
    (("tenant", "fund", "[/x]", "1", "USD"), "[/x]"),
    (("tenant", "create", f"x{ESC_CLEAR}"), "x\\x1b[2J"),
])
def test_a_refusal_is_one_line_whatever_the_text_holds(container: Container, argv: tuple[str, ...],
                                                         words: str) -> None:
    done = dispersa(container, *argv)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == 2 and len(errors) == 1 and words in errors[0], done.stderr
    assert "Traceback" not in done.stderr and "\x1b" not in done.stderr
    assert count(container, "tenants") == 0


def test_an_admin_key_given_a_merchant_is_refused_as_a_tenant_key_is(container: Container, api: Api) -> None:
    merchant = expect(api.operator.post("/merchants", json={"name": "Muebles"}), 201)
    before = count(container, "api_keys")
    for role in ("admin", "treasury", "operator"):
        done = dispersa(container, "apikey", "create", "--role", role, "--owner", "eva@example.com", "--merchant",
                        str(merchant["id"]))
        assert done.returncode == 2 and "only a partner key" in done.stderr, done.stderr
        is_error(api.admin.post("/api/v1/api-keys", json={"role": role, "owner": "eva@example.com",
                                                          "merchant_id": merchant["id"]}), 422, "only a partner key")
    assert count(container, "api_keys") == before
    made: Any = dispersa(container, "apikey", "create", "--role", "partner", "--owner", "eva@example.com",
                         "--merchant", str(merchant["id"]))
    assert made.returncode == 0, made.stderr


@pytest.mark.parametrize("amount, words", [("-5", "a funding is a positive amount"),
                                           ("90071992547409.92", "beyond the largest amount"),
                                           ("9" * 400, "beyond the largest amount")])
def test_funding_a_float_out_of_range_is_one_line_and_funds_nothing(container: Container, amount: str,
                                                                     words: str) -> None:
    with container.uow() as uow:
        tenants.put(uow, "ibank", {})
        uow.commit()
    done = dispersa(container, "tenant", "fund", "ibank", amount, "USD")
    errors = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("database:")]
    assert done.returncode == 2 and len(errors) == 1 and words in errors[0], done.stderr
    assert count(container, "wallet_entries") == 0
