"""Loan requests and loans over HTTP against the real MariaDB: request, complete (sign with a schedule) or
reject; read a loan as of a day, its schedule and history; move it; every refusal and bad input; who may do
what; and a deleted customer's personal data nowhere after its loans."""
from __future__ import annotations

import itertools
from typing import Any

import pytest

from bootstrap import Container
from domain.customers import PII_FIELDS
from domain.money import MAX_MINOR
from tests.integration.bulk_support import tenant
from tests.integration.helpers import count, execute, rows, scalar
from tests.integration.test_web_access import Api, Caller, Shop, expect
from tests.integration.test_web_customers import _holding, person, registered

pytestmark = pytest.mark.integration

_serial = itertools.count(1)


@pytest.fixture
def api(container: Container) -> Api:
    return Api(container)


def lending_shop(api: Api) -> Shop:
    """A validated shop whose 3-payment offer lends at 30 % a year to A0 and 90 % to C3."""
    merchant = expect(api.operator.post("/merchants", json={"name": "Muebles"}), 201)
    store = expect(api.operator.post(f"/merchants/{merchant['id']}/stores", json=api.store_fields()), 201)
    option = expect(api.operator.post(f"/stores/{store['id']}/payment-options", json={
        "number_of_payments": 3, "merchant_commission": "0.05", "min_amount": 100, "max_amount": MAX_MINOR,
        "a0_interest_rate": "0.30", "c3_interest_rate": "0.90"}), 201)
    expect(api.treasury.post(f"/payment-options/{option['id']}/validate"), 200)
    expect(api.account_executive.post(f"/payment-options/{option['id']}/enable"), 200)
    expect(api.treasury.post(f"/stores/{store['id']}/validate"), 200)
    expect(api.treasury.post(f"/merchants/{merchant['id']}/validate"), 200)
    return Shop(merchant["id"], store["id"], option["id"])


def ask(api: Api, who: int, shop: Shop, **overrides: Any) -> Any:
    body = {"external_id": f"pre-{next(_serial)}", "customer_id": who, "store_id": shop.store_id,
            "amount": 300_000, "number_of_payments": 3, **overrides}
    return api.operator.post("/api/v1/loan-requests", json=body)


def signed_loan(api: Api, shop: Shop, **fields: Any) -> tuple[dict[str, Any], int]:
    """A loan signed for a new enabled customer: the customer and the loan's id."""
    customer = registered(api, **fields)
    made = expect(ask(api, customer["id"], shop), 201)
    done = expect(api.operator.post(f"/api/v1/loan-requests/{made['id']}/completion"), 200)
    return customer, done["loan_id"]


