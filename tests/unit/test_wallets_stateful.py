"""Hypothesis state machines drive the closed loop's wallets and a batch's moves against simple models; the
books' checks (domain.wallets.check_books, check_entries) hold after every step, and a batch only ever
moves as the table written out here says.

The wallet model knows only amounts: what each wallet should hold, what was funded, and which SPEI
payment orders are still out (not cancelled or returned)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from domain.batches import ACKNOWLEDGED_MARKS, Batch, BatchError, BatchStatus as BS
from domain.money import MAX_MINOR
from domain.wallets import (
    FLOAT, OUTSIDE, SPEI_PAYOUTS, InsufficientFunds, Wallet, WalletEntry, WalletError, WalletTotals, check_books,
    check_entries, fund, move, totals_of,
)

AT = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
PAYEES = ("5512345678", "5587654321", "ana")
AMOUNTS = st.integers(-5, 50_000) | st.sampled_from([0, 1, MAX_MINOR])


class WalletMachine(RuleBasedStateMachine):
    """Two tenants' wallets in MXN (and the first's in USD): fundings, closed-loop payments, SPEI rows and
    withdrawals out through the payouts wallet, and the bank's word on each order."""

    @initialize()
    def open_books(self) -> None:
        self.wallets: dict[tuple[int, str, str], Wallet] = {}
        self.entries: list[WalletEntry] = []
        self.expected: dict[int, int] = {}  # wallet id -> balance
        self.orders: dict[str, tuple[Wallet, int]] = {}  # the out-reference -> (paid from, amount)
        self.back: set[str] = set()  # the orders cancelled or returned: their money came back
        for tenant, currency in ((1, "MXN"), (1, "USD"), (2, "MXN")):
            for owner in (OUTSIDE, FLOAT, SPEI_PAYOUTS, *PAYEES):
                wallet = Wallet(tenant, owner, currency, 0, id=len(self.wallets) + 1)
                self.wallets[(tenant, owner, currency)] = wallet
                self.expected[wallet.id or 0] = 0

    def _record(self, entry: WalletEntry) -> None:
        self.entries.append(entry)
        self.expected[entry.debit_wallet_id] -= entry.amount
        self.expected[entry.credit_wallet_id] += entry.amount

    def _try(self, debit: Wallet, credit: Wallet, amount: int, reference: str) -> bool:
        """The movement as the domain makes it; the model says beforehand whether it may."""
        may = (amount > 0 and debit.tenant_id == credit.tenant_id and debit.currency == credit.currency
               and (debit.outside or debit.balance >= amount) and not credit.outside
               and abs(credit.balance + amount) <= MAX_MINOR and abs(debit.balance - amount) <= MAX_MINOR)
        before = (debit.balance, credit.balance)
        try:
            entry = move(debit, credit, amount, reference, AT)
        except WalletError as e:
            assert not may, e
            assert (debit.balance, credit.balance) == before  # a refused movement changes nothing
            if amount > 0 and debit.balance < amount and not debit.outside and debit.currency == credit.currency \
                    and debit.tenant_id == credit.tenant_id and not credit.outside:
                assert isinstance(e, InsufficientFunds)
            return False
        assert may
        self._record(entry)
        return True

    @rule(tenant=st.sampled_from([1, 2]), currency=st.sampled_from(["MXN", "USD"]), amount=AMOUNTS)
    def funding(self, tenant: int, currency: str, amount: int) -> None:
        if (tenant, FLOAT, currency) not in self.wallets:
            return
        outside, float_wallet = self.wallets[(tenant, OUTSIDE, currency)], self.wallets[(tenant, FLOAT, currency)]
        try:
            self._record(fund(outside, float_wallet, amount, f"fund:{len(self.entries)}", AT))
        except WalletError:
            assert amount <= 0 or abs(float_wallet.balance + amount) > MAX_MINOR or \
                abs(outside.balance - amount) > MAX_MINOR

    @rule(tenant=st.sampled_from([1, 2]), payee=st.sampled_from(PAYEES), amount=AMOUNTS)
    def closed_loop_row(self, tenant: int, payee: str, amount: int) -> None:
        self._try(self.wallets[(tenant, FLOAT, "MXN")], self.wallets[(tenant, payee, "MXN")], amount,
                  f"row:{len(self.entries)}")

    @rule(tenant=st.sampled_from([1, 2]), source=st.sampled_from((FLOAT, *PAYEES)), amount=AMOUNTS)
    def out_over_spei(self, tenant: int, source: str, amount: int) -> None:
        """A tenant's SPEI row (out of its float) or a withdrawal (out of a payee's wallet)."""
        wallet, reference = self.wallets[(tenant, source, "MXN")], f"out:{len(self.entries)}"
        if self._try(wallet, self.wallets[(tenant, SPEI_PAYOUTS, "MXN")], amount, reference):
            self.orders[reference] = (wallet, amount)

    @precondition(lambda self: set(self.orders) - self.back)
    @rule(data=st.data(), back=st.booleans())
    def bank_says(self, data: st.DataObject, back: bool) -> None:
        """Liquidated (the money stays out: nothing moves) or cancelled/returned, even after a liquidation:
        it comes back into the wallet it left, once."""
        reference = data.draw(st.sampled_from(sorted(set(self.orders) - self.back)))
        wallet, amount = self.orders[reference]
        if back:
            payouts = self.wallets[(wallet.tenant_id, SPEI_PAYOUTS, "MXN")]
            assert self._try(payouts, wallet, amount, f"{reference}:back")
            self.back.add(reference)

    @rule(tenant=st.sampled_from([1, 2]), payee=st.sampled_from(PAYEES), amount=st.integers(1, 100))
    def nothing_crosses_tenants_or_currencies(self, tenant: int, payee: str, amount: int) -> None:
        other = 3 - tenant
        assert not self._try(self.wallets[(tenant, FLOAT, "MXN")], self.wallets[(other, payee, "MXN")], amount, "x")
        assert not self._try(self.wallets[(1, FLOAT, "USD")], self.wallets[(1, payee, "MXN")], amount, "y")
        assert not self._try(self.wallets[(tenant, FLOAT, "MXN")], self.wallets[(tenant, OUTSIDE, "MXN")], amount,
                             "z")

    @invariant()
    def the_books_hold(self) -> None:
        wallets = list(self.wallets.values())
        assert check_books(totals_of(wallets, self.entries)) == []
        assert list(check_entries(self.entries, {w.id or 0: w for w in wallets})) == []
        assert {w.id: w.balance for w in wallets} == self.expected

    @invariant()
    def the_payouts_wallets_hold_what_is_still_out(self) -> None:
        for tenant in (1, 2):
            out = sum(a for r, (w, a) in self.orders.items() if w.tenant_id == tenant and r not in self.back)
            assert self.wallets[(tenant, SPEI_PAYOUTS, "MXN")].balance == out

    @invariant()
    def references_are_unique(self) -> None:
        references = [e.reference for e in self.entries]
        assert len(references) == len(set(references))


