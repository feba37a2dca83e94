"""The ``dispersa`` command line."""
from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, Optional

import typer
from rich.console import Console
from rich.progress import Progress

from adapters.settings import Settings
from bench.cli import cli as bench_cli
from chaos.cli import cli as chaos_cli

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
batch_app = typer.Typer(help="Bulk batches: files of payments submitted for a tenant, and how they stand.",
                        no_args_is_help=True)
app.add_typer(batch_app, name="batch")
app.add_typer(bench_cli, name="bench")
app.add_typer(chaos_cli, name="chaos")
console = Console()
if not console.is_terminal and console.width < 100:  # piped or captured: tables wide enough to read whole
    console = Console(width=100)
err = Console(stderr=True)


def shown_url(url: str) -> str:
    """A database URL as the CLI prints it: the password hidden."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def fail(message: str, code: int = 2) -> NoReturn:
    """One clear line on stderr, and an exit code; never a traceback for a known condition."""
    err.print(f"error: {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def database_url(migrated: bool = True) -> str:
    """DISPERSA_DATABASE_URL, said on stderr; with ``migrated``, checked to be reachable and at the
    newest migration, or one line saying what to do."""
    from adapters.db.migrate import current, head

    url = Settings().database_url
    if not url:
        fail("DISPERSA_DATABASE_URL is not set (nor in ./.env): `make up` writes a .env with the dev "
             "database, or export DISPERSA_DATABASE_URL=mysql+pymysql://user:pass@host:3306/db")
    err.print(f"database: {shown_url(url)}", highlight=False, soft_wrap=True)
    if not migrated:
        return url
    try:
        at = current(url)
    except Exception as e:  # whatever the driver says, one line of it
        fail(f"cannot reach the database {shown_url(url)}: {str(getattr(e, 'orig', e)).splitlines()[0]}")
    if at != head():
        fail(f"the database {shown_url(url)} is at migration {at or 'none (no dispersa schema)'}, not {head()}: "
             "run `dispersa db upgrade`")
    return url


def container_for(url: str) -> Any:
    from bootstrap import build_container

    return build_container(Settings().model_copy(update={"database_url": url}))


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
        print(line)
    print(report.summary())
    raise typer.Exit(1 if report.violations else 0)


@apikey_app.command("create")
def apikey_create(role: str = typer.Option(..., help="admin, treasury, operator or partner"),
                  merchant: Optional[int] = typer.Option(None, help="the merchant a partner key may see"),
                  label: str = typer.Option("", help="who or what the key is for")) -> None:
    """Create an API key and print it on the last line (only its hash is stored)."""
    from usecases.access import new_api_key
    from usecases.errors import NotFound, UseCaseError

    container = container_for(database_url())
    try:
        with container.uow() as uow:
            key_id, key = new_api_key(uow, role, merchant, label)
            uow.commit()
    except (UseCaseError, NotFound) as e:
        fail(str(e))
    err.print(f"API key {key_id} ({role}) created; it is shown this once:", highlight=False)
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
    for column in ("id", "prefix", "role", "merchant", "label", "created (UTC)", "revoked (UTC)"):
        table.add_column(column, justify="right" if column in ("id", "merchant") else "left")
    for k in page.items:
        table.add_row(str(k["id"]), k["prefix"] + "…", k["role"], str(k["merchant_id"] or ""), k["label"],
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


def operator_name() -> str:
    """How a dead letter's history and the audit name whoever ran the CLI."""
    import getpass

    try:
        return f"cli {getpass.getuser()}"
    except Exception:
        return "cli"


@dlq_app.command("list")
def dlq_list(queue: Optional[str] = typer.Option(None, help="only this queue (ledger, bank, ops)"),
             actor: Optional[str] = typer.Option(None, help="only this actor (contribute, ...)"),
             status: str = typer.Option("dead", help="dead, requeued, dropped or all")) -> None:
    """Dead letters as a table, newest first: by default those still dead, waiting for treasury."""
    from rich.table import Table

    from domain.dead_letters import DeadLetterStatus
    from usecases import queries

    if status != "all" and status not in {s.value for s in DeadLetterStatus}:
        fail(f"status is dead, requeued, dropped or all, not {status!r}")
    container = container_for(database_url())
    with container.uow() as uow:
        page = queries.dead_letters(uow, 1, 10_000, queue, actor, None if status == "all" else status)
    table = Table(title=f"dead letters ({page.total}, {status})")
    for column in ("id", "queue", "actor", "args", "attempts", "deaths", "died (UTC)", "status", "error"):
        table.add_column(column, justify="right" if column in ("id", "attempts", "deaths") else "left",
                         overflow="fold")
    for d in page.items:
        table.add_row(str(d["id"]), d["queue_name"], d["actor_name"], ", ".join(map(str, d["args"])),
                      str(d["attempts"]), str(d["deaths"]), d["died_at"].strftime("%Y-%m-%d %H:%M:%S"), d["status"],
                      d["error"][:160])
    console.print(table)