def test_a_loan_from_its_request_to_a_cancellation_for_fraud(api: Api, container: Container) -> None:
    shop = lending_shop(api)
    customer = registered(api)
    body = {"external_id": "pre-main", "customer_id": customer["id"], "store_id": shop.store_id, "amount": 300_000,
            "number_of_payments": 3}
    made = expect(api.operator.post("/api/v1/loan-requests", json=body), 201)
    assert (made["status"], made["amount"], made["currency"], made["loan_id"]) == ("pending", 300_000, "MXN", None)
    assert expect(api.operator.post("/api/v1/loan-requests", json=body), 200)["id"] == made["id"]
    other = api.operator.post("/api/v1/loan-requests", json={**body, "amount": 300_001})
    assert other.status_code == 409 and "other terms" in other.json["description"]
    assert expect(api.treasury.get(f"/api/v1/loan-requests/{made['id']}"), 200)["status"] == "pending"

    done = expect(api.operator.post(f"/api/v1/loan-requests/{made['id']}/completion"), 200)
    loan_id = done["loan_id"]
    assert done["status"] == "completed" and loan_id
    assert expect(api.operator.post(f"/api/v1/loan-requests/{made['id']}/completion"), 200)["loan_id"] == loan_id
    loan = expect(api.treasury.get(f"/api/v1/loans/{loan_id}"), 200)
    assert (loan["status"], loan["customer_id"], loan["external_id"], loan["currency"]) == (
        "signed", customer["id"], "pre-main", "MXN")
    assert (loan["terms"]["risk_profile"], loan["terms"]["annual_rate"], loan["terms"]["commission"]) == (
        "B2", "0.633333", 15_000)
    assert loan["position"]["principal_outstanding"] == 300_000 and loan["position"]["bucket"] == "healthy"
    schedule = expect(api.operator.get(f"/api/v1/loans/{loan_id}/schedule"), 200)["installments"]
    assert [i["scheduled_on"] for i in schedule] == ["2026-12-23", "2027-01-23", "2027-02-23"]
    assert sum(i["principal"] for i in schedule) == 300_000

    expect(api.operator.post(f"/credits/{loan_id}/delivery"), 200)
    freeze = expect(api.treasury.post(f"/api/v1/loans/{loan_id}/moves", json={"event": "freeze",
                                                                                "detail": "huracan"}), 200)
    assert freeze["status"] == "frozen"
    preview = expect(api.treasury.post(f"/api/v1/loans/{loan_id}/moves/dry-run", json={"event": "resolve_dispute"}),
                     200)
    assert (preview["allowed"], preview["status"], preview["allowed_events"]) == (
        False, "frozen", ["unfreeze", "open_dispute", "cancel"])
    refused = api.treasury.post(f"/api/v1/loans/{loan_id}/moves", json={"event": "freeze"})
    assert refused.status_code == 409
    assert (refused.json["status"], refused.json["allowed_events"]) == ("frozen", ["unfreeze", "open_dispute",
                                                                                   "cancel"])
    cancelled = expect(api.treasury.post(f"/api/v1/loans/{loan_id}/moves", json={
        "event": "cancel", "reason": "fraud", "detail": "identidad suplantada"}), 200)
    assert (cancelled["status"], cancelled["cancellation_reason"]) == ("cancelled", "fraud")
    assert expect(api.treasury.get(f"/api/v1/customers/{customer['id']}"), 200)["status"] == "blocked"
    history = expect(api.operator.get(f"/api/v1/loans/{loan_id}/history"), 200)["items"]
    assert [(h["event"], h["to_status"]) for h in history] == [("deliver", "active"), ("freeze", "frozen"),
                                                                ("cancel", "cancelled")]
    assert history[1]["detail"] == "huracan" and history[1]["actor"].startswith("treasury key ")
    assert scalar(container, "SELECT COUNT(*) FROM event_log WHERE kind = 'loan_status_changed' AND credit_id = :c",
                  c=loan_id) == 3
    audit = rows(container, "SELECT action FROM audit_log WHERE resource IN ('loan', 'loan_request') ORDER BY id")
    assert [a.action for a in audit] == ["create_loan_request", "complete_loan_request", "complete_loan_request",
                                         "move_loan", "move_loan"]
    assert count(container, "outbox", "actor_name = 'cancel_credit'") == 1  # the contribution is compensated
    page = expect(api.operator.get("/api/v1/loans", params={"customer_id": customer["id"]}), 200)
    assert [item["id"] for item in page["items"]] == [loan_id] and page["total"] == 1
    assert expect(api.operator.get("/api/v1/loans", params={"status": "active"}), 200)["total"] == 0


