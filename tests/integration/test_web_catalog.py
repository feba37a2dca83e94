"""Merchants, stores, payment options and credits over HTTP: the validation chain, edits, and bad input."""
from __future__ import annotations

from typing import Any

import pytest

from domain import masking
from tests.integration.helpers import count, scalar
from tests.integration.test_web_access import Api, expect, is_error
from bootstrap import Container

pytestmark = pytest.mark.integration


@pytest.fixture
def api(container: Container) -> Api:
    return Api(container)


def test_create_and_read_a_store_with_its_option(api: Api) -> None:
    merchant = expect(api.operator.post("/merchants", json={
        "name": "Electro", "tiers": [{"min_origination": 1_000_000, "commission_rate": "0.04"}]}), 201)
    assert (merchant["currency"], merchant["tax_rate"], merchant["validated"]) == ("MXN", "0.16", False)
    assert merchant["tiers"] == [{"min_origination": 1_000_000, "commission_rate": "0.04"}]
    fields = api.store_fields(disbursement_mode="weekly", weekday=4, time_of_day="10:30", minimum_transfer=50_000,
                              requires_confirmation=True)
    store = expect(api.operator.post(f"/merchants/{merchant['id']}/stores", json=fields), 201)
    option = expect(api.operator.post(f"/stores/{store['id']}/payment-options", json={
        "number_of_payments": 6, "merchant_commission": "0.035", "min_amount": 100, "max_amount": 500_000,
        "is_in_trial_period": True, "trial_commission": "0.01", "end_of_trial_period": "2027-01-01T00:00:00+00:00",
        "priority": 2}), 201)

    got = expect(api.operator.get(f"/stores/{store['id']}"), 200)
    assert {k: got[k] for k in fields} == masking.fields(fields)  # its account and name shown masked
    assert got["clabe"] == "*" * 14 + fields["clabe"][-4:] and got["clabe"] != fields["clabe"]
    assert (got["merchant_id"], got["currency"], got["balance"], got["validated"]) == (merchant["id"], "MXN", 0, False)
    listed = expect(api.operator.get(f"/stores/{store['id']}/payment-options"), 200)["items"]
    assert [o["id"] for o in listed] == [option["id"]]
    got = expect(api.operator.get(f"/payment-options/{option['id']}"), 200)
    assert (got["merchant_commission"], got["trial_commission"], got["end_of_trial_period"]) == (
        "0.035", "0.01", "2027-01-01T00:00:00+00:00")
    assert expect(api.operator.get(f"/merchants/{merchant['id']}"), 200)["store_ids"] == [store["id"]]


def test_validation_chain(api: Api) -> None:
    shop = api.unvalidated_shop()
    is_error(api.treasury.post(f"/stores/{shop.store_id}/validate"), 409, "no validated payment option")
    is_error(api.treasury.post(f"/merchants/{shop.merchant_id}/validate"), 409, "no validated store")

    assert expect(api.treasury.post(f"/payment-options/{shop.option_id}/validate"), 200)["validated"] is True
    is_error(api.treasury.post(f"/merchants/{shop.merchant_id}/validate"), 409, "no validated store")
    assert expect(api.treasury.post(f"/stores/{shop.store_id}/validate"), 200)["validated"] is True
    merchant = expect(api.treasury.post(f"/merchants/{shop.merchant_id}/validate"), 200)
    assert (merchant["validated"], merchant["can_originate"]) == (True, True)


def test_a_store_with_an_invalid_clabe_is_not_validated(api: Api) -> None:
    shop = api.unvalidated_shop()
    expect(api.treasury.post(f"/payment-options/{shop.option_id}/validate"), 200)
    bad = "646180000000000001"  # right length and bank, wrong check digit: refused at the door
    is_error(api.operator.patch(f"/stores/{shop.store_id}", json={"clabe": bad}), 422, "clabe")
    assert expect(api.treasury.post(f"/stores/{shop.store_id}/validate"), 200)["validated"] is True


def test_an_edit_resets_what_was_edited(api: Api) -> None:
    shop = api.shop()
    option = expect(api.operator.patch(f"/payment-options/{shop.option_id}", json={"priority": 5}), 200)
    assert (option["priority"], option["validated"]) == (5, False)
    assert expect(api.operator.get(f"/stores/{shop.store_id}"), 200)["validated"] is True

    store = expect(api.operator.patch(f"/stores/{shop.store_id}", json={"name": "Nueva"}), 200)
    assert (store["name"], store["validated"]) == ("Nueva", False)

    merchant = expect(api.operator.patch(f"/merchants/{shop.merchant_id}", json={"name": "Otra"}), 200)
    assert (merchant["name"], merchant["validated"], merchant["can_originate"]) == ("Otra", False, False)
    assert scalar(api.container, "SELECT validated FROM merchants WHERE id = :m", m=shop.merchant_id) == 0


def credit_body(store_id: int, external_id: str = "c-1", amount: int = 100_000) -> dict[str, Any]:
    return {"store_id": store_id, "external_id": external_id, "amount": amount, "number_of_payments": 3}


