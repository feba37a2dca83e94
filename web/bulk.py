"""The bulk API: batches submitted (POST /batchtransactions), read (summary, detail, result file, list),
approved or rejected by treasury, payment routes, the template, and the connectors' callbacks."""
from __future__ import annotations

import hashlib
import hmac
import io
import json
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

import falcon

from adapters.csv_export import CsvExport
from adapters.db.uow import UnitOfWork
from adapters.storage import FileStorage
from domain import masking
from domain.batches import Batch, InstructionStatus
from domain.callbacks import CallbackAddresses
from domain.bulk_files import COLUMNS
from domain.connectors import Answer
from domain.tenants import Tenant
from usecases import bulk_plan, bulk_reading, bulk_routes, bulk_submission, connector_callbacks, tenants
from usecases.access import Principal
from usecases.errors import Conflict
from web import context as ctx
from usecases.bulk_files_io import as_csv
from web.bulk_upload import Integrity, Upload, bad_request, csv_upload, raw_upload
from web.schema import invalid
from web.routes import (
    BATCH_ID, BATCH_TYPE, BULK_PAGE, DATE_TYPE, BULK_SIZE, BULK_SORTED_BY, BULK_SORTED_ORDER, CALLBACK_URL, CONTENT_MD5,
    CONTENT_SHA256, CORRELATION_ID, FILENAME, PAGE_NO, PAGE_SIZE, PURPOSE, ROW_STATUS, SUB_BATCH, SUB_BATCH_ID,
    TEMPLATE_TYPES,
    TYPE_HEADER,
    UETR_PARAM,
)

UowFactory = Callable[[], UnitOfWork]
CallbackReader = Callable[[Mapping[str, Any]], Answer]
TENANT = "Platform-TenantId"
ROUTE_NAMES = frozenset({"notes", "name"})  # a SPEI part's notes (or their name) are its payee's name: audited masked


@dataclass(frozen=True)
class BulkLimits:
    """How large an upload may be (a CSV file; a raw JSON body), and how long a chunk of it may take."""

    max_bytes: int
    max_json_bytes: int
    read_seconds: float


def _tenant(uow: UnitOfWork, req: falcon.Request) -> Tenant:
    return tenants.for_caller(uow, ctx.principal(req), req.get_header(TENANT))


def _correlation_id(req: falcon.Request) -> str:
    given = req.get_header(CORRELATION_ID.name)
    if not given or not given.strip():
        raise bad_request("X-CorrelationID is required: your id of this batch (it becomes request_id)")
    return str(CORRELATION_ID.value(given.strip()))