def test_a_customer_who_may_not_borrow_is_refused_and_its_request_kept(api: Api, container: Container) -> None:
    shop = lending_shop(api)
    unregistered = expect(api.operator.post("/api/v1/customers", json=person()), 201)
    refused = ask(api, unregistered["id"], shop)
    assert refused.status_code == 409
    assert (refused.json["status"], refused.json["allowed_actions"]) == (
        "unregistered", ["complete_registration", "score", "update_details"])
    kept = refused.json["loan_request"]
    assert kept["status"] == "rejected" and "may not request loan" in kept["rejection"]
    assert expect(api.operator.get(f"/api/v1/loan-requests/{kept['id']}"), 200)["status"] == "rejected"
    assert scalar(container, "SELECT COUNT(*) FROM audit_log WHERE action = 'create_loan_request'") == 1
    listed = expect(api.operator.get("/api/v1/loan-requests", params={"status": "rejected"}), 200)
    assert [r["id"] for r in listed["items"]] == [kept["id"]]
    again = api.operator.post(f"/api/v1/loan-requests/{kept['id']}/completion")
    assert again.status_code == 409 and "rejected" in again.json["description"]


def test_refusals_at_completion_reject_the_request_and_name_why(api: Api, container: Container) -> None:
    shop = lending_shop(api)
    customer = registered(api)
    blocked = expect(ask(api, customer["id"], shop), 201)
    no_offer = expect(ask(api, customer["id"], shop, number_of_payments=5), 201)
    no_schedule = expect(ask(api, customer["id"], shop), 201)

    result = api.operator.post(f"/api/v1/loan-requests/{no_offer['id']}/completion")
    assert result.status_code == 409 and result.json["loan_request"]["status"] == "rejected"
    execute(container, "UPDATE payment_options SET first_payment_month_shift = 121 WHERE id = :o", o=shop.option_id)
    result = api.operator.post(f"/api/v1/loan-requests/{no_schedule['id']}/completion")
    assert result.status_code == 422 and "no schedule can carry" in result.json["description"]
    assert result.json["loan_request"]["rejection"].startswith("no schedule can carry")
    expect(api.treasury.post(f"/api/v1/customers/{customer['id']}/status", json={"event": "disable",
                                                                                   "reason": "revision"}), 200)
    result = api.operator.post(f"/api/v1/loan-requests/{blocked['id']}/completion")
    assert result.status_code == 409 and result.json["status"] == "disabled"
    assert result.json["loan_request"]["status"] == "rejected"
    assert count(container, "credits") == 0 and count(container, "loan_installments") == 0
    assert count(container, "loan_requests", "status = 'rejected'") == 3


def test_a_person_rejects_a_pending_request(api: Api) -> None:
    shop = lending_shop(api)
    customer = registered(api)
    made = expect(ask(api, customer["id"], shop), 201)
    path = f"/api/v1/loan-requests/{made['id']}/rejection"
    assert api.operator.post(path, json={"reason": "x" * 256}).status_code == 422
    rejected = expect(api.operator.post(path, json={"reason": "x" * 255}), 200)
    assert (rejected["status"], rejected["rejection"]) == ("rejected", "x" * 255)
    assert expect(api.operator.post(path, json={"reason": "x" * 255}), 200)["decided_at"] == rejected["decided_at"]
    assert api.operator.post(path, json={"reason": "otra"}).status_code == 409
    assert api.operator.post(f"/api/v1/loan-requests/{made['id']}/completion").status_code == 409


def test_missing_things_are_404(api: Api) -> None:
    shop = lending_shop(api)
    customer = registered(api)
    store_only = expect(api.operator.post("/credits", json={"store_id": shop.store_id, "external_id": "tienda-1",
                                                            "amount": 1000, "number_of_payments": 3}), 201)
    for path in (f"/api/v1/loans/{store_only['id']}", "/api/v1/loans/999", "/api/v1/loans/999/schedule",
                 "/api/v1/loans/999/history"):
        result = api.operator.get(path)
        assert result.status_code == 404 and "loan" in result.json["description"], path
    assert api.operator.post(f"/api/v1/loans/{store_only['id']}/moves", json={"event": "freeze"}).status_code == 404
    assert api.operator.post("/api/v1/loans/999/moves/dry-run", json={"event": "freeze"}).status_code == 404
    assert api.operator.get("/api/v1/loan-requests/999").status_code == 404
    assert api.operator.post("/api/v1/loan-requests/999/completion").status_code == 404
    assert api.operator.post("/api/v1/loan-requests/999/rejection", json={"reason": "no"}).status_code == 404
    assert ask(api, 999_999, shop).status_code == 404
    assert ask(api, customer["id"], Shop(shop.merchant_id, 999_999, shop.option_id)).status_code == 404


