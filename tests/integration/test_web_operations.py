"""GET /health, GET /openapi.json (every served route is documented, and the documents match the answers),
and unexpected errors."""
from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any

import pytest
from falcon import inspect
from falcon.testing import TestClient

from tests.integration.test_web_access import Api, expect, is_error
from usecases import queries
from bootstrap import Container, web_app
from web.routes import ROUTES

pytestmark = pytest.mark.integration


@pytest.fixture
def api(container: Container) -> Api:
    return Api(container)


def test_health_reports_every_component_without_a_key(api: Api) -> None:
    health = expect(api.anonymous.get("/health"), 200)
    assert health["status"] == "up"
    assert {name: c["status"] for name, c in health["components"].items()} == {
        "database": "up", "broker": "up", "redis": "up"}
    assert health["components"]["broker"]["detail"] == "rabbitmq"


def test_health_is_503_when_redis_is_down(container: Container) -> None:
    nowhere = container.settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    client = TestClient(web_app(dataclasses.replace(container, settings=nowhere, _redis=None)))
    result = client.simulate_get("/health")
    assert result.status_code == 503
    assert result.json["status"] == "down"
    assert {name: c["status"] for name, c in result.json["components"].items()} == {
        "database": "up", "broker": "up", "redis": "down"}


def test_health_is_503_when_the_broker_is_down(container: Container) -> None:
    nowhere = container.settings.model_copy(update={"rabbitmq_url": "amqp://guest:guest@127.0.0.1:1/%2F"})
    client = TestClient(web_app(dataclasses.replace(container, settings=nowhere)))
    result = client.simulate_get("/health")
    assert result.status_code == 503
    assert result.json["components"]["broker"]["status"] == "down"


def served_operations(app: Any) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every responder the app really has, Falcon's own defaults left out."""
    found = set()
    for route in inspect.inspect_routes(app):
        path = re.sub(r"\{(\w+):[^}]*\}", r"{\1}", route.path)
        found |= {(path, m.method.lower()) for m in route.methods if not m.internal}
    return found


def test_openapi_documents_every_route_the_app_serves(api: Api) -> None:
    document = expect(api.anonymous.get("/openapi.json"), 200)
    assert document["openapi"] == "3.1.0"
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    served = served_operations(api.client.app)
    assert served == documented
    assert len(served) == sum(len(r.operations) for r in ROUTES) == 103

    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    for path, item in document["paths"].items():
        for method, op in item.items():
            names = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert names == set(path.replace("}", "{").split("{")[1::2]), (method, path)
    assert document["paths"]["/health"]["get"]["security"] == []
    assert document["paths"]["/stores/{store_id}/adjustments"]["post"]["x-roles"] == ["admin", "treasury"]
    assert document["paths"]["/api/v1/dead-letters/{dead_letter_id}/requeue"]["post"]["x-roles"] == ["admin", "treasury"]


def refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        return ({node["$ref"]} if "$ref" in node else set()) | {r for v in node.values() for r in refs(v)}
    if isinstance(node, list):
        return {r for v in node for r in refs(v)}
    return set()


def test_every_schema_reference_resolves(api: Api) -> None:
    document = expect(api.anonymous.get("/openapi.json"), 200)
    names = {f"#/components/schemas/{name}" for name in document["components"]["schemas"]}
    assert refs(document) <= names
    merchant_create = document["components"]["schemas"]["MerchantCreate"]
    assert merchant_create["required"] == ["name"] and merchant_create["additionalProperties"] is False


def test_documented_answers_have_the_documented_members(api: Api) -> None:
    """What the handwritten response schemas say matches what the API really answers."""
    schemas = expect(api.anonymous.get("/openapi.json"), 200)["components"]["schemas"]
    shop = api.shop()
    credit = api.delivered_credit(shop, "doc-1", 10_000)
    bu = expect(api.treasury.post(f"/stores/{shop.store_id}/adjustments", json={"amount": 5_000}), 201)
    transfer_id = api.transfer_now(shop.store_id)
    answers = {
        "Merchant": api.operator.get(f"/merchants/{shop.merchant_id}").json,
        "MerchantPage": api.operator.get("/merchants").json,
        "Store": api.operator.get(f"/stores/{shop.store_id}").json,
        "PaymentOption": api.operator.get(f"/payment-options/{shop.option_id}").json,
        "PaymentOptionList": api.operator.get(f"/stores/{shop.store_id}/payment-options").json,
        "Credit": credit,
        "Balance": api.operator.get(f"/stores/{shop.store_id}/balance").json,
        "BalanceUpdate": bu,
        "BalanceUpdatePage": api.operator.get(f"/stores/{shop.store_id}/balance-updates").json,
        "Transfer": api.operator.get("/transfers").json["items"][0],
        "TransferPage": api.operator.get("/transfers").json,
        "TransferDetail": api.operator.get(f"/transfers/{transfer_id}").json,
        "TransferReport": api.operator.get(f"/transfers/{transfer_id}/report").json,
        "TransferRequested": api.treasury.post(f"/stores/{shop.store_id}/transfers").json,
        "Health": api.anonymous.get("/health").json,
        "Error": api.operator.get("/merchants/999").json,
    }
    for name, answer in answers.items():
        assert set(answer) == set(schemas[name]["properties"]), name
    report = answers["TransferReport"]
    assert set(report["rows"][0]) == set(schemas["TransferReport"]["properties"]["rows"]["items"]["properties"])


def test_an_unexpected_error_is_a_logged_json_500(api: Api, monkeypatch: pytest.MonkeyPatch,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    shop = api.shop()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(queries, "balance", broken)
    with caplog.at_level(logging.ERROR, logger="dispersa.web"):
        result = api.operator.get(f"/stores/{shop.store_id}/balance")
    is_error(result, 500, f"store_id={shop.store_id}")
    assert "disk on fire" not in result.text, "internals stay in the log"
    [record] = [r for r in caplog.records if r.name == "dispersa.web"]
    assert f"store_id={shop.store_id}" in record.getMessage() and f"/stores/{shop.store_id}/balance" in \
        record.getMessage()
    assert "disk on fire" in str(record.exc_info[1])


def test_a_wrong_method_is_405(api: Api) -> None:
    result = api.operator.client.simulate_delete("/merchants", headers={"Authorization": f"Bearer {api.admin.key}"})
    assert result.status_code == 405
    assert "GET" in result.headers["allow"] and "POST" in result.headers["allow"]
