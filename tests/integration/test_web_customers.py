"""Customers over HTTP against the real MariaDB: registration, scoring, status moves and what each status
allows, masking by role, deletion that erases, and bad input refused with nothing changed."""
from __future__ import annotations

import itertools
import string
from typing import Any, Iterator

import pytest
from sqlalchemy import text

from adapters.db.rekeying import survey_or_rotate
from adapters.sealing import KEYRING, Misplaced, Unreadable, generate_key, place
from bootstrap import Container
from domain.customers import PII_FIELDS, with_check_digit
from tests.conftest import TEST_DATA_KEYS
from tests.integration.helpers import count, rows, scalar
from tests.integration.test_web_access import Api, expect

pytestmark = pytest.mark.integration

_serial = itertools.count(1)
LETTERS = string.ascii_uppercase


def unique_letters(n: int, width: int = 4) -> str:
    """``width`` upper-case letters, different for each n."""
    return "".join(LETTERS[(n // 26 ** i) % 26] for i in range(width))


def person(**overrides: Any) -> dict[str, Any]:
    """A whole registration, with names and a CURP no other test uses."""
    n = next(_serial) + 7919 * (id(overrides) % 997)
    tag = unique_letters(n, 6)
    first4 = tag[0] + "AEIOU"[n % 5] + tag[1:3]
    fields = {"external_id": f"cust-{tag}", "first_name": f"Quetzal{tag}", "last_name": f"Xochitl{tag}",
              "second_last_name": f"Tlaloc{tag}", "phone": f"+52155{n % 10**8:08d}",
              "email": f"cuauh.{tag.lower()}@correo.example", "address": f"Calle Ahuehuete {tag} 12, CDMX",
              "national_id": with_check_digit(f"{first4}900101HDFRRN{tag[3]}")}
    return {**fields, **overrides}


@pytest.fixture
def api(container: Container) -> Api:
    return Api(container)


def registered(api: Api, **overrides: Any) -> dict[str, Any]:
    """A customer registered and scored by the operator: enabled."""
    made = expect(api.operator.post("/api/v1/customers", json=person(**overrides)), 201)
    return expect(api.operator.post(f"/api/v1/customers/{made['id']}/score", json={"risk_profile": "B2"}), 200)


def test_a_customer_is_enabled_once_registered_and_scored(api: Api) -> None:
    fields = person()
    made = expect(api.operator.post("/api/v1/customers", json=fields), 201)
    assert (made["status"], made["registered"], made["allowed_actions"]) == (
        "unregistered", False, ["complete_registration", "score", "update_details"])
    assert {k: made[k] for k in fields} == fields  # the operator serves customers: their data whole
    scored = expect(api.operator.post(f"/api/v1/customers/{made['id']}/score",
                                      json={"risk_profile": "A1", "score": 710}), 200)
    assert (scored["status"], scored["risk_profile"], scored["score"], scored["registered"]) == (
        "enabled", "A1", 710, True)
    assert "request_loan" in scored["allowed_actions"]
    history = rows(api.container, "SELECT event, previous, status FROM customer_status_history WHERE customer_id = :c",
                   c=made["id"])
    assert [tuple(r) for r in history] == [("registration_completed", "unregistered", "enabled")]


def test_an_incomplete_registration_stays_unregistered_until_completed(api: Api) -> None:
    made = expect(api.operator.post("/api/v1/customers", json=person(address=None, phone=None)), 201)
    scored = expect(api.operator.post(f"/api/v1/customers/{made['id']}/score", json={"risk_profile": "C3"}), 200)
    assert scored["status"] == "unregistered"
    expect(api.operator.patch(f"/api/v1/customers/{made['id']}", json={"address": "Av. Reforma 1"}), 200)
    done = expect(api.operator.patch(f"/api/v1/customers/{made['id']}", json={"phone": "5512345678"}), 200)
    assert done["status"] == "enabled"
    audit = rows(api.container, "SELECT details FROM audit_log WHERE action = 'update_customer' AND resource_id = :c "
                 "ORDER BY id", c=str(made["id"]))
    assert '"changed": ["phone"]' in audit[-1][0] and "5512345678" not in audit[-1][0]


def test_treasury_sees_customers_masked_and_partners_none(api: Api) -> None:
    fields = person()
    made = expect(api.operator.post("/api/v1/customers", json=fields), 201)
    shown = expect(api.treasury.get(f"/api/v1/customers/{made['id']}"), 200)
    for name in PII_FIELDS:
        assert shown[name] != fields[name], name
    assert shown["national_id"] == "*" * 14 + fields["national_id"][-4:]
    assert shown["first_name"] == fields["first_name"][0] + "***"
    assert shown["email"].startswith("c***@")
    shop = api.shop()
    partner = api.as_role("partner", merchant_id=shop.merchant_id)
    assert partner.get(f"/api/v1/customers/{made['id']}").status_code == 403
    assert partner.get("/api/v1/customers").status_code == 403


def test_list_pages_and_finds_by_external_id(api: Api) -> None:
    made = [expect(api.operator.post("/api/v1/customers", json=person()), 201) for _ in range(3)]
    page = expect(api.operator.get("/api/v1/customers", params={"per_page": 2}), 200)
    assert page["per_page"] == 2 and len(page["items"]) == 2 and page["total"] >= 3
    found = expect(api.operator.get("/api/v1/customers", params={"external_id": made[1]["external_id"]}), 200)
    assert [c["id"] for c in found["items"]] == [made[1]["id"]] and found["total"] == 1
    by_status = expect(api.operator.get("/api/v1/customers", params={"status": "deleted", "per_page": 200}), 200)
    assert all(c["status"] == "deleted" for c in by_status["items"])


def test_external_id_and_curp_are_one_customer_each(api: Api) -> None:
    first = person()
    expect(api.operator.post("/api/v1/customers", json=first), 201)
    before = count(api.container, "customers")
    again = api.operator.post("/api/v1/customers", json=person(external_id=first["external_id"]))
    assert again.status_code == 409 and "external_id" in again.json["description"]
    twin = api.operator.post("/api/v1/customers", json=person(national_id=first["national_id"]))
    assert twin.status_code == 409 and "national_id" in twin.json["description"]
    assert first["national_id"] not in twin.text
    assert count(api.container, "customers") == before


@pytest.mark.parametrize("field, value, words", [
    ("national_id", "HEGG560427MVZRRL05", "check digit"),
    ("national_id", "HEGG561327MVZRRL04", "birth date"),
    ("national_id", "HEGG560427MZZRRL04", "state"),
    ("national_id", "hegg560427mvzrrl04", "CURP"),
    ("phone", "12-34", "phone"),
    ("email", "not-an-address", "e-mail"),
    ("first_name", "Ana\u0007", "control"),
    ("address", "x" * 301, "at most 300"),
])
def test_bad_input_is_a_422_that_does_not_repeat_it(api: Api, field: str, value: str, words: str) -> None:
    before = count(api.container, "customers")
    result = api.operator.post("/api/v1/customers", json=person(**{field: value}))
    assert result.status_code == 422, result.text
    assert words in result.json["description"] and value not in result.text
    assert count(api.container, "customers") == before


def test_proactive_moves_are_audited_and_hold_the_customer(api: Api) -> None:
    customer = registered(api)
    path = f"/api/v1/customers/{customer['id']}"
    assert api.operator.post(f"{path}/status", json={"event": "block", "reason": "x"}).status_code == 403
    blocked = expect(api.treasury.post(f"{path}/status", json={"event": "block", "reason": "documentos falsos"}), 200)
    assert (blocked["status"], blocked["held"], blocked["allowed_actions"]) == (
        "blocked", True, ["pay_recorded_by_operator", "update_details"])
    refused = api.treasury.post(f"{path}/status", json={"event": "disable", "reason": "again"})
    assert refused.status_code == 409
    assert (refused.json["status"], refused.json["allowed_actions"]) == (
        "blocked", ["pay_recorded_by_operator", "update_details"])
    assert "enabled" in refused.json["description"]
    preview = expect(api.treasury.post(f"{path}/status/dry-run", json={"event": "enable"}), 200)
    assert (preview["allowed"], preview["current"], preview["target"]) == (True, "blocked", "enabled")
    assert expect(api.treasury.get(path), 200)["status"] == "blocked"  # the dry run changed nothing
    expect(api.admin.post(f"{path}/status", json={"event": "enable", "reason": "aclarado"}), 200)
    audit = rows(api.container, "SELECT action, details FROM audit_log WHERE resource = 'customer' AND resource_id = :c "
                 "AND action = 'move_customer' ORDER BY id", c=str(customer["id"]))
    assert [a for a, _ in audit] == ["move_customer", "move_customer"]
    assert '"reason": "documentos falsos"' in audit[0][1] and '"previous": "enabled"' in audit[0][1]


def test_a_deleted_customer_allows_nothing(api: Api) -> None:
    customer = registered(api)
    path = f"/api/v1/customers/{customer['id']}"
    assert api.operator.post(f"{path}/deletion", json={"reason": "x"}).status_code == 403  # treasury or admin
    gone = expect(api.treasury.post(f"{path}/deletion", json={"reason": "solicitud ARCO"}), 200)
    assert (gone["status"], gone["allowed_actions"], gone["external_id"]) == ("deleted", [], customer["external_id"])
    assert all(gone[name] is None for name in PII_FIELDS)
    for result in (api.operator.patch(path, json={"phone": "5512345678"}),
                   api.operator.post(f"{path}/score", json={"risk_profile": "A0"}),
                   api.treasury.post(f"{path}/status", json={"event": "enable", "reason": "no"}),
                   api.treasury.post(f"{path}/deletion", json={"reason": "twice"})):
        assert result.status_code == 409, result.text
        assert (result.json["status"], result.json["allowed_actions"]) == ("deleted", [])


def _text_columns(container: Container) -> list[tuple[str, str]]:
    """Every text, JSON and binary column of every table of the test database."""
    return [tuple(r) for r in rows(container, """
        SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = DATABASE()
        AND data_type IN ('char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'json', 'binary',
                          'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob', 'enum', 'set')""")]


def _holding(container: Container, needle: str) -> list[tuple[str, str]]:
    """The (table, column) pairs where some value contains ``needle`` (compared byte for byte)."""
    found = []
    with container.engine.connect() as conn:
        for table, column in _text_columns(container):
            hit = conn.execute(text(f"SELECT 1 FROM `{table}` WHERE INSTR(CAST(`{column}` AS BINARY), "
                                    f"CAST(:n AS BINARY)) > 0 LIMIT 1"), {"n": needle}).first()
            if hit:
                found.append((table, column))
    return found


def _tokens(container: Container) -> list[str]:
    """Every sealed token (``v2.…``) held anywhere in the database, inside JSON too."""
    found: list[str] = []
    with container.engine.connect() as conn:
        for table, column in _text_columns(container):
            for (value,) in conn.execute(text(f"SELECT CAST(`{column}` AS CHAR) FROM `{table}` "
                                              f"WHERE CAST(`{column}` AS CHAR) LIKE '%v2.%'")):
                found += [word.strip('",{}[]') for word in str(value).replace('"', " ").split()
                          if word.strip('",{}[]').startswith("v2.")]
    return found


def test_a_deleted_customers_data_is_in_no_table_event_or_audit_row(api: Api, container: Container) -> None:
    fields = person()
    customer = registered(api, **fields)
    path = f"/api/v1/customers/{customer['id']}"
    expect(api.operator.patch(path, json={"address": fields["address"] + " interior 4"}), 200)
    expect(api.treasury.post(f"{path}/status", json={"event": "disable", "reason": "revision"}), 200)
    pii = [fields[name] for name in PII_FIELDS] + [fields["address"] + " interior 4"]
    assert _holding(container, fields["national_id"]) == []  # sealed at rest from the start
    sealed_before = rows(container, f"SELECT {', '.join(PII_FIELDS)} FROM customers WHERE id = :c", c=customer["id"])
    assert all(v is not None and v.startswith("v2.") for v in sealed_before[0])

    expect(api.admin.post(f"{path}/deletion", json={"reason": "derecho de cancelacion"}), 200)

    for value in pii:
        assert _holding(container, value) == [], value
    for token in sealed_before[0]:
        assert _holding(container, token) == []
    assert rows(container, f"SELECT {', '.join(PII_FIELDS)}, national_id_digest, email_digest FROM customers "
                           "WHERE id = :c", c=customer["id"]) == [(None,) * (len(PII_FIELDS) + 2)]
    for token in _tokens(container):  # no sealed value anywhere opens, at the customer's places, to its data
        for name in PII_FIELDS:
            try:
                opened = KEYRING.unseal(token, place("customers", name, customer["id"]))
            except (Misplaced, Unreadable):
                continue
            assert opened not in pii
    kept = expect(api.treasury.get(path), 200)
    assert (kept["id"], kept["external_id"], kept["status"]) == (customer["id"], customer["external_id"], "deleted")
    assert scalar(container, "SELECT COUNT(*) FROM event_log WHERE kind LIKE 'customer%' AND message LIKE :m",
                  m=f"%{customer['id']}%") >= 3


@pytest.fixture
def keys_restored() -> Iterator[None]:
    yield
    KEYRING.load(TEST_DATA_KEYS)


def test_a_key_rotation_moves_the_digests_so_the_old_key_can_go(api: Api, container: Container,
                                                                  keys_restored: None) -> None:
    fields = person()
    customer = expect(api.operator.post("/api/v1/customers", json=fields), 201)
    new = generate_key()
    KEYRING.load(f"{new},{TEST_DATA_KEYS}")
    before = {(t.table, t.column): t for t in survey_or_rotate(container.engine, resealing=False)}
    assert before["customers", "national_id_digest"].current < before["customers", "national_id_digest"].values
    survey_or_rotate(container.engine, resealing=True)
    KEYRING.load(new)  # the old key dropped
    after = [t for t in survey_or_rotate(container.engine, resealing=False) if t.table == "customers"]
    assert {t.column for t in after} >= {"national_id", "national_id_digest", "email_digest"}
    assert all(t.current == t.values and t.unreadable == 0 for t in after)
    assert expect(api.operator.get(f"/api/v1/customers/{customer['id']}"), 200)["national_id"] == fields["national_id"]
    twin = api.operator.post("/api/v1/customers", json=person(national_id=fields["national_id"]))
    assert twin.status_code == 409 and "national_id" in twin.json["description"]  # still found by its digest
