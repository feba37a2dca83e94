"""Every text the API accepts lands whole in its column, on the real MariaDB and through the HTTP API.

test_web_edges checks the widths statically and sends the create bodies, a store's and a merchant's
name and a rejection reason at their limits. Here: the STP callback's texts (and the return cause on
to the order it returns), the Idempotency-Key header, the PATCH bodies of stores and payment options,
the validated copies of a store's bank details, and rates at their full precision (merchant tax and
tier rates, and on to the options and credits that copy them). Each is sent at its limit and read
back whole; one character past it is refused and stores nothing. Limits come from web.routes.
"""
from __future__ import annotations

from itertools import count as counter
from typing import Any, Callable, Iterator

import pytest
from falcon.testing import Result
from sqlalchemy import select

from adapters.db import tables
from adapters.db.types import Sealed
from adapters.sealing import KEYRING, place
from adapters.settings import Settings
from bootstrap import build_container
from domain import clabe, masking
from tests.conftest import FakeClock
from tests.integration.conftest import WEBHOOK_PATH, WEBHOOK_SECRET
from tests.integration.helpers import count, rows, scalar
from tests.integration.orders import BankShows, order_sent, process_event
from tests.integration.test_web_access import Api, expect, is_error
from usecases import commissions
from web import routes
from web.schema import RATE_SCHEMA, Body, Field

pytestmark = pytest.mark.integration

_accounts = counter(7_100_001)


def field_of(body: Body, name: str) -> Field:
    return next(f for f in body.fields if f.name == name)


def limit_of(body: Body, name: str) -> int:
    limit = field_of(body, name).max_length
    assert limit is not None, f"{body.name}.{name} has no maximum length"
    return limit


def text(n: int) -> str:
    """``n`` characters of 2-, 3- and 4-byte UTF-8 (characters, not bytes, are the limit), no white space."""
    return ("Ñandú€😀" * n)[:n]


def alnum(n: int) -> str:
    return ("GODE561231HDFRRN09" * n)[:n]


def new_clabe(n: int) -> str:
    value = clabe.make("646", "180", f"{next(_accounts):011d}")
    assert len(value) == n
    return value


RATE_LENGTH = int(str(RATE_SCHEMA["maxLength"]))


def finest_rate(digits: str = "123456789") -> str:
    """A rate as long as a rate may be: "0." and every decimal allowed."""
    return ("0." + digits * RATE_LENGTH)[:RATE_LENGTH]


ESTADO_LIMIT = limit_of(routes.STP_ORDER_STATUS, "estado")
RETURNED_ALIAS = ("DevoluciónSPEI" * ESTADO_LIMIT)[:ESTADO_LIMIT]  # a configured estado as long as one may be


@pytest.fixture
def api(settings: Settings, clock: FakeClock) -> Iterator[Api]:
    """The app over MariaDB (in-process broker: steps run by hand) with the webhook's secret and an
    estado alias at the estado's limit."""
    container = build_container(settings.model_copy(update={
        "webhook_secret": WEBHOOK_SECRET, "broker": "stub", "stp_estados": {RETURNED_ALIAS: "returned"}}), clock=clock)
    container.redis.flushdb()
    yield Api(container)
    container.engine.dispose()


def column(api: Api, table: str, name: str, id_: int) -> Any:
    """A column's stored text, read raw (no type conversion; a sealed column's token unsealed here)."""
    raw = scalar(api.container, f"SELECT `{name}` FROM `{table}` WHERE id = :id", id=id_)
    kind = tables.metadata.tables[table].c[name].type
    if not isinstance(kind, Sealed):
        return raw
    return KEYRING.unseal(raw, place(table, name, scalar(api.container, f"SELECT `{kind.row_key}` FROM `{table}` "
                                                         "WHERE id = :id", id=id_)))


# --- the STP callback ---------------------------------------------------------------------------------

CALLBACK_TEXTS = [f.name for f in routes.STP_ORDER_STATUS.fields if f.max_length]
# Where a callback's text lands as it arrives, besides the stored body.
EVENT_COLUMNS = {"estado": "estado", "folioOrigen": "folio_origen"}


