"""Loan moves on the fake unit of work: delivery and cancellation of a credit that is a loan write its status
history, bring it up to date and run its customer's moves; a person's moves go by the transition table, every
status with the events it allows and refuses; a step's move happens once per key."""
from __future__ import annotations

from datetime import date

import pytest

from domain.credits import CreditStatus as L
from domain.customers import CustomerStatus
from domain.loan_balances import InterestState
from domain.loans import LoanEvent as Ev
from tests.unit.test_loan_requests import Book, book, customer, request
from usecases import credits, loan_requests, loans, steps
from usecases.errors import Invalid, NotFound
from usecases.loan_status import LoanMoveRefused, MoveBy

# Written out here, apart from domain.loans: every status, the events it allows and where each leads; any
# other event is refused from it.
TABLE: dict[L, dict[Ev, L]] = {
    L.SIGNED: {Ev.DELIVER: L.ACTIVE, Ev.CANCEL: L.CANCELLED},
    L.ACTIVE: {Ev.FREEZE: L.FROZEN, Ev.OPEN_DISPUTE: L.IN_DISPUTE, Ev.CANCEL: L.CANCELLED, Ev.SETTLE: L.PAID},
    L.FROZEN: {Ev.UNFREEZE: L.ACTIVE, Ev.OPEN_DISPUTE: L.IN_DISPUTE, Ev.CANCEL: L.CANCELLED, Ev.SETTLE: L.PAID},
    L.IN_DISPUTE: {Ev.RESOLVE_DISPUTE: L.ACTIVE, Ev.CANCEL: L.CANCELLED, Ev.SETTLE: L.PAID},
    L.PAID: {Ev.REOPEN: L.ACTIVE},
    L.CANCELLED: {},
}
BY_PEOPLE = (Ev.FREEZE, Ev.UNFREEZE, Ev.OPEN_DISPUTE, Ev.RESOLVE_DISPUTE, Ev.CANCEL)


def signed(b: Book, external_id: str = "req-1") -> int:
    """A loan signed for a new enabled customer; its id."""
    who = customer(b, f"cust-{external_id}")
    done = loan_requests.complete(b.uow, request(b, who, external_id).request.id or 0)
    return done.request.credit_id or 0


def delivered(b: Book) -> int:
    loan_id = signed(b)
    credits.deliver(b.uow, loan_id, by=MoveBy(actor="operator key 1"))
    return loan_id


def test_delivery_makes_the_loan_active_with_its_history_and_the_contribution() -> None:
    b = book()
    loan_id = signed(b)
    b.clock.days(2)
    credit = credits.deliver(b.uow, loan_id, by=MoveBy(actor="operator key 1"))
    assert (credit.status, credit.status_on) == (L.ACTIVE, date(2026, 11, 25))
    [row] = b.uow.loans.history(loan_id)
    assert (row.event, row.from_status, row.to_status, row.on, row.actor) == (
        Ev.DELIVER, L.SIGNED, L.ACTIVE, date(2026, 11, 25), "operator key 1")
    assert (steps.CONTRIBUTE, (loan_id,)) in b.uow.outbox.messages
    assert b.uow.kinds().count("loan_status_changed") == 1
    assert credit.serviced_on == date(2026, 11, 25) and b.uow.loans.positions[loan_id].status == L.ACTIVE
    assert credits.deliver(b.uow, loan_id) is credit and len(b.uow.loans.history(loan_id)) == 1


def test_a_freeze_moves_the_deadlines_and_the_dry_run_changes_nothing() -> None:
    b = book()
    loan_id = delivered(b)
    b.clock.days(5)
    preview = loans.preview_move(b.uow, loan_id, "freeze")
    assert (preview["allowed"], preview["to_status"], preview["status"]) == (True, "frozen", "active")
    assert b.uow.credits.get(loan_id).status == L.ACTIVE and len(b.uow.loans.history(loan_id)) == 1
    loans.move_loan(b.uow, loan_id, "freeze", detail="huracan")
    b.clock.days(10)
    moved = loans.move_loan(b.uow, loan_id, "unfreeze")
    assert moved.loan.status == L.ACTIVE and moved.change is not None and moved.change.on == date(2026, 12, 8)
    schedule = loans.schedule_view(b.uow, loan_id)["installments"]
    assert schedule[0]["scheduled_on"] == date(2026, 12, 23) and schedule[0]["due_on"] == date(2027, 1, 2)
    assert [h["detail"] for h in loans.history_view(b.uow, loan_id)["items"]] == [None, "huracan", None]


