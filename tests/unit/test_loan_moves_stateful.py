"""A loan moved at random through the use cases (delivery, a person's moves, cancellation for any reason) on
days that pass at random, against a model of its own: its status, its customer's, and the loan book's
identities after every step; what is stored of the loan always equals what the domain computes."""
from __future__ import annotations

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.credits import CancellationReason, CreditStatus as L
from domain.customers import CustomerStatus
from domain.loan_balances import position
from domain.loan_book import LoanBook, verify
from tests.unit.test_loan_moves import signed
from tests.unit.test_loan_requests import book
from usecases import credits, loans
from usecases.errors import UseCaseError

# the model: from each status, a person's events and where each leads (delivery is the store's)
PEOPLE = {
    L.SIGNED: {"cancel": L.CANCELLED},
    L.ACTIVE: {"freeze": L.FROZEN, "open_dispute": L.IN_DISPUTE, "cancel": L.CANCELLED},
    L.FROZEN: {"unfreeze": L.ACTIVE, "open_dispute": L.IN_DISPUTE, "cancel": L.CANCELLED},
    L.IN_DISPUTE: {"resolve_dispute": L.ACTIVE, "cancel": L.CANCELLED},
    L.CANCELLED: {},
}
# a cancellation ends the walk: drawn a fifth as often as each other event, so that walks go somewhere first
EVENTS = ("freeze", "unfreeze", "open_dispute", "resolve_dispute") * 4 + ("cancel",)


class LoanMoves(RuleBasedStateMachine):
    @initialize()
    def sign(self) -> None:
        self.b = book()
        self.loan_id = signed(self.b)
        self.status = L.SIGNED
        self.fraud = False

    @rule(days=st.integers(0, 45))
    def days_pass(self, days: int) -> None:
        self.b.clock.days(days)

    @rule()
    def deliver(self) -> None:
        try:
            credits.deliver(self.b.uow, self.loan_id)
        except UseCaseError:
            assert self.status != L.SIGNED
            return
        if self.status == L.SIGNED:
            self.status = L.ACTIVE

    @rule(event=st.sampled_from(EVENTS), reason=st.sampled_from(list(CancellationReason)))
    def move(self, event: str, reason: CancellationReason) -> None:
        leads_to = PEOPLE[self.status].get(event)
        try:
            loans.move_loan(self.b.uow, self.loan_id, event, reason.value if event == "cancel" else None)
        except UseCaseError:
            assert leads_to is None, f"{event} from {self.status.value} was refused"
            return
        assert leads_to is not None, f"{event} from {self.status.value} was made"
        self.status = leads_to
        self.fraud = self.fraud or (event == "cancel" and reason == CancellationReason.FRAUD)

    @invariant()
    def adds_up(self) -> None:
        uow = self.b.uow
        credit = uow.credits.get(self.loan_id)
        assert credit.status == self.status
        now = loans.position_of(uow, credit, None)
        assert verify(LoanBook(credit.id, credit.amount, credit.status, now, uow.loans.payments(credit.id or 0))) == []
        stored = uow.loans.positions[self.loan_id]
        assert stored == position(uow.loans.record(credit), stored.as_of)  # written as the domain computes it
        assert credit.days_past_due == stored.days_past_due
        customer = uow.customers.get(credit.customer_id or 0)
        assert (customer.status == CustomerStatus.BLOCKED) == self.fraud
        history = uow.loans.history(self.loan_id)
        assert [c.to_status for c in history][-1:] == ([] if self.status == L.SIGNED else [self.status])
        assert all(a.on <= b.on for a, b in zip(history, history[1:]))


TestLoanMoves = LoanMoves.TestCase
TestLoanMoves.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