def callback(api: Api, body: dict[str, Any]) -> Result:
    return api.client.simulate_post(WEBHOOK_PATH, json=body, headers={"X-Webhook-Secret": WEBHOOK_SECRET})


def stored_events(api: Api) -> list[Any]:
    e = tables.bank_events.c
    with api.container.engine.connect() as conn:
        return list(conn.execute(select(e.id, e.estado, e.folio_origen, e.body).order_by(e.id)))


def test_the_callback_texts_are_the_four_the_audit_named() -> None:
    assert sorted(CALLBACK_TEXTS) == ["causaDevolucion", "empresa", "estado", "folioOrigen"]


@pytest.mark.parametrize("name", CALLBACK_TEXTS)
def test_a_callback_text_at_its_limit_is_stored_whole(api: Api, name: str) -> None:
    value = text(limit_of(routes.STP_ORDER_STATUS, name))
    assert callback(api, {"estado": "LQ", name: value}).status_code == 200
    [event] = stored_events(api)
    assert event.body[name] == value
    if name in EVENT_COLUMNS:
        assert getattr(event, EVENT_COLUMNS[name]) == value


@pytest.mark.parametrize("name", [n for n in CALLBACK_TEXTS if n != "estado"])  # estado: test_web_edges
def test_a_callback_text_one_past_its_limit_is_400_and_stores_nothing(api: Api, name: str) -> None:
    limit = limit_of(routes.STP_ORDER_STATUS, name)
    result = callback(api, {"estado": "LQ", name: text(limit + 1)})
    assert result.status_code == 400, result.text
    assert f"at most {limit}" in result.json["description"]
    assert count(api.container, "bank_events") == 0 and count(api.container, "outbox") == 0


def test_a_return_with_estado_and_cause_at_their_limits_reaches_the_order_whole(api: Api) -> None:
    container = api.container
    order = order_sent(container, 12_345_678)
    assert order.id is not None
    cause = text(limit_of(routes.STP_ORDER_STATUS, "causaDevolucion"))
    assert callback(api, {"id": order.bank_order_id, "empresa": text(limit_of(routes.STP_ORDER_STATUS, "empresa")),
                          "folioOrigen": order.tracking_key, "estado": RETURNED_ALIAS,
                          "causaDevolucion": cause}).status_code == 200
    [event] = stored_events(api)
    # the bank's own query confirms it, with the cause at its limit too
    assert process_event(container, event.id, BankShows(RETURNED_ALIAS, causaDevolucion=cause)) == "applied"
    assert column(api, "payment_orders", "status", order.id) == "returned"
    assert column(api, "payment_orders", "return_cause", order.id) == cause
    assert scalar(container, "SELECT detail FROM payment_order_status_history WHERE payment_order_id = :id "
                  "AND status = 'returned'", id=order.id) == cause
    with container.engine.connect() as conn:
        logged = conn.execute(select(tables.event_log.c.details).where(
            tables.event_log.c.kind == "payment_order_returned")).scalar_one()
    assert logged == {"cause": cause, "uetr": order.uetr}  # whole, and naming the payment
    transfer = expect(api.treasury.get(f"/transfers/{order.bank_transfer_id}"), 200)
    assert (transfer["status"], transfer["order_status"]) == ("rejected", "returned")
    assert transfer["status_reason"] == f"returned by the bank: {cause}"
    assert scalar(container, "SELECT reason FROM bank_transfer_status_history WHERE bank_transfer_id = :id "
                  "AND status = 'rejected'", id=order.bank_transfer_id) == f"returned by the bank: {cause}"


# --- the Idempotency-Key header -------------------------------------------------------------------------