def _resolve_each(ids: list[int], act: Any, verb: str) -> None:
    """Run ``act(uow, id)`` for each id in its own transaction, audited; a table of what became of each."""
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
            table.add_row(str(dead_letter_id), letter.actor_name, ", ".join(map(str, letter.args)), verb + "d")
        except (UseCaseError, NotFound) as e:
            failed += 1
            table.add_row(str(dead_letter_id), "", "", f"not {verb}d: {e}")
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
    _resolve_each(list(ids or []), lambda uow, i: dead_letters.requeue(uow, i, who), "requeue")


@dlq_app.command("drop")
def dlq_drop(dead_letter_id: int = typer.Argument(..., help="the dead letter's id"),
             reason: str = typer.Option(..., help="why the message is given up (kept in its history)")) -> None:
    """Give a dead message up for good, with a reason; its copy leaves the XQ."""
    from usecases import dead_letters

    if not reason.strip() or len(reason) > 255:
        fail("the reason is 1 to 255 characters")
    who = operator_name()
    _resolve_each([dead_letter_id], lambda uow, i: dead_letters.drop(uow, i, who, reason.strip()), "drop")


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
                  config: Optional[str] = typer.Option(None, "--config", help="YAML or JSON file of stage keys")) -> None:
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
            key = tenants.key_for(uow, done.tenant)
            uow.commit()
    except (UseCaseError, NotFound) as e:
        fail(str(e))
    if done.created:  # the tenant checks our acknowledgements' X-Signature-SHA256 with it
        err.print(f"tenant {name} created; its acknowledgements are signed (HMAC-SHA256) with the secret "
                  f"{done.tenant.secret}", highlight=False, soft_wrap=True)
    err.print(f"tenant {name} {'created' if done.created else 'updated'}; its new API key, shown this once:",
              highlight=False)
    print(key)


@tenant_app.command("fund")
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

    print(f"tenant {name}: float credited with {money}; balance {Money(balance, money.currency)}")


POLL_SECONDS = 0.5  # how often --wait reads the batch's progress
PLAIN_EVERY_SECONDS = 5.0  # piped: a progress line at most this often (and on every change of status)


@dataclass(frozen=True)
class BatchFile:
    """A batch file as read for submission: what is stored (CSV bytes or the file itself), how large it may
    be, the SHA-256 the batch keeps (of the file as sent) and the SHA-256 of what is stored."""

    path: Path
    source: str  # csv or raw
    content_sha256: str
    stored_sha256: str
    limit: int
    csv: bytes | None = None  # a JSON file's items as CSV; None: the file is stored as it is


