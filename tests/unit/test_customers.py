"""Customers: what each status allows (every status against every action), the transition table and its dry
run, the automatic moves from plain facts, the CURP's check, and the use cases on the fake unit of work (no
personal data in events or audit rows, deletion with force when the customer owes)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from domain.customers import (
    ALLOWED_ACTIONS, PII_FIELDS, TRANSITIONS, ActionRefused, Customer, CustomerAction as A, CustomerError,
    CustomerEvent as Ev, CustomerStatus as S, RiskProfile, automatic_events, dry_run, validate_curp, with_check_digit,
)
from tests.fake_uow import FakeCustomerLoans, FakeUnitOfWork
from usecases import customers
from usecases.customers import CustomerRules, StatusConflict
from usecases.errors import Conflict, Invalid

AT = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)

# The words, spelled out once more: only enabled may request a loan; disabled may only pay; blocked
# pays only outside the platform (an operator records it); deleted may do nothing. Staff may correct the data
# of any customer not deleted and score one who may still borrow some day (not blocked).
EXPECTED = {
    S.UNREGISTERED: {A.COMPLETE_REGISTRATION, A.UPDATE_DETAILS, A.SCORE},
    S.ENABLED: {A.REQUEST_LOAN, A.PAY_OWN_CHANNEL, A.PAY_RECORDED_BY_OPERATOR, A.UPDATE_DETAILS, A.SCORE},
    S.DISABLED: {A.PAY_OWN_CHANNEL, A.PAY_RECORDED_BY_OPERATOR, A.UPDATE_DETAILS, A.SCORE},
    S.BLOCKED: {A.PAY_RECORDED_BY_OPERATOR, A.UPDATE_DETAILS},
    S.DELETED: set(),
}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(A))
def test_each_status_allows_its_actions_and_refuses_the_rest(status: S, action: A) -> None:
    customer = Customer(external_id="c-1", created_at=AT, status=status, id=7)
    if action in EXPECTED[status]:
        customer.require(action)
        return
    with pytest.raises(ActionRefused) as refused:
        customer.require(action)
    assert (refused.value.status, refused.value.allowed) == (status, sorted(a.value for a in EXPECTED[status]))
    assert status.value in str(refused.value)


def test_the_table_covers_every_status() -> None:
    assert set(ALLOWED_ACTIONS) == set(S) and set(EXPECTED) == set(S)


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("event", list(Ev))
def test_the_dry_run_says_what_the_move_does(status: S, event: Ev) -> None:
    outcome = dry_run(status, event)
    customer = Customer(external_id="c-1", created_at=AT, status=status, id=7)
    if outcome.allowed:
        move = customer.move(event, AT, "why")
        assert (move.previous, move.status, customer.status) == (status, outcome.target, outcome.target)
        assert outcome.target == TRANSITIONS[event][1]
    else:
        assert outcome.target is None and status.value in outcome.why
        with pytest.raises(CustomerError):
            customer.move(event, AT)
        assert customer.status == status and customer.moves == []


def test_nothing_leaves_deleted() -> None:
    assert all(not dry_run(S.DELETED, event).allowed for event in Ev)


@pytest.mark.parametrize("status, registered, dpd, fraud, held, expected", [
    (S.UNREGISTERED, False, 0, False, False, []),
    (S.UNREGISTERED, True, 0, False, False, [Ev.REGISTRATION_COMPLETED]),
    (S.UNREGISTERED, True, 31, False, False, [Ev.REGISTRATION_COMPLETED, Ev.FELL_PAST_DUE]),
    (S.ENABLED, True, 30, False, False, []),  # at the threshold is not past it
    (S.ENABLED, True, 31, False, False, [Ev.FELL_PAST_DUE]),
    (S.DISABLED, True, 31, False, False, []),
    (S.DISABLED, True, 0, False, False, [Ev.CURED]),
    (S.DISABLED, True, 0, False, True, []),  # disabled by a person: cured by a person
    (S.ENABLED, True, 0, True, False, [Ev.FRAUD_CANCELLATION]),
    (S.DISABLED, True, 90, True, True, [Ev.FRAUD_CANCELLATION]),
    (S.BLOCKED, True, 0, False, True, []),
    (S.BLOCKED, True, 0, True, True, []),
    (S.DELETED, False, 90, True, False, []),
])
def test_automatic_moves_from_plain_facts(status: S, registered: bool, dpd: int, fraud: bool, held: bool,
                                          expected: list[Ev]) -> None:
    assert automatic_events(status, registered, dpd, 30, fraud, held) == expected


@pytest.mark.parametrize("curp", ["HEGG560427MVZRRL04", "MAAR790213HMNRLF03", "hegg560427mvzrrl04 "])
def test_a_right_curp_is_taken(curp: str) -> None:
    assert validate_curp(curp) == curp.strip().upper()


@pytest.mark.parametrize("curp, why", [
    ("HEGG560427MVZRRL05", "check digit"), ("HEGG561327MVZRRL04", "birth date"), ("HEGG560427MZZRRL04", "state"),
    ("HEGG560427MVZRRL0", "CURP"), ("HEGG560427KVZRRL04", "CURP"), ("HEGG560427MVZAEL04", "CURP"),
])
def test_a_wrong_curp_is_refused_without_repeating_it(curp: str, why: str) -> None:
    with pytest.raises(CustomerError) as refused:
        validate_curp(curp)
    assert why in str(refused.value) and curp not in str(refused.value)


def test_risk_profiles_rank_from_a0_to_c3() -> None:
    assert [p.value for p in sorted(RiskProfile, key=lambda p: p.rank)] == [
        "A0", "A1", "A2", "A3", "B1", "B2", "B3", "C1", "C2", "C3"]


# --- the use cases on the fake unit of work ------------------------------------------------------------------

def whole(external_id: str = "c-1", **overrides: Any) -> dict[str, Any]:
    return {"external_id": external_id, "first_name": "Itzel", "last_name": "Cuevas", "second_last_name": "Ramos",
            "phone": "+525512345678", "email": "Itzel.Cuevas@Correo.example", "address": "Av. Juarez 10, Puebla",
            "national_id": with_check_digit("CURI900101MPLVMT0"), **overrides}


def test_scoring_a_whole_registration_enables_unless_a_loan_is_past_due() -> None:
    uow, loans = FakeUnitOfWork(), FakeCustomerLoans(dpd=45)
    rules = CustomerRules(30, loans)
    customer = customers.create_customer(uow, whole(), rules)
    assert (customer.status, customer.email) == (S.UNREGISTERED, "itzel.cuevas@correo.example")
    customers.score_customer(uow, customer.id or 0, "B1", 640, rules)
    assert customer.status == S.DISABLED and [m.event for m in customer.moves] == [
        Ev.REGISTRATION_COMPLETED, Ev.FELL_PAST_DUE]
    loans.dpd = 3
    customers.apply_automatic_moves(uow, customer.id or 0, rules)
    assert customer.status == S.ENABLED and customer.moves[-1].event == Ev.CURED
    customers.apply_automatic_moves(uow, customer.id or 0, rules, fraud=True)
    assert (customer.status, customer.held) == (S.BLOCKED, True)
    with pytest.raises(StatusConflict) as refused:
        customers.require(uow, customer.id or 0, A.PAY_OWN_CHANNEL)
    assert refused.value.extra == {"status": "blocked", "allowed_actions": ["pay_recorded_by_operator",
                                                                            "update_details"]}
    assert customers.require(uow, customer.id or 0, A.PAY_RECORDED_BY_OPERATOR) is customer


def test_a_person_disabling_holds_the_customer_until_a_person_enables() -> None:
    uow = FakeUnitOfWork()
    customer = customers.create_customer(uow, whole())
    customers.score_customer(uow, customer.id or 0, "A0")
    customers.move_customer(uow, customer.id or 0, "disable", "revision de documentos")
    customers.apply_automatic_moves(uow, customer.id or 0, CustomerRules())
    assert (customer.status, customer.held, customer.status_reason) == (S.DISABLED, True, "revision de documentos")
    assert customers.preview_move(uow, customer.id or 0, "enable").target == S.ENABLED
    assert customer.status == S.DISABLED  # the preview changed nothing
    customers.move_customer(uow, customer.id or 0, "enable", "aclarado")
    assert (customer.status, customer.held) == (S.ENABLED, False)
    with pytest.raises(StatusConflict):
        customers.move_customer(uow, customer.id or 0, "enable", "again")
    with pytest.raises(Invalid):
        customers.move_customer(uow, customer.id or 0, "delete", "not this way")


def test_deleting_a_customer_who_owes_needs_force_and_erases_every_personal_field() -> None:
    uow, loans = FakeUnitOfWork(), FakeCustomerLoans(owed=125_000)
    rules = CustomerRules(30, loans)
    fields = whole()
    customer = customers.create_customer(uow, fields, rules)
    customers.score_customer(uow, customer.id or 0, "C2", rules=rules)
    with pytest.raises(Conflict, match="needs force"):
        customers.delete_customer(uow, customer.id or 0, "solicitud", rules=rules)
    assert customer.status == S.ENABLED and customer.first_name == "Itzel"
    deletion = customers.delete_customer(uow, customer.id or 0, "solicitud", force=True, rules=rules)
    gone = deletion.customer
    assert (gone.status, deletion.owed, gone.external_id) == (S.DELETED, 125_000, "c-1")
    assert deletion.audit_details() == {"event": "delete", "previous": "enabled", "status": "deleted",
                                        "reason": "solicitud", "force": True, "outstanding": 125_000}
    assert all(getattr(gone, name) is None for name in PII_FIELDS)
    assert customers.customer_view(gone, personal=True)["allowed_actions"] == []
    written = repr(uow.events) + repr(uow.event_details) + repr(uow.audit.entries)
    for value in fields.values():
        if value != "c-1":
            assert str(value) not in written and str(value).lower() not in written
    with pytest.raises(StatusConflict):
        customers.delete_customer(uow, customer.id or 0, "twice", force=True, rules=rules)


def test_no_loans_yet_means_nothing_owed() -> None:
    uow = FakeUnitOfWork()
    customer = customers.create_customer(uow, whole())
    deletion = customers.delete_customer(uow, customer.id or 0, "baja")
    assert (deletion.customer.status, deletion.owed, deletion.force) == (S.DELETED, 0, False)


def test_one_customer_per_external_id_and_per_curp() -> None:
    uow = FakeUnitOfWork()
    first = customers.create_customer(uow, whole())
    with pytest.raises(Conflict, match="external_id"):
        customers.create_customer(uow, whole())
    with pytest.raises(Conflict, match="national_id") as twin:
        customers.create_customer(uow, whole("c-2"))
    assert whole()["national_id"] not in str(twin.value)
    other = customers.create_customer(uow, whole("c-3", national_id=None))
    with pytest.raises(Conflict, match="national_id"):
        customers.update_customer(uow, other.id or 0, {"national_id": first.national_id})
    assert other.national_id is None


def test_masked_view_hides_each_personal_field() -> None:
    uow = FakeUnitOfWork()
    fields = whole()
    customer = customers.create_customer(uow, fields)
    shown = customers.customer_view(customer, personal=False)
    assert (shown["first_name"], shown["last_name"], shown["email"], shown["address"]) == (
        "I***", "C***", "i***@correo.example", "***")
    assert shown["phone"] == "*********5678" and shown["national_id"].endswith(fields["national_id"][-4:])
    assert customers.customer_view(customer, personal=True)["national_id"] == fields["national_id"]


@pytest.mark.parametrize("changes, words", [
    ({"first_name": None}, "first_name"), ({"phone": "12"}, "phone"), ({"email": "@x"}, "email"),
    ({"national_id": "HEGG560427MVZRRL05"}, "check digit"), ({"last_name": "a\x1b[31m"}, "control"),
])
def test_a_bad_edit_changes_nothing(changes: dict[str, Any], words: str) -> None:
    uow = FakeUnitOfWork()
    customer = customers.create_customer(uow, whole())
    before = {name: getattr(customer, name) for name in PII_FIELDS}
    with pytest.raises(Invalid, match=words):
        customers.update_customer(uow, customer.id or 0, changes)
    assert {name: getattr(customer, name) for name in PII_FIELDS} == before
