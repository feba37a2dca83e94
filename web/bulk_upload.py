"""Reading a batch upload from the request without holding it in memory: the multipart part ``data``, a
text/csv body, or a JSON array (``type=raw``, rewritten as the CSV the bulk workers read). The file is
streamed to storage, each chunk within the read deadline; before it is kept, its digests are checked
against X-Content-SHA256 and Content-MD5 and its header row against the columns."""
from __future__ import annotations

import hashlib
import base64
import io
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable

import falcon

from adapters.storage import FileStorage, Stored, TooLarge
from domain.bulk_files import FileError
from usecases import bulk_files_io
from usecases.bulk_files_io import as_csv
from web.context import parse_json
from web.limits import SlowBody, deadline

NOT_UPLOADED = "File not uploaded"


def bad_request(description: str) -> falcon.HTTPBadRequest:
    """A 400 in the seed's shape too: ``errorInformation`` says what is wrong."""
    error = falcon.HTTPBadRequest(title="Bad request", description=description)
    error.errorInformation = description  # type: ignore[attr-defined]
    return error


@dataclass(frozen=True)
class Upload:
    """A kept upload: where it is, its size, the SHA-256 of the bytes the client sent, and its type."""

    stored: Stored
    content_sha256: str
    source: str  # csv or raw
    filename: str = ""  # the multipart part's own file name, when it has one
    form: dict[str, str] = field(default_factory=dict)  # the multipart body's other (small) fields


@dataclass(frozen=True)
class Integrity:
    """The digests the client declared (either may be absent)."""

    sha256_hex: str | None
    md5_base64: str | None

    def check(self, sha256_hex: str, md5_base64: str) -> None:
        """400 when a declared digest is not the received bytes'."""
        if self.sha256_hex and self.sha256_hex.lower() != sha256_hex:
            raise bad_request(f"X-Content-SHA256 {self.sha256_hex} does not match the bytes received ({sha256_hex}); "
                              "nothing was stored")
        if self.md5_base64 and self.md5_base64 != md5_base64:
            raise bad_request(f"Content-MD5 {self.md5_base64} does not match the bytes received ({md5_base64}); "
                              "nothing was stored")


def _timed(read: Callable[[int], bytes], seconds: float) -> Callable[[int], bytes]:
    def timed(size: int) -> bytes:
        try:
            with deadline(seconds):
                return read(size)
        except SlowBody:
            raise falcon.HTTPError(falcon.HTTP_408, title="Request timeout",
                                   description=f"the upload stalled for more than {seconds:g} s") from None
    return timed


def check_header(written: BinaryIO, dated: bool, items: bool = False) -> None:
    """400 unless the file's first row names known columns, the required ones among them (a date column
    only for a tenant in the dates trial), and a row follows; ``items``: the CSV of a raw batch's items."""
    try:
        bulk_files_io.check_header(written, dated, items)
    except FileError as e:
        raise bad_request(str(e)) from None


def _keep(storage: FileStorage, read: Callable[[int], bytes], limit: int, prefix: str, integrity: Integrity,
          dated: bool, received: Callable[[Stored], tuple[str, str]] | None = None, items: bool = False) -> Stored:
    def check(stored: Stored, written: BinaryIO) -> None:
        sha, md5 = received(stored) if received else (stored.sha256, stored.md5_base64)
        integrity.check(sha, md5)
        check_header(written, dated, items)
    try:
        return storage.save(read, limit, prefix, ".csv", check)
    except TooLarge:
        raise falcon.HTTPContentTooLarge(title="Body too large",
                                         description=f"the file is larger than {limit} bytes") from None


FORM_FIELDS = {"date_type": 16}  # the small fields a multipart upload may carry beside data, and their lengths


def _form_part(part: Any, form: dict[str, str]) -> None:
    limit = FORM_FIELDS.get(part.name)
    if limit is not None:
        form[part.name] = part.stream.read(limit + 1).decode("utf-8", "replace")[:limit]


def _multipart_file(req: falcon.Request, form: dict[str, str]) -> tuple[Any, Any]:
    """The part ``data`` (the fields before it read into ``form``) and the form's iterator, for those after."""
    parts = iter(req.get_media())
    try:
        for part in parts:
            if part.name == "data":
                return part, parts
            _form_part(part, form)
    except falcon.MediaMalformedError as e:
        raise bad_request(f"the multipart body cannot be read: {e.description}") from None
    return None, parts


def _rest_of_form(parts: Any, form: dict[str, str]) -> None:
    try:
        for part in parts:
            _form_part(part, form)
    except falcon.MediaMalformedError as e:
        raise bad_request(f"the multipart body cannot be read: {e.description}") from None


def csv_upload(req: falcon.Request, storage: FileStorage, limit: int, prefix: str, integrity: Integrity,
               read_seconds: float, dated: bool) -> Upload:
    """The CSV file, from the multipart part ``data`` or a text/csv body; with a date column only when
    ``dated`` (the tenant is in the dates trial)."""
    media = (req.content_type or "").split(";", 1)[0].strip().lower()
    filename, parts = "", None
    form: dict[str, str] = {}
    if media == "multipart/form-data":
        part, parts = _multipart_file(req, form)
        if part is None:
            raise bad_request(f"{NOT_UPLOADED}: the multipart body has no part named data")
        stream, filename = part.stream, (part.filename or "")[:255]
    elif media in ("text/csv", "text/plain", "application/csv", "application/octet-stream") or not media:
        if not req.content_length and not req.env.get("wsgi.input_terminated"):
            raise bad_request(f"{NOT_UPLOADED}: send the file as the multipart part data or as a text/csv body")
        stream = req.bounded_stream
    else:
        raise falcon.HTTPUnsupportedMediaType(title="Unsupported media type", description=(
            f"a CSV batch is multipart/form-data (part data) or text/csv, not {media}"))
    stored = _keep(storage, _timed(stream.read, read_seconds), limit, prefix, integrity, dated)
    if stored.size == 0:
        raise bad_request(f"{NOT_UPLOADED}: the file is empty")
    if parts is not None:
        _rest_of_form(parts, form)
    return Upload(stored, stored.sha256, "csv", filename, form)


def raw_upload(req: falcon.Request, storage: FileStorage, limit: int, prefix: str, integrity: Integrity,
               read_seconds: float) -> Upload:
    """A JSON array of payments (the seed's raw type), kept as the CSV of its items."""
    if not req.content_length and not req.env.get("wsgi.input_terminated"):
        raise bad_request(f"{NOT_UPLOADED}: type=raw takes a JSON array of payments in the body")
    body = _read_all(_timed(req.bounded_stream.read, read_seconds), limit)
    if not body.strip():
        raise bad_request(f"{NOT_UPLOADED}: type=raw takes a JSON array of payments in the body")
    sha, md5 = hashlib.sha256(body).hexdigest(), base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest())
    try:
        items = parse_json(body)
    except ValueError as e:
        raise bad_request(f"the body is not valid JSON: {e}") from None
    if not isinstance(items, list) or not items:
        raise bad_request("type=raw takes a non-empty JSON array of payments")
    try:
        text = io.BytesIO(as_csv(items))
    except FileError as e:
        raise bad_request(str(e)) from None
    stored = _keep(storage, text.read, limit * 4, prefix, integrity, False,  # the seed's items carry no date
                   lambda _: (sha, md5.decode()), items=True)
    return Upload(stored, sha, "raw")


def _read_all(read: Callable[[int], bytes], limit: int) -> bytes:
    parts, size = [], 0
    while chunk := read(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise falcon.HTTPContentTooLarge(title="Body too large",
                                             description=f"a raw batch is at most {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)
