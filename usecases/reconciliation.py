"""Reconciliation: our payment orders of a day against the bank's own list, order by order."""
from __future__ import annotations

from collections import Counter
from typing import Any, Mapping, Sequence

from usecases.ports import UnitOfWork
from domain.reconciliation import compare
from domain.stp import OrderOutcome
from usecases import steps


def reconcile_day(uow: UnitOfWork, day: str, bank_rows: Sequence[Mapping[str, Any]],
                  estados: Mapping[str, OrderOutcome]) -> int:
    """Record one run for ``day`` (YYYYMMDD) with every mismatch, and ask the bank again about each
    order whose status differs; returns the run id."""
    orders = uow.orders.on_day(day)
    matched, mismatches = compare(orders, bank_rows, estados)
    run_id = uow.reconciliations.record(day, uow.clock(), len(bank_rows), len(orders), matched, mismatches)
    by_key = {o.tracking_key: o for o in orders}
    for m in mismatches:
        if m.kind == "status" and m.tracking_key in by_key:
            uow.outbox.send(steps.SYNC_PAYMENT_ORDER, by_key[m.tracking_key].uetr, again=f"reconciliation-{run_id}")
    summary = (f"{day}: {len(orders)} ours, {len(bank_rows)} at the bank, {matched} matched, "
               f"{len(mismatches)} mismatches")
    if mismatches:
        kinds = Counter(m.kind for m in mismatches)
        uow.alert("reconciliation_mismatch", f"{summary} ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}); "
                  f"see GET /reconciliations/{day[:4]}-{day[4:6]}-{day[6:]}", details={"run_id": run_id, **kinds})
    else:
        uow.log("reconciliation", summary, details={"run_id": run_id})
    return run_id
