"""Where a loan stands as of a business day: each installment's due date after freezes, the interest charged
(active or inactive), what was paid and voided, days past due and the delinquency bucket.

Everything is a function of four fixed inputs, so the daily servicing run can compute it set-based:
the schedule, the status history, the accepted payments' allocations and the product's inactive periods.
Per installment, as of a day ``d`` (docs/loans.md):

- due date: the scheduled one, plus the days of every freeze that began before it (a freeze still running
  counts up to ``d``), so nothing falls due while a loan is frozen and a freeze adds no interest;
- an installment falls due at the start of its due date, under the status the loan had then;
- void: the loan was cancelled before its due date: neither its interest nor its unpaid principal is owed;
- interest waived: the product was inactive when it fell due, or its own principal (or the whole loan's)
  was repaid before it did;
- interest inactive: it fell due in a dispute not yet resolved on ``d``; a resolution makes it active, a
  cancellation voids it;
- otherwise the interest is charged and active once due.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Iterable, Sequence

from domain.credits import CreditStatus as L
from domain.loan_schedules import Installment
from domain.loans import LoanEvent, LoanStatusChange, status_at_start_of


class InterestState(str, enum.Enum):
    """What became of an installment's scheduled interest as of a day."""

    NOT_DUE = "not_due"      # not fallen due yet
    ACTIVE = "active"        # charged and payable
    INACTIVE = "inactive"    # charged in a dispute still open: owed once it is resolved, not payable now
    WAIVED = "waived"        # never charged: the product was inactive, or the principal was repaid early
    VOID = "void"            # the loan was cancelled before it fell due, or while disputing it


class Bucket(str, enum.Enum):
    """The manual's delinquency segments."""

    HEALTHY = "healthy"
    DPD_1_15 = "1-15"
    DPD_16_30 = "16-30"
    DPD_31_60 = "31-60"
    DPD_61_90 = "61-90"
    DPD_90_PLUS = "90+"


BUCKET_UPPER_BOUNDS = ((0, Bucket.HEALTHY), (15, Bucket.DPD_1_15), (30, Bucket.DPD_16_30),
                       (60, Bucket.DPD_31_60), (90, Bucket.DPD_61_90))


def days_in(bucket: Bucket) -> tuple[int, int]:
    """The days past due a bucket spans, both ends included (90+ up to the largest stored count)."""
    lower = 0
    for upper, named in BUCKET_UPPER_BOUNDS:
        if named == bucket:
            return lower, upper
        lower = upper + 1
    return lower, 2**31 - 1


def bucket_of(days_past_due: int) -> Bucket:
    """The segment of a loan so many days past due."""
    for upper, bucket in BUCKET_UPPER_BOUNDS:
        if days_past_due <= upper:
            return bucket
    return Bucket.DPD_90_PLUS


@dataclass(frozen=True)
class Allocation:
    """What one payment paid of one installment."""

    installment: int
    interest: int
    principal: int

    @property
    def amount(self) -> int:
        return self.interest + self.principal


@dataclass(frozen=True)
class AppliedPayment:
    """An accepted payment as the balances see it: when it counted, until when, and what it paid."""

    payment_id: int | None
    amount: int
    accepted_on: date
    allocations: tuple[Allocation, ...]
    reversed_on: date | None = None

    def counts_on(self, day: date) -> bool:
        """Whether it stands at the end of ``day``."""
        return self.accepted_on <= day and (self.reversed_on is None or self.reversed_on > day)

    def counted_before(self, day: date) -> bool:
        """Whether it stood when ``day`` began."""
        return self.accepted_on < day and (self.reversed_on is None or self.reversed_on >= day)


