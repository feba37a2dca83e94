"""The catalogue's products and offers over HTTP on MariaDB: products and their status, offers under them
enabled by an account executive, loans refused by a disabled offer or an inactive product, the in_use tag,
and a merchant's own partner key rejecting, returning and delivering its own credits."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.integration.helpers import cli_env, count, rows
from tests.integration.test_cli_ledger import dispersa
from tests.integration.test_web_access import Api, Caller, Shop, expect, is_error
from bootstrap import Container

pytestmark = pytest.mark.integration
PRODUCTS = "/api/v1/products"


@pytest.fixture
def api(container: Container) -> Api:
    return Api(container)


def credit(store_id: int, external_id: str, payments: int = 3) -> dict[str, Any]:
    return {"store_id": store_id, "external_id": external_id, "amount": 100_000, "number_of_payments": payments}


def audited(api: Api, resource: str) -> list[tuple[str, str, str]]:
    return [(r.action, r.role, r.resource_id) for r in rows(
        api.container, "SELECT action, role, resource_id FROM audit_log WHERE resource = :r ORDER BY id", r=resource)]


def test_a_product_is_created_read_edited_deactivated_and_activated(api: Api) -> None:
    product = expect(api.operator.post(PRODUCTS, json={"name": "Quincenal", "currency": "MXN",
                                                        "payment_frequency": "biweekly"}), 201)
    assert {k: product[k] for k in ("name", "currency", "payment_frequency", "status", "charges_interest",
                                    "default")} == {"name": "Quincenal", "currency": "MXN",
                                                    "payment_frequency": "biweekly", "status": "active",
                                                    "charges_interest": True, "default": False}
    monthly = expect(api.operator.post(PRODUCTS, json={"name": "Mensual", "currency": "USD"}), 201)
    assert monthly["payment_frequency"] == "monthly"
    path = f"{PRODUCTS}/{product['id']}"
    assert expect(api.operator.patch(path, json={"name": "Quincena"}), 200)["name"] == "Quincena"
    off = expect(api.operator.post(f"{path}/deactivate"), 200)
    assert (off["status"], off["charges_interest"]) == ("inactive", False)
    assert expect(api.operator.post(f"{path}/deactivate"), 200)["status"] == "inactive"  # a repeat changes nothing
    listed = expect(api.treasury.get(PRODUCTS, query_string="status=inactive"), 200)
    assert ([p["id"] for p in listed["items"]], listed["total"]) == ([product["id"]], 1)
    assert expect(api.admin.post(f"{path}/activate"), 200)["status"] == "active"
    assert expect(api.account_executive.get(path), 200)["name"] == "Quincena"
    assert expect(api.operator.get(PRODUCTS), 200)["total"] == 2
    assert audited(api, "product") == [
        ("create_product", "operator", str(product["id"])), ("create_product", "operator", str(monthly["id"])),
        ("update_product", "operator", str(product["id"])), ("deactivate_product", "operator", str(product["id"])),
        ("deactivate_product", "operator", str(product["id"])), ("activate_product", "admin", str(product["id"]))]


def test_bad_product_input_is_a_clear_4xx_and_changes_nothing(api: Api) -> None:
    is_error(api.operator.post(PRODUCTS, json={"name": "N" * 201, "currency": "MXN"}), 422, "name")
    is_error(api.operator.post(PRODUCTS, json={"name": "X", "currency": "XXX"}), 422, "currency")
    is_error(api.operator.post(PRODUCTS, json={"name": "X", "currency": "MXN", "payment_frequency": "daily"}), 422,
             "payment_frequency")
    is_error(api.operator.post(PRODUCTS, json={"name": "X"}), 422, "currency")
    is_error(api.treasury.post(PRODUCTS, json={"name": "X", "currency": "MXN"}), 403)
    is_error(api.account_executive.post(PRODUCTS, json={"name": "X", "currency": "MXN"}), 403)
    product = expect(api.operator.post(PRODUCTS, json={"name": "N" * 200, "currency": "MXN"}), 201)
    is_error(api.operator.patch(f"{PRODUCTS}/{product['id']}", json={"currency": "USD"}), 422, "currency")
    is_error(api.operator.patch(f"{PRODUCTS}/{product['id']}", json={"status": "inactive"}), 422, "status")
    is_error(api.operator.get(f"{PRODUCTS}/99"), 404, "product 99")
    assert count(api.container, "products") == 1
    assert expect(api.operator.get(f"{PRODUCTS}/{product['id']}"), 200)["currency"] == "MXN"


def validated_draft(api: Api, name: str = "Muebles") -> Shop:
    """A shop treasury validated whose offer is still a draft."""
    shop = api.unvalidated_shop(name)
    for path in (f"/payment-options/{shop.option_id}", f"/stores/{shop.store_id}", f"/merchants/{shop.merchant_id}"):
        expect(api.treasury.post(f"{path}/validate"), 200)
    return shop


def enabled_shop(api: Api, name: str = "Muebles") -> Shop:
    """A validated shop whose offer an account executive enabled (Api.shop)."""
    return api.shop(name)


def test_only_an_account_executive_or_admin_enables_a_draft_offer(api: Api) -> None:
    shop = validated_draft(api)
    option = expect(api.operator.get(f"/payment-options/{shop.option_id}"), 200)
    default = expect(api.operator.get(f"{PRODUCTS}/{option['product_id']}"), 200)
    assert (option["status"], option["tag"], option["validated"]) == ("draft", "idle", True)
    assert (default["name"], default["currency"], default["default"]) == ("Default MXN", "MXN", True)
    for caller in (api.operator, api.treasury, api.as_role("partner", shop.merchant_id)):
        is_error(caller.post(f"/payment-options/{shop.option_id}/enable"), 403)
    is_error(api.operator.post("/credits", json=credit(shop.store_id, "c-1")), 409,
             f"offer {shop.option_id} is draft: it issues no new loans")
    is_error(api.account_executive.post(f"/payment-options/{shop.option_id}/disable"), 409,
             "is draft: it cannot disable (allowed: enable)")
    assert expect(api.account_executive.post(f"/payment-options/{shop.option_id}/enable"), 200)["status"] == "enabled"
    expect(api.operator.post("/credits", json=credit(shop.store_id, "c-1")), 201)
    is_error(api.account_executive.patch(f"/payment-options/{shop.option_id}", json={"priority": 1}), 403)
    assert audited(api, "payment_option")[-1] == ("enable_payment_option", "account_executive", str(shop.option_id))
    [row] = rows(api.container, "SELECT details FROM audit_log WHERE action = 'enable_payment_option'")
    assert "enabled" in row.details


def test_a_disabled_offer_issues_no_new_loans_and_its_loans_go_on(api: Api) -> None:
    shop = enabled_shop(api)
    signed = expect(api.operator.post("/credits", json=credit(shop.store_id, "before")), 201)
    assert expect(api.operator.get(f"/payment-options/{shop.option_id}"), 200)["tag"] == "in_use"
    assert expect(api.operator.post(f"/payment-options/{shop.option_id}/disable"), 200)["status"] == "disabled"
    is_error(api.operator.post("/credits", json=credit(shop.store_id, "after")), 409,
             f"offer {shop.option_id} is disabled: it issues no new loans")
    is_error(api.admin.post(f"/payment-options/{shop.option_id}/enable"), 409, "is disabled", "allowed: none")
    assert count(api.container, "credits") == 1
    assert expect(api.operator.post(f"/credits/{signed['id']}/delivery"), 200)["status"] == "active"
    listed = expect(api.operator.get(f"/stores/{shop.store_id}/payment-options"), 200)["items"]
    assert [(o["status"], o["tag"]) for o in listed] == [("disabled", "in_use")]
    expect(api.operator.post(f"/credits/{signed['id']}/cancellation", json={"reason": "returned"}), 200)
    assert expect(api.operator.get(f"/payment-options/{shop.option_id}"), 200)["tag"] == "idle"


def test_an_inactive_product_takes_no_offers_and_issues_no_loans(api: Api) -> None:
    shop = enabled_shop(api)
    product_id = expect(api.operator.get(f"/payment-options/{shop.option_id}"), 200)["product_id"]
    expect(api.operator.post(f"{PRODUCTS}/{product_id}/deactivate"), 200)
    is_error(api.operator.post("/credits", json=credit(shop.store_id, "c-1")), 409,
             f"product {product_id} of offer {shop.option_id} is inactive")
    options = f"/stores/{shop.store_id}/payment-options"
    fields = {"number_of_payments": 6, "merchant_commission": "0.05", "min_amount": 1, "max_amount": 100}
    is_error(api.operator.post(options, json={**fields, "product_id": product_id}), 409, "takes no new offers")
    dollars = expect(api.operator.post(PRODUCTS, json={"name": "USD", "currency": "USD"}), 201)
    is_error(api.operator.post(options, json={**fields, "product_id": dollars["id"]}), 422, "is in USD")
    is_error(api.operator.post(options, json={**fields, "product_id": 999}), 404, "product 999")
    weekly = expect(api.operator.post(PRODUCTS, json={"name": "Semanal", "currency": "MXN",
                                                       "payment_frequency": "weekly"}), 201)
    offer = expect(api.operator.post(options, json={**fields, "product_id": weekly["id"]}), 201)
    assert (offer["product_id"], offer["status"]) == (weekly["id"], "draft")
    is_error(api.operator.patch(f"/payment-options/{offer['id']}", json={"product_id": product_id}), 422)
    expect(api.operator.post(f"{PRODUCTS}/{product_id}/activate"), 200)
    expect(api.operator.post("/credits", json=credit(shop.store_id, "c-1")), 201)
    assert count(api.container, "credits") == 1


def test_an_account_executive_key_is_made_by_the_api(api: Api) -> None:
    made = expect(api.admin.post("/api/v1/api-keys", json={"role": "account_executive",
                                                           "owner": "ejecutiva@tests.example"}), 201)
    assert made["role"] == "account_executive"
    executive = Caller(api.client, made["key"])
    shop = validated_draft(api)
    assert expect(executive.post(f"/payment-options/{shop.option_id}/enable"), 200)["status"] == "enabled"
    is_error(executive.post("/merchants", json={"name": "No"}), 403)


@pytest.fixture
def two_merchants(api: Api) -> tuple[Shop, Caller, int, int]:
    """Two enabled shops each with a signed credit: (the first shop, its partner key, its credit, the other's)."""
    ours, theirs = enabled_shop(api, "Nuestra"), enabled_shop(api, "Ajena")
    own = expect(api.operator.post("/credits", json=credit(ours.store_id, "own")), 201)["id"]
    other = expect(api.operator.post("/credits", json=credit(theirs.store_id, "other")), 201)["id"]
    return ours, api.as_role("partner", ours.merchant_id), own, other


@pytest.mark.parametrize("reason", ["rejected", "returned"])
def test_a_merchants_key_rejects_or_returns_its_own_credit(api: Api, two_merchants: tuple[Shop, Caller, int, int],
                                                           reason: str) -> None:
    _, partner, own, _ = two_merchants
    cancelled = expect(partner.post(f"/credits/{own}/cancellation", json={"reason": reason}), 200)
    assert (cancelled["status"], cancelled["cancellation_reason"]) == ("cancelled", reason)
    assert audited(api, "credit")[-1] == ("cancel_credit", "partner", str(own))


def test_a_merchants_key_marks_delivery_of_its_own_credit(api: Api,
                                                          two_merchants: tuple[Shop, Caller, int, int]) -> None:
    _, partner, own, _ = two_merchants
    assert expect(partner.post(f"/credits/{own}/delivery"), 200)["status"] == "active"
    assert audited(api, "credit")[-1] == ("deliver_credit", "partner", str(own))


@pytest.mark.parametrize("reason", ["fraud", "death", "refinanced"])
def test_a_merchants_key_may_not_cancel_for_the_lenders_reasons(api: Api, reason: str,
                                                                two_merchants: tuple[Shop, Caller, int, int]) -> None:
    _, partner, own, _ = two_merchants
    is_error(partner.post(f"/credits/{own}/cancellation", json={"reason": reason}), 403, "rejected or returned")
    assert expect(api.operator.get(f"/credits/{own}"), 200)["status"] == "signed"


def test_a_merchants_key_never_touches_another_merchants_credit(api: Api,
                                                                two_merchants: tuple[Shop, Caller, int, int]) -> None:
    _, partner, _, other = two_merchants
    missing = partner.post("/credits/999999/delivery")
    for attempt in (partner.post(f"/credits/{other}/delivery"),
                    partner.post(f"/credits/{other}/cancellation", json={"reason": "rejected"}),
                    partner.post(f"/credits/{other}/cancellation", json={"reason": "fraud"})):
        is_error(attempt, 404, f"credit {other} does not exist")
        assert attempt.json["title"] == missing.json["title"]
    assert expect(api.operator.get(f"/credits/{other}"), 200)["status"] == "signed"
    assert not [a for a in audited(api, "credit") if a[1] == "partner"]


def test_a_disabled_merchant_neither_handles_its_credits_nor_originates(
        api: Api, two_merchants: tuple[Shop, Caller, int, int]) -> None:
    shop, partner, own, _ = two_merchants
    expect(api.operator.patch(f"/merchants/{shop.merchant_id}", json={"status": "disabled"}), 200)
    is_error(partner.post(f"/credits/{own}/delivery"), 403, "is disabled")
    is_error(partner.post(f"/credits/{own}/cancellation", json={"reason": "returned"}), 403, "is disabled")
    is_error(api.operator.post("/credits", json=credit(shop.store_id, "new")), 403, "disabled")
    assert expect(api.operator.get(f"/credits/{own}"), 200)["status"] == "signed"
    assert count(api.container, "credits") == 2


def test_the_cli_makes_an_account_executive_key(db_url: str, tmp_path: Path) -> None:
    run = dispersa("apikey", "create", "--role", "account_executive", "--owner", "eva@example.com",
                   env=cli_env(db_url), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1].startswith("dsp_")
    assert count_keys(db_url, "account_executive") == 1


def count_keys(db_url: str, role: str) -> int:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT COUNT(*) FROM api_keys WHERE role = :r"), {"r": role}).scalar() or 0)
    finally:
        engine.dispose()