def test_an_idempotency_key_at_its_limit_is_kept_whole_and_one_past_is_refused(api: Api) -> None:
    shop = api.shop()
    limit = routes.IDEMPOTENCY_KEY.max_length
    assert limit is not None
    key = ("0123456789" * limit)[:limit]

    def adjust(idempotency_key: str) -> Result:
        return api.treasury.post(f"/stores/{shop.store_id}/adjustments", json={"amount": 100},
                                 headers={"Idempotency-Key": idempotency_key})

    is_error(adjust(key + "0"), 422, "Idempotency-Key", f"at most {limit}")
    assert count(api.container, "balance_updates") == 0
    first = expect(adjust(key), 201)
    assert expect(adjust(key), 201)["id"] == first["id"]
    other = expect(adjust(key[:-1] + "X"), 201)  # the last character counts: the whole key is the key
    assert other["id"] != first["id"]
    assert column(api, "balance_updates", "idempotency_key", first["id"]) == key
    assert column(api, "balance_updates", "idempotency_key", other["id"]) == key[:-1] + "X"


# --- stores ---------------------------------------------------------------------------------------------

STORE_TEXTS: dict[str, Callable[[int], str]] = {"name": text, "beneficiary_name": text, "rfc_curp": alnum,
                                                "clabe": new_clabe}
BANK_DETAILS = ("clabe", "beneficiary_name", "rfc_curp")


@pytest.mark.parametrize("name", sorted(STORE_TEXTS))
def test_a_store_text_patched_at_its_limit_is_stored_whole_and_one_past_is_refused(api: Api, name: str) -> None:
    shop = api.shop()
    limit = limit_of(routes.STORE_UPDATE, name)
    value = STORE_TEXTS[name](limit)
    path = f"/stores/{shop.store_id}"
    before = expect(api.admin.get(path), 200)[name]
    is_error(api.admin.patch(path, json={name: value + value[-1]}), 422, name, f"at most {limit}")
    assert expect(api.admin.get(path), 200)[name] == before
    assert expect(api.admin.patch(path, json={name: value}), 200)[name] == masking.field(name, value)
    assert expect(api.admin.get(path), 200)[name] == masking.field(name, value)
    assert column(api, "stores", name, shop.store_id) == value


def test_the_longest_time_zone_is_stored_whole_on_a_store_and_its_merchant(api: Api) -> None:
    shop = api.shop()
    zone = max(routes.TIMEZONES, key=len)
    for path, table, id_ in ((f"/stores/{shop.store_id}", "stores", shop.store_id),
                             (f"/merchants/{shop.merchant_id}", "merchants", shop.merchant_id)):
        expect(api.admin.patch(path, json={"timezone": zone}), 200)
        assert expect(api.admin.get(path), 200)["timezone"] == zone
        assert column(api, table, "timezone", id_) == zone


def test_validating_a_store_copies_its_bank_details_at_their_limits_whole(api: Api) -> None:
    shop = api.shop()
    details = {name: STORE_TEXTS[name](limit_of(routes.STORE_UPDATE, name)) for name in BANK_DETAILS}
    assert expect(api.treasury.patch(f"/stores/{shop.store_id}", json=details), 200)["validated"] is False
    validated = expect(api.as_role("treasury", owner="luis@tests.example").post(f"/stores/{shop.store_id}/validate"),
                       200)
    shown = expect(api.treasury.get(f"/stores/{shop.store_id}"), 200)
    for name, value in details.items():
        assert validated[f"validated_{name}"] == shown[f"validated_{name}"] == masking.field(name, value)
        assert column(api, "stores", f"validated_{name}", shop.store_id) == value
    audit = expect(api.treasury.get("/api/v1/audit", params={"action": "validate_store"}), 200)["items"]
    latest = max(audit, key=lambda entry: entry["id"])["details"]["validated"]
    assert (latest["beneficiary_name"], latest["rfc_curp"]) == (masking.name(details["beneficiary_name"]),
                                                                details["rfc_curp"])


# --- payment options ------------------------------------------------------------------------------------

OPTION_FIELDS = [f.name for f in routes.OPTION_UPDATE.fields if f.kind == "rate" or f.max_length]


def test_the_option_texts_and_rates_are_those_the_audit_named() -> None:
    assert sorted(OPTION_FIELDS) == ["a0_interest_rate", "c3_interest_rate", "discount_percentage",
                                     "identifier_code", "merchant_commission", "trial_commission", "type"]