def accepted(batch: Batch) -> dict[str, Any]:
    """The seed's answer to a submission, with where to poll and how soon."""
    return {"batch_id": batch.batch_id, "request_id": batch.request_id, "status": batch.status.value,
            "PollingPath": f"/api/v1/batchtransactions/{batch.batch_id}",
            "SuggestedCallbackSeconds": 5 + batch.size_bytes // 2_000_000}


class BatchSubmissionResource:
    """POST /batchtransactions: the upload is streamed to storage, then the batch is recorded and queued."""

    def __init__(self, uow: UowFactory, storage: FileStorage, limits: BulkLimits,
                 addresses: CallbackAddresses = CallbackAddresses()):
        self._uow, self._storage, self._limits, self._addresses = uow, storage, limits, addresses

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        with self._uow() as uow:
            tenant = _tenant(uow, req)
        request_id = _correlation_id(req)
        filename, purpose, callback = FILENAME.read(req), PURPOSE.read(req), CALLBACK_URL.read(req)
        refused = self._addresses.url_refusal(callback) if callback else None
        if refused is not None:  # a name is checked again at each call, on the addresses it resolves to
            raise falcon.HTTPUnprocessableEntity(title="Invalid request", description=(
                f"X-CallbackURL may not be called back: {refused}; give a public address"))
        kind = str(BATCH_TYPE.read(req) or TYPE_HEADER.read(req) or self._inferred(req)).lower()
        integrity = Integrity(CONTENT_SHA256.read(req), CONTENT_MD5.read(req))
        declared = DATE_TYPE.read(req)
        date_type = bulk_submission.date_type_of(tenant, declared)  # refused before anything is stored
        upload = self._upload(req, kind, tenant, integrity)
        if upload.filename:  # the multipart part's own name, held to the filename header's rules
            FILENAME.value(upload.filename)
        if declared is None and upload.form.get("date_type"):
            date_type = bulk_submission.date_type_of(tenant, upload.form["date_type"])
        submission = bulk_submission.Submission(
            request_id, upload.stored.key, upload.stored.size, upload.content_sha256, upload.source,
            filename or upload.filename, purpose or "", callback, date_type)
        with self._uow() as uow:
            batch, new = bulk_submission.submit(uow, tenant, submission, ctx.principal(req).key_id)
            if new:
                ctx.record(uow, req, "batch", batch.batch_id, {"tenant": tenant.name, "request_id": request_id,
                                                               "sha256": upload.content_sha256,
                                                               "bytes": upload.stored.size})
            uow.commit()
        resp.status = falcon.HTTP_202 if new else falcon.HTTP_200
        resp.media = accepted(batch)

    @staticmethod
    def _inferred(req: falcon.Request) -> str:
        media = (req.content_type or "").split(";", 1)[0].strip().lower()
        return "raw" if media == "application/json" else "csv"

    def _upload(self, req: falcon.Request, kind: str, tenant: Tenant, integrity: Integrity) -> Upload:
        limits = self._limits
        if kind == "raw":
            media = (req.content_type or "").split(";", 1)[0].strip().lower()
            if media and media != "application/json" and (req.content_length or 0) > 0:
                raise falcon.HTTPUnsupportedMediaType(title="Unsupported media type",
                                                      description="type=raw is a JSON array: application/json")
            return raw_upload(req, self._storage, limits.max_json_bytes, tenant.name, integrity, limits.read_seconds)
        return csv_upload(req, self._storage, limits.max_bytes, tenant.name, integrity, limits.read_seconds,
                          tenant.bulk.dates_enable)


class BatchResource:
    """GET a batch's summary, detail and result; POST treasury's approval or rejection."""

    def __init__(self, uow: UowFactory):
        self._uow = uow

    def _batch(self, uow: UnitOfWork, req: falcon.Request, batch_id: str) -> Batch:
        return bulk_reading.batch_of(uow, BATCH_ID.value(batch_id), _tenant(uow, req).id)

    def on_get(self, req: falcon.Request, resp: falcon.Response, batch_id: str) -> None:
        with self._uow() as uow:
            resp.media = bulk_reading.summary(uow, self._batch(uow, req, batch_id))

    def on_get_detail(self, req: falcon.Request, resp: falcon.Response, batch_id: str) -> None:
        status = ROW_STATUS.read(req)
        with self._uow() as uow:
            batch = self._batch(uow, req, batch_id)
            resp.media = bulk_reading.detail(uow, batch, PAGE_NO.read(req), PAGE_SIZE.read(req),
                                             InstructionStatus[status] if status else None)

    def on_get_result(self, req: falcon.Request, resp: falcon.Response, batch_id: str) -> None:
        sub_batch, by_summary_name = SUB_BATCH.read(req), SUB_BATCH_ID.read(req)
        if None not in (sub_batch, by_summary_name) and sub_batch != by_summary_name:
            raise invalid(f"subBatch {sub_batch} and subBatchId {by_summary_name} name two sub-batches: give one")
        sub_batch = by_summary_name if sub_batch is None else sub_batch
        with self._uow() as uow:
            batch = self._batch(uow, req, batch_id)
        resp.content_type = "text/csv; charset=utf-8"
        resp.downloadable_as = f"{batch.batch_id}_result.csv"
        resp.stream = _chunks(bulk_reading.iter_result(self._uow, batch, sub_batch), bulk_reading.result_header(batch))

    def on_post_approval(self, req: falcon.Request, resp: falcon.Response, batch_id: str) -> None:
        with self._uow() as uow:
            batch = self._batch(uow, req, batch_id)
            batch = bulk_plan.approve(uow, batch.batch_id, ctx.principal(req))
            ctx.record(uow, req, "batch", batch.batch_id, {"status": {"old": "awaiting_approval",
                                                                      "new": batch.status.value}})
            uow.commit()
            resp.media = bulk_reading.summary(uow, batch)

    def on_post_rejection(self, req: falcon.Request, resp: falcon.Response, batch_id: str) -> None:
        fields = ctx.body(req)
        with self._uow() as uow:
            batch = self._batch(uow, req, batch_id)
            batch = bulk_plan.reject(uow, batch.batch_id, ctx.principal(req), fields["reason"])
            ctx.record(uow, req, "batch", batch.batch_id, {"status": {"old": "awaiting_approval",
                                                                      "new": batch.status.value},
                                                           "reason": fields["reason"]})
            uow.commit()
            resp.media = bulk_reading.summary(uow, batch)

    def on_post_confirmation(self, req: falcon.Request, resp: falcon.Response, batch_id: str) -> None:
        self._client_decides(req, resp, batch_id, bulk_plan.confirm)

    def on_post_cancellation(self, req: falcon.Request, resp: falcon.Response, batch_id: str) -> None:
        self._client_decides(req, resp, batch_id, bulk_plan.cancel)

    def _client_decides(self, req: falcon.Request, resp: falcon.Response, batch_id: str,
                        decision: Callable[[UnitOfWork, str, Principal], Batch]) -> None:
        with self._uow() as uow:
            _tenant(uow, req)
            batch = decision(uow, str(BATCH_ID.value(batch_id)), ctx.principal(req))
            ctx.record(uow, req, "batch", batch.batch_id, {"status": {"old": "awaiting_confirmation",
                                                                      "new": batch.status.value}})
            uow.commit()
            resp.media = bulk_reading.summary(uow, batch)


def _chunks(rows: Iterator[list[str]], header: list[str], size: int = 64 * 1024) -> Iterator[bytes]:
    out = CsvExport()  # RFC 4180 line ends: a cell's own carriage return is quoted
    out.row(header)
    for row in rows:
        out.row(row)
        if out.size() >= size:
            yield out.take().encode("utf-8")
    yield out.take().encode("utf-8")


class BatchListResource:
    """GET /api/v1/batches: the tenant's batches in the seed's page shape."""

    def __init__(self, uow: UowFactory):
        self._uow = uow

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        with self._uow() as uow:
            tenant = _tenant(uow, req)
            resp.media = bulk_reading.page_of_batches(uow, tenant.id, BULK_PAGE.read(req), BULK_SIZE.read(req),
                                                      BULK_SORTED_BY.read(req), BULK_SORTED_ORDER.read(req))


class TemplateResource:
    """GET /template: the header line of a batch file (the same columns for every payment type)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        TEMPLATE_TYPES.read(req)  # checked (an empty value is a 422), though every type has the same columns
        resp.content_type = "text/csv; charset=utf-8"
        resp.text = ",".join(COLUMNS) + "\n"


class PaymentRouteResource:
    """POST /api/v1/routes: an amount split among payees, as a one-off batch."""

    def __init__(self, uow: UowFactory, storage: FileStorage):
        self._uow, self._storage = uow, storage

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        fields = ctx.body(req, hand_written=True)  # the seed's example as written: numbers, a trailing comma
        with self._uow() as uow:
            tenant = _tenant(uow, req)
        request_id = _correlation_id(req)
        try:
            items = bulk_routes.items(tenant.bulk, fields)
        except bulk_routes.AmountBeyondBound as e:
            raise invalid(str(e)) from None
        except bulk_routes.RouteError as e:
            raise bad_request(str(e)) from None
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
        stored = self._storage.save(io.BytesIO(as_csv(items)).read, 64 * 1024 * 1024, tenant.name, ".csv")
        submission = bulk_submission.Submission(request_id, stored.key, stored.size,
                                                hashlib.sha256(canonical).hexdigest(), "route",
                                                purpose="payment route",
                                                date_type=bulk_submission.date_type_of(tenant, None))
        with self._uow() as uow:
            batch, new = bulk_submission.submit(uow, tenant, submission, ctx.principal(req).key_id)
            if new:
                ctx.record(uow, req, "batch", batch.batch_id, {"tenant": tenant.name,
                                                                  "route": masking.deep(fields, ROUTE_NAMES)})
            uow.commit()
        resp.status = falcon.HTTP_202 if new else falcon.HTTP_200
        resp.media = accepted(batch)


class ConnectorCallbackResource:
    """PUT /callbacks/{connector}/{uetr}: a connector's final word, checked, stored in the outbox, applied
    by the bulk workers."""

    def __init__(self, uow: UowFactory, secrets: Mapping[str, str], readers: Mapping[str, CallbackReader]):
        self._uow, self._secrets, self._readers = uow, secrets, readers

    def on_put(self, req: falcon.Request, resp: falcon.Response, connector: str, uetr: str) -> None:
        uetr = str(UETR_PARAM.value(uetr))
        raw: bytes = req.context.raw_body  # read within its size and time limits (RequestLimits)
        signature = req.get_header("X-Callback-Signature") or ""
        secret = self._secrets.get(connector, "")  # each rail its own key: one rail cannot speak for another
        expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest() if secret else None
        if expected is None or not hmac.compare_digest(signature.strip().lower(), expected):
            raise falcon.HTTPUnauthorized(title="Unauthorized", challenges=["HMAC-SHA256"],
                                          description="X-Callback-Signature is missing or wrong")
        try:
            body = ctx.parse_json(raw)
        except ValueError as e:
            raise bad_request(f"the body is not valid JSON: {e}") from None
        reader = self._readers.get(connector)
        if not isinstance(body, dict) or reader is None:
            raise bad_request(f"the body is not a {connector} callback object")
        try:
            answer = reader(body)
        except ValueError as e:
            raise bad_request(f"the body is not a {connector} callback: {e}") from None
        digest = hashlib.sha256(raw).hexdigest()
        with self._uow() as uow:
            refused = connector_callbacks.receive(uow, connector, uetr, digest, answer)
            uow.commit()
        if refused is not None:
            # the reason is in the ALERT, not told to the caller: the row may be another tenant's
            raise Conflict(f"this row does not wait for a {connector} callback; nothing applied")
        resp.media = {"status": "received"}