WalletMachine.TestCase.settings = settings(max_examples=100, stateful_step_count=30, deadline=None,
                                          suppress_health_check=[HealthCheck.too_slow])
TestWallets = WalletMachine.TestCase


# --- the checks find what they look for ---------------------------------------------------------------


def books() -> tuple[list[Wallet], list[WalletEntry]]:
    outside, float_wallet, payee = (Wallet(1, OUTSIDE, "MXN", 0, id=1), Wallet(1, FLOAT, "MXN", 0, id=2),
                                    Wallet(1, "5512345678", "MXN", 0, id=3))
    entries = [fund(outside, float_wallet, 1000, "fund:1", AT), move(float_wallet, payee, 300, "row:1", AT)]
    return [outside, float_wallet, payee], entries


def test_the_checks_hold_on_good_books() -> None:
    wallets, entries = books()
    assert check_books(totals_of(wallets, entries)) == []


def test_a_balance_that_is_not_its_entries_is_found() -> None:
    wallets, entries = books()
    wallets[2].balance += 5
    found = check_books(totals_of(wallets, entries))
    assert any("balance 305, its entries bring in 300 and take out 0" in v for v in found), found
    assert any("hold 1005; funded 1000 less paid out 0 is 1000" in v for v in found), found
    assert all("5512345678" not in v for v in found)  # a payee's account is shown by its last four only


