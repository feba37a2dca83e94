"""The one writer of every CSV that dispersa hands out (a batch's result file, a transfer's report), so that no
cell a client typed runs as a spreadsheet formula.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written with a leading
apostrophe, as OWASP recommends (the spreadsheet then shows it as text). A cell that is a plain decimal
number (``-850.50``) is written as it is: a negative amount is a number people add up, and a spreadsheet
reads it as one and runs nothing. The files kept for the workers (bulk_csv.to_csv_line) are not exports:
they keep what the client wrote, byte for byte."""
from __future__ import annotations

import csv
import io
import re
from typing import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def cell(value: object) -> str:
    """The text of one cell as exported: a formula's start made text, a number left a number."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


class CsvExport:
    """Records written as CSV, each cell through ``cell``; ``take`` hands out what is written so far."""

    def __init__(self) -> None:
        self._out = io.StringIO()
        # RFC 4180's line end: the csv module quotes a cell holding either character of it, so a carriage
        # return a client typed is quoted, never a line end of its own
        self._writer = csv.writer(self._out, lineterminator="\r\n")

    def row(self, values: Iterable[object]) -> None:
        self._writer.writerow([cell(v) for v in values])

    def size(self) -> int:
        return self._out.tell()

    def take(self) -> str:
        text = self._out.getvalue()
        self._out.seek(0)
        self._out.truncate()
        return text
