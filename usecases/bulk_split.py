"""Splitting a batch's file into instructions, a page of rows per transaction, so that a file of a million
rows is never in memory and a crash loses at most the page in flight (which is split again: rows are
unique per batch and row). Each page validates its rows: amounts, the payment mode's connector, the
party lookup, duplicates. The last page queues the plan."""
from __future__ import annotations

from datetime import date
from typing import BinaryIO, Callable

from adapters import bulk_csv
from usecases.ports import UnitOfWork
from domain import bulk_formatting, masking, party_lookup
from domain.batches import (
    DUPLICATE, NOT_CONFIGURED, Batch, BatchStatus, InstructionStatus, duplicate_digest, first_payments, instruction_id,
)
from domain.bulk_config import BulkConfig
from domain.calendars import rail_of_currency
from domain.bulk_files import FileError, Header, InstructionDraft, read_header, read_row
from domain.identity import id_of
from domain.instructions import Instruction
from domain.tracking import PaymentEvent, PaymentEventKind
from usecases import steps, tracking

PAGE_ROWS = 1000
OpenFile = Callable[[str], BinaryIO]
LOOKUPS = {"spei": party_lookup.spei, "gsma": party_lookup.gsma, "mojaloop": party_lookup.mojaloop}


def split_page(uow: UnitOfWork, open_file: OpenFile, batch_id: str, page: int, page_rows: int = PAGE_ROWS) -> int:
    """Split page ``page`` of the batch's file into instructions; returns how many rows it wrote. A page
    split already (a redelivery) or a batch that has moved on writes nothing."""
    batch = uow.batches.get(batch_id, lock=True)
    if batch.status != BatchStatus.QUEUED or batch.split_page != page:
        return 0
    tenant = uow.tenants.of_id(batch.tenant_id)
    with open_file(batch.stored_at) as stream:
        try:
            names, header_end = bulk_csv.header(stream)
            header = read_header(names, dated=batch.date_type is not None, items=True)  # checked as it came
            chunk = bulk_csv.page(stream, batch.split_offset or header_end, page_rows)
        except (FileError, bulk_csv.Unreadable) as e:
            batch.move_to(BatchStatus.FAILED, uow.clock(), f"the file cannot be read: {e}")
            uow.batches.save(batch)
            uow.alert("batch_unreadable", f"batch {batch_id}: {e}", reference=batch_id)
            return 0
    rows = _instructions(uow, batch, tenant.bulk, header, chunk.records)
    written = uow.instructions.add_many([i for i, _ in rows], [k for _, k in rows], uow.clock())
    tracking.record(uow, [e for i, _ in rows for e in _initiated(uow, batch, i)])
    batch.rows += len(rows)
    batch.split_page, batch.split_offset, batch.updated_at = page + 1, chunk.next_offset, uow.clock()
    uow.batches.save(batch)
    uow.batches.count_settled(batch, sum(1 for i, _ in rows if i.status.is_final))
    if chunk.at_end:
        batch.split_offset = batch.size_bytes  # the plan checks that the split reached the end
        uow.batches.save(batch)
        if batch.date_type is not None:  # the tenant's dates trial as it was when the file came
            uow.outbox.send(steps.LOOKUP_DATES, batch_id, -1)
        else:
            uow.outbox.send(steps.PLAN_BATCH, batch_id)
    else:
        uow.outbox.send(steps.SPLIT_BATCH, batch_id, page + 1)
    return written


def _initiated(uow: UnitOfWork, batch: Batch, row: Instruction) -> list[PaymentEvent]:
    """A row's first events: initiated, and failed when it cannot be paid."""
    events = [tracking.event(uow, row.uetr, PaymentEventKind.INITIATED, source="bulk_row", amount=row.amount,
                             currency=row.currency or None, payee_account=masking.account(row.payee_identifier),
                             rail=row.rail or ("SPEI" if row.connector == "spei" else row.connector),
                             tenant_id=batch.tenant_id, batch_id=batch.batch_id)]
    if row.status.is_final:
        events.append(tracking.event(uow, row.uetr, PaymentEventKind.FAILED, reason=row.error_description))
    return events