def test_a_cancellation_for_fraud_compensates_voids_what_is_not_due_and_blocks_the_customer() -> None:
    b = book()
    loan_id = delivered(b)
    b.clock.days(40)  # the first installment (2026-12-23) fell due, the others did not
    moved = loans.move_loan(b.uow, loan_id, "cancel", "fraud", "identidad suplantada", by=MoveBy(actor="treasury"))
    assert (moved.loan.status, moved.loan.cancellation_reason.value if moved.loan.cancellation_reason else None) == (
        L.CANCELLED, "fraud")
    assert (steps.CANCEL_CREDIT, (loan_id,)) in b.uow.outbox.messages
    who = b.uow.credits.get(loan_id).customer_id or 0
    assert b.uow.customers.get(who).status == CustomerStatus.BLOCKED
    installments = loans.schedule_view(b.uow, loan_id)["installments"]
    assert [i["void"] for i in installments] == [False, True, True]
    assert installments[0]["interest_state"] == InterestState.ACTIVE.value
    view = loans.loan_view(b.uow, loan_id)
    assert view["position"]["principal_outstanding"] == installments[0]["principal"]
    assert view["position"]["days_past_due"] == 10  # 2026-12-23 to the cancellation day, 2027-01-02
    later = loans.loan_view(b.uow, loan_id, date(2027, 3, 1))["position"]
    assert (later["days_past_due"], later["principal_outstanding"]) == (10, installments[0]["principal"])
    with pytest.raises(LoanMoveRefused) as again:
        loans.move_loan(b.uow, loan_id, "cancel", "fraud")
    assert again.value.extra == {"status": "cancelled", "allowed_events": []}


def test_automatic_and_unknown_events_and_bad_reasons_are_invalid() -> None:
    b = book()
    loan_id = delivered(b)
    for event in ("deliver", "settle", "reopen", "explode"):
        with pytest.raises(Invalid, match="platform's own"):
            loans.move_loan(b.uow, loan_id, event)
    with pytest.raises(Invalid, match="reason"):
        loans.move_loan(b.uow, loan_id, "cancel", "bored")
    with pytest.raises(Invalid, match="detail"):
        loans.move_loan(b.uow, loan_id, "freeze", detail="x" * 256)
    with pytest.raises(LoanMoveRefused, match="reasons"):
        loans.move_loan(b.uow, loan_id, "cancel")
    with pytest.raises(LoanMoveRefused, match="only a cancellation has a reason"):
        loans.move_loan(b.uow, loan_id, "freeze", "fraud")
    assert len(b.uow.loans.history(loan_id)) == 1


def test_a_credit_without_a_customer_is_no_loan() -> None:
    b = book()
    plain = credits.originate(b.uow, b.store_id, "store-only", 1000, 3)
    for read in (lambda: loans.loan_view(b.uow, plain.id or 0), lambda: loans.move_loan(b.uow, plain.id or 0, "freeze"),
                 lambda: loans.loan_view(b.uow, 999)):
        with pytest.raises(NotFound, match="loan .* does not exist"):
            read()
    credits.deliver(b.uow, plain.id or 0)
    assert b.uow.loans.history(plain.id or 0) == [] and "loan_status_changed" not in b.uow.kinds()


def test_a_step_s_move_happens_once_per_key() -> None:
    b = book()
    loan_id = delivered(b)
    first = loans.move_loan(b.uow, loan_id, "freeze", by=MoveBy(actor="step", move_key="file-1:row-2"))
    again = loans.move_loan(b.uow, loan_id, "freeze", by=MoveBy(actor="step", move_key="file-1:row-2"))
    assert first.change is not None and again.change is None
    assert [c.event for c in b.uow.loans.history(loan_id)] == [Ev.DELIVER, Ev.FREEZE]


@pytest.mark.parametrize("status", list(L))
@pytest.mark.parametrize("event", list(Ev))
def test_every_status_allows_its_events_and_refuses_the_others(status: L, event: Ev) -> None:
    b = book()
    loan_id = signed(b)
    credit = b.uow.credits.get(loan_id)
    credit.status = status
    leads_to = TABLE[status].get(event)
    preview = loans.preview_move(b.uow, loan_id, event.value, "death" if event == Ev.CANCEL else None) \
        if event in BY_PEOPLE else None
    if event not in BY_PEOPLE:
        with pytest.raises(Invalid):
            loans.move_loan(b.uow, loan_id, event.value)
        assert credit.status == status
        return
    assert preview is not None and preview["allowed"] == (leads_to is not None)
    assert preview["allowed_events"] == [e.value for e in TABLE[status] if e in BY_PEOPLE]
    if leads_to is None:
        with pytest.raises(LoanMoveRefused) as refused:
            loans.move_loan(b.uow, loan_id, event.value, "death" if event == Ev.CANCEL else None)
        assert refused.value.extra == {"status": status.value, "allowed_events": preview["allowed_events"]}
        assert credit.status == status
    else:
        moved = loans.move_loan(b.uow, loan_id, event.value, "death" if event == Ev.CANCEL else None)
        assert moved.loan.status == leads_to and b.uow.loans.history(loan_id)[-1].to_status == leads_to


def test_loans_page_by_customer_status_and_bucket() -> None:
    b = book()
    first, second = signed(b, "a"), signed(b, "b")
    credits.deliver(b.uow, second)
    b.uow.credits.get(second).days_past_due = 20
    assert [c["id"] for c in loans.loans_page(b.uow, None, "active", None, 1, 50)["items"]] == [second]
    assert [c["id"] for c in loans.loans_page(b.uow, None, None, "16-30", 1, 50)["items"]] == [second]
    assert [c["id"] for c in loans.loans_page(b.uow, None, None, "healthy", 1, 50)["items"]] == [first]
    who = b.uow.credits.get(first).customer_id
    assert loans.loans_page(b.uow, who, None, None, 1, 50)["total"] == 1