@dataclass(frozen=True)
class InstallmentPosition:
    """One installment as of a day."""

    number: int
    scheduled_on: date
    due_on: date
    principal: int
    interest: int
    interest_state: InterestState
    principal_paid: int
    interest_paid: int
    void: bool

    @property
    def interest_charged(self) -> int:
        return self.interest if self.interest_state in (InterestState.ACTIVE, InterestState.INACTIVE) else 0

    @property
    def interest_due(self) -> int:
        """Active interest charged and not paid."""
        return self.interest - self.interest_paid if self.interest_state == InterestState.ACTIVE else 0

    @property
    def interest_inactive(self) -> int:
        return self.interest - self.interest_paid if self.interest_state == InterestState.INACTIVE else 0

    @property
    def principal_voided(self) -> int:
        return self.principal - self.principal_paid if self.void else 0

    @property
    def principal_outstanding(self) -> int:
        return self.principal - self.principal_paid - self.principal_voided

    def is_due(self, day: date) -> bool:
        return self.due_on <= day

    def owes_now(self, day: date) -> bool:
        """Whether it is due on ``day`` with something payable left: what makes a loan late."""
        return self.is_due(day) and (self.principal_outstanding > 0 or self.interest_due > 0)


@dataclass(frozen=True)
class LoanPosition:
    """A loan as of a day: its installments and the totals the API, the book check and collections read."""

    as_of: date
    installments: tuple[InstallmentPosition, ...]
    status: L = L.ACTIVE
    cancelled_on: date | None = None

    def _sum(self, attribute: str) -> int:
        return sum(getattr(i, attribute) for i in self.installments)

    @property
    def principal(self) -> int:
        return self._sum("principal")

    @property
    def principal_repaid(self) -> int:
        return self._sum("principal_paid")

    @property
    def principal_outstanding(self) -> int:
        return self._sum("principal_outstanding")

    @property
    def principal_voided(self) -> int:
        return self._sum("principal_voided")

    @property
    def interest_charged(self) -> int:
        return self._sum("interest_charged")

    @property
    def interest_repaid(self) -> int:
        return self._sum("interest_paid")

    @property
    def interest_due(self) -> int:
        return self._sum("interest_due")

    @property
    def interest_inactive(self) -> int:
        return self._sum("interest_inactive")

    @property
    def payoff(self) -> int:
        """The most a payment may be today: all principal still owed and the active interest due."""
        return self.principal_outstanding + self.interest_due

    @property
    def settled(self) -> bool:
        """Nothing is owed any more, active or inactive: the loan is paid."""
        return self.principal_outstanding == 0 and self.interest_due == 0 and self.interest_inactive == 0

    @property
    def days_past_due(self) -> int:
        """The as-of day minus the due date of the oldest installment with something payable left; 0 when none.
        A cancelled loan is out of collections: its count stops on its cancellation day."""
        day = min(self.as_of, self.cancelled_on or self.as_of)
        late = [i.due_on for i in self.installments if i.owes_now(day)]
        return (day - min(late)).days if late else 0

    @property
    def bucket(self) -> Bucket:
        return bucket_of(self.days_past_due)


@dataclass(frozen=True)
class Period:
    """Days from ``start`` (a change on that day) until ``end`` (the change back), ``None`` while it lasts."""

    start: date
    end: date | None = None

    def covers_start_of(self, day: date) -> bool:
        """Whether it was in force when ``day`` began."""
        return self.start < day and (self.end is None or self.end >= day)


@dataclass(frozen=True)
class LoanRecord:
    """The fixed inputs of a loan's position."""

    schedule: tuple[Installment, ...]
    history: Sequence[LoanStatusChange] = ()
    payments: Sequence[AppliedPayment] = ()
    product_inactive: Sequence[Period] = field(default_factory=tuple)
    first_status: L = L.ACTIVE  # the status before the first change (or for good, without one)


def inactive_periods(changes: Iterable[tuple[bool, date]]) -> list[Period]:
    """A product's inactive periods from its status changes in order, each (active?, day of the change)."""
    periods: list[Period] = []
    start: date | None = None
    for active, on in changes:
        if not active and start is None:
            start = on
        elif active and start is not None:
            periods.append(Period(start, on))
            start = None
    return periods + ([Period(start)] if start is not None else [])


def loan_record(schedule: tuple[Installment, ...], history: Sequence[LoanStatusChange],
                payments: Sequence[AppliedPayment], product_inactive: Sequence[Period], status: L) -> LoanRecord:
    """The record of a loan now in ``status``: before its first recorded change it was in that change's
    from-status, and without any change it has always been in ``status``."""
    first = history[0].from_status if history else status
    return LoanRecord(schedule, tuple(history), tuple(payments), tuple(product_inactive), first)


