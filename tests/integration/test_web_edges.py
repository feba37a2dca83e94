"""The API's edges on MariaDB and Redis: every accepted value fits its column, bodies have limits and a
type, query values are one value each, the bank webhook refuses what is not its callback with a 400
(or 413) and counts refusals instead of storing each, and dates are real days."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from sqlalchemy import Integer, String, func, select

from adapters.db import tables
from adapters.db.tables import bank_events, event_log
from adapters.db.types import Sealed
from adapters.sealing import KEYRING, place
from domain import clabe, masking
from tests.integration.conftest import WEBHOOK_PATH, WEBHOOK_SECRET
from tests.integration.helpers import count
from tests.integration.test_web_access import Api, expect, is_error
from web import routes
from web.schema import Body, Field

pytestmark = pytest.mark.integration

# Where each body's text fields land: (table, column), or None for what only rides in a JSON column.
COLUMNS: dict[str, dict[str, tuple[str, str] | None]] = {
    "MerchantCreate": {"name": ("merchants", "name"), "currency": ("merchants", "currency"),
                       "timezone": ("merchants", "timezone")},
    "MerchantUpdate": {"name": ("merchants", "name"), "timezone": ("merchants", "timezone"),
                       "status": ("merchants", "status")},
    "StoreCreate": {"name": ("stores", "name"), "clabe": ("stores", "clabe"),
                    "beneficiary_name": ("stores", "beneficiary_name"), "rfc_curp": ("stores", "rfc_curp"),
                    "currency": ("stores", "currency"), "disbursement_mode": ("stores", "disbursement_mode"),
                    "timezone": ("stores", "timezone")},
    "PaymentOptionCreate": {"identifier_code": ("payment_options", "identifier_code"),
                            "type": ("payment_options", "type")},
    "CreditCreate": {"external_id": ("credits", "external_id")},
    "CreditCancellation": {"reason": ("credits", "cancellation_reason")},
    "AdjustmentCreate": {"note": ("balance_updates", "note")},
    "TransferRejection": {"reason": ("bank_transfers", "status_reason")},
    "ApiKeyCreate": {"role": ("api_keys", "role"), "label": ("api_keys", "label"), "owner": ("people", "email")},
    "StpOrderStatus": {"estado": ("bank_events", "estado"), "folioOrigen": ("bank_events", "folio_origen"),
                       "empresa": None, "causaDevolucion": ("payment_orders", "return_cause")},
}
OWNER = "ops@tests.example"
LONGEST_OWNER = "o" * 64 + "@" + "d" * 63 + "." + "e" * 63 + "." + "f" * 61  # 254 characters, as e-mail allows
BODIES = [routes.MERCHANT_CREATE, routes.MERCHANT_UPDATE, routes.STORE_CREATE, routes.STORE_UPDATE,
          routes.OPTION_CREATE, routes.OPTION_UPDATE, routes.CREDIT_CREATE, routes.CANCELLATION, routes.ADJUSTMENT,
          routes.REJECTION, routes.API_KEY_CREATE, routes.STP_ORDER_STATUS]


def widest(field: Field) -> int:
    """The longest text the API lets through for a field."""
    if field.choices:
        return max(len(c) for c in field.choices)
    if field.kind == "rate":
        return 14
    assert field.max_length is not None, f"{field.name} has no maximum length"
    return field.max_length


@pytest.mark.parametrize("body", BODIES, ids=lambda b: b.name)
def test_every_text_the_api_accepts_fits_its_column(body: Body) -> None:
    where = COLUMNS.get(body.name) or COLUMNS[body.name.replace("Update", "Create")]
    for field in body.fields:
        if field.kind == "rate":
            column = tables.metadata.tables[_table_of(body)].c.get(field.name)
            assert column is None or widest(field) <= column.type.length, field.name
            continue
        if field.kind not in ("string", "code"):
            continue
        assert field.name in where, f"{body.name}.{field.name}: where does it land?"
        if where[field.name] is None:
            continue
        table, name = where[field.name]
        column = tables.metadata.tables[table].c[name]
        if isinstance(column.type, Sealed):  # a token in a TEXT (65,535 bytes), the widest value in 4-byte characters
            assert len(KEYRING.seal("😀" * widest(field), place(table, name, 2**63 - 1))) <= 65_535, (table, name)
            continue
        assert isinstance(column.type, String), (table, name)
        assert widest(field) <= column.type.length, f"{body.name}.{field.name} allows {widest(field)} characters, " \
                                                    f"{table}.{name} holds {column.type.length}"
    assert not isinstance(tables.payment_orders.c.numeric_reference.type, String)
    assert isinstance(tables.payment_orders.c.numeric_reference.type, Integer)


def _table_of(body: Body) -> str:
    return {"MerchantCreate": "merchants", "MerchantUpdate": "merchants", "PaymentOptionCreate": "payment_options",
            "PaymentOptionUpdate": "payment_options"}.get(body.name, "merchants")


@pytest.fixture
def api(container) -> Api:
    return Api(container)


def at_limits(api: Api) -> list[tuple[str, str, str, dict[str, Any], int]]:
    """(method, path, field, body with the field at its limit, limit) for every text field of the API;
    the credit first, while its store is still validated (the edits after un-validate it)."""
    shop = api.shop()
    store_fields = api.store_fields()
    option = {"number_of_payments": 3, "merchant_commission": "0.04", "min_amount": 1, "max_amount": 2}
    return [
        ("post", "/credits", "external_id",
         {"store_id": shop.store_id, "external_id": "E" * 64, "amount": 100_000, "number_of_payments": 3}, 64),
        ("post", f"/stores/{shop.store_id}/adjustments", "note", {"amount": 100, "note": "N" * 255}, 255),
        ("post", "/api/v1/api-keys", "label", {"role": "operator", "label": "L" * 120, "owner": OWNER}, 120),
        ("post", "/api/v1/api-keys", "owner", {"role": "operator", "owner": LONGEST_OWNER}, 254),
        ("post", "/merchants", "name", {"name": "M" * 200}, 200),
        ("patch", f"/merchants/{shop.merchant_id}", "name", {"name": "M" * 200}, 200),
        ("post", f"/merchants/{shop.merchant_id}/stores", "name", {**store_fields, "name": "S" * 200}, 200),
        ("post", f"/merchants/{shop.merchant_id}/stores", "beneficiary_name",
         {**store_fields, "beneficiary_name": "B" * 120}, 120),
        ("post", f"/merchants/{shop.merchant_id}/stores", "rfc_curp", {**store_fields, "rfc_curp": "R" * 18}, 18),
        ("patch", f"/stores/{shop.store_id}", "name", {"name": "S" * 200}, 200),
        ("post", f"/stores/{shop.store_id}/payment-options", "identifier_code",
         {**option, "identifier_code": "I" * 64}, 64),
        ("post", f"/stores/{shop.store_id}/payment-options", "type", {**option, "type": "T" * 32}, 32),
    ]


def grow(body: dict[str, Any], field: str) -> dict[str, Any]:
    value = body[field]
    return {**body, field: value + value[-1]}


def test_each_text_field_is_accepted_at_its_limit_and_refused_one_past_it(api: Api) -> None:
    for method, path, field, body, limit in at_limits(api):
        caller = api.admin
        too_long = grow(body, field)
        result = getattr(caller, method)(path, json=too_long)
        is_error(result, 422, field, f"at most {limit}")
        result = getattr(caller, method)(path, json=body)
        assert result.status_code in (200, 201), f"{method} {path} {field}: {result.status} {result.text}"
        if field in result.json:
            assert result.json[field] == masking.field(field, body[field])  # accounts and names are shown masked


def test_a_rejection_reason_at_its_limit_is_kept_whole(api: Api) -> None:
    shop = api.shop(requires_confirmation=True)
    api.delivered_credit(shop, "rej-1", 100_000)
    with api.container.uow() as uow:
        from usecases import ledger
        credit_id = uow.session.execute(select(tables.credits.c.id)).scalar_one()
        ledger.contribute(uow, credit_id)
        uow.commit()
    transfer_id = api.transfer_now(shop.store_id)
    is_error(api.treasury.post(f"/transfers/{transfer_id}/reject", json={"reason": "x" * 256}), 422, "at most 255")
    rejected = expect(api.treasury.post(f"/transfers/{transfer_id}/reject", json={"reason": "x" * 255}), 200)
    assert (rejected["status"], rejected["status_reason"]) == ("cancelled", "rejected by treasury: " + "x" * 255)


# --- query values, content types, body limits ------------------------------------------------------------

@pytest.mark.parametrize("query", ["per_page=&page=", "page=", "per_page=10&per_page=20", "page=1&page=1",
                                   "status=", "page=99999999999999999999999", "page=1.5", "page=%201"])
def test_empty_repeated_or_malformed_query_values_are_422(api: Api, query: str) -> None:
    is_error(api.admin.get("/transfers", query_string=query), 422)


def test_format_given_empty_is_422(api: Api) -> None:
    is_error(api.admin.get("/transfers/1/report", query_string="format="), 422, "format")


def test_a_json_body_without_its_content_type_is_415_with_a_hint(api: Api) -> None:
    result = api.admin.client.simulate_post("/merchants", body=json.dumps({"name": "Sin tipo"}),
                                            headers={**api.admin._headers(None),
                                                     "Content-Type": "application/x-www-form-urlencoded"})
    is_error(result, 415, "Content-Type: application/json")
    result = api.admin.client.simulate_post("/merchants", body=json.dumps({"name": "Sin tipo"}),
                                            headers=api.admin._headers(None))
    is_error(result, 415, "Content-Type: application/json")
    assert count(api.container, "merchants") == 0


def test_a_body_over_the_limit_is_413_and_changes_nothing(api: Api) -> None:
    limit = api.container.settings.max_body_bytes
    big = json.dumps({"name": "M", "padding": "x" * limit})
    result = api.admin.post("/merchants", body=big, headers={"Content-Type": "application/json"})
    is_error(result, 413, str(limit))
    assert count(api.container, "merchants") == 0


@pytest.mark.parametrize("raw", [b'{"name": NaN}', b'{"name": Infinity}', b"[" * 5000 + b"]" * 5000])
def test_json_outside_the_standard_is_400(api: Api, raw: bytes) -> None:
    result = api.admin.post("/merchants", body=raw, headers={"Content-Type": "application/json"})
    is_error(result, 400, "not valid JSON")


# --- reconciliation dates -----------------------------------------------------------------------------------

@pytest.mark.parametrize("day", ["0001-01-01", "2026-02-30", "26-11-24", "20261124", "2026-13-01", "tomorrow"])
def test_a_reconciliation_date_that_is_not_a_day_is_422(api: Api, day: str) -> None:
    is_error(api.treasury.post(f"/reconciliations/{day}"), 422)
    is_error(api.treasury.get(f"/reconciliations/{day}"), 422)


def test_a_real_day_is_accepted_and_an_unrun_one_is_404(api: Api) -> None:
    assert expect(api.treasury.post("/reconciliations/2026-11-23"), 202)["operation_date"] == "20261123"  # today
    is_error(api.treasury.get("/reconciliations/2026-11-22"), 404)


@pytest.mark.parametrize("day", ["2026-11-24", "2099-12-31"])
def test_a_day_after_today_in_mexico_city_is_422_and_nothing_is_enqueued(api: Api, clock, day: str) -> None:
    clock.now = datetime(2026, 11, 24, 5, 59, tzinfo=timezone.utc)  # 23:59 of the 23rd in Mexico City
    is_error(api.treasury.post(f"/reconciliations/{day}"), 422, "in the future")
    is_error(api.treasury.get(f"/reconciliations/{day}"), 422, "in the future")
    assert count(api.container, "outbox", "actor_name = 'reconcile_day'") == 0


# --- the STP webhook ---------------------------------------------------------------------------------------

def post_webhook(client, raw: bytes, secret: str | None = WEBHOOK_SECRET):
    headers = {"Content-Type": "application/json", **({"X-Webhook-Secret": secret} if secret is not None else {})}
    return client.simulate_post(WEBHOOK_PATH, body=raw, headers=headers)


DEEP = b'{"estado": "LQ", "x": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"


@pytest.mark.parametrize("raw, words", [
    (b'{"estado": "LQ", "id": NaN}', "not valid JSON"),
    (b'{"estado": "LQ", "id": 9223372036854775808}', "at most"),
    (b'{"estado": "LQ", "id": "abc"}', "id is an integer"),
    (b'{"estado": "LQ", "id": 1.5}', "id is an integer"),
    (b'{"estado": "", "id": 1}', "blank"),
    (b'{"estado": "LQ", "extra": {"nested": 1}}', "plain values"),
    (b'{"estado": "LQ", "extra": [1, 2]}', "plain values"),
    (DEEP, "not valid JSON"),
    (b'{"estado": "LQ", "tsLiquidacion": -5}', "at least 0"),
    (b'{"estado": "' + b"L" * 33 + b'"}', "at most 32"),
])
def test_malformed_but_authenticated_callbacks_are_400_and_not_stored(stack, raw: bytes, words: str) -> None:
    container, client = stack
    result = post_webhook(client, raw)
    assert result.status_code == 400, result.text
    assert words in result.json["description"]
    assert count(container, "bank_events") == 0


def test_a_40_mb_callback_is_413(stack) -> None:
    container, client = stack
    result = post_webhook(client, b'{"estado": "LQ", "x": "' + b"a" * 40_000_000 + b'"}')
    assert result.status_code == 413
    assert count(container, "bank_events") == 0


def test_extra_plain_fields_of_a_callback_are_accepted_and_stored(stack) -> None:
    container, client = stack
    raw = json.dumps({"id": 4242, "estado": "LQ", "folioOrigen": "DSPNOEXISTE", "fechaOperacion": 20261124,
                      "causaDevolucion": 3, "otro": None}).encode()
    assert post_webhook(client, raw).status_code == 200
    with container.uow() as uow:
        stored = uow.session.execute(select(bank_events.c.body)).scalar_one()
    assert stored["fechaOperacion"] == 20261124 and stored["causaDevolucion"] == "3"


def test_unauthenticated_calls_are_counted_not_each_stored(stack, clock) -> None:
    container, client = stack
    for _ in range(50):
        assert post_webhook(client, b'{"estado": "LQ"}', secret="wrong").status_code == 401
    assert count(container, "event_log", "kind = 'webhook_refused'") == 1
    from datetime import timedelta
    clock.now += timedelta(minutes=1)
    assert post_webhook(client, b'{"estado": "LQ"}', secret=None).status_code == 401
    with container.uow() as uow:
        rows = uow.session.execute(select(event_log.c.details).where(event_log.c.kind == "webhook_refused")
                                   .order_by(event_log.c.id)).scalars().all()
    assert [r["previous_minute"] for r in rows] == [0, 50]
    assert count(container, "bank_events") == 0


# --- operations: events, audit, keys, lists ----------------------------------------------------------------

def test_events_are_listed_newest_first_and_filtered_alerts_included(api: Api) -> None:
    shop = api.shop()
    with api.container.uow() as uow:
        uow.alert("payment_order_refused", "order X refused", store_id=shop.store_id)
        uow.log("sweep", "nothing stuck", level="INFO")
        uow.commit()
    alerts = expect(api.treasury.get("/api/v1/events", params={"level": "ALERT"}), 200)
    assert [(e["kind"], e["store_id"]) for e in alerts["items"]] == [("payment_order_refused", shop.store_id)]
    everything = expect(api.admin.get("/api/v1/events", params={"per_page": 200}), 200)
    ids = [e["id"] for e in everything["items"]]
    assert ids == sorted(ids, reverse=True) and everything["total"] >= 2
    by_store = expect(api.admin.get("/api/v1/events", params={"store": shop.store_id}), 200)
    assert {e["store_id"] for e in by_store["items"]} == {shop.store_id}
    future = expect(api.admin.get("/api/v1/events", params={"since": "2099-01-01T00:00:00Z"}), 200)
    assert future["items"] == []
    is_error(api.operator.get("/api/v1/events"), 403)
    is_error(api.admin.get("/api/v1/events", params={"since": "yesterday"}), 422, "since")


def test_the_audit_log_shows_who_did_what(api: Api) -> None:
    shop = api.shop()
    entries = expect(api.treasury.get("/api/v1/audit", params={"action": "validate_store"}), 200)
    assert [(e["role"], e["resource"], e["resource_id"]) for e in entries["items"]] == [
        ("treasury", "store", str(shop.store_id))]
    validated = entries["items"][0]["details"]["validated"]
    assert validated["clabe"].startswith("*" * 14) and validated["clabe"][-4:].isdigit()
    assert validated["beneficiary_name"].endswith("***")
    is_error(api.operator.get("/api/v1/audit"), 403)


def test_api_keys_are_listed_created_and_revoked_by_admin_only(api: Api) -> None:
    created = expect(api.admin.post("/api/v1/api-keys", json={"role": "operator", "label": "integración",
                                                              "owner": OWNER}), 201)
    assert created["key"].startswith(created["prefix"]) and created["revoked_at"] is None
    listed = expect(api.admin.get("/api/v1/api-keys"), 200)
    assert created["id"] in [k["id"] for k in listed["items"]]
    assert all("key" not in k and "key_hash" not in k for k in listed["items"])
    new_key = {"Authorization": f"Bearer {created['key']}"}
    assert api.client.simulate_get("/merchants", headers=new_key).status_code == 200
    revoked = expect(api.admin.post(f"/api/v1/api-keys/{created['id']}/revoke"), 200)
    assert revoked["revoked_at"] is not None
    assert api.client.simulate_get("/merchants", headers=new_key).status_code == 401
    is_error(api.treasury.get("/api/v1/api-keys"), 403)
    is_error(api.admin.post("/api/v1/api-keys", json={"role": "partner", "owner": OWNER}), 422, "merchant")
    is_error(api.admin.post("/api/v1/api-keys/999999/revoke"), 404)


def test_credits_and_a_merchants_stores_are_listed_within_the_callers_scope(api: Api) -> None:
    mine, theirs = api.shop("Mia"), api.shop("Ajena")
    api.delivered_credit(mine, "mine-1", 100_000)
    api.delivered_credit(theirs, "theirs-1", 200_000)
    partner = api.as_role("partner", mine.merchant_id)
    listed = expect(partner.get("/credits"), 200)
    assert [c["external_id"] for c in listed["items"]] == ["mine-1"]
    assert expect(api.admin.get("/credits", params={"store": theirs.store_id}), 200)["total"] == 1
    assert expect(api.admin.get("/credits", params={"status": "cancelled"}), 200)["total"] == 0
    stores = expect(partner.get(f"/merchants/{mine.merchant_id}/stores"), 200)
    assert [s["id"] for s in stores["items"]] == [mine.store_id]
    is_error(partner.get(f"/merchants/{theirs.merchant_id}/stores"), 404)


def test_ids_beyond_bigint_name_nothing(api: Api) -> None:
    is_error(api.admin.get(f"/stores/{2**63}"), 404)
    is_error(api.admin.post("/credits", json={"store_id": 2**63, "external_id": "x", "amount": 1,
                                              "number_of_payments": 3}), 422, "at most")
    assert clabe.is_valid(api.store_fields()["clabe"])
    assert count(api.container, "credits") == 0
    with api.container.uow() as uow:
        assert uow.session.execute(select(func.count()).select_from(tables.credits)).scalar() == 0
