"""What a tenant reads of its batches: the summary (the seed's fields, each sub-batch's counts too), the
rows' detail a page at a time, the list of batches in the seed's page shape, and the result file's rows."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any, Iterator

from usecases.ports import UnitOfWork
from domain import masking
from domain.batches import Batch, InstructionStatus, Tally, tally_of
from domain.bulk_files import RESULT_COLUMNS, result_row
from domain.errors import NotFound
from domain.identity import id_of
from domain.instructions import Instruction
from domain.money import Money, MoneyError

RESULT_PAGE = 5000


def batch_of(uow: UnitOfWork, batch_id: str, tenant_id: int | None) -> Batch:
    """The batch, when the caller may see it (``tenant_id`` None: any tenant's). NotFound otherwise, in the
    same words as for a batch that does not exist: whether another tenant's batch exists is not told."""
    batch = uow.batches.get(batch_id)
    if tenant_id is not None and batch.tenant_id != tenant_id:
        raise NotFound(f"batch {batch_id} does not exist")
    return batch


def _day(day: date | None) -> str | None:
    return day.isoformat() if day else None


def epoch_ms(at: datetime | None) -> int | None:
    """A time as the seed writes it: milliseconds since the epoch (None stays None)."""
    return int(at.timestamp() * 1000) if at else None


def _amount(minor: int, currency: str | None) -> str | None:
    if currency is None:
        return None
    try:
        return Money(minor, currency).to_decimal_string()
    except MoneyError:
        return str(minor)


def _counts(t: Tally, currency: str | None) -> dict[str, Any]:
    return {"total": t.total, "successful": t.successful, "failed": t.failed, "ongoing": t.ongoing,
            "totalAmount": _amount(t.total_amount, currency), "successfulAmount": _amount(t.successful_amount, currency),
            "failedAmount": _amount(t.failed_amount, currency), "pendingAmount": _amount(t.pending_amount, currency),
            "successPercentage": t.success_percentage, "failPercentage": t.fail_percentage}


def result_path(batch: Batch, sub_batch: int | None = None) -> str:
    """Where the batch's result file is served (one sub-batch's, when mergeback is off)."""
    path = f"/api/v1/batchtransactions/{batch.batch_id}/result"
    return path if sub_batch is None else f"{path}?subBatch={sub_batch}"


def _by_currency(groups: list[tuple[InstructionStatus, str, int, int]]) -> list[dict[str, Any]]:
    currencies = sorted({c for _, c, _, _ in groups if c})
    return [{"currency": c, **_counts(tally_of((s, n, a) for s, cur, n, a in groups if cur == c), c)}
            for c in currencies]


def _counted(groups: list[tuple[InstructionStatus, str, int, int]]) -> dict[str, Any]:
    """Counts of rows whatever their currency; amounts when they share one (else per currency only)."""
    amounts = _by_currency(groups)
    currency = amounts[0]["currency"] if len(amounts) == 1 else None
    return {**_counts(tally_of((s, n, a if currency else 0) for s, _, n, a in groups), currency),
            "currency": currency, "amounts": amounts}


def summary(uow: UnitOfWork, batch: Batch) -> dict[str, Any]:
    """The batch as the seed's status call shows it, with percentages and its sub-batches' counts. Amounts
    are decimal strings in the batch's currency; a batch of several currencies has them per currency
    (``amounts``) and null at the top."""
    by_sub: dict[int | None, list[tuple[InstructionStatus, str, int, int]]] = defaultdict(list)
    for number, status, currency, count, amount in uow.instructions.tally(id_of(batch)):
        by_sub[number].append((status, currency, count, amount))
    whole = [group for groups in by_sub.values() for group in groups]
    mergeback = uow.tenants.of_id(batch.tenant_id).bulk.mergeback_enable
    subs = []
    for sub in uow.sub_batches.of_batch(id_of(batch)):
        subs.append({"subBatchId": sub.number, "paymentMode": sub.payment_mode, "connector": sub.connector,
                     "status": sub.status, **_counted(by_sub.get(sub.number, [])),
                     "startedAt": epoch_ms(sub.started_at), "completedAt": epoch_ms(sub.completed_at),
                     "file": None if mergeback else result_path(batch, sub.number)})
    modes = sorted({s["paymentMode"] for s in subs})
    counted = _counted(whole)
    return {"batch_id": batch.batch_id, "request_id": batch.request_id, "notes": batch.reason,
            "status": batch.status.value, "mode": ",".join(modes) or None, "purpose": batch.purpose or None,
            **counted, "file": result_path(batch) if mergeback else None,
            "unsplitFile": None if mergeback else result_path(batch, -1),
            "created_at": epoch_ms(batch.created_at), "completed_at": epoch_ms(batch.completed_at),
            "currencies": [a["currency"] for a in counted["amounts"]], "filename": batch.filename,
            "rows": batch.rows, "content_sha256": batch.content_sha256, "approval": _approval(batch),
            "date_type": batch.date_type,
            "subBatches": subs}


def _approval(batch: Batch) -> dict[str, Any] | None:
    if batch.approved_by_key_id is None:
        return None
    return {"key_id": batch.approved_by_key_id}


def _detail(batch: Batch, row: Instruction) -> dict[str, Any]:
    f = row.fields
    return {"id": row.id, "workflowInstanceKey": None, "transactionId": row.uetr, "instructionId": row.instruction_id,
            "row": row.row, "subBatchId": row.sub_batch, "startedAt": epoch_ms(row.started_at),
            "completedAt": epoch_ms(row.completed_at), "status": row.status.name,
            "statusDetail": row.error_description, "errorCode": row.error_code,
            "payeeDfspId": row.connector, "payeePartyId": masking.account(row.payee_identifier),
            "payeePartyIdType": f.get("payee_identifier_type") or None, "payeeFee": None, "payeeFeeCurrency": None,
            "payeeQuoteCode": None, "payerDfspId": None, "payerPartyId": masking.account(f.get("payer_identifier")) or None,
            "payerPartyIdType": f.get("payer_identifier_type") or None, "payerFee": None, "payerFeeCurrency": None,
            "payerQuoteCode": None, "amount": _amount(row.amount or 0, row.currency) if row.amount is not None
            else f.get("amount"), "currency": row.currency, "direction": "OUTGOING", "paymentMode": row.payment_mode,
            "connectorReference": row.connector_reference, "rail": row.rail,
            "requestedDate": _day(row.requested_date), "executionDate": _day(row.execution_date),
            "deliveryDate": _day(row.delivery_date),
            "errorInformation": ({"errorCode": row.error_code, "errorDescription": row.error_description}
                                 if row.error_code else None), "batchId": batch.batch_id}


def detail(uow: UnitOfWork, batch: Batch, page_no: int, page_size: int,
           status: InstructionStatus | None) -> list[dict[str, Any]]:
    """One page (1-based) of the batch's rows in the file's order, optionally of one status."""
    rows = uow.instructions.page(id_of(batch), -1, page_size, (status,) if status else (),
                                 offset=(page_no - 1) * page_size)
    return [_detail(batch, r) for r in rows]


def _listed(batch: Batch, counts: dict[str, Any], tenant: str) -> dict[str, Any]:
    return {"id": batch.id, "batchId": batch.batch_id, "subBatchId": None, "requestId": batch.request_id,
            "requestFile": batch.filename, "tenant": tenant, "status": batch.status.value,
            "totalTransactions": counts["total"], **counts, "result_file": result_path(batch),
            "resultGeneratedAt": None, "note": batch.reason, "workflowKey": None, "workflowInstanceKey": None,
            "startedAt": epoch_ms(batch.created_at), "completedAt": epoch_ms(batch.completed_at)}


def page_of_batches(uow: UnitOfWork, tenant_id: int | None, page: int, size: int, sorted_by: str,
                    sorted_order: str) -> dict[str, Any]:
    """Batches in the seed's page shape (``page`` is 0-based, as Spring's pages are)."""
    descending = sorted_order.lower() == "desc"
    batches, total = uow.batches.page(tenant_id, page * size, size, sorted_by, descending)
    names = uow.batches.tenant_names(b.tenant_id for b in batches)
    content = []
    for batch in batches:  # one tally a batch: its counts, not its sub-batches
        whole = [(status, currency, count, amount)
                 for _, status, currency, count, amount in uow.instructions.tally(id_of(batch))]
        c = _counted(whole)
        counts = {k: c[k] for k in ("total", "ongoing", "failed", "successful", "totalAmount", "successfulAmount",
                                    "pendingAmount", "failedAmount")}
        content.append(_listed(batch, counts, names.get(batch.tenant_id, "")))
    pages = -(-total // size) if total else 0
    direction = "DESC" if descending else "ASC"
    return {"content": content, "totalElements": total, "totalPages": pages, "number": page, "size": size,
            "first": page == 0, "last": page >= pages - 1, "numberOfElements": len(content),
            "sort": [{"direction": direction, "property": sorted_by, "ignoreCase": False, "nullHandling": "NATIVE",
                      "descending": descending, "ascending": not descending}]}


DATE_COLUMNS = ("date", "execution_date", "delivery_date")


def result_header(batch: Batch | None = None) -> list[str]:
    """The result file's header: the input columns, then status, error_code and error_description; a dated
    batch's also its date as written and each row's execution and delivery dates."""
    return list(RESULT_COLUMNS) + (list(DATE_COLUMNS) if batch is not None and batch.date_type else [])


def _shown(row: Instruction) -> dict[str, Any]:
    shown = masking.fields(row.fields)
    if row.connector == "spei":  # the note is the name the order carries
        shown["note"] = masking.name(shown.get("note")) or ""
    return shown


def result_rows(uow: UnitOfWork, batch: Batch, after_row: int, sub_batch: int | None = None,
                limit: int = RESULT_PAGE) -> list[tuple[int, list[str]]]:
    """A page of the result file after ``after_row``: (row, its input columns as written (the parties'
    identifiers masked, and a SPEI row's note, its payee's name), then its status (SUCCESS, FAILURE or
    PENDING), error code and description)."""
    dated = batch.date_type is not None
    return [(r.row, result_row(_shown(r), r.status.result, r.error_code or "", r.error_description or "") +
             ([r.fields.get("date", ""), _day(r.execution_date) or "", _day(r.delivery_date) or ""] if dated else []))
            for r in uow.instructions.page(id_of(batch), after_row, limit, sub_batch=sub_batch)]


def iter_result(new_uow: Any, batch: Batch, sub_batch: int | None = None) -> Iterator[list[str]]:
    """Every row of the result file, a page per unit of work, so that memory stays flat."""
    after = -1
    while True:
        with new_uow() as uow:
            rows = result_rows(uow, batch, after, sub_batch)
        for _, values in rows:
            yield values
        if len(rows) < RESULT_PAGE:
            return
        after = rows[-1][0]
