"""``dispersa customers list|show|move|delete``: the lender's customers from an operator's terminal. Personal
data is shown masked (the API shows it whole to the roles that serve customers); moves and deletions are
audited, ``via`` the person at the terminal."""
from __future__ import annotations

from typing import Any, Optional

import typer
from rich.table import Table

from workers.cli_support import committed, console, fail, operator_name, plain, shown

customers_app = typer.Typer(help="Customers: the lender's borrowers, their statuses and deletion.",
                            no_args_is_help=True)


_run = committed


def _line(view: dict[str, Any]) -> str:
    return (f"customer {view['id']} ({plain(view['external_id'])}): {view['status']}"
            + (f", held: {plain(view['status_reason'])}" if view["held"] else "")
            + f"; may {', '.join(view['allowed_actions']) or 'nothing'}")


@customers_app.command("list")
def customers_list(status: Optional[str] = typer.Option(None, help="only customers in this status"),
                   external_id: Optional[str] = typer.Option(None, help="only the customer of this external id"),
                   page: int = typer.Option(1, min=1), per_page: int = typer.Option(50, min=1, max=200)) -> None:
    """Customers, oldest first, their personal data masked."""
    from domain.customers import CustomerStatus
    from usecases import customers

    if status is not None and status not in {s.value for s in CustomerStatus}:
        fail(f"--status is one of {', '.join(s.value for s in CustomerStatus)}")
    found = _run(lambda uow: customers.customers_page(uow, external_id, status, page, per_page, personal=False))
    table = Table("id", "external id", "name", "national id", "risk", "status", title=f"{found['total']} customers")
    for c in found["items"]:
        name = " ".join(v for v in (c["first_name"], c["last_name"]) if v)
        table.add_row(str(c["id"]), shown(c["external_id"]), shown(name), shown(c["national_id"] or ""),
                      c["risk_profile"] or "", c["status"])
    console.print(table)


@customers_app.command("show")
def customers_show(customer_id: int = typer.Argument(..., help="the customer's id")) -> None:
    """One customer: its status, what it may do, its data masked."""
    from usecases import customers

    view = _run(lambda uow: customers.customer_view(uow.customers.get(customer_id), personal=False))
    print(_line(view))


@customers_app.command("move")
def customers_move(customer_id: int = typer.Argument(..., help="the customer's id"),
                   event: str = typer.Argument(..., help="enable, disable or block"),
                   reason: str = typer.Option(..., help="why (kept in its history and the audit log)")) -> None:
    """Enable, disable or block a customer by hand, with a reason; audited."""
    from usecases import customers
    from usecases.access import audit

    def move(uow: Any) -> dict[str, Any]:
        customer, made = customers.move_customer(uow, customer_id, event, reason)
        audit(uow, None, "move_customer", "customer", customer_id,
              {"via": operator_name(), **customers.move_details(made)})
        return customers.customer_view(customer, personal=False)

    print(_line(_run(move)))


@customers_app.command("delete")
def customers_delete(customer_id: int = typer.Argument(..., help="the customer's id"),
                     reason: str = typer.Option(..., help="why (kept in the audit log; no personal data)"),
                     force: bool = typer.Option(False, "--force", help="delete a customer who still owes")) -> None:
    """Delete a customer: its names, phone, e-mail, address and CURP erased for good; audited."""
    from usecases import customers
    from usecases.access import audit

    def delete(uow: Any) -> tuple[dict[str, Any], int]:
        deletion = customers.delete_customer(uow, customer_id, reason, force)
        audit(uow, None, "delete_customer", "customer", customer_id,
              {"via": operator_name(), **deletion.audit_details()})
        return customers.customer_view(deletion.customer, personal=False), deletion.owed

    view, owed = _run(delete)
    print(_line(view) + (f"; it owed {owed} (minor units)" if owed else ""))