@pytest.mark.parametrize("field, good, bad", [
    ("external_id", "e" * 64, "e" * 65), ("amount", MAX_MINOR, MAX_MINOR + 1), ("amount", 1, 0),
    ("number_of_payments", 520, 521), ("number_of_payments", 1, 0), ("customer_id", None, "1"),
    ("external_id", None, " "), ("external_id", None, "a\u0007b"),
])
def test_limits_and_one_past_them(api: Api, container: Container, field: str, good: Any, bad: Any) -> None:
    shop = lending_shop(api)
    customer = registered(api)
    if good is not None:
        assert ask(api, customer["id"], shop, **{field: good}).status_code == 201
    before = count(container, "loan_requests")
    result = ask(api, customer["id"], shop, **{field: bad})
    assert result.status_code == 422, result.text
    assert count(container, "loan_requests") == before


def test_bad_reads_and_moves_are_422_and_change_nothing(api: Api) -> None:
    shop = lending_shop(api)
    _, loan_id = signed_loan(api, shop)
    for params in ({"as_of": "2026-13-01"}, {"as_of": "2027-02-29"}, {"as_of": "1999-12-31"}, {"as_of": "ayer"},
                   {"as_of": ""}):
        assert api.operator.get(f"/api/v1/loans/{loan_id}", params=params).status_code == 422, params
        assert api.operator.get(f"/api/v1/loans/{loan_id}/schedule", params=params).status_code == 422, params
    for params in ({"bucket": "late"}, {"status": "open"}, {"customer_id": "0"}, {"per_page": "201"}):
        assert api.operator.get("/api/v1/loans", params=params).status_code == 422, params
    assert api.operator.get("/api/v1/loan-requests", params={"status": "done"}).status_code == 422
    path = f"/api/v1/loans/{loan_id}/moves"
    for body in ({"event": "deliver"}, {"event": "settle"}, {"event": "cancel", "reason": "bored"},
                 {"event": "freeze", "detail": "x" * 256}, {}, {"event": "freeze", "color": "red"}):
        assert api.operator.post(path, json=body).status_code == 422, body
    assert api.operator.post(path, json={"event": "cancel"}).status_code == 409  # a cancellation needs a reason
    assert expect(api.operator.get(f"/api/v1/loans/{loan_id}"), 200)["status"] == "signed"
    day = expect(api.operator.get(f"/api/v1/loans/{loan_id}", params={"as_of": "2027-03-01"}), 200)
    assert (day["as_of"], day["position"]["days_past_due"], day["position"]["bucket"]) == ("2027-03-01", 68, "61-90")


def test_who_may_do_what(api: Api, container: Container) -> None:
    shop = lending_shop(api)
    customer, loan_id = signed_loan(api, shop)
    request_id = scalar(container, "SELECT id FROM loan_requests")
    partner = api.as_role("partner", merchant_id=shop.merchant_id)
    tenant_key = Caller(api.client, None)
    headers = tenant(container, "banco-uno", {})
    reads = ["/api/v1/loans", f"/api/v1/loans/{loan_id}", f"/api/v1/loans/{loan_id}/schedule",
             f"/api/v1/loans/{loan_id}/history", "/api/v1/loan-requests", f"/api/v1/loan-requests/{request_id}"]
    posts = [("/api/v1/loan-requests", {"external_id": "x", "customer_id": customer["id"],
                                        "store_id": shop.store_id, "amount": 1000, "number_of_payments": 3}),
             (f"/api/v1/loan-requests/{request_id}/completion", None),
             (f"/api/v1/loan-requests/{request_id}/rejection", {"reason": "no"}),
             (f"/api/v1/loans/{loan_id}/moves", {"event": "freeze"}),
             (f"/api/v1/loans/{loan_id}/moves/dry-run", {"event": "freeze"})]
    for path in reads:
        assert partner.get(path).status_code == 403, path
        assert tenant_key.get(path, headers=headers).status_code == 403, path
        assert api.treasury.get(path).status_code == 200, path
        assert api.account_executive.get(path).status_code == 403, path
    for path, body in posts:
        assert partner.post(path, json=body).status_code == 403, path
        assert tenant_key.post(path, json=body, headers=headers).status_code == 403, path
        assert api.account_executive.post(path, json=body).status_code == 403, path
    for path, body in posts[:3]:  # requests are the operators' (and admins')
        assert api.treasury.post(path, json=body).status_code == 403, path
    assert count(container, "loan_requests") == 1 and count(container, "loan_status_history") == 0


