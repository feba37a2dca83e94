"""``dispersa loans show|move``: a loan from an operator's terminal, as of a business day, and a person's moves
(audited ``via`` the person at the terminal). Other loan commands join this group (``loans_app.command``)."""
from __future__ import annotations

from datetime import date
from typing import Any, Optional

import typer
from rich.table import Table

from workers.cli_support import committed, console, fail, operator_name, plain, shown

loans_app = typer.Typer(help="Loans: the customers' side of credits, their balances, schedules and moves.",
                        no_args_is_help=True)
BALANCES = ("principal", "principal_repaid", "principal_outstanding", "interest_charged", "interest_repaid",
            "interest_due", "interest_inactive", "payoff")


def _day(text: Optional[str]) -> Optional[date]:
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        fail(f"--as-of {text!r} is not a date YYYY-MM-DD")
    if not 2000 <= day.year <= 2099:  # as the API's as_of: the years the loan book's dates live in
        fail(f"--as-of {text!r} is not a date from 2000 to 2099")
    return day


def _line(view: dict[str, Any]) -> str:
    position = view["position"]
    return (f"loan {view['id']} ({plain(view['external_id'])}) of customer {view['customer_id']}: {view['status']}"
            f"; as of {view['as_of']}: {position['status']}, {position['days_past_due']} days past due "
            f"({position['bucket']})")


@loans_app.command("show")
def loans_show(loan_id: int = typer.Argument(..., help="the loan's (credit's) id"),
               as_of: Optional[str] = typer.Option(None, "--as-of", help="YYYY-MM-DD (default: the lender's today)")
               ) -> None:
    """One loan as of a day: its status, balances and installments (amounts in minor units)."""
    from usecases import loans

    day = _day(as_of)
    view, schedule = committed(lambda uow: (loans.loan_view(uow, loan_id, day),
                                            loans.schedule_view(uow, loan_id, day)))
    print(_line(view))
    balances = Table("balance", f"{shown(view['currency'])} (minor units)", title="position")
    for name in BALANCES:
        balances.add_row(name.replace("_", " "), str(view["position"][name]))
    console.print(balances)
    installments = Table("#", "scheduled", "due", "principal", "interest", "interest state", "principal paid",
                         "interest paid", title=f"{len(schedule['installments'])} installments")
    for i in schedule["installments"]:
        installments.add_row(str(i["number"]), str(i["scheduled_on"]), str(i["due_on"]), str(i["principal"]),
                             str(i["interest"]), i["interest_state"] + (" (void)" if i["void"] else ""),
                             str(i["principal_paid"]), str(i["interest_paid"]))
    console.print(installments)


@loans_app.command("move")
def loans_move(loan_id: int = typer.Argument(..., help="the loan's (credit's) id"),
               event: str = typer.Argument(..., help="freeze, unfreeze, open_dispute, resolve_dispute or cancel"),
               reason: Optional[str] = typer.Option(None, help="a cancellation's reason: rejected, returned, fraud, "
                                                               "death or refinanced"),
               detail: Optional[str] = typer.Option(None, help="why, in words (kept in its history and the audit)")
               ) -> None:
    """Move a loan by hand; audited. A move its status refuses is one line, exit 2."""
    from adapters.settings import Settings
    from usecases import loans
    from usecases.access import audit
    from usecases.customers import CustomerRules
    from usecases.loan_status import MoveBy

    rules = CustomerRules(Settings().customer_default_dpd)

    def move(uow: Any) -> dict[str, Any]:
        moved = loans.move_loan(uow, loan_id, event, reason, detail, rules, MoveBy(actor=operator_name()))
        audit(uow, None, "move_loan", "loan", loan_id, {"via": operator_name(), **loans.move_details(moved)})
        return loans.loan_view(uow, loan_id)

    print(_line(committed(move)))
