"""``dispersa loans verify``: the loan book's identities and what the loan use cases and the daily servicing
run stored, checked for every loan (usecases.verify_loans); progress on stderr, a table of violations, exit 1
on any."""
from __future__ import annotations

from datetime import date
from typing import Optional

import typer
from rich.progress import Progress
from rich.table import Table

from workers.cli_support import console, container_for, database_url, err, fail, shown


def loans_verify(as_of: Optional[str] = typer.Option(
        None, "--as-of", help="the business day (YYYY-MM-DD) the identities are checked as of; default today "
                              "in Mexico City")) -> None:
    """Check every loan: principal = repaid + outstanding (+ voided), interest charged = repaid + due (+
    inactive), every accepted payment applied once and in full, a paid loan owes nothing; and the stored
    installments, days past due and paid parts against the loan's record. Exit 1 on any violation."""
    from usecases.verify_loans import verify_loans

    try:
        day = date.fromisoformat(as_of) if as_of is not None else None
    except ValueError:
        fail(f"--as-of is a date YYYY-MM-DD, not {as_of!r}")
    container = container_for(database_url())
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("checking loans", total=None)
        report = verify_loans(container.uow, day, lambda done, total: progress.update(task, completed=done,
                                                                                       total=total))
    if report.violations:
        table = Table("loan", "violation", title=f"{len(report.violations)} violations")
        for line in report.violations:
            loan, _, what = line.partition(": ")
            table.add_row(shown(loan.removeprefix("loan ")), shown(what))
        console.print(table)
    print(report.summary())
    raise typer.Exit(1 if report.violations else 0)
