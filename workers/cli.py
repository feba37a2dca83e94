"""The ``dispersa`` command line."""
from __future__ import annotations

import sys
from typing import Any, Optional

import typer
from rich.progress import Progress

from bench.cli import cli as bench_cli
from chaos.cli import cli as chaos_cli
from workers.cli_batch import batch_app
from workers.cli_customers import customers_app
from workers.cli_dates import dates_app
from workers.cli_keys import keys_app
from workers.cli_loan_book import loans_verify
from workers.cli_loans import loans_app
from usecases.steps import QUEUES
from workers.cli_support import (console, container_for, database_url, err, fail, operator_name, plain, shown,
                                 shown_url)

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
dlq_app = typer.Typer(help="Dead letters: messages that exhausted their retries.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")
tenant_app = typer.Typer(help="Tenants: the institutions that send bulk batches.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
app.add_typer(batch_app, name="batch")
app.add_typer(dates_app, name="dates")
app.add_typer(keys_app, name="keys")
app.add_typer(customers_app, name="customers")
loans_app.command("verify")(loans_verify)
app.add_typer(loans_app, name="loans")
app.add_typer(bench_cli, name="bench")
app.add_typer(chaos_cli, name="chaos")
@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Alembic revision to upgrade to.")) -> None:
    """Apply the schema migrations to DISPERSA_DATABASE_URL."""
    from adapters.db.migrate import current, upgrade

    url = database_url(migrated=False)
    try:
        upgrade(url, revision)
        at = current(url)
    except Exception as e:
        fail(f"cannot migrate {shown_url(url)}: {str(getattr(e, 'orig', e)).splitlines()[0]}")
    print(f"database {shown_url(url)} is at migration {at}")


@db_app.command("create")
def db_create() -> None:
    """Create the MySQL/MariaDB database DISPERSA_DATABASE_URL names (utf8mb4), if it does not exist."""
    from adapters.db.migrate import create_database

    url = database_url(migrated=False)
    try:
        name = create_database(url)
    except Exception as e:
        fail(f"cannot create the database of {shown_url(url)}: {str(getattr(e, 'orig', e)).splitlines()[0]}")
    print(f"database {name} ready")


@ledger_app.command("verify")
def ledger_verify() -> None:
    """Check the ledger invariants; one line per violation, exit 1 on any."""
    from usecases.verify import check_ledger

    container = container_for(database_url())
    report = check_ledger(container.uow, container.sessions, "cli")
    for line in report.violations:  # plain print: one line per violation, never wrapped
        print(plain(line))
    print(report.summary())
    raise typer.Exit(1 if report.violations else 0)


@apikey_app.command("create")
def apikey_create(role: str = typer.Option(..., help="admin, treasury, operator, partner or account_executive"),
                  owner: str = typer.Option(..., help="e-mail address of the person the key belongs to: dual "
                                            "control compares people, not keys"),
                  merchant: Optional[int] = typer.Option(None, help="the merchant a partner key may see (partner keys "
                                                         "only)"),
                  label: str = typer.Option("", help="who or what the key is for")) -> None:
    """Create an API key for a person and print it on the last line (only its hash is stored)."""
    from usecases.access import new_api_key
    from usecases.errors import NotFound, UseCaseError

    container = container_for(database_url())
    try:
        with container.uow() as uow:
            key_id, key = new_api_key(uow, role, merchant, label, owner=owner)
            uow.commit()
    except (UseCaseError, NotFound) as e:
        fail(str(e))
    err.print(f"API key {key_id} ({shown(role)}, {shown(owner.strip().lower())}) created; it is shown this once:",
              highlight=False)
    print(key)


@apikey_app.command("list")
def apikey_list() -> None:
    """API keys as a table: id, prefix, role, merchant, label, created and revoked (never the key)."""
    from rich.table import Table

    from usecases import queries

    container = container_for(database_url())
    with container.uow() as uow:
        page = queries.api_key_list(uow, 1, 10_000)
    table = Table(title=f"API keys ({page.total})")
    for column in ("id", "prefix", "role", "owner", "merchant", "label", "created (UTC)", "revoked (UTC)"):
        table.add_column(column, justify="right" if column in ("id", "merchant") else "left",
                         no_wrap=column in ("prefix", "owner"))
    for k in page.items:
        table.add_row(str(k["id"]), shown(k["prefix"]) + "…", k["role"], shown(k["owner"]), str(k["merchant_id"] or ""),
                      shown(k["label"]),
                      k["created_at"].strftime("%Y-%m-%d %H:%M"),
                      k["revoked_at"].strftime("%Y-%m-%d %H:%M") if k["revoked_at"] else "")
    console.print(table)


@apikey_app.command("revoke")
def apikey_revoke(key_id: int = typer.Argument(..., help="the key's id (see `dispersa apikey list`)")) -> None:
    """Revoke an API key: it stops working at once."""
    from usecases.access import revoke_api_key
    from usecases.errors import NotFound, UseCaseError

    container = container_for(database_url())
    try:
        with container.uow() as uow:
            revoked = revoke_api_key(uow, key_id)
            uow.commit()
    except (UseCaseError, NotFound) as e:
        fail(str(e))
    print(f"API key {key_id} revoked" if revoked else f"API key {key_id} was already revoked")


@dlq_app.command("list")
def dlq_list(queue: Optional[str] = typer.Option(None, help=f"only this queue ({', '.join(QUEUES)})"),
             actor: Optional[str] = typer.Option(None, help="only this actor (contribute, ...)"),
             status: str = typer.Option("dead", help="dead (waiting for treasury), requeued, dropped or all, as "
                                                     "the API's status")) -> None:
    """Dead letters as a table, newest first: by default those still dead, waiting for treasury."""
    from rich.table import Table

    from domain.dead_letters import LISTED
    from usecases import queries

    if status not in LISTED:
        fail(f"status is {', '.join(LISTED[:-1])} or {LISTED[-1]}, not {status!r}")
    container = container_for(database_url())
    with container.uow() as uow:
        page = queries.dead_letters(uow, 1, 10_000, queue, actor, status)
    table = Table(title=f"dead letters ({page.total}, {shown(status)})")
    for column in ("id", "queue", "actor", "args", "attempts", "deaths", "died (UTC)", "status", "error"):
        table.add_column(column, justify="right" if column in ("id", "attempts", "deaths") else "left",
                         overflow="fold")
    for d in page.items:
        table.add_row(str(d["id"]), shown(d["queue_name"]), shown(d["actor_name"]),
                      shown(", ".join(map(str, d["args"]))), str(d["attempts"]), str(d["deaths"]),
                      d["died_at"].strftime("%Y-%m-%d %H:%M:%S"), d["status"], shown(d["error"][:160]))
    console.print(table)


def _resolve_each(ids: list[int], act: Any, verb: str, done: str) -> None:
    """Run ``act(uow, id)`` for each id in its own transaction, audited; a table of what became of each
    (``done``, the verb's past participle, or "not ``done``")."""
    from rich.table import Table

    from usecases.access import audit
    from usecases.errors import NotFound, UseCaseError

    container = container_for(database_url())
    table = Table(title=f"{verb} {len(ids)} dead letter(s)")
    for column in ("id", "actor", "args", "result"):
        table.add_column(column)
    failed = 0
    for dead_letter_id in ids:
        try:
            with container.uow() as uow:
                letter = act(uow, dead_letter_id)
                audit(uow, None, f"{verb}_dead_letter", "dead_letter", dead_letter_id,
                      {"via": operator_name(), "message_id": letter.message_id, "actor": letter.actor_name,
                       "queue": letter.queue_name, "args": list(letter.args),
                       "status": {"old": "dead", "new": letter.status.value}, "resolution": letter.resolution})
                uow.commit()
            table.add_row(str(dead_letter_id), shown(letter.actor_name), shown(", ".join(map(str, letter.args))), done)
        except (UseCaseError, NotFound) as e:
            failed += 1
            table.add_row(str(dead_letter_id), "", "", f"not {done}: {shown(e)}")
    console.print(table)
    raise typer.Exit(1 if failed else 0)


@dlq_app.command("requeue")
def dlq_requeue(ids: Optional[list[int]] = typer.Argument(None, help="dead letter ids (see `dispersa dlq list`)"),
                all_: bool = typer.Option(False, "--all", help="every dead letter still dead"),
                queue: Optional[str] = typer.Option(None, help="with --all: only this queue's")) -> None:
    """Publish dead messages again through the outbox, under their own message ids, retries reset; their
    copies leave the XQ. Exit 1 when one could not be requeued."""
    from usecases import dead_letters

    if bool(ids) == all_:
        fail("name dead letter ids, or --all (with --queue to narrow it), not both")
    if all_:
        with container_for(database_url()).uow() as uow:
            ids = uow.dead_letters.dead(queue)
    who = operator_name()
    _resolve_each(list(ids or []), lambda uow, i: dead_letters.requeue(uow, i, who), "requeue", "requeued")


@dlq_app.command("drop")
def dlq_drop(dead_letter_id: int = typer.Argument(..., help="the dead letter's id"),
             reason: str = typer.Option(..., help="why the message is given up (kept in its history)")) -> None:
    """Give a dead message up for good, with a reason; its copy leaves the XQ."""
    from usecases import dead_letters

    if not reason.strip() or len(reason) > 255:
        fail("the reason is 1 to 255 characters")
    who = operator_name()
    _resolve_each([dead_letter_id], lambda uow, i: dead_letters.drop(uow, i, who, reason.strip()), "drop",
                  "dropped")


def read_config(path: str | None) -> dict[str, Any]:
    """A tenant's configuration file, YAML or JSON (YAML reads both); one line on a bad file."""
    if path is None:
        return {}
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        fail(f"cannot read the configuration {path}: {str(e).splitlines()[0]}")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        fail(f"the configuration {path} is a mapping of the stage keys (splitting.sub-batch-size: 5, ...)")
    return raw


@tenant_app.command("create")
def tenant_create(name: str = typer.Argument(..., help="the tenant's name, as Platform-TenantId carries it"),
                  config: Optional[str] = typer.Option(None, "--config", help="YAML or JSON file of stage keys"),
                  owner: Optional[str] = typer.Option(None, help="e-mail address of the person the new key belongs "
                                                      "to (default: the tenant's own system)")) -> None:
    """Create the tenant (or update its configuration when it exists) and print a new API key bound to it
    on the last line."""
    from usecases import tenants
    from usecases.access import audit
    from usecases.errors import NotFound, UseCaseError

    raw = read_config(config)
    container = container_for(database_url())
    try:
        with container.uow() as uow:
            done = tenants.put(uow, name, raw)
            audit(uow, None, "put_tenant", "tenant", name, {"via": operator_name(), "config": {
                "old": done.old, "new": done.tenant.config}})
            key = tenants.key_for(uow, done.tenant, owner=owner)
            uow.commit()
    except (UseCaseError, NotFound) as e:
        fail(str(e))
    if done.created:  # the tenant checks our acknowledgements' X-Signature-SHA256 with it
        err.print(f"tenant {shown(name)} created; its acknowledgements are signed (HMAC-SHA256) with the secret "
                  f"{done.tenant.secret}", highlight=False, soft_wrap=True)
    err.print(f"tenant {shown(name)} {'created' if done.created else 'updated'}; its new API key, shown this once:",
              highlight=False)
    print(key)


@tenant_app.command("fund", context_settings={"ignore_unknown_options": True})  # -5 is an amount, refused
def tenant_fund(name: str = typer.Argument(..., help="the tenant's name"),
                amount: str = typer.Argument(..., help="a decimal in major units, such as 25000 or 25000.50"),
                currency: str = typer.Argument(..., help="ISO 4217 code, such as USD")) -> None:
    """Credit the tenant's float (closedloop rows are paid from it); audited."""
    from usecases import tenants
    from usecases.access import audit
    from usecases.errors import NotFound, UseCaseError

    container = container_for(database_url())
    try:
        with container.uow() as uow:
            money, balance = tenants.fund(uow, name, amount, currency)
            audit(uow, None, "fund_tenant", "tenant", name, {"via": operator_name(), "amount": money.minor,
                                                             "currency": money.currency, "balance": balance})
            uow.commit()
    except (UseCaseError, NotFound) as e:
        fail(str(e))
    from domain.money import Money

    print(f"tenant {plain(name)}: float credited with {money}; balance {Money(balance, money.currency)}")


@stp_app.command("sign")
def stp_sign(key: str = typer.Option(..., help="PEM file with the private key"),
             passphrase: str = typer.Option("", help="the key's passphrase"),
             empresa: Optional[str] = typer.Option(None, help="override the order's empresa")) -> None:
    """Read one order as JSON (STP's field names) on stdin; print its cadena original and firma.

    Amounts may be JSON numbers (``"monto": 1.2``, as STP documents them) or decimal strings; numbers
    are read exactly, never as binary floats."""
    import json
    from decimal import Decimal

    from adapters.bank.signer import Signer
    from domain import stp

    try:
        fields = json.load(sys.stdin, parse_float=Decimal)
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
            gsma_callback_secret: Optional[str] = typer.Option(
                None, help="signs GSMA callbacks (X-Callback-Signature); not the STP webhook secret"),
            scenario: str = typer.Option("happy", help="outcome scenario, e.g. happy, mixed, chaos"),
            seed: Optional[int] = typer.Option(None, help="random seed for repeatable runs")) -> None:
    """A faithful stand-in for STP on loopback (orders, queries, conciliation, callbacks)."""
    from sandbox.server import run_sandbox

    run_sandbox(port, public_key, empresa, webhook_url, webhook_secret, scenario, seed,
                gsma_callback_secret=gsma_callback_secret)


