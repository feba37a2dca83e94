"""Repayments over HTTP against the real MariaDB: recorded pending, applied by the step (run by hand here),
read with allocations and history, rejected by a person, reversed by treasury; every 4xx says why and
changes nothing; the limits of each field and one past them."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bootstrap import Container
from domain.credits import Credit
from domain.loans import LoanEvent, move
from domain.money import MAX_MINOR
from tests.integration.helpers import count, new_store, originate, rows, scalar
from tests.integration.test_web_access import Api, expect, is_error
from tests.loan_factories import active_loan
from usecases import repayments
from usecases.customers import CustomerRules
from usecases.loan_days import lender_today

pytestmark = pytest.mark.integration

# the factory's loan: 300 000 at 36 % in 3 monthly installments from 23 November 2026
# principal 97 059 / 99 971 / 102 970; interest 9 000 / 6 088 / 3 089; due 23 Dec, 23 Jan, 23 Feb


@pytest.fixture
def api(container: Container) -> Api:
    return Api(container)


def new_loan(container: Container, **kw: Any) -> Credit:
    with container.uow() as uow:
        loan = active_loan(uow, **kw)
        uow.commit()
    return loan


def body(loan_id: int | None, amount: int, external_id: str = "pay-1", **more: Any) -> dict[str, Any]:
    return {"external_id": external_id, "loan_id": loan_id, "amount": amount, "channel": "voluntary", **more}


def apply_step(container: Container, repayment_id: int) -> None:
    """The step's use case, run by hand (the actor's own test runs it through RabbitMQ)."""
    with container.uow() as uow:
        repayments.apply(uow, repayment_id, CustomerRules())
        uow.commit()


def nothing_changed(container: Container, before: int) -> None:
    assert count(container, "repayments") == before
    assert count(container, "outbox", "actor_name = 'apply_repayment'") == before


def test_a_payment_is_recorded_pending_then_applied_oldest_due_first(api: Api, clock: Any) -> None:
    loan = new_loan(api.container)
    made = expect(api.operator.post("/api/v1/repayments", json=body(loan.id, 20_000)), 201)
    assert (made["status"], made["payment_status"], made["loan_id"], made["amount"]) == (
        "pending", None, loan.id, 20_000)
    [(queue, args)] = rows(api.container, "SELECT queue_name, args FROM outbox WHERE actor_name = 'apply_repayment'")
    assert queue == "loans" and str(made["id"]) in args
    clock.now += timedelta(days=31)  # 24 December: the first installment is a day late
    apply_step(api.container, made["id"])
    shown = expect(api.operator.get(f"/api/v1/repayments/{made['id']}"), 200)
    assert (shown["status"], shown["payment_status"], shown["accepted_on"]) == ("completed", "accepted", "2026-12-24")
    assert shown["allocations"] == [{"installment": 1, "interest": 9_000, "principal": 11_000}]
    assert [(h["from_status"], h["to_status"]) for h in shown["history"]] == [
        (None, "pending"), ("pending", "completed"), (None, "accepted")]
    assert rows(api.container, "SELECT principal_paid, interest_paid, interest_state FROM loan_installments "
                               "WHERE credit_id = :c ORDER BY number", c=loan.id) == [
        (11_000, 9_000, "active"), (0, 0, "not_due"), (0, 0, "not_due")]
    assert scalar(api.container, "SELECT days_past_due FROM credits WHERE id = :c", c=loan.id) == 1
    assert count(api.container, "event_log", "kind = 'repayment_accepted'") == 1
    assert count(api.container, "audit_log", "action = 'record_repayment'") == 1


def test_the_same_external_id_is_the_same_payment_and_other_terms_are_a_409(api: Api) -> None:
    loan = new_loan(api.container)
    first = expect(api.operator.post("/api/v1/repayments", json=body(loan.id, 5_000)), 201)
    again = expect(api.operator.post("/api/v1/repayments", json=body(loan.id, 5_000)), 200)
    assert again["id"] == first["id"]
    is_error(api.operator.post("/api/v1/repayments", json=body(loan.id, 5_001)), 409, "other terms")
    nothing_changed(api.container, 1)


def test_the_limits_and_one_past_them(api: Api) -> None:
    loan = new_loan(api.container)
    expect(api.operator.post("/api/v1/repayments", json=body(loan.id, 1, "x" * 64)), 201)
    for past in (body(loan.id, 1, "y" * 65), body(loan.id, MAX_MINOR + 1, "p-2"), body(loan.id, 0, "p-3"),
                 body(loan.id, 1, "p-4", channel="cash"), body(0, 1, "p-5"),
                 body(loan.id, 1, "p-6", channel="automatic", recorded_by_operator=True)):
        result = api.operator.post("/api/v1/repayments", json=past)
        assert result.status_code == 422, (past, result.text)
    nothing_changed(api.container, 1)


def test_an_amount_above_what_the_loan_owes_today_is_a_409(api: Api) -> None:
    loan = new_loan(api.container)
    is_error(api.operator.post("/api/v1/repayments", json=body(loan.id, 300_001)), 409,
             "above what the loan owes today (300000)")
    nothing_changed(api.container, 0)
    expect(api.operator.post("/api/v1/repayments", json=body(loan.id, 300_000)), 201)


def test_a_blocked_customer_pays_only_through_an_operator(api: Api) -> None:
    loan = new_loan(api.container)
    expect(api.treasury.post(f"/api/v1/customers/{loan.customer_id}/status",
                             json={"event": "block", "reason": "fraud suspected"}), 200)
    refused = api.operator.post("/api/v1/repayments", json=body(loan.id, 1_000))
    assert refused.status_code == 409, refused.text
    assert (refused.json["status"], refused.json["allowed_actions"]) == ("blocked", [
        "pay_recorded_by_operator", "update_details"])
    nothing_changed(api.container, 0)
    made = expect(api.operator.post("/api/v1/repayments", json=body(loan.id, 1_000, recorded_by_operator=True)), 201)
    assert made["recorded_by_operator"] is True


def test_a_frozen_loan_takes_no_automatic_payment(api: Api) -> None:
    loan = new_loan(api.container)
    with api.container.uow() as uow:
        credit = uow.credits.lock(loan.id or 0)
        change, _ = move(credit.id, credit.status, LoanEvent.FREEZE, lender_today(uow), uow.clock(),
                         last_on=credit.status_on)
        uow.loans.add_change(credit.id or 0, change)
        credit.status = change.to_status
        uow.commit()
    is_error(api.operator.post("/api/v1/repayments", json=body(loan.id, 1_000, channel="automatic")), 409,
             "frozen", "automatic")
    nothing_changed(api.container, 0)


def test_a_credit_without_a_customer_is_no_loan(api: Api) -> None:
    credit = originate(api.container, new_store(api.container), "plain-1", 100_000)
    is_error(api.operator.post("/api/v1/repayments", json=body(credit, 1_000)), 404, f"loan {credit} does not exist")
    is_error(api.operator.post("/api/v1/repayments", json=body(credit + 1000, 1_000)), 404, "does not exist")
    is_error(api.operator.get("/api/v1/repayments", params={"loan_id": credit}), 404, "does not exist")
    is_error(api.operator.get("/api/v1/repayments/999"), 404, "repayment 999 does not exist")
    is_error(api.admin.post("/api/v1/repayments/999/reversal", json={"reason": "fraud"}), 404,
             "repayment 999 does not exist")
    is_error(api.admin.post("/api/v1/repayments/999/rejection", json={"reason": "bounced"}), 404,
             "repayment 999 does not exist")
    nothing_changed(api.container, 0)


def test_no_key_is_a_401(api: Api) -> None:
    assert api.anonymous.post("/api/v1/repayments", json=body(1, 1_000)).status_code == 401
    assert api.anonymous.get("/api/v1/repayments").status_code == 401


@pytest.mark.parametrize("role, method, path, payload", [
    ("treasury", "post", "/api/v1/repayments", body(1, 1_000)),
    ("account_executive", "get", "/api/v1/repayments", None),
    ("operator", "post", "/api/v1/repayments/1/reversal", {"reason": "fraud"}),
    ("treasury", "post", "/api/v1/repayments/1/rejection", {"reason": "bounced"}),
])
def test_roles_are_denied_what_they_may_not_do(api: Api, role: str, method: str, path: str, payload: Any) -> None:
    caller = api.as_role(role)
    result = caller.post(path, json=payload) if method == "post" else caller.get(path)
    assert result.status_code == 403, result.text


def test_a_partner_sees_no_repayments(api: Api) -> None:
    shop = api.shop()
    partner = api.as_role("partner", merchant_id=shop.merchant_id)
    assert partner.get("/api/v1/repayments").status_code == 403


def test_the_payoff_settles_the_loan_and_treasury_s_reversal_reopens_it(api: Api, clock: Any) -> None:
    loan = new_loan(api.container)
    made = expect(api.operator.post("/api/v1/repayments", json=body(loan.id, 300_000)), 201)
    apply_step(api.container, made["id"])
    assert scalar(api.container, "SELECT status FROM credits WHERE id = :c", c=loan.id) == "paid"
    clock.now += timedelta(days=2)
    is_error(api.treasury.post(f"/api/v1/repayments/{made['id']}/reversal", json={"reason": "chargeback"}), 422,
             "reason")
    reversed_ = expect(api.treasury.post(f"/api/v1/repayments/{made['id']}/reversal", json={"reason": "refund"}), 200)
    assert (reversed_["payment_status"], reversed_["reversal_reason"], reversed_["reversed_on"]) == (
        "reversed", "refund", "2026-11-25")
    assert reversed_["history"][-1] == {"from_status": "accepted", "to_status": "reversed",
                                        "at": reversed_["history"][-1]["at"], "detail": "refund"}
    assert scalar(api.container, "SELECT status FROM credits WHERE id = :c", c=loan.id) == "active"
    history = rows(api.container, "SELECT event, from_status, to_status FROM loan_status_history WHERE credit_id = :c "
                                  "ORDER BY id", c=loan.id)
    assert [tuple(h) for h in history] == [("deliver", "signed", "active"), ("settle", "active", "paid"),
                                           ("reopen", "paid", "active")]
    assert rows(api.container, "SELECT SUM(principal_paid), SUM(interest_paid) FROM loan_installments "
                               "WHERE credit_id = :c", c=loan.id) == [(0, 0)]
    assert count(api.container, "repayment_allocations") == 3  # kept: the payment's own record
    again = expect(api.treasury.post(f"/api/v1/repayments/{made['id']}/reversal", json={"reason": "refund"}), 200)
    assert again["history"] == reversed_["history"]
    is_error(api.admin.post(f"/api/v1/repayments/{made['id']}/reversal", json={"reason": "fraud"}), 409, "reversed")
    assert count(api.container, "event_log", "kind = 'repayment_reversed'") == 1
    assert count(api.container, "audit_log", "action = 'reverse_repayment'") == 2


def test_a_pending_one_is_rejected_with_the_reason_and_not_reversed(api: Api) -> None:
    loan = new_loan(api.container)
    made = expect(api.operator.post("/api/v1/repayments", json=body(loan.id, 1_000)), 201)
    is_error(api.treasury.post(f"/api/v1/repayments/{made['id']}/reversal", json={"reason": "fraud"}), 409,
             "pending")
    is_error(api.operator.post(f"/api/v1/repayments/{made['id']}/rejection", json={"reason": "x" * 256}), 422,
             "reason")
    is_error(api.operator.post(f"/api/v1/repayments/{made['id']}/rejection", json={"reason": " "}), 422, "reason")
    rejected = expect(api.operator.post(f"/api/v1/repayments/{made['id']}/rejection",
                                        json={"reason": "r" * 255}), 200)
    assert (rejected["status"], rejected["rejection"]) == ("rejected", "r" * 255)
    is_error(api.operator.post(f"/api/v1/repayments/{made['id']}/rejection", json={"reason": "another"}), 409,
             "rejected")
    apply_step(api.container, made["id"])
    assert expect(api.operator.get(f"/api/v1/repayments/{made['id']}"), 200)["status"] == "rejected"
    assert count(api.container, "repayment_allocations") == 0
    assert count(api.container, "event_log", "kind = 'repayment_rejected'") == 1


def test_the_list_pages_by_loan_and_status(api: Api) -> None:
    one, two = new_loan(api.container), new_loan(api.container)
    ids = [expect(api.operator.post("/api/v1/repayments", json=body(loan.id, amount, f"p-{amount}")), 201)["id"]
           for loan, amount in ((one, 1_000), (one, 2_000), (two, 3_000))]
    apply_step(api.container, ids[0])
    page = expect(api.treasury.get("/api/v1/repayments", params={"loan_id": one.id, "per_page": 1}), 200)
    assert ([r["amount"] for r in page["items"]], page["total"], page["per_page"]) == ([1_000], 2, 1)
    second = expect(api.treasury.get("/api/v1/repayments", params={"loan_id": one.id, "per_page": 1, "page": 2}), 200)
    assert [r["amount"] for r in second["items"]] == [2_000]
    accepted = expect(api.operator.get("/api/v1/repayments", params={"status": "accepted"}), 200)
    assert [r["id"] for r in accepted["items"]] == [ids[0]]
    pending = expect(api.operator.get("/api/v1/repayments", params={"status": "pending"}), 200)
    assert [r["id"] for r in pending["items"]] == ids[1:]
    is_error(api.operator.get("/api/v1/repayments", params={"status": "paid"}), 422, "status")
    is_error(api.operator.get("/api/v1/repayments", params={"loan_id": "x"}), 422, "loan_id")