@pytest.mark.parametrize("name", OPTION_FIELDS)
def test_an_option_field_patched_at_its_limit_is_stored_whole_and_one_past_is_refused(api: Api, name: str) -> None:
    shop = api.shop()
    field = field_of(routes.OPTION_UPDATE, name)
    value = finest_rate() if field.kind == "rate" else text(limit_of(routes.OPTION_UPDATE, name))
    path = f"/payment-options/{shop.option_id}"
    before = expect(api.admin.get(path), 200)[name]
    is_error(api.admin.patch(path, json={name: value + value[-1]}), 422, name)
    assert expect(api.admin.get(path), 200)[name] == before
    assert expect(api.admin.patch(path, json={name: value}), 200)[name] == value
    assert expect(api.admin.get(path), 200)[name] == value
    assert column(api, "payment_options", name, shop.option_id) == value


# --- merchant rates -------------------------------------------------------------------------------------

def tiers_of(rate: str) -> list[dict[str, Any]]:
    return [{"min_origination": 0, "commission_rate": rate}]


def test_merchant_rates_at_full_precision_are_stored_whole_and_one_decimal_finer_is_refused(api: Api) -> None:
    rate, finer = finest_rate(), finest_rate() + "3"
    for body in ({"name": "Tasas", "tax_rate": finer}, {"name": "Tasas", "tiers": tiers_of(finer)}):
        is_error(api.admin.post("/merchants", json=body), 422, "tax_rate" if "tax_rate" in body else "commission_rate")
    assert count(api.container, "merchants") == 0 and count(api.container, "commission_tiers") == 0
    created = expect(api.admin.post("/merchants", json={"name": "Tasas", "tax_rate": rate, "tiers": tiers_of(rate)}),
                     201)
    path = f"/merchants/{created['id']}"
    is_error(api.admin.patch(path, json={"tiers": tiers_of(finer)}), 422, "commission_rate")
    assert expect(api.admin.get(path), 200)["tiers"] == tiers_of(rate)
    other = finest_rate("987654321")
    expect(api.admin.patch(path, json={"tax_rate": other, "tiers": [
        {"min_origination": 0, "commission_rate": rate}, {"min_origination": 10**9, "commission_rate": other}]}), 200)
    shown = expect(api.admin.get(path), 200)
    assert shown["tax_rate"] == other and [t["commission_rate"] for t in shown["tiers"]] == [rate, other]
    assert column(api, "merchants", "tax_rate", created["id"]) == other
    assert [r[0] for r in rows(api.container, "SELECT commission_rate FROM commission_tiers WHERE merchant_id = :id "
                               "ORDER BY min_origination", id=created["id"])] == [rate, other]


def test_a_tier_rate_at_full_precision_reaches_the_options_and_credits_whole(api: Api) -> None:
    shop = api.unvalidated_shop("Escalonada")
    tax, tier = finest_rate("987654321"), finest_rate()
    expect(api.operator.patch(f"/merchants/{shop.merchant_id}", json={"tax_rate": tax, "tiers": tiers_of(tier)}), 200)
    expect(api.operator.patch(f"/payment-options/{shop.option_id}", json={"can_commission_be_auto_updated": True}), 200)
    for path in (f"/payment-options/{shop.option_id}", f"/stores/{shop.store_id}", f"/merchants/{shop.merchant_id}"):
        expect(api.treasury.post(f"{path}/validate"), 200)
    expect(api.admin.post(f"/payment-options/{shop.option_id}/enable"), 200)
    with api.container.uow() as uow:
        assert commissions.update_monthly_commissions(uow, shop.merchant_id, "2026-10") == 1
        uow.commit()
    assert expect(api.admin.get(f"/payment-options/{shop.option_id}"), 200)["merchant_commission"] == tier
    assert scalar(api.container, "SELECT commission_rate FROM commission_updates WHERE merchant_id = :id",
                  id=shop.merchant_id) == tier
    credit = expect(api.operator.post("/credits", json={"store_id": shop.store_id, "external_id": "tasa-fina",
                                                        "amount": 100_000, "number_of_payments": 3}), 201)
    assert (credit["commission_rate"], credit["tax_rate"]) == (tier, tax)
    assert (column(api, "credits", "commission_rate", credit["id"]),
            column(api, "credits", "tax_rate", credit["id"])) == (tier, tax)