def freeze_periods(history: Iterable[LoanStatusChange], as_of: date) -> list[Period]:
    """The loan's freezes known on ``as_of``; one still running ends, for now, on ``as_of``."""
    periods, start = [], None
    for change in history:
        if change.on > as_of:
            break
        if change.to_status == L.FROZEN:
            start = change.on
        elif change.from_status == L.FROZEN and start is not None:
            periods.append(Period(start, change.on))
            start = None
    if start is not None:
        periods.append(Period(start, as_of))
    return periods


def shifted_due_dates(schedule: Sequence[Installment], freezes: Sequence[Period]) -> list[date]:
    """Each installment's due date moved by the days of every freeze that began before it fell due."""
    dues = [i.due_on for i in schedule]
    for freeze in freezes:
        days = timedelta(days=((freeze.end or freeze.start) - freeze.start).days)
        dues = [due + days if due > freeze.start else due for due in dues]
    return dues


def _dispute_outcome(history: Sequence[LoanStatusChange], due_on: date, as_of: date) -> InterestState:
    """The state of interest that fell due in a dispute: inactive while the dispute lasts, active once
    resolved (or settled), void if the loan was cancelled in it."""
    for change in history:
        if change.on >= due_on and change.on <= as_of and change.from_status == L.IN_DISPUTE:
            return InterestState.VOID if change.event == LoanEvent.CANCEL else InterestState.ACTIVE
    return InterestState.INACTIVE


def _cancelled_on(history: Sequence[LoanStatusChange], as_of: date) -> date | None:
    return next((c.on for c in history if c.to_status == L.CANCELLED and c.on <= as_of), None)


def position(record: LoanRecord, as_of: date) -> LoanPosition:
    """The loan as of the end of ``as_of``: each installment's due date, interest state and what was paid."""
    history = [c for c in record.history if c.on <= as_of]
    payments = [p for p in record.payments if p.counts_on(as_of)]
    paid: dict[int, list[int]] = {i.number: [0, 0] for i in record.schedule}
    for payment in payments:
        for part in payment.allocations:
            paid[part.installment][0] += part.interest
            paid[part.installment][1] += part.principal
    first = record.history[0].from_status if record.history else record.first_status
    cancelled_on = _cancelled_on(history, as_of)
    dues = shifted_due_dates(record.schedule, freeze_periods(history, as_of))
    rows = []
    for installment, due_on in zip(record.schedule, dues):
        void = cancelled_on is not None and cancelled_on < due_on
        state = _interest_state(record, history, first, installment, due_on, as_of, void)
        rows.append(InstallmentPosition(installment.number, installment.due_on, due_on, installment.principal,
                                        installment.interest, state, paid[installment.number][1],
                                        paid[installment.number][0], void))
    status = history[-1].to_status if history else first
    return LoanPosition(as_of, tuple(rows), status, cancelled_on)


def _interest_state(record: LoanRecord, history: Sequence[LoanStatusChange], first: L, installment: Installment,
                    due_on: date, as_of: date, void: bool) -> InterestState:
    if void:
        return InterestState.VOID
    if due_on > as_of:
        return InterestState.NOT_DUE
    if any(p.covers_start_of(due_on) for p in record.product_inactive) or _repaid_early(record, installment, due_on):
        return InterestState.WAIVED
    if status_at_start_of(due_on, list(history), first) == L.IN_DISPUTE:
        return _dispute_outcome(history, due_on, as_of)
    return InterestState.ACTIVE


def _repaid_early(record: LoanRecord, installment: Installment, due_on: date) -> bool:
    """Whether its own principal, or the whole loan's, was repaid before it fell due: interest is owed only on
    principal still owed."""
    standing = [p for p in record.payments if p.counted_before(due_on)]
    own = sum(a.principal for p in standing for a in p.allocations if a.installment == installment.number)
    whole = sum(a.principal for p in standing for a in p.allocations)
    total = sum(i.principal for i in record.schedule)
    return (installment.principal > 0 and own >= installment.principal) or whole >= total
