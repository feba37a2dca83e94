"""The one CSV export writer: a cell a spreadsheet would run is written as text, a number stays a number."""
from __future__ import annotations

import csv
import io

import pytest

from adapters.csv_export import CsvExport, cell


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx", "-", "=", "-1e3", "- 5",
                                  "-cmd|' /C calc'!A0"])
def test_a_cell_that_starts_like_a_formula_is_written_as_text(text: str) -> None:
    assert cell(text) == "'" + text


@pytest.mark.parametrize("text", ["-850.50", "-5", "0", "850", "", "Pago a=b", "a-b", "'=already"])
def test_numbers_and_plain_text_are_written_as_they_are(text: str) -> None:
    assert cell(text) == text


def test_every_row_goes_through_the_cell_rule_and_reads_back_as_csv() -> None:
    out = CsvExport()
    out.row(["note", "amount"])
    out.row(["=HYPERLINK(\"x\")", "-12.50"])
    out.row([None, 7])
    out.row(["a\rb", "c"])
    assert out.size() > 0
    assert list(csv.reader(io.StringIO(out.take()))) == [["note", "amount"], ["'=HYPERLINK(\"x\")", "-12.50"],
                                                         ["", "7"], ["a\rb", "c"]]
    assert out.take() == "" and out.size() == 0
