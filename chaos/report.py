"""The run's report: tables on the console, the same facts as JSON (``--out``), and the verdict."""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from rich.console import Console
from rich.table import Table

from chaos.checks import (
    LIQUIDATED, RETURNED, AcknowledgedCheck, BooksCheck, BulkCheck, LedgerVerify, Reconciliation,
)
from chaos.faults import FaultLog
from chaos.state import Unsettled

SHOWN = 15  # rows of a long list shown on the console (the JSON has them all)


def bank_faults(books: list[dict[str, Any]], worker_log: str) -> dict[str, int]:
    """What the sandbox's scenario did, as its books and the workers' output show it."""
    deliveries = [d for o in books for d in o.get("deliveries", ())]
    shuffled = sum(1 for o in books if [d["estado"] for d in o.get("deliveries", ())][:1] == [RETURNED]
                   and any(d["estado"] == LIQUIDATED for d in o.get("deliveries", ())))
    return {
        "registra answered 503 (seen by the workers)": len(re.findall(r"HTTP 503 from \S+registra", worker_log)),
        "registra timed out (seen by the workers)": len(re.findall(r"Timeout calling \S+registra", worker_log)),
        "callbacks delivered twice or three times": sum(1 for d in deliveries if d["copy"] > 0),
        "callbacks out of order (return before liquidation)": shuffled,
        "returns after liquidation": sum(1 for o in books if o.get("estado") == RETURNED and o.get("tsLiquidacion")),
        "returns while in flight": sum(1 for o in books if o.get("estado") == RETURNED and not o.get("tsLiquidacion")),
        "orders cancelled by the bank": sum(1 for o in books if o.get("estado") == "CN"),
        "webhook calls that failed and were retried": sum(max(0, d["attempts"] - 1) for d in deliveries),
        "callbacks the bank gave up on": sum(1 for d in deliveries if d["gave_up"]),
    }