def test_deleting_a_customer_with_loans_needs_force_and_leaves_its_data_nowhere(api: Api,
                                                                                container: Container) -> None:
    shop = lending_shop(api)
    fields = person()
    customer, loan_id = signed_loan(api, shop, **fields)
    expect(api.operator.post(f"/credits/{loan_id}/delivery"), 200)
    expect(api.treasury.post(f"/api/v1/loans/{loan_id}/moves", json={"event": "open_dispute"}), 200)
    path = f"/api/v1/customers/{customer['id']}"
    owes = api.treasury.post(f"{path}/deletion", json={"reason": "ARCO"})
    assert owes.status_code == 409 and "owes 300000" in owes.json["description"]
    expect(api.treasury.post(f"{path}/deletion", json={"reason": "ARCO", "force": True}), 200)

    pii = [fields[name] for name in PII_FIELDS]
    for value in pii:
        assert _holding(container, value) == [], value  # every text column of every table, events and audit
    answers = [api.admin.get(p).text for p in (
        f"/api/v1/loans/{loan_id}", f"/api/v1/loans/{loan_id}/schedule", f"/api/v1/loans/{loan_id}/history",
        "/api/v1/loans", "/api/v1/loan-requests", path, "/api/v1/events?per_page=200", "/api/v1/audit?per_page=200")]
    for value in pii:
        assert all(value not in answer for answer in answers), value
    audit = rows(container, "SELECT details FROM audit_log WHERE action = 'delete_customer'")
    assert '"outstanding": 300000' in audit[0][0] and '"force": true' in audit[0][0]
    assert expect(api.admin.get(f"/api/v1/loans/{loan_id}"), 200)["customer_id"] == customer["id"]


def test_the_customers_rules_read_the_loan_book_in_the_moving_transaction(api: Api, container: Container) -> None:
    from datetime import timedelta

    shop = lending_shop(api)
    late, loan_id = signed_loan(api, shop)
    expect(api.operator.post(f"/credits/{loan_id}/delivery"), 200)
    container.clock.now += timedelta(days=70)  # the first installment (2026-12-23) is 40 days past due
    expect(api.treasury.post(f"/api/v1/loans/{loan_id}/moves", json={"event": "open_dispute"}), 200)
    assert expect(api.treasury.get(f"/api/v1/customers/{late['id']}"), 200)["status"] == "disabled"
    listed = expect(api.operator.get("/api/v1/loans", params={"bucket": "31-60"}), 200)
    assert [(item["id"], item["days_past_due"]) for item in listed["items"]] == [(loan_id, 40)]

    returned, other_id = signed_loan(api, shop)
    expect(api.operator.post(f"/credits/{other_id}/delivery"), 200)
    expect(api.operator.post(f"/credits/{other_id}/cancellation", json={"reason": "returned"}), 200)
    loan = expect(api.operator.get(f"/api/v1/loans/{other_id}"), 200)
    assert (loan["status"], loan["position"]["principal_outstanding"]) == ("cancelled", 0)  # all of it voided
    gone = expect(api.treasury.post(f"/api/v1/customers/{returned['id']}/deletion", json={"reason": "baja"}), 200)
    assert gone["status"] == "deleted"  # it owed nothing: no force needed
    assert rows(container, "SELECT event, actor FROM loan_status_history WHERE credit_id = :c ORDER BY id",
                c=other_id)[-1][0] == "cancel"


