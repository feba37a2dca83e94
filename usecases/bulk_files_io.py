"""What every way of submitting a batch file shares, whoever receives it (the API, the CLI): the check of a
written file's header row, the CSV a JSON array of payments becomes, and the request id a file gets when
its sender names none."""
from __future__ import annotations

import uuid
from typing import Any, BinaryIO, Mapping

from adapters import bulk_csv
from domain.bulk_files import COLUMNS, ITEM_ERROR, FileError, read_header, read_item

# uuid5 namespace of the request ids derived from a file's content (see ``request_id_of``)
CONTENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://dispersa/batches/content-sha256")


def check_header(written: BinaryIO, dated: bool, items: bool = False) -> None:
    """FileError unless every quoted field closes, the file's first row names known columns, the required
    ones among them (a date column only when the file is ``dated``: its tenant is in the dates trial), and
    a row follows (the message says which problem it is). ``items``: the file is the CSV of a raw batch's
    JSON items (``as_csv``)."""
    try:
        opened = bulk_csv.unterminated_quote(written)
        if opened is not None:
            raise FileError(f"unterminated quoted field at line {opened}: a quote opened there is never closed")
        names, _ = bulk_csv.header(written)
        read_header(names, dated, items)
        if not bulk_csv.has_record(written):
            raise FileError("the file has a header row but no payments")
    except bulk_csv.Unreadable as e:
        raise FileError(str(e)) from None


def as_csv(items: list[Any]) -> bytes:
    """JSON items as the CSV the bulk workers read (the seed's columns; and ITEM_ERROR, when an item is not
    an object, to fail its row). FileError when no item is an object: nothing there is a payment."""
    if not any(isinstance(item, Mapping) for item in items):
        raise FileError(f"a raw batch is a JSON array of payment objects; none of its {len(items)} items is an "
                        "object")
    drafts = [read_item(item, row) for row, item in enumerate(items)]
    columns = COLUMNS + ((ITEM_ERROR,) if any(ITEM_ERROR in d.fields for d in drafts) else ())
    lines = [bulk_csv.to_csv_line(list(columns))]
    lines.extend(bulk_csv.to_csv_line([d.fields.get(name, "") for name in columns]) for d in drafts)
    return b"".join(lines)


def request_id_of(content_sha256: str) -> str:
    """The request id of content whose sender names none: a UUID of its SHA-256, so that sending the same
    content again is the same batch."""
    return str(uuid.uuid5(CONTENT_NAMESPACE, content_sha256.lower()))