@dataclass
class Report:
    """Everything the run found; ``failures`` says why it failed, and is empty when it passed."""

    seed: int
    options: dict[str, Any]
    plan: str = ""  # the plan's digest: the same for the same seed and sizes
    phases: dict[str, float] = field(default_factory=dict)
    actions: dict[str, int] = field(default_factory=dict)
    api_retries: dict[str, int] = field(default_factory=dict)
    credits: dict[str, tuple[int, int]] = field(default_factory=dict)
    evaluations: dict[str, int] = field(default_factory=dict)
    transfers: dict[str, tuple[int, int]] = field(default_factory=dict)
    orders: dict[str, tuple[int, int]] = field(default_factory=dict)
    bank_orders: dict[str, int] = field(default_factory=dict)
    faults: FaultLog = field(default_factory=FaultLog)
    bank_faults: dict[str, int] = field(default_factory=dict)
    settled: bool = False
    unsettled: list[Unsettled] = field(default_factory=list)
    reconciliations: list[Reconciliation] = field(default_factory=list)  # the last round
    repaired_by_reconciliation: list[dict[str, Any]] = field(default_factory=list)
    verify: LedgerVerify | None = None
    books: BooksCheck | None = None
    acknowledged: AcknowledgedCheck | None = None
    bulk: BulkCheck | None = None
    events: dict[str, int] = field(default_factory=dict)
    sweeps: list[str] = field(default_factory=list)
    dead_letters: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    workdir: str = ""

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failures

    def judge(self) -> None:
        """Fill ``failures`` from the findings."""
        f = self.failures
        if not self.settled:
            f.append("the system did not settle: " + "; ".join(map(str, self.unsettled)))
        for crash in self.faults.crashes:
            f.append(f"{crash.name} crashed on its own at {crash.at_seconds}s (exit {crash.exit_code})")
        if self.verify is None or self.verify.exit_code != 0:
            f.append(f"ledger verify: {self.verify.summary if self.verify else 'not run'}")
        final = [m for r in self.reconciliations for m in r.mismatches]
        if not self.reconciliations:
            f.append("no reconciliation ran")
        if final:
            f.append(f"{len(final)} reconciliation mismatches remain")
        if self.acknowledged is None:
            f.append("what the API acknowledged was not checked against the database")
        elif self.acknowledged.lost:
            f.append("acknowledged by the API but missing from the database: " + ", ".join(
                f"{len(ids)} {what}" for what, ids in self.acknowledged.lost.items()))
        if self.options.get("bulk_rows"):
            if self.bulk is None:
                f.append("the bulk batch was not checked")
            else:
                f.extend(self.bulk.problems())
        b = self.books
        if b is None:
            f.append("the ledger was not compared with the bank's books")
            return
        if b.mismatches:
            f.append(f"{len(b.mismatches)} differences between the ledger and the bank's books")
        if b.paid_twice or b.sent_twice:
            f.append(f"{len(b.paid_twice)} transfers paid twice, {len(b.sent_twice)} sent twice")
        if any(s["lost"] for s in b.stores):
            f.append(f"money lost or made up: {b.money_lost} centavos over "
                     f"{sum(1 for s in b.stores if s['lost'])} stores")

    # --- JSON ------------------------------------------------------------------------------------

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data."""
        data = {k: v for k, v in asdict(self).items() if k not in ("faults", "unsettled")}
        data.update(ok=self.ok, unsettled=[asdict(u) for u in self.unsettled],
                    faults={"injected": [f.as_dict() for f in self.faults.faults],
                            "by_kind": {k: {"faults": n, "hits": h} for k, (n, h) in self.faults.by_kind().items()},
                            "total": len(self.faults.faults),
                            "crashes": [asdict(c) for c in self.faults.crashes]},
                    money_lost=self.books.money_lost if self.books else None)
        if self.bulk is not None:
            data["bulk"] = dict(asdict(self.bulk), float_decrease=self.bulk.float_decrease,
                                problems=self.bulk.problems())
        return data

    def write(self, path: Path) -> None:
        """The JSON report, to ``path``."""
        path.write_text(json.dumps(self.as_dict(), indent=2, default=str) + "\n")

    # --- console ---------------------------------------------------------------------------------

    def print(self, console: Console) -> None:
        """Every table, then the verdict."""
        console.print(_status_table("Credits by status", self.credits, amounts=False))
        console.print(_counts_table("What the run did through the API", self.actions, "action"))
        console.print(_counts_table("Trigger evaluations by period and outcome", self.evaluations,
                                    "period outcome"))
        console.print(_status_table("Transfers by status", self.transfers))
        console.print(_status_table("Payment orders by status", self.orders))
        console.print(_counts_table("Bank orders by estado (the sandbox's books)", self.bank_orders, "estado"))
        console.print(self._faults_table())
        console.print(_counts_table("Bank faults (the sandbox's scenario)", self.bank_faults, "fault"))
        if self.events:
            console.print(_counts_table("The event log: warnings, errors and alerts", self.events, "level kind"))
        for line in self.sweeps[:5]:
            console.print(f"  sweep: {line[:300]}", highlight=False, markup=False)
        if self.dead_letters:
            console.print(_counts_table("Dead letters (messages that exhausted their retries)", self.dead_letters,
                                        "where"))
        console.print(self._reconciliation_table())
        if self.repaired_by_reconciliation:
            console.print(f"  {len(self.repaired_by_reconciliation)} mismatches found by an earlier round (the bank's "
                          "word the callbacks had not brought), repaired by the reconciliation's queries:",
                          highlight=False)
            for m in self.repaired_by_reconciliation[:SHOWN]:
                console.print(f"    {m['tracking_key']} {m['kind']}: ours {m.get('ours')}, bank {m.get('bank')}",
                              highlight=False, markup=False)
        self._print_verify(console)
        if self.books is not None:
            self._print_books(console, self.books)
        if self.bulk is not None:
            self._print_bulk(console, self.bulk)
        self._print_verdict(console)

    def _faults_table(self) -> Table:
        table = Table(title=f"Faults injected ({len(self.faults.faults)})")
        for name in ("kind", "faults", "hit"):
            table.add_column(name, justify="left" if name == "kind" else "right")
        for kind, (n, hits) in self.faults.by_kind().items():
            table.add_row(kind, str(n), f"{hits} {'processes' if kind.startswith('kill:') else 'connections'}")
        failed = sum(1 for f in self.faults.faults if not f.ok)
        if failed:
            table.add_row("could not be injected", str(failed), "")
        table.add_row("crashes (ended on their own)", str(len(self.faults.crashes)), "")
        return table

    def _reconciliation_table(self) -> Table:
        table = Table(title="Reconciliation (POST /reconciliations/{date})")
        for name in ("day", "bank orders", "ledger orders", "matched", "mismatches"):
            table.add_column(name, justify="left" if name == "day" else "right")
        for r in self.reconciliations:
            table.add_row(r.day, str(r.bank_orders), str(r.ledger_orders), str(r.matched), str(len(r.mismatches)))
        return table

    def _print_verify(self, console: Console) -> None:
        v = self.verify
        console.print("[bold]Ledger violations (dispersa ledger verify)[/bold]")
        if v is None:
            console.print("  not run")
            return
        for line in v.violations[:SHOWN]:
            console.print(f"  {line}", highlight=False, markup=False)
        if len(v.violations) > SHOWN:
            console.print(f"  ... and {len(v.violations) - SHOWN} more (see the JSON report)")
        console.print(f"  {v.summary} (exit {v.exit_code})", highlight=False, markup=False)

    def _print_books(self, console: Console, b: BooksCheck) -> None:
        table = Table(title="The ledger against the API's answers and the bank's books, order by order")
        table.add_column("check")
        table.add_column("result", justify="right")
        lost_writes = sum(len(ids) for ids in self.acknowledged.lost.values()) if self.acknowledged else "not checked"
        rows = (("writes the API acknowledged, missing from the database", str(lost_writes)),
                ("orders at the bank / in the ledger", f"{b.bank_orders} / {b.ledger_orders}"),
                ("orders compared", str(b.compared)), ("differences", str(len(b.mismatches))),
                ("orders paid twice", str(len(b.paid_twice))), ("transfers sent twice", str(len(b.sent_twice))),
                ("paid by the bank (net of returns)", _money(b.bank_paid)),
                ("disbursed by the ledger (net of overrides)", _money(b.ledger_disbursed)),
                ("owed to the stores (credits, cancellations, adjustments)", _money(sum(s["owed"] for s in b.stores))),
                ("balances left", _money(sum(s["balance"] for s in b.stores))),
                ("money lost (owed - balances - paid)", _money(b.money_lost)))
        for row in rows:
            table.add_row(*row)
        console.print(table)
        for m in b.mismatches[:SHOWN]:
            console.print(f"  {m}", highlight=False, markup=False)
        for s in [s for s in b.stores if s["lost"]][:SHOWN]:
            console.print(f"  store {s['store']} ({s['mode']}): owed {s['owed']}, balance {s['balance']}, "
                          f"bank paid {s['bank_paid']}: {s['lost']} lost", highlight=False)

    def _print_bulk(self, console: Console, b: BulkCheck) -> None:
        console.print(_counts_table("Bulk rows by connector and status", dict(sorted(b.by_status.items())),
                                    "connector status"))
        if b.failed_rows:
            console.print(_counts_table("Bulk rows failed, by connector and error (the bank's word)",
                                        dict(sorted(b.failed_rows.items())), "connector error"))
        table = Table(title=f"The bulk batch against the API, the wallet ledger and the bank (tenant {b.tenant})")
        table.add_column("check")
        table.add_column("result", justify="right")
        a = b.api
        span = b.in_flight_seconds
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(b.faults_in_flight.items()))
        flight = f"{sum(b.faults_in_flight.values())} ({kinds})" if kinds else "0"
        rows = (("batch", str(b.batch_id)),
                ("status (GET /api/v1/batchtransactions/{id})", str(b.status)),
                ("in flight (submitted - completed, into the run)",
                 f"{span[0]:.0f}s - {span[1]:.0f}s" if span and span[1] is not None else str(span)),
                ("faults injected while it was in flight", flight),
                ("rows (SPEI / closed loop)", f"{b.rows} ({b.spei_rows} / {b.closedloop_rows})"),
                ("summary: total, successful, failed, ongoing",
                 f"{a.get('total')}, {a.get('successful')}, {a.get('failed')}, {a.get('ongoing')}"),
                ("summary's totalAmount / the file's",
                 f"{_money(a.get('totalAmount', 0))} / {_money(b.planned_total)}"),
                ("submitted; the same file again (same batch_id)",
                 f"{b.submitted}; {b.again} ({'yes' if b.same_batch_again else 'NO'})"),
                ("other content, same X-CorrelationID", str(b.conflict)),
                ("batches of the tenant", str(b.tenant_batches)),
                ("rows not as the bank or the closed loop say", str(len(b.row_mismatches))),
                ("rows paid twice / sent twice; orders of no row",
                 f"{b.paid_twice} / {b.sent_twice}; {b.orphan_orders}"),
                ("closed loop: successful rows", _money(b.closedloop_success)),
                ("closed loop: the summary's successfulAmount", _money(b.closedloop_success_api)),
                ("closed loop: wallet entries out of the float", _money(b.closedloop_entries)),
                ("the float's decrease (closed loop and SPEI)",
                 f"{_money(b.float_decrease)} (funded {_money(b.float_funded)}, left {_money(b.float_balance)})"),
                ("SPEI: successful rows", _money(b.spei_success)),
                ("SPEI: the summary's successfulAmount", _money(b.spei_success_api)),
                ("SPEI: liquidated by the bank (its books)", _money(b.bank_liquidated)))
        for row in rows:
            table.add_row(*row)
        console.print(table)
        for m in (b.row_mismatches + b.twice)[:SHOWN]:
            console.print(f"  {m}", highlight=False, markup=False)

    def _print_verdict(self, console: Console) -> None:
        took = sum(self.phases.values())
        if self.ok:
            bulk = (f", bulk batch completed ({self.bulk.rows} rows, none paid twice, its totals the ledger's "
                    f"and the bank's)" if self.bulk is not None else "")
            console.print(f"[bold green]PASSED[/bold green]: {len(self.faults.faults)} faults injected, 0 ledger "
                          f"violations, 0 differences with the bank's books, 0 orders paid twice, no money lost"
                          f"{bulk} ({took:.0f}s)")
            return
        console.print(f"[bold red]FAILED[/bold red] ({took:.0f}s):")
        for failure in self.failures:
            console.print(f"  - {failure}", highlight=False, markup=False)
        if self.workdir:
            console.print(f"  the processes' output is in {self.workdir}", highlight=False)


def _money(minor: int) -> str:
    return f"{minor / 100:,.2f} MXN"


def _status_table(title: str, rows: dict[str, tuple[int, int]], amounts: bool = True) -> Table:
    table = Table(title=title)
    table.add_column("status")
    table.add_column("count", justify="right")
    if amounts:
        table.add_column("amount", justify="right")
    for status, (n, amount) in rows.items():
        table.add_row(status, str(n), *([_money(amount)] if amounts else []))
    total = sum(n for n, _ in rows.values())
    table.add_row("total", str(total), *([_money(sum(a for _, a in rows.values()))] if amounts else []))
    return table


def _counts_table(title: str, rows: dict[str, int], name: str) -> Table:
    table = Table(title=title)
    table.add_column(name)
    table.add_column("count", justify="right")
    for key, n in rows.items():
        table.add_row(key, str(n))
    return table


def count_estados(books: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Bank orders by estado."""
    return dict(sorted(Counter(str(o.get("estado")) for o in books).items()))
