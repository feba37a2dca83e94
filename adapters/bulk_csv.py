"""Reading a stored batch file a page at a time: its header, then up to N records from a byte offset, and
the offset where the next page starts. Records are read with the csv module (quoted fields may hold
commas and line breaks), so that a page never ends inside a record."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import BinaryIO, Iterator

ENCODING = "utf-8-sig"  # a spreadsheet's byte-order mark is not part of the first column's name


class Unreadable(ValueError):
    """The file is not UTF-8 text, or not CSV."""


@dataclass(frozen=True)
class Page:
    """Records of one page, where the next page starts, and whether the file ends here."""

    records: list[list[str]]
    next_offset: int
    at_end: bool


def _lines(stream: BinaryIO, position: list[int]) -> Iterator[str]:
    while line := stream.readline():
        position[0] += len(line)
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError:
            raise Unreadable(f"the file is not UTF-8 text (near byte {position[0]})") from None


def header(stream: BinaryIO) -> tuple[list[str], int]:
    """The first record's names and the offset of the line after it; ([], end) for an empty file."""
    stream.seek(0)
    position = [0]
    first = stream.read(3)
    if first != b"\xef\xbb\xbf":
        stream.seek(0)
    else:
        position[0] = 3
    try:
        names = next(csv.reader(_lines(stream, position)), [])
    except csv.Error as e:
        raise Unreadable(f"the header is not CSV: {e}") from None
    return names, position[0]


def page(stream: BinaryIO, offset: int, limit: int) -> Page:
    """Up to ``limit`` records from ``offset`` (blank lines skipped)."""
    stream.seek(offset)
    position = [offset]
    reader = csv.reader(_lines(stream, position))
    records: list[list[str]] = []
    try:
        for record in reader:
            if record and any(value.strip() for value in record):
                records.append(record)
            if len(records) == limit:
                break
    except csv.Error as e:
        raise Unreadable(f"record after byte {position[0]} is not CSV: {e}") from None
    at_end = len(records) < limit or not stream.read(1)
    return Page(records, position[0], at_end)


def has_record(stream: BinaryIO) -> bool:
    """Whether the file has at least one record after its header."""
    _, offset = header(stream)
    return bool(page(stream, offset, 1).records)


def _has_quote(stream: BinaryIO) -> bool:
    stream.seek(0)
    while chunk := stream.read(1024 * 1024):
        if b'"' in chunk:
            return True
    return False


def unterminated_quote(stream: BinaryIO) -> int | None:
    """The line (1-based) where a quoted field opens that the file never closes, or None. The csv module
    reads such a field to the end of the file and hands it out as the last record, after its lines ran out:
    that is how it is told from a file that ends well."""
    if not _has_quote(stream):  # the whole file read only when it has a quote at all
        return None
    stream.seek(0)
    position, ran_out = [0], [False]

    def lines() -> Iterator[str]:
        yield from _lines(stream, position)
        ran_out[0] = True

    reader = csv.reader(lines())
    try:
        for record in reader:
            if ran_out[0]:
                field = record[-1] if record else ""
                return reader.line_num - field.count("\n") + field.endswith("\n")
    except csv.Error as e:
        raise Unreadable(f"record after byte {position[0]} is not CSV: {e}") from None
    return None


def to_csv_line(values: list[str]) -> bytes:
    """One record as the stored file writes it."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue().encode("utf-8")