def read_batch_file(file: str) -> BatchFile:
    """The file checked as the API checks an upload (size, JSON array, header row, a payment), before any
    database is touched; one line on anything wrong."""
    import hashlib
    import json

    from domain.bulk_files import FileError
    from usecases.bulk_files_io import as_csv, check_header

    path = Path(file)
    if not path.is_file():
        fail(f"no such file: {file}" if not path.exists() else f"{file} is not a file")
    settings = Settings()
    raw = path.suffix.lower() == ".json"
    limit, setting = ((settings.bulk_max_json_bytes, "DISPERSA_BULK_MAX_JSON_BYTES") if raw
                      else (settings.bulk_max_bytes, "DISPERSA_BULK_MAX_BYTES"))
    try:
        size = path.stat().st_size
        if size > limit:
            fail(f"{file} is {size} bytes, larger than {setting} ({limit} bytes); nothing was stored")
        if size == 0:
            fail(f"{file} is empty: a batch file is a header row and a row per payment")
        if raw:
            body = path.read_bytes()
            sha = hashlib.sha256(body).hexdigest()
            try:
                items = json.loads(body, parse_constant=_not_json)
            except (ValueError, RecursionError) as e:
                fail(f"{file} is not valid JSON: {str(e).splitlines()[0] if str(e) else 'nested too deeply'}")
            if not isinstance(items, list) or not items:
                fail(f"{file} is not a non-empty JSON array of payments (the seed's raw items)")
            text = as_csv(items)
            check_header(io.BytesIO(text))
            return BatchFile(path, "raw", sha, hashlib.sha256(text).hexdigest(), limit * 4, text)
        digest = hashlib.sha256()
        with path.open("rb") as f:
            check_header(f)
            f.seek(0)
            while chunk := f.read(1024 * 1024):
                digest.update(chunk)
    except FileError as e:
        fail(f"{file}: {e}; nothing was stored")
    except OSError as e:
        fail(f"cannot read {file}: {e.strerror or e}")
    return BatchFile(path, "csv", digest.hexdigest(), digest.hexdigest(), limit)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def store_batch_file(container: Any, tenant_name: str, batch_file: BatchFile) -> Any:
    """The file kept under the container's storage, checked again as it is written (the same bytes as were
    read, the header row); nothing is kept on anything wrong."""
    from adapters.storage import Stored, TooLarge
    from domain.bulk_files import FileError
    from usecases.bulk_files_io import check_header

    def check(stored: Stored, written: Any) -> None:
        if stored.sha256 != batch_file.stored_sha256:
            raise FileError("the file changed while it was read: run the command again")
        check_header(written)

    try:
        if batch_file.csv is not None:
            return container.storage.save(io.BytesIO(batch_file.csv).read, batch_file.limit, tenant_name, ".csv",
                                          check)
        with batch_file.path.open("rb") as f:
            return container.storage.save(f.read, batch_file.limit, tenant_name, ".csv", check)
    except TooLarge:
        fail(f"{batch_file.path} grew larger than {batch_file.limit} bytes while it was read; nothing was stored")
    except FileError as e:
        fail(f"{batch_file.path}: {e}; nothing was stored")
    except OSError as e:
        fail(f"cannot store {batch_file.path} under {container.settings.bulk_storage_dir} "
             f"(DISPERSA_BULK_STORAGE_DIR): {e.strerror or e}")


@batch_app.command("submit")
def batch_submit(file: str = typer.Argument(..., help="a CSV file of the seed's columns, or a .json array of "
                                                      "the seed's raw items"),
                 tenant: str = typer.Option(..., "--tenant", help="the tenant the batch is for"),
                 request_id: Optional[str] = typer.Option(
                     None, "--request-id", help="the batch's X-CorrelationID; by default a UUID of the file's "
                                                "SHA-256, so that the same file again is the same batch"),
                 purpose: str = typer.Option("", "--purpose", help="what the batch pays for (up to 64 characters)"),
                 callback_url: Optional[str] = typer.Option(
                     None, "--callback-url", help="where progress is acknowledged (acknowledgement.enable)"),
                 wait: bool = typer.Option(False, "--wait", help="show the batch's progress until it completes or "
                                                                 "fails, then its summary"),
                 timeout: float = typer.Option(3600.0, "--timeout", help="with --wait: stop waiting after this "
                                                                         "many seconds (exit 1)")) -> None:
    """Submit a batch file for a tenant, straight to the database, and print its batch_id on the last line;
    with --wait, follow it to the end: exit 0 when it completed, 1 when it failed or the wait timed out."""
    from usecases import bulk_submission
    from usecases.access import audit
    from usecases.bulk_files_io import earlier_batch, request_id_of
    from usecases.errors import NotFound, UseCaseError

    if request_id is not None and not 0 < len(request_id.strip()) <= bulk_submission.REQUEST_ID_LENGTH:
        fail(f"--request-id is 1 to {bulk_submission.REQUEST_ID_LENGTH} characters")
    if len(purpose) > 64:
        fail("--purpose is at most 64 characters")
    if callback_url is not None and (not callback_url.startswith(("http://", "https://")) or len(callback_url) > 1024):
        fail("--callback-url is an http(s) URL of at most 1024 characters")
    if timeout <= 0:
        fail("--timeout is a number of seconds above 0")
    batch_file = read_batch_file(file)
    rid = request_id.strip() if request_id is not None else request_id_of(batch_file.content_sha256)
    container = container_for(database_url())
    try:
        with container.uow() as uow:
            owner = uow.tenants.get(tenant)
            earlier = earlier_batch(uow, owner.id or 0, rid)
    except NotFound as e:
        fail(str(e))
    if earlier is not None and earlier.content_sha256 != batch_file.content_sha256:
        fail(f"the request id (X-CorrelationID) {rid!r} was used for batch {earlier.batch_id} with other content; "
             "give new content a new --request-id (nothing was stored)")
    if earlier is not None:
        batch_id, new = earlier.batch_id, False
    else:
        stored = store_batch_file(container, owner.name, batch_file)
        submission = bulk_submission.Submission(rid, stored.key, stored.size, batch_file.content_sha256,
                                                batch_file.source, batch_file.path.name, purpose, callback_url)
        try:
            with container.uow() as uow:
                batch, new = bulk_submission.submit(uow, owner, submission, None)
                if new:
                    audit(uow, None, "submit_batch", "batch", batch.batch_id, {
                        "via": operator_name(), "tenant": owner.name, "request_id": rid,
                        "sha256": batch_file.content_sha256, "bytes": stored.size, "file": str(batch_file.path)})
                uow.commit()
        except (UseCaseError, NotFound) as e:  # Conflict: another submission under the id won the race
            fail(str(e))
        batch_id = batch.batch_id
    err.print(f"batch {batch_id} of tenant {owner.name} " + (
        f"received (request id {rid})" if new else f"was received before under request id {rid} with the same "
                                                   "content: nothing new"), highlight=False, soft_wrap=True)
    if not wait:
        print(batch_id)
        return
    final = follow_batch(container, batch_id, timeout)
    show_summary(container, final.batch_id)
    raise typer.Exit(0 if final.status.value == "completed" else 1)