def _instructions(uow: UnitOfWork, batch: Batch, config: BulkConfig, header: Header,
                  records: list[list[str]]) -> list[tuple[Instruction, str | None]]:
    drafts = [read_row(header, values, batch.rows + i) for i, values in enumerate(records)]
    failures: dict[int, tuple[str, str]] = {
        d.row: (d.failure.code.value, d.failure.description) for d in drafts if d.failure is not None}
    for d in drafts:
        if d.row not in failures and config.connector_of(d.payment_mode) is None:
            failures[d.row] = ("MODE_NOT_CONFIGURED", f"{NOT_CONFIGURED}: {d.payment_mode!r}")
    if config.partylookup_enable:
        failures.update(_lookup_failures(uow, batch, config, [d for d in drafts if d.row not in failures]))
    keys = _duplicate_keys(uow, batch, [d for d in drafts if d.row not in failures]) if config.deduplication_enable \
        else {}
    for row, key in keys.items():
        if key is None:
            failures[row] = ("DUPLICATE", DUPLICATE)
    return [(_instruction(uow, batch, config, d, failures.get(d.row)), keys.get(d.row)) for d in drafts]


def _payee(config: BulkConfig, draft: InstructionDraft) -> str:
    standard = config.formatting_standard if config.formatting_enable else "DEFAULT"
    return bulk_formatting.payee(draft.fields.get("payee_identifier", ""),
                                 draft.fields.get("payee_identifier_type", ""), standard)


def _lookup_failures(uow: UnitOfWork, batch: Batch, config: BulkConfig,
                     drafts: list[InstructionDraft]) -> dict[int, tuple[str, str]]:
    wallets = uow.wallets.existing(batch.tenant_id, [_payee(config, d) for d in drafts
                                                     if config.connector_of(d.payment_mode) == "closedloop"])
    check = dict(LOOKUPS, closedloop=party_lookup.closedloop(wallets.__contains__))
    failures = {}
    for d in drafts:
        why = check[config.connector_of(d.payment_mode) or ""](d.fields.get("payee_identifier_type", ""),
                                                               _payee(config, d))
        if why is not None:
            failures[d.row] = ("PARTY_LOOKUP_FAILED", why)
    return failures


def _duplicate_keys(uow: UnitOfWork, batch: Batch, drafts: list[InstructionDraft]) -> dict[int, str | None]:
    """Each payable row's duplicate key, or None when an earlier row (this page or an earlier one) has it."""
    seen = uow.instructions.known_duplicates(id_of(batch), (duplicate_digest(d) for d in drafts))
    return first_payments(drafts, seen)


def _instruction(uow: UnitOfWork, batch: Batch, config: BulkConfig, draft: InstructionDraft,
                 failure: tuple[str, str] | None) -> Instruction:
    at = uow.clock()
    instruction = Instruction(
        id_of(batch), draft.row, instruction_id(batch.batch_id, draft.row), uow.new_id(), draft.payment_mode[:32],
        config.connector_of(draft.payment_mode), _payee(config, draft)[:64],
        draft.amount.minor if draft.amount is not None else None,
        (draft.amount.currency if draft.amount else draft.fields.get("currency", "").strip().upper())[:3],
        InstructionStatus.PENDING, draft.fields)
    if batch.date_type is not None:
        instruction.rail = rail_of_currency(instruction.currency)
        written = draft.fields.get("date", "").strip()
        if written and failure is None:
            try:
                instruction.requested_date = date.fromisoformat(written)
            except ValueError:
                failure = ("INVALID_DATE", f"date {written!r} is not a day written YYYY-MM-DD")
    if failure is not None:
        instruction.settle(False, at, *failure)
    return instruction
