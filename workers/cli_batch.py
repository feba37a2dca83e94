"""``dispersa batch submit|status``: a tenant's file of payments submitted straight to the database (as the
API would take it), followed until it completes, and its summary shown."""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import typer
from rich.progress import Progress

from adapters.settings import Settings
from workers.cli_support import console, container_for, database_url, err, fail, operator_name, json_text, shown

batch_app = typer.Typer(help="Bulk batches: files of payments submitted for a tenant, and how they stand.",
                        no_args_is_help=True)


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
            check_header(io.BytesIO(text), dated=False, items=True)
            return BatchFile(path, "raw", sha, hashlib.sha256(text).hexdigest(), limit * 4, text)
        digest = hashlib.sha256()
        with path.open("rb") as f:
            check_header(f, dated=True)  # the tenant's dates trial is checked as the file is stored
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


def store_batch_file(container: Any, tenant_name: str, batch_file: BatchFile, dated: bool) -> Any:
    """The file kept under the container's storage, checked again as it is written (the same bytes as were
    read, the header row: a date column only when ``dated``); nothing is kept on anything wrong."""
    from adapters.storage import Stored, TooLarge
    from domain.bulk_files import FileError
    from usecases.bulk_files_io import check_header

    def check(stored: Stored, written: Any) -> None:
        if stored.sha256 != batch_file.stored_sha256:
            raise FileError("the file changed while it was read: run the command again")
        check_header(written, dated, items=batch_file.csv is not None)  # a JSON file's items as CSV

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
    from usecases.bulk_files_io import request_id_of
    from usecases.errors import NotFound, UseCaseError

    if request_id is not None and not 0 < len(request_id.strip()) <= bulk_submission.REQUEST_ID_LENGTH:
        fail(f"--request-id is 1 to {bulk_submission.REQUEST_ID_LENGTH} characters")
    if len(purpose) > 64:
        fail("--purpose is at most 64 characters")
    if callback_url is not None and (not callback_url.startswith(("http://", "https://")) or len(callback_url) > 1024):
        fail("--callback-url is an http(s) URL of at most 1024 characters")
    if callback_url is not None:
        from domain.callbacks import CallbackAddresses

        refused = CallbackAddresses.allowing(Settings().callback_allow).url_refusal(callback_url)
        if refused is not None:
            fail(f"--callback-url may not be called back: {refused}; give a public address")
    if timeout <= 0:
        fail("--timeout is a number of seconds above 0")
    batch_file = read_batch_file(file)
    rid = request_id.strip() if request_id is not None else request_id_of(batch_file.content_sha256)
    container = container_for(database_url())
    try:
        with container.uow() as uow:
            owner = uow.tenants.get(tenant)
            earlier = uow.batches.of_request(owner.id or 0, rid)
    except NotFound as e:
        fail(str(e))
    if earlier is not None and earlier.content_sha256 != batch_file.content_sha256:
        fail(f"the request id (X-CorrelationID) {rid!r} was used for batch {earlier.batch_id} with other content; "
             "give new content a new --request-id (nothing was stored)")
    if earlier is not None:
        batch_id, new = earlier.batch_id, False
    else:
        stored = store_batch_file(container, owner.name, batch_file, owner.bulk.dates_enable)
        submission = bulk_submission.Submission(rid, stored.key, stored.size, batch_file.content_sha256,
                                                batch_file.source, batch_file.path.name, purpose, callback_url,
                                                bulk_submission.date_type_of(owner, None))
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
    err.print(f"batch {batch_id} of tenant {shown(owner.name)} " + (
        f"received (request id {shown(rid)})" if new else f"was received before under request id {shown(rid)} with "
                                                          "the same content: nothing new"), highlight=False,
              soft_wrap=True)
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
    caption = (f"tenant {shown(tenant)}; request id {shown(summary['request_id'])}; "
               f"{shown(summary['filename'] or 'no filename')}; "
               f"{summary['rows']} rows, {summary['successPercentage']} % successful; under each count, its amount"
               + (f" in {currency}" if currency else ""))
    if summary["notes"]:
        caption += f"; {shown(summary['notes'])}"
    table = Table(title=f"batch {shown(summary['batch_id'])}: {summary['status']}", caption=caption)
    for column in ("", "mode", "status", "total", "successful", "failed", "ongoing"):
        table.add_column(column, justify="left" if column in ("", "mode", "status") else "right")

    def add(label: str, mode: str, status: str, part: dict[str, Any]) -> None:
        amounts = ("totalAmount", "successfulAmount", "failedAmount", "pendingAmount")
        table.add_row(shown(label), shown(mode), shown(status), *(
            f"{part[count]}\n[dim]{shown(part[amount]) if part[amount] is not None else '-'}[/dim]"
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
        print(json_text(summary, _json_value))
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