@app.command()
def demo(credits: int = typer.Option(200, help="credits to originate over the simulated week"),
         seed: int = typer.Option(7, help="random seed; the same seed plays the same week"),
         database: str = typer.Option("sqlite:///dispersa-demo.db", help="database URL (recreated for SQLite)")) -> None:
    """A simulated week on the embedded stack, paid out through the STP sandbox, then a lender's months of
    loans; ends with the ledger check and the loan book's."""
    from demo import HOURS, LENDER_DAYS, run_demo

    err.print(f"database: {shown_url(database)}", highlight=False, soft_wrap=True)
    if console.is_terminal:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("simulating a week", total=HOURS)
            months = progress.add_task("a lender's months", total=LENDER_DAYS)
            result = run_demo(database, credits, seed, lambda hour, at: progress.update(task, completed=hour),
                              lambda day, on: progress.update(months, completed=day))
    else:  # piped: a line a simulated day (a month of the lender's), so that nobody waits on silence
        def each_day(hour: int, at: Any) -> None:
            if hour % 24 == 0:
                print(f"day {hour // 24} of {HOURS // 24} simulated ({at:%a %Y-%m-%d})", flush=True)

        def each_month(day: int, on: Any) -> None:
            if day % 30 == 0 or day == LENDER_DAYS:
                print(f"lender's day {day} of {LENDER_DAYS} ({on:%a %Y-%m-%d})", flush=True)

        result = run_demo(database, credits, seed, each_day, each_month)
    result.print(console)
    raise typer.Exit(0 if result.ok else 1)


def main() -> None:
    app(prog_name="dispersa")


if __name__ == "__main__":
    main()