def follow_batch(container: Any, batch_id: str, timeout: float) -> Any:
    """The batch once it is completed or failed, its settled rows of all shown meanwhile: a progress bar on a
    terminal, a plain line on every change of status (and every few seconds of progress) otherwise. Exit 1
    after ``timeout`` seconds."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from sqlalchemy.exc import OperationalError

    from domain.batches import BatchStatus

    done = (BatchStatus.COMPLETED, BatchStatus.FAILED)
    deadline = time.monotonic() + timeout

    def read(last: Any) -> Any:
        try:
            with container.uow() as uow:
                return uow.batches.get(batch_id)
        except OperationalError:  # the database went away for a moment: the next poll tries again
            return last

    def said(b: Any) -> str:
        return f"batch {b.batch_id}: {b.status.value}, {b.settled} of {b.rows or '?'} rows settled"

    batch = read(None)
    try:
        if console.is_terminal:
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=console, transient=True) as progress:
                task = progress.add_task(f"batch {batch_id[:8]} {batch.status.value}", total=batch.rows or None)
                while batch.status not in done and time.monotonic() < deadline:
                    time.sleep(POLL_SECONDS)
                    batch = read(batch)
                    progress.update(task, completed=batch.settled, total=batch.rows or None,
                                    description=f"batch {batch_id[:8]} {batch.status.value}")
        else:  # piped: plain lines, so that a log reads what happened and nobody waits on silence
            print(said(batch), flush=True)
            shown, shown_at = batch, time.monotonic()
            while batch.status not in done and time.monotonic() < deadline:
                time.sleep(POLL_SECONDS)
                batch = read(batch)
                changed = (batch.status, batch.settled, batch.rows) != (shown.status, shown.settled, shown.rows)
                if batch.status != shown.status or (changed and time.monotonic() - shown_at >= PLAIN_EVERY_SECONDS):
                    print(said(batch), flush=True)
                    shown, shown_at = batch, time.monotonic()
    except KeyboardInterrupt:
        fail(f"stopped waiting; batch {batch_id} goes on (`dispersa batch status {batch_id}`)", 130)
    if batch.status not in done:
        fail(f"batch {batch_id} is still {batch.status.value} after {timeout:g} s ({batch.settled} of "
             f"{batch.rows or '?'} rows settled); `dispersa batch status {batch_id}` shows it later", 1)
    return batch


def summary_table(summary: dict[str, Any], tenant: str) -> Any:
    """A batch's summary as a table: the batch on its first row, then a row per sub-batch; under each count
    of rows, their amount (a row per currency under a part of several currencies)."""
    from rich.table import Table

    currency = summary["currency"]
    caption = (f"tenant {tenant}; request id {summary['request_id']}; {summary['filename'] or 'no filename'}; "
               f"{summary['rows']} rows, {summary['successPercentage']} % successful; under each count, its amount"
               + (f" in {currency}" if currency else ""))
    if summary["notes"]:
        caption += f"; {summary['notes']}"
    table = Table(title=f"batch {summary['batch_id']}: {summary['status']}", caption=caption)
    for column in ("", "mode", "status", "total", "successful", "failed", "ongoing"):
        table.add_column(column, justify="left" if column in ("", "mode", "status") else "right")

    def add(label: str, mode: str, status: str, part: dict[str, Any]) -> None:
        amounts = ("totalAmount", "successfulAmount", "failedAmount", "pendingAmount")
        table.add_row(label, mode, status, *(
            f"{part[count]}\n[dim]{part[amount] if part[amount] is not None else '-'}[/dim]"
            for count, amount in zip(("total", "successful", "failed", "ongoing"), amounts)))
        if part.get("currency") is None and len(part.get("amounts") or []) > 1:
            for each in part["amounts"]:
                add("", f"  in {each['currency']}", "", each)

    add("batch", summary["mode"] or "", summary["status"], summary)
    if summary["subBatches"]:
        table.add_section()
    for sub in summary["subBatches"]:
        add(f"sub-batch {sub['subBatchId']}", f"{sub['paymentMode']} → {sub['connector'] or 'none'}", sub["status"],
            sub)
    return table


def show_summary(container: Any, batch_id: str, as_json: bool = False) -> None:
    """Print the batch's summary (usecases.bulk_reading.summary), as a table or as JSON; exit 2 when there is
    no such batch."""
    from usecases import bulk_reading
    from usecases.errors import NotFound

    try:
        with container.uow() as uow:
            batch = bulk_reading.batch_of(uow, batch_id, None)
            summary = bulk_reading.summary(uow, batch)
            tenant = uow.tenants.of_id(batch.tenant_id).name
    except NotFound as e:
        fail(str(e))
    if as_json:
        import json

        print(json.dumps(summary, default=_json_value, ensure_ascii=False))
    else:
        console.print(summary_table(summary, tenant))


def _json_value(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return format(value, "f")  # as the API writes percentages: fixed point, exact
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


@batch_app.command("status")
def batch_status(batch_id: str = typer.Argument(..., help="the batch's id (a UUID, as `batch submit` prints it)"),
                 as_json: bool = typer.Option(False, "--json", help="the summary as the API's JSON")) -> None:
    """A batch's summary: its status, counts and amounts, and a row per sub-batch."""
    show_summary(container_for(database_url()), batch_id.strip(), as_json)


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
            scenario: str = typer.Option("happy", help="outcome scenario, e.g. happy, mixed, chaos"),
            seed: Optional[int] = typer.Option(None, help="random seed for repeatable runs")) -> None:
    """A faithful stand-in for STP on loopback (orders, queries, conciliation, callbacks)."""
    from sandbox.server import run_sandbox

    run_sandbox(port, public_key, empresa, webhook_url, webhook_secret, scenario, seed)


@app.command()
def demo(credits: int = typer.Option(200, help="credits to originate over the simulated week"),
         seed: int = typer.Option(7, help="random seed; the same seed plays the same week"),
         database: str = typer.Option("sqlite:///dispersa-demo.db", help="database URL (recreated for SQLite)")) -> None:
    """A simulated week on the embedded stack, paid out through the STP sandbox; ends with the ledger check."""
    from demo import HOURS, run_demo

    err.print(f"database: {shown_url(database)}", highlight=False, soft_wrap=True)
    if console.is_terminal:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("simulating a week", total=HOURS)
            result = run_demo(database, credits, seed, lambda hour, at: progress.update(task, completed=hour))
    else:  # piped: a line a simulated day, so that nobody waits on silence
        def each_day(hour: int, at: Any) -> None:
            if hour % 24 == 0:
                print(f"day {hour // 24} of {HOURS // 24} simulated ({at:%a %Y-%m-%d})", flush=True)

        result = run_demo(database, credits, seed, each_day)
    result.print(console)
    raise typer.Exit(0 if result.ok else 1)


def main() -> None:
    app(prog_name="dispersa")


if __name__ == "__main__":
    main()
