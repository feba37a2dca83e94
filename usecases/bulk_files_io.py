"""What every way of submitting a batch file shares, whoever receives it (the API, the CLI): the check of a
written file's header row, the CSV a JSON array of payments becomes, and the request id a file gets when
its sender names none."""
from __future__ import annotations

import uuid
from typing import Any, BinaryIO

from adapters import bulk_csv
from domain.bulk_files import COLUMNS, FileError, read_header, read_item

# uuid5 namespace of the request ids derived from a file's content (see ``request_id_of``)
CONTENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://dispersa/batches/content-sha256")


def check_header(written: BinaryIO, dated: bool) -> None:
    """FileError unless every quoted field closes, the file's first row names known columns, the required
    ones among them (a date column only when the file is ``dated``: its tenant is in the dates trial), and
    a row follows (the message says which problem it is)."""
    try:
        opened = bulk_csv.unterminated_quote(written)
        if opened is not None:
            raise FileError(f"unterminated quoted field at line {opened}: a quote opened there is never closed")
        names, _ = bulk_csv.header(written)
        read_header(names, dated)
        if not bulk_csv.has_record(written):
            raise FileError("the file has a header row but no payments")
    except bulk_csv.Unreadable as e:
        raise FileError(str(e)) from None


def as_csv(items: list[Any]) -> bytes:
    """JSON items as the CSV the bulk workers read (the seed's columns)."""
    lines = [bulk_csv.to_csv_line(list(COLUMNS))]
    for row, item in enumerate(items):
        draft = read_item(item, row)
        lines.append(bulk_csv.to_csv_line([draft.fields.get(name, "") for name in COLUMNS]))
    return b"".join(lines)


def request_id_of(content_sha256: str) -> str:
    """The request id of content whose sender names none: a UUID of its SHA-256, so that sending the same
    content again is the same batch."""
    return str(uuid.uuid5(CONTENT_NAMESPACE, content_sha256.lower()))
