"""The web API's keys and roles, through falcon's TestClient against the real MariaDB, RabbitMQ and Redis.

Also home of the web tests' shared pieces (``Api``, ``Caller``, the ``api`` fixture) that the other
test_web_* modules import.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import count as counter
from typing import Any

import pytest
from falcon.testing import Result, TestClient

from domain import clabe
from tests.integration.helpers import count, rows
from usecases import ledger
from usecases.access import create_api_key
from bootstrap import Container, web_app

pytestmark = pytest.mark.integration

_accounts = counter(5_000_001)


@dataclass
class Caller:
    """The TestClient speaking with one API key (or none)."""

    client: TestClient
    key: str | None

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        return {**headers, **(extra or {})}

    def get(self, path: str, headers: dict[str, str] | None = None, **kw: Any) -> Result:
        return self.client.simulate_get(path, headers=self._headers(headers), **kw)

    def post(self, path: str, json: Any = None, headers: dict[str, str] | None = None, **kw: Any) -> Result:
        return self.client.simulate_post(path, json=json, headers=self._headers(headers), **kw)

    def patch(self, path: str, json: Any = None, headers: dict[str, str] | None = None, **kw: Any) -> Result:
        return self.client.simulate_patch(path, json=json, headers=self._headers(headers), **kw)


@dataclass
class Shop:
    """The ids of a merchant with one store and one payment option."""

    merchant_id: int
    store_id: int
    option_id: int


class Api:
    """The app on the test container, with a key per role."""

    def __init__(self, container: Container):
        self.container = container
        self.client = TestClient(web_app(container))
        self.anonymous = Caller(self.client, None)
        self.admin = self.as_role("admin")
        self.treasury = self.as_role("treasury")
        self.operator = self.as_role("operator")
        self.account_executive = self.as_role("account_executive")

    def as_role(self, role: str, merchant_id: int | None = None, owner: str | None = None) -> Caller:
        """A caller with a new key of ``role`` for ``owner`` (one person per role unless told otherwise)."""
        with self.container.uow() as uow:
            key = create_api_key(uow, role, merchant_id, label=f"test {role}", owner=owner or f"{role}@tests.example")
            uow.commit()
        return Caller(self.client, key)

    def store_fields(self, **overrides: Any) -> dict[str, Any]:
        fields = {"name": "Tienda", "clabe": clabe.make("646", "180", f"{next(_accounts):011d}"),
                  "beneficiary_name": "Tienda SA", "disbursement_mode": "daily", "automation_enabled": True}
        return {**fields, **overrides}

    def unvalidated_shop(self, name: str = "Muebles", commission: str = "0.05", **store_fields: Any) -> Shop:
        """Merchant, store and one 3-payment option, created by the operator over HTTP; nothing validated."""
        merchant = expect(self.operator.post("/merchants", json={"name": name}), 201)
        store = expect(self.operator.post(f"/merchants/{merchant['id']}/stores",
                                          json=self.store_fields(**store_fields)), 201)
        option = expect(self.operator.post(f"/stores/{store['id']}/payment-options", json={
            "number_of_payments": 3, "merchant_commission": commission, "min_amount": 100,
            "max_amount": 10_000_000}), 201)
        return Shop(merchant["id"], store["id"], option["id"])

    def shop(self, name: str = "Muebles", **store_fields: Any) -> Shop:
        """A shop that treasury validated, option then store then merchant, over HTTP."""
        shop = self.unvalidated_shop(name, **store_fields)
        expect(self.treasury.post(f"/payment-options/{shop.option_id}/validate"), 200)
        expect(self.account_executive.post(f"/payment-options/{shop.option_id}/enable"), 200)
        expect(self.treasury.post(f"/stores/{shop.store_id}/validate"), 200)
        expect(self.treasury.post(f"/merchants/{shop.merchant_id}/validate"), 200)
        return shop

    def delivered_credit(self, shop: Shop, external_id: str, amount: int) -> dict[str, Any]:
        credit = expect(self.operator.post("/credits", json={
            "store_id": shop.store_id, "external_id": external_id, "amount": amount, "number_of_payments": 3}), 201)
        return expect(self.operator.post(f"/credits/{credit['id']}/delivery"), 200)

    def transfer_now(self, store_id: int) -> int:
        """A transfer of the store's pending balance, made by the use case itself (no worker needed)."""
        with self.container.uow() as uow:
            transfer = ledger.create_transfer(uow, store_id, f"manual:test-{store_id}-{next(_accounts)}",
                                              self.container.payout_config)
            uow.commit()
        assert transfer is not None
        return transfer.id  # type: ignore[return-value]


def expect(result: Result, status: int) -> Any:
    assert result.status_code == status, f"{result.status}: {result.text}"
    return result.json


def is_error(result: Result, status: int, *words: str) -> None:
    """A JSON error with a title and a description that says what is wrong."""
    assert result.status_code == status, f"{result.status}: {result.text}"
    assert result.headers["content-type"].startswith("application/json")
    body = result.json
    assert set(body) == {"title", "description"} and body["title"]
    for word in words:
        assert word in body["description"], body["description"]


@pytest.fixture
def api(container: Container) -> Api:
    return Api(container)


# --- keys --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method, path", [("GET", "/merchants"), ("POST", "/merchants"), ("GET", "/transfers"),
                                          ("GET", "/stores/1/balance"), ("POST", "/credits")])
def test_no_key_is_401(api: Api, method: str, path: str) -> None:
    result = api.client.simulate_request(method, path, json={"name": "x"})
    is_error(result, 401, "API key")
    assert result.headers["www-authenticate"].startswith("Bearer")
    assert count(api.container, "merchants") == 0


