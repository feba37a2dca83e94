"""A Hypothesis state machine drives one customer through the use cases (registration, edits, scoring, its
loans growing late and cured, a fraud, moves by hand, deletion) on the fake unit of work, against a model
written from seed 004's words alone; after each step the status, the hold, what the customer may do and
whether its personal data is there agree with the model."""
from __future__ import annotations

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.customers import PII_FIELDS, CustomerAction, with_check_digit
from tests.fake_uow import FakeCustomerLoans, FakeUnitOfWork
from usecases import customers
from usecases.customers import CustomerRules
from usecases.errors import Conflict, UseCaseError

THRESHOLD = 30
# what each status lets the customer do, as the issue says it (staff edits and scoring aside)
MAY = {"unregistered": set(), "enabled": {"request_loan", "pay_own_channel", "pay_recorded_by_operator"},
       "disabled": {"pay_own_channel", "pay_recorded_by_operator"}, "blocked": {"pay_recorded_by_operator"},
       "deleted": set()}
BY_HAND = {"enable": ({"disabled", "blocked"}, "enabled"), "disable": ({"enabled"}, "disabled"),
           "block": ({"unregistered", "enabled", "disabled"}, "blocked")}


class CustomerMachine(RuleBasedStateMachine):

    @initialize(address=st.booleans())
    def register(self, address: bool) -> None:
        self.uow, self.loans = FakeUnitOfWork(), FakeCustomerLoans()
        self.rules = CustomerRules(THRESHOLD, self.loans)
        fields = {"external_id": "c-1", "first_name": "Ana", "last_name": "Paz", "phone": "5512345678",
                  "email": "ana@correo.example", "national_id": with_check_digit("PAXA900101MDFZRN0"),
                  "address": "Calle 5" if address else None}
        self.customer = customers.create_customer(self.uow, fields, self.rules)
        self.id = self.customer.id or 0
        # the model
        self.status, self.person_holds, self.has_address, self.scored = "unregistered", False, address, False

    def _settle(self) -> None:
        """The automatic moves, as the model sees them: a whole, scored registration enables, a loan more than
        THRESHOLD days late disables, cured it enables again, unless a person disabled it."""
        if self.status == "unregistered" and self.has_address and self.scored:
            self.status, self.person_holds = "enabled", False
        late = self.loans.dpd > THRESHOLD
        if self.status == "enabled" and late:
            self.status = "disabled"
        elif self.status == "disabled" and not late and not self.person_holds:
            self.status = "enabled"

    @rule(address=st.booleans())
    def edit_address(self, address: bool) -> None:
        try:
            customers.update_customer(self.uow, self.id, {"address": "Calle 7" if address else None}, self.rules)
        except Conflict:
            assert self.status == "deleted"
            return
        assert self.status != "deleted"
        self.has_address = address
        self._settle()

    @rule(profile=st.sampled_from(["A0", "B2", "C3"]))
    def score(self, profile: str) -> None:
        try:
            customers.score_customer(self.uow, self.id, profile, rules=self.rules)
        except Conflict:
            assert self.status in ("blocked", "deleted")
            return
        assert self.status not in ("blocked", "deleted")
        self.scored = True
        self._settle()

    @rule(dpd=st.sampled_from([0, 1, THRESHOLD, THRESHOLD + 1, 95]))
    def loans_age(self, dpd: int) -> None:
        self.loans.dpd = dpd
        customers.apply_automatic_moves(self.uow, self.id, self.rules)
        self._settle()

    @rule()
    def a_loan_is_cancelled_for_fraud(self) -> None:
        customers.apply_automatic_moves(self.uow, self.id, self.rules, fraud=True)
        if self.status in ("unregistered", "enabled", "disabled"):
            self.status, self.person_holds = "blocked", True

    @rule(event=st.sampled_from(sorted(BY_HAND)))
    def by_hand(self, event: str) -> None:
        sources, target = BY_HAND[event]
        try:
            customers.move_customer(self.uow, self.id, event, "una razon")
        except Conflict:
            assert self.status not in sources
            return
        assert self.status in sources
        self.status, self.person_holds = target, event != "enable"

    @rule(owed=st.sampled_from([0, 1, 50_000]), force=st.booleans())
    def delete(self, owed: int, force: bool) -> None:
        self.loans.owed = owed
        try:
            customers.delete_customer(self.uow, self.id, "baja", force, self.rules)
        except Conflict:
            assert self.status == "deleted" or (owed and not force)
            return
        assert self.status != "deleted" and (not owed or force)
        self.status = "deleted"

    @invariant()
    def agrees_with_the_model(self) -> None:
        if not hasattr(self, "customer"):
            return
        assert self.customer.status.value == self.status
        for action in ("request_loan", "pay_own_channel", "pay_recorded_by_operator"):
            try:
                customers.require(self.uow, self.id, CustomerAction(action))
                allowed = True
            except UseCaseError:
                allowed = False
            assert allowed == (action in MAY[self.status]), (action, self.status)
        erased = all(getattr(self.customer, name) is None for name in PII_FIELDS)
        assert erased == (self.status == "deleted")


CustomerMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
TestCustomers = CustomerMachine.TestCase