def test_an_unvalidated_merchant_cannot_originate(api: Api) -> None:
    shop = api.unvalidated_shop()
    expect(api.treasury.post(f"/payment-options/{shop.option_id}/validate"), 200)
    expect(api.account_executive.post(f"/payment-options/{shop.option_id}/enable"), 200)
    expect(api.treasury.post(f"/stores/{shop.store_id}/validate"), 200)
    is_error(api.operator.post("/credits", json=credit_body(shop.store_id)), 403, "not validated")
    assert count(api.container, "credits") == 0

    expect(api.treasury.post(f"/merchants/{shop.merchant_id}/validate"), 200)
    expect(api.operator.post("/credits", json=credit_body(shop.store_id)), 201)
    expect(api.operator.patch(f"/merchants/{shop.merchant_id}", json={"status": "disabled"}), 200)
    expect(api.treasury.post(f"/merchants/{shop.merchant_id}/validate"), 200)
    is_error(api.operator.post("/credits", json=credit_body(shop.store_id, "c-2")), 403, "disabled")
    assert count(api.container, "credits") == 1


def test_originate_fixes_the_commission_and_is_idempotent(api: Api) -> None:
    shop = api.shop()
    credit = expect(api.operator.post("/credits", json=credit_body(shop.store_id, amount=123_457)), 201)
    assert (credit["commission_rate"], credit["tax_rate"], credit["commission"], credit["tax"]) == (
        "0.05", "0.16", 6_173, 988)  # commission 6172.85 -> 6173; tax 16 % of 6173 = 987.68 -> 988
    assert credit["contribution"] == 123_457 - 7_161
    assert (credit["currency"], credit["status"], credit["payment_option_id"]) == ("MXN", "signed", shop.option_id)
    again = expect(api.operator.post("/credits", json=credit_body(shop.store_id, amount=123_457)), 201)
    assert again["id"] == credit["id"]
    is_error(api.operator.post("/credits", json=credit_body(shop.store_id, amount=1_000)), 409, "other terms")
    is_error(api.operator.post("/credits", json={**credit_body(shop.store_id, "c-9"), "number_of_payments": 7}),
             409, "no validated option")
    assert count(api.container, "credits") == 1


def test_credit_delivery_and_cancellation(api: Api) -> None:
    shop = api.shop()
    credit = expect(api.operator.post("/credits", json=credit_body(shop.store_id)), 201)
    delivered = expect(api.operator.post(f"/credits/{credit['id']}/delivery"), 200)
    assert (delivered["status"], delivered["delivered_at"] is not None) == ("active", True)
    is_error(api.operator.post(f"/credits/{credit['id']}/cancellation", json={"reason": "bored"}), 422, "refinanced")
    cancelled = expect(api.operator.post(f"/credits/{credit['id']}/cancellation", json={"reason": "fraud"}), 200)
    assert (cancelled["status"], cancelled["cancellation_reason"]) == ("cancelled", "fraud")
    assert expect(api.operator.post(f"/credits/{credit['id']}/delivery"), 200)["status"] == "cancelled", \
        "a repeated delivery changes nothing"
    never_delivered = expect(api.operator.post("/credits", json=credit_body(shop.store_id, "c-2")), 201)
    expect(api.operator.post(f"/credits/{never_delivered['id']}/cancellation", json={"reason": "rejected"}), 200)
    is_error(api.operator.post(f"/credits/{never_delivered['id']}/delivery"), 409, "only a signed credit")
    is_error(api.operator.post("/credits/424242/delivery"), 404, "credit 424242 does not exist")