def test_unknown_key_is_401(api: Api) -> None:
    stranger = Caller(api.client, "dsp_not-a-key-we-ever-issued")
    is_error(stranger.get("/merchants"), 401, "unknown")
    is_error(stranger.post("/merchants", json={"name": "x"}), 401)
    assert count(api.container, "merchants") == 0


def test_key_in_x_api_key_header_or_any_case_bearer(api: Api) -> None:
    key = api.operator.key
    assert api.client.simulate_get("/merchants", headers={"X-API-Key": key}).status_code == 200
    assert api.client.simulate_get("/merchants", headers={"Authorization": f"bearer {key}"}).status_code == 200
    is_error(api.client.simulate_get("/merchants", headers={"Authorization": f"Basic {key}"}), 401)


def test_operator_cannot_adjust(api: Api) -> None:
    shop = api.shop()
    result = api.operator.post(f"/stores/{shop.store_id}/adjustments", json={"amount": 5_000, "note": "nope"})
    is_error(result, 403, "an operator key may not adjust")
    assert count(api.container, "balance_updates") == 0
    assert count(api.container, "audit_log", "action = 'adjust_balance'") == 0


@pytest.mark.parametrize("role, method, path, body", [
    ("treasury", "POST", "/merchants", {"name": "x"}),                    # catalogue is the operator's
    ("treasury", "POST", "/credits", {"store_id": 1, "external_id": "x", "amount": 1, "number_of_payments": 3}),
    ("operator", "POST", "/merchants/1/validate", None),                 # validation is treasury's
    ("operator", "POST", "/transfers/1/approve", None),
    ("operator", "POST", "/stores/1/transfers", None),
    ("partner", "POST", "/merchants", {"name": "x"}),                     # partners only read
    ("partner", "PATCH", "/stores/1", {"name": "x"}),
    ("partner", "POST", "/stores/1/adjustments", {"amount": 1}),
])
def test_roles_are_denied_what_they_may_not_do(api: Api, role: str, method: str, path: str, body: Any) -> None:
    shop = api.shop()
    caller = api.as_role(role, shop.merchant_id if role == "partner" else None)
    before = count(api.container, "audit_log")
    result = api.client.simulate_request(method, path.replace("/1", f"/{shop.store_id}"), json=body,
                                         headers={"Authorization": f"Bearer {caller.key}"})
    is_error(result, 403, f"{'an' if role == 'operator' else 'a'} {role} key may not")
    assert count(api.container, "audit_log") == before


def test_privileged_actions_are_audited_in_their_transaction(api: Api) -> None:
    merchant = expect(api.operator.post("/merchants", json={"name": "Auditada", "tax_rate": "0.16"}), 201)
    is_error(api.operator.post("/merchants", json={"name": 42}), 422)
    is_error(api.treasury.post(f"/merchants/{merchant['id']}/validate"), 409, "no validated store")
    [row] = rows(api.container, "SELECT a.action, a.resource, a.resource_id, a.role, k.label, a.details "
                                "FROM audit_log a JOIN api_keys k ON k.id = a.api_key_id")
    assert (row.action, row.resource, row.resource_id, row.role, row.label) == (
        "create_merchant", "merchant", str(merchant["id"]), "operator", "test operator")
    assert "Auditada" in row.details
    api.operator.get("/merchants")
    assert count(api.container, "audit_log") == 1, "reads are not audited"


# --- partner isolation ----------------------------------------------------------------------------------


def test_partner_sees_only_its_own_merchant(api: Api) -> None:
    mine, theirs = api.shop("Mia"), api.shop("Ajena")
    my_credit = api.delivered_credit(mine, "mine-1", 100_000)
    their_credit = api.delivered_credit(theirs, "theirs-1", 200_000)
    for shop in (mine, theirs):
        expect(api.treasury.post(f"/stores/{shop.store_id}/adjustments", json={"amount": 10_000}), 201)
    my_transfer, their_transfer = api.transfer_now(mine.store_id), api.transfer_now(theirs.store_id)
    partner = api.as_role("partner", mine.merchant_id)

    listed = expect(partner.get("/merchants"), 200)
    assert [m["id"] for m in listed["items"]] == [mine.merchant_id] and listed["total"] == 1
    transfers = expect(partner.get("/transfers"), 200)
    assert [t["id"] for t in transfers["items"]] == [my_transfer]
    assert expect(partner.get("/transfers", params={"store": theirs.store_id}), 200)["items"] == []

    own = {"/merchants/{m}", "/stores/{s}", "/stores/{s}/balance", "/stores/{s}/balance-updates",
           "/stores/{s}/payment-options", "/payment-options/{o}", "/credits/{c}", "/transfers/{t}",
           "/transfers/{t}/report"}
    for template in own:
        path_of = {"m": mine.merchant_id, "s": mine.store_id, "o": mine.option_id, "c": my_credit["id"],
                   "t": my_transfer}
        other_of = {"m": theirs.merchant_id, "s": theirs.store_id, "o": theirs.option_id, "c": their_credit["id"],
                    "t": their_transfer}
        assert partner.get(template.format(**path_of)).status_code == 200, template
        hidden = partner.get(template.format(**other_of))
        is_error(hidden, 404, "does not exist")
        # indistinguishable from an id that exists nowhere
        assert hidden.json["title"] == partner.get(template.format(**{k: 999_999 for k in path_of})).json["title"]
    assert expect(api.admin.get("/transfers"), 200)["total"] == 2, "other roles see every merchant"