LOAN_ROUTES = [("GET", "/api/v1/loans"), ("GET", "/api/v1/loans/1"), ("GET", "/api/v1/loans/1/schedule"),
               ("GET", "/api/v1/loans/1/history"), ("POST", "/api/v1/loans/1/moves"),
               ("POST", "/api/v1/loans/1/moves/dry-run"), ("GET", "/api/v1/loan-requests"),
               ("GET", "/api/v1/loan-requests/1"), ("POST", "/api/v1/loan-requests"),
               ("POST", "/api/v1/loan-requests/1/completion"), ("POST", "/api/v1/loan-requests/1/rejection")]


def test_every_loan_route_needs_a_key_and_a_body_that_is_json(api: Api, container: Container) -> None:
    for method, path in LOAN_ROUTES:
        assert api.client.simulate_request(method, path).status_code == 401, path
        stranger = api.client.simulate_request(method, path, headers={"Authorization": "Bearer dsp_not-a-key"})
        assert stranger.status_code == 401, path
    for method, path in LOAN_ROUTES:
        if method == "POST" and not path.endswith("/completion"):
            result = api.admin.post(path, body="{not json", headers={"Content-Type": "application/json"})
            assert result.status_code == 400, path
            assert api.admin.post(path, body="x=1", headers={"Content-Type": "text/plain"}).status_code == 415, path
    assert api.admin.post("/api/v1/loans/1/moves/dry-run", json={"event": "settle"}).status_code == 422
    assert count(container, "loan_requests") == 0 and count(container, "audit_log", "resource = 'loan'") == 0


def test_a_merchant_s_partner_key_delivers_and_returns_its_own_loan(api: Api, container: Container) -> None:
    shop = lending_shop(api)
    _, loan_id = signed_loan(api, shop)
    partner = api.as_role("partner", merchant_id=shop.merchant_id)
    expect(partner.post(f"/credits/{loan_id}/delivery"), 200)
    assert partner.post(f"/credits/{loan_id}/cancellation", json={"reason": "fraud"}).status_code == 403
    expect(partner.post(f"/credits/{loan_id}/cancellation", json={"reason": "returned"}), 200)
    history = expect(api.operator.get(f"/api/v1/loans/{loan_id}/history"), 200)["items"]
    assert [(h["event"], h["reason"]) for h in history] == [("deliver", None), ("cancel", "returned")]
    assert all(h["actor"].startswith("partner key ") for h in history)
    assert count(container, "outbox", "actor_name IN ('contribute', 'cancel_credit')") == 2


def test_a_cancelled_late_loan_no_longer_keeps_its_customer_disabled(api: Api, container: Container) -> None:
    from datetime import timedelta

    shop = lending_shop(api)
    late, loan_id = signed_loan(api, shop)
    expect(api.operator.post(f"/credits/{loan_id}/delivery"), 200)
    container.clock.now += timedelta(days=70)
    expect(api.treasury.post(f"/api/v1/loans/{loan_id}/moves", json={"event": "freeze"}), 200)
    assert expect(api.treasury.get(f"/api/v1/customers/{late['id']}"), 200)["status"] == "disabled"
    # a cancelled loan takes no payment, so it could never be cured: its days past due stop counting
    expect(api.treasury.post(f"/api/v1/loans/{loan_id}/moves", json={"event": "cancel", "reason": "death"}), 200)
    assert expect(api.treasury.get(f"/api/v1/customers/{late['id']}"), 200)["status"] == "enabled"