def test_malformed_json_is_400_and_changes_nothing(api: Api) -> None:
    shop = api.shop()
    before = (count(api.container, "merchants"), count(api.container, "audit_log"))
    for method, path in (("POST", "/merchants"), ("PATCH", f"/stores/{shop.store_id}"),
                         ("POST", f"/stores/{shop.store_id}/adjustments"), ("POST", "/credits")):
        key = api.treasury.key if "adjustments" in path else api.operator.key
        result = api.client.simulate_request(method, path, body='{"name": "Rota",', headers={
            "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        is_error(result, 400, "not valid JSON")
        assert result.json["title"] == "Malformed JSON"
    assert (count(api.container, "merchants"), count(api.container, "audit_log")) == before
    store = expect(api.operator.get(f"/stores/{shop.store_id}"), 200)
    assert (store["name"], store["validated"]) == ("Tienda", True)
    assert count(api.container, "balance_updates") == 0


@pytest.mark.parametrize("body, words", [
    ({}, ("missing", "name")),
    ([{"name": "x"}], ("JSON object",)),
    ({"name": 5}, ("name is a string",)),
    ({"name": "x", "colour": "red"}, ("unknown field", "colour")),
    ({"name": "x", "tax_rate": 0.16}, ("decimal string",)),
    ({"name": "x", "tax_rate": "1.5"}, ("rate from 0 to 1",)),
    ({"name": "x", "tax_rate": "0.1234567890123"}, ("at most 12 decimals",)),
    ({"name": "   "}, ("name cannot be blank",)),
    ({"name": "x", "tiers": [{"min_origination": 0, "commission_rate": "0.04"},
                             {"min_origination": 0, "commission_rate": "0.03"}]}, ("min_origination once",)),
    ({"name": "x", "currency": "XYZ"}, ("currency",)),
    ({"name": "x", "tiers": [{"min_origination": 1}]}, ("commission_rate",)),
])
def test_invalid_merchant_is_422(api: Api, body: Any, words: tuple[str, ...]) -> None:
    is_error(api.operator.post("/merchants", json=body), 422, *words)
    assert count(api.container, "merchants") == 0


@pytest.mark.parametrize("changes, words", [
    ({}, ("at least one",)),
    ({"validated": True}, ("unknown field", "validated")),
    ({"balance": 10}, ("unknown field",)),
    ({"clabe": "123"}, ("clabe", "18 digits")),
    ({"name": "  "}, ("name cannot be blank",)),
    ({"minimum_transfer": -1}, ("at least 0",)),
    ({"minimum_transfer": "100"}, ("integer",)),
    ({"automation_enabled": "yes"}, ("true or false",)),
    ({"disbursement_mode": "yearly"}, ("one of",)),
    ({"timezone": "Mars/Olympus"}, ("TimeZone",)),
    ({"time_of_day": "25:99"}, ("HH:MM",)),
    ({"weekday": 7}, ("at most 6",)),
])
def test_invalid_store_edit_is_422_and_changes_nothing(api: Api, changes: Any, words: tuple[str, ...]) -> None:
    shop = api.shop()
    is_error(api.operator.patch(f"/stores/{shop.store_id}", json=changes), 422, *words)
    store = expect(api.operator.get(f"/stores/{shop.store_id}"), 200)
    assert (store["validated"], store["disbursement_mode"], store["minimum_transfer"], store["timezone"]) == (
        True, "daily", 0, "America/Mexico_City")


@pytest.mark.parametrize("body, words", [
    ({"store_id": 1, "external_id": "x", "amount": "100", "number_of_payments": 3}, ("amount is an integer",)),
    ({"store_id": 1, "external_id": "x", "amount": 100.5, "number_of_payments": 3}, ("minor units",)),
    ({"store_id": 1, "external_id": "x", "amount": 0, "number_of_payments": 3}, ("at least 1",)),
    ({"store_id": 1, "external_id": "", "amount": 100, "number_of_payments": 3}, ("blank",)),
    ({"store_id": 1, "amount": 100, "number_of_payments": 3}, ("missing", "external_id")),
    ({"store_id": True, "external_id": "x", "amount": 100, "number_of_payments": 3}, ("store_id is an integer",)),
])
def test_invalid_credit_is_422(api: Api, body: dict[str, Any], words: tuple[str, ...]) -> None:
    shop = api.shop()
    if body.get("store_id") == 1 and body["store_id"] is not True:
        body["store_id"] = shop.store_id
    is_error(api.operator.post("/credits", json=body), 422, *words)
    assert count(api.container, "credits") == 0


def test_unknown_ids_and_paths_are_404(api: Api) -> None:
    is_error(api.operator.get("/merchants/777"), 404, "merchant 777 does not exist")
    is_error(api.operator.post("/merchants/777/stores", json=api.store_fields()), 404, "merchant 777")
    is_error(api.operator.get("/payment-options/5"), 404, "payment option 5")
    is_error(api.operator.get("/merchants/abc"), 404, "/merchants/abc")
    is_error(api.operator.get("/nowhere"), 404, "/nowhere")


def test_a_merchants_tiers_can_be_sent_again_or_re_rated_where_they_start(api: Api) -> None:
    """Replacing tiers that start where the old ones did (the same list again, or new rates) is an edit,
    not a conflict with the rows being replaced."""
    merchant = expect(api.operator.post("/merchants", json={"name": "Escalas", "tiers": [
        {"min_origination": 0, "commission_rate": "0.05"}, {"min_origination": 1_000_000, "commission_rate": "0.04"}]}),
        201)
    path = f"/merchants/{merchant['id']}"
    same = {"tiers": merchant["tiers"]}
    assert expect(api.operator.patch(path, json=same), 200)["tiers"] == merchant["tiers"]
    re_rated = [{"min_origination": 0, "commission_rate": "0.045"}, {"min_origination": 1_000_000,
                                                                     "commission_rate": "0.035"}]
    assert expect(api.operator.patch(path, json={"tiers": re_rated}), 200)["tiers"] == re_rated
    assert count(api.container, "commission_tiers") == 2


def test_external_ids_that_differ_only_in_case_are_two_credits(api: Api) -> None:
    shop = api.shop()
    ids = []
    for external_id in ("Pedido-7a", "pedido-7A"):
        ids.append(expect(api.operator.post("/credits", json={
            "store_id": shop.store_id, "external_id": external_id, "amount": 100_000, "number_of_payments": 3}),
            201)["id"])
    assert len(set(ids)) == 2
