"""The daily servicing run: every loan carried from the day it was last brought up to date (``serviced_on``)
to the as-of day, a slice of credit ids at a time, set-based; then the automatic moves of the customers of
that slice (disabled past DISPERSA_CUSTOMER_DEFAULT_DPD, enabled again when cured). One transaction per
slice; a slice is run once per as-of day (loan_servicing_runs' unique key), and running a later day carries
each loan over every day it missed, so catching up equals running each day."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from domain.loan_servicing import ServicedSlice, slice_bounds, slices_up_to
from usecases import steps
from usecases.loan_days import lender_today
from usecases.ports import UnitOfWork

DEFAULT_SLICE_SIZE = 50_000  # DISPERSA_SERVICING_SLICE_SIZE: credit ids per slice (one transaction each)


@dataclass(frozen=True)
class SliceRun:
    """One slice's run: what it did and the customers it moved."""

    as_of: date
    slice_number: int
    done: ServicedSlice
    customers_moved: int
    milliseconds: int


def service_slice(uow: UnitOfWork, as_of: date, slice_number: int, slice_size: int,
                  default_dpd: int) -> SliceRun | None:
    """Carry the slice's loans to ``as_of`` and move their customers; None (nothing done) when this
    (as_of, slice) ran already."""
    if slice_number < 0 or slice_size < 1:
        raise ValueError(f"slice {slice_number} of size {slice_size}: a slice is 0 or more, its size 1 or more")
    started = uow.clock()
    if not uow.servicing.claim(as_of, slice_number, started):
        return None
    first, last = slice_bounds(slice_number, slice_size)
    done = uow.servicing.service(as_of, first, last)
    moved = uow.servicing.move_customers(first, last, default_dpd, started)
    milliseconds = int((uow.clock() - started).total_seconds() * 1000)
    uow.servicing.finish(as_of, slice_number, milliseconds, done)
    uow.log("loans_serviced", f"slice {slice_number} (credits {first}-{last}) serviced to {as_of}: {done.loans} "
            f"loans, {done.fell_due} installments fell due, {done.moved} moved by freezes, {done.late} late, "
            f"{moved} customer moves", details={"as_of": as_of.isoformat(), "slice": slice_number,
                                                "loans": done.loans, "fell_due": done.fell_due, "late": done.late,
                                                "customers_moved": moved})
    return SliceRun(as_of, slice_number, done, moved, milliseconds)


def servicing_day(uow: UnitOfWork) -> date:
    """The day the run brings loans up to: the lender's business day that ended last."""
    return lender_today(uow) - timedelta(days=1)


def enqueue_servicing(uow: UnitOfWork, as_of: date, slice_size: int, catch_up_days: int) -> int:
    """Send one SERVICE_LOANS per slice for ``as_of`` and for each day missed since the last day run (up to
    ``catch_up_days`` back), oldest first; a slice sent already for its day is not sent again. Returns how
    many were sent. Whatever the order they run in, each loan ends carried from its own serviced_on to the
    latest day, as if each day had run: a day's run only moves loans serviced before it."""
    last_run = uow.servicing.last_run_day()
    first = as_of if last_run is None else max(last_run + timedelta(days=1), as_of - timedelta(days=catch_up_days))
    slices = slices_up_to(uow.servicing.last_loan_id(), slice_size)
    sent = 0
    for offset in range((as_of - first).days + 1):
        day = first + timedelta(days=offset)
        sent += sum(uow.outbox.send(steps.SERVICE_LOANS, day.isoformat(), number, slice_size) for number in slices)
    return sent
