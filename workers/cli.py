"""The ``dispersa`` command line."""
from __future__ import annotations

import sys
from typing import Optional

import typer
from rich.console import Console
from rich.progress import Progress

from adapters.settings import Settings

app = typer.Typer(help="dispersa: disbursement engine (ledger, SPEI payouts, bulk files).", no_args_is_help=True,
                  add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
ledger_app = typer.Typer(help="The store balance ledger.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(ledger_app, name="ledger")
app.add_typer(apikey_app, name="apikey")
stp_app = typer.Typer(help="STP (SPEI) protocol tools.", no_args_is_help=True)
app.add_typer(stp_app, name="stp")
console = Console()
if not console.is_terminal:  # piped or captured: tables wide enough to read whole
    console = Console(width=140)
err = Console(stderr=True)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Alembic revision to upgrade to.")) -> None:
    """Apply the schema migrations to DISPERSA_DATABASE_URL."""
    from adapters.db.migrate import upgrade

    url = Settings().database_url
    upgrade(url, revision)
    console.print(f"database at {url.split('@')[-1]} is at revision {revision}")


@ledger_app.command("verify")
def ledger_verify() -> None:
    """Check the ledger invariants; one line per violation, exit 1 on any."""
    from workers.bootstrap import build_container
    from usecases.verify import verify_all

    container = build_container()
    report = verify_all(container.sessions)
    for line in report.violations:  # plain print: one line per violation, never wrapped
        print(line)
    print(report.summary())
    raise typer.Exit(1 if report.violations else 0)


@apikey_app.command("create")
def apikey_create(role: str = typer.Option(..., help="admin, treasury, operator or partner"),
                  merchant: Optional[int] = typer.Option(None, help="the merchant a partner key may see"),
                  label: str = typer.Option("", help="who or what the key is for")) -> None:
    """Create an API key and print it (only its hash is stored)."""
    from usecases.access import create_api_key
    from usecases.errors import UseCaseError
    from workers.bootstrap import build_container

    container = build_container()
    try:
        with container.uow() as uow:
            key = create_api_key(uow, role, merchant, label)
            uow.commit()
    except UseCaseError as e:
        err.print(f"error: {e}")
        raise typer.Exit(2)
    print(key)


@stp_app.command("sign")
def stp_sign(key: str = typer.Option(..., help="PEM file with the private key"),
             passphrase: str = typer.Option("", help="the key's passphrase"),
             empresa: Optional[str] = typer.Option(None, help="override the order's empresa")) -> None:
    """Read one order as JSON (STP's field names) on stdin; print its cadena original and firma."""
    import json

    from adapters.bank.signer import Signer
    from domain import stp

    try:
        fields = json.load(sys.stdin)
        if not isinstance(fields, dict):
            raise ValueError("expected a JSON object")
        order = stp.normalise_order(fields, empresa)
        signer = Signer.from_file(key, passphrase or None)
    except (ValueError, stp.OrderError, OSError, TypeError) as e:
        err.print(f"error: {e}")
        raise typer.Exit(2)
    cadena = stp.cadena_original(order)
    print(json.dumps({"cadena_original": cadena, "firma": signer.sign(cadena)}, ensure_ascii=False))


@app.command()
def sandbox(port: int = typer.Option(7024, help="port on 127.0.0.1"),
            public_key: Optional[str] = typer.Option(None, help="PEM public key or certificate to verify firmas"),
            empresa: str = typer.Option("DISPERSA", help="the empresa the sandbox serves"),
            webhook_url: Optional[str] = typer.Option(None, help="where order status callbacks go"),
            webhook_secret: Optional[str] = typer.Option(None, help="sent as X-Webhook-Secret"),
            scenario: str = typer.Option("happy", help="outcome scenario, e.g. happy, mixed, chaos"),
            seed: Optional[int] = typer.Option(None, help="random seed for repeatable runs")) -> None:
    """A faithful stand-in for STP on loopback (orders, queries, conciliation, callbacks)."""
    from adapters.stp_sandbox.server import run_sandbox

    run_sandbox(port, public_key, empresa, webhook_url, webhook_secret, scenario, seed)


@app.command()
def demo(credits: int = typer.Option(200, help="credits to originate over the simulated week"),
         seed: int = typer.Option(7, help="random seed; the same seed gives the same week"),
         database: str = typer.Option("sqlite:///dispersa-demo.db", help="database URL (recreated for SQLite)")) -> None:
    """A simulated week on the embedded stack, paid out through the STP sandbox; ends with the ledger check."""
    from workers.demo import run_demo

    with Progress(console=console, transient=True) as progress:
        result = run_demo(database, credits, seed, progress)
    result.print(console)
    raise typer.Exit(0 if result.ok else 1)


def main() -> None:
    app(prog_name="dispersa")


if __name__ == "__main__":
    sys.exit(main())