def test_a_wallet_below_zero_or_an_entry_across_tenants_is_found() -> None:
    wallets, entries = books()
    wallets[1].balance, wallets[2].balance = -1, 1001
    found = check_books([WalletTotals(wallets[0], 0, 1000), WalletTotals(wallets[1], 1000, 1001),
                         WalletTotals(wallets[2], 1001, 0)])
    assert any("balance -1, below zero" in v for v in found), found
    stray = Wallet(2, "ana", "MXN", 0, id=4)
    entries.append(WalletEntry(2, 4, 10, "MXN", "row:2", AT))
    entries.append(WalletEntry(3, 3, 0, "MXN", "row:3", AT))
    odd = list(check_entries(entries, {w.id or 0: w for w in [*wallets, stray]}))
    assert any("row:2 (MXN): from tenant 1's MXN wallet to tenant 2's MXN wallet" in v for v in odd), odd
    assert any("row:3: an amount of 0" in v for v in odd) and any("row:3: moves from wallet 3 to 3" in v for v in odd)


# --- a batch's moves ------------------------------------------------------------------------------------

MOVES = {  # the batch's moves, written out again
    BS.QUEUED: {BS.AWAITING_CONFIRMATION, BS.AWAITING_APPROVAL, BS.PROCESSING, BS.FAILED},
    BS.AWAITING_CONFIRMATION: {BS.AWAITING_APPROVAL, BS.PROCESSING, BS.FAILED},
    BS.AWAITING_APPROVAL: {BS.PROCESSING, BS.FAILED},
    BS.PROCESSING: {BS.COMPLETED, BS.FAILED},
    BS.COMPLETED: set(), BS.FAILED: set(),
}


class BatchMachine(RuleBasedStateMachine):
    """A batch asked to move anywhere and its rows settled a few at a time: it moves only as MOVES says,
    a final batch stays, and its progress is acknowledged at each mark once, in order."""

    @initialize(rows=st.integers(0, 50))
    def submit(self, rows: int) -> None:
        self.batch = Batch("b-1", 1, "r-1", "0" * 64, "csv", "k", AT, rows=rows)
        self.path = [BS.QUEUED]
        self.marks: list[int] = []
        self.now = AT

    @rule(to=st.sampled_from(list(BS)), reason=st.none() | st.text(max_size=600))
    def move(self, to: BS, reason: str | None) -> None:
        self.now += timedelta(seconds=1)
        before = self.batch.status
        try:
            self.batch.move_to(to, self.now, reason)
        except BatchError:
            assert to not in MOVES[before] and self.batch.status == before
            return
        assert to in MOVES[before]
        self.path.append(to)
        assert self.batch.updated_at == self.now
        assert (self.batch.completed_at == self.now) == (to in (BS.COMPLETED, BS.FAILED))
        assert reason is None or self.batch.reason == reason[:512]

    @precondition(lambda self: self.batch.settled < self.batch.rows)
    @rule(some=st.integers(1, 20))
    def settle_rows(self, some: int) -> None:
        self.batch.settled = min(self.batch.rows, self.batch.settled + some)
        self.marks.extend(self.batch.acknowledgements_due())

    @invariant()
    def nothing_executes_before_confirmation_and_approval(self) -> None:
        if BS.PROCESSING in self.path:
            waited = self.path[:self.path.index(BS.PROCESSING)]
            assert waited[0] == BS.QUEUED and all(s in (BS.QUEUED, BS.AWAITING_CONFIRMATION, BS.AWAITING_APPROVAL)
                                                   for s in waited)
            if BS.AWAITING_CONFIRMATION in waited and BS.AWAITING_APPROVAL in waited:  # confirmed, then approved
                assert waited.index(BS.AWAITING_CONFIRMATION) < waited.index(BS.AWAITING_APPROVAL)

    @invariant()
    def progress_is_acknowledged_once_per_mark_in_order(self) -> None:
        assert self.marks == sorted(set(self.marks))
        assert self.marks == [m for m in ACKNOWLEDGED_MARKS if m <= self.batch.progress]
        assert 0 <= self.batch.progress <= 100


BatchMachine.TestCase.settings = settings(max_examples=100, stateful_step_count=30, deadline=None,
                                         suppress_health_check=[HealthCheck.too_slow])
TestBatches = BatchMachine.TestCase

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
