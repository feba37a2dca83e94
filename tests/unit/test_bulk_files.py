"""The bulk file contract: the seed's columns in any order, exact amounts in each currency's minor units,
and a bad row failing alone with its reason."""
from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, strategies as st

from adapters import bulk_csv
from domain.bulk_files import (
    COLUMNS, ITEM_ERROR, FileError, RowErrorCode as E, RowFailure, read_header, read_item, read_row, result_row,
)
from domain.currencies import EXPONENTS
from domain.money import Money

SEED_CSV = """id,request_id,payment_mode,payer_identifier_type,payer_identifier,payee_identifier_type,payee_identifier,amount,currency,note,program_shortcode,cycle
0,f1e22fe3-9740-4fba-97b6-78f43bfa7f2f,slcb,accountNumber,003001003874120160,accountNumber,927549027483,850,USD,Test Payee Payment,MDM,1
1,72aa3ea4-e6f6-4880-877f-39f6ac4d052e,slcb,accountNumber,003001003873110196,accountNumber,927549027483,222,USD,Test Payee Payment,MDM,1
2,f1e22fe3-9740-4fba-97b6-78f43bfa7f2f,slcb,accountNumber,003001003874120160,accountNumber,927549027483,850,USD,Test Payee Payment,MDM,1
3,72aa3ea4-e6f6-4880-877f-39f6ac4d052e,slcb,accountNumber,003001003873110196,accountNumber,927549027483,222,USD,Test Payee Payment,MDM,1
4,f1e22fe3-9740-4fba-97b6-78f43bfa7f2f,mojaloop,accountNumber,003001003874120160,mosip,437892675228,850,USD,Test Payee Payment,COV,1
5,72aa3ea4-e6f6-4880-877f-39f6ac4d052e,mojaloop,accountNumber,003001003873110196,mosip,437892675228,222,USD,Test Payee Payment,COV,1
6,f1e22fe3-9740-4fba-97b6-78f43bfa7f2f,mojaloop,accountNumber,003001003874120160,mosip,437892675228,850,USD,Test Payee Payment,COV,1
7,72aa3ea4-e6f6-4880-877f-39f6ac4d052e,mojaloop,accountNumber,003001003873110196,mosip,437892675228,222,USD,Test Payee Payment,COV,1
8,f1e22fe3-9740-4fba-97b6-78f43bfa7f2f,gsma,accountNumber,003001003874120160,msisdn,8837461856,850,USD,Test Payee Payment,CWP,2
9,72aa3ea4-e6f6-4880-877f-39f6ac4d052e,gsma,accountNumber,003001003873110196,msisdn,8837461856,222,USD,Test Payee Payment,CWP,2
10,f1e22fe3-9740-4fba-97b6-78f43bfa7f2f,gsma,accountNumber,003001003874120160,msisdn,8837461856,850,USD,Test Payee Payment,CWP,2
11,72aa3ea4-e6f6-4880-877f-39f6ac4d052e,gsma,accountNumber,003001003873110196,msisdn,8837461856,222,USD,Test Payee Payment,CWP,2
"""


def drafts(text: str):
    rows = list(csv.reader(io.StringIO(text)))
    header = read_header(rows[0])
    return [read_row(header, values, i) for i, values in enumerate(rows[1:])]


def test_the_seeds_file_reads_to_twelve_payable_rows_totalling_6432_dollars() -> None:
    found = drafts(SEED_CSV)
    assert len(found) == 12 and all(d.failure is None for d in found)
    assert sum(d.amount.minor for d in found) == 6432_00  # type: ignore[union-attr]
    assert [d.payment_mode for d in found].count("mojaloop") == 4


def test_columns_in_another_order_read_the_same() -> None:
    rows = list(csv.reader(io.StringIO(SEED_CSV)))
    order = list(reversed(range(len(COLUMNS))))
    shuffled = "\n".join(",".join(row[i] for i in order) for row in rows)
    assert [(d.fields, d.amount) for d in drafts(shuffled)] == [(d.fields, d.amount) for d in drafts(SEED_CSV)]


@pytest.mark.parametrize("names, words", [
    ([], "empty"), ([""], "empty"),
    (list(COLUMNS) + ["iban"], "unknown column(s): iban"),
    ([c for c in COLUMNS if c != "amount"], "missing required column(s): amount"),
    (list(COLUMNS) + ["amount"], "named twice: amount"),
])
def test_a_header_that_cannot_be_read_fails_the_file_naming_the_problem(names: list[str], words: str) -> None:
    with pytest.raises(FileError, match=words.replace("(", r"\(").replace(")", r"\)")):
        read_header(names)


def test_a_date_column_is_read_only_in_a_dated_file_and_never_dropped() -> None:
    assert read_header(list(COLUMNS) + ["date"], dated=True).positions["date"] == len(COLUMNS)
    with pytest.raises(FileError, match=r"column date.*dates\.enable is off"):
        read_header(list(COLUMNS) + ["date"])


def test_a_byte_order_mark_and_upper_case_column_names_are_read() -> None:
    header = read_header(["\ufeffID"] + [c.upper() for c in COLUMNS[1:]])
    assert header.positions["id"] == 0


def row(amount: str, currency: str = "USD", **changes: str):
    header = read_header(list(COLUMNS))
    values = {c: "x" for c in COLUMNS} | {"amount": amount, "currency": currency} | changes
    return read_row(header, [values[c] for c in COLUMNS], 0)


@pytest.mark.parametrize("amount, currency, code", [
    ("850.505", "USD", E.AMOUNT_PRECISION), ("850.5", "JPY", E.AMOUNT_PRECISION), ("1.2345", "KWD", E.AMOUNT_PRECISION),
    ("0", "USD", E.NON_POSITIVE_AMOUNT), ("0.00", "USD", E.NON_POSITIVE_AMOUNT), ("-5", "USD", E.NON_POSITIVE_AMOUNT),
    ("ocho", "USD", E.INVALID_AMOUNT), ("1e3", "USD", E.INVALID_AMOUNT), ("1,000", "USD", E.INVALID_AMOUNT),
    ("NaN", "USD", E.INVALID_AMOUNT), ("", "USD", E.MISSING_FIELD), ("850", "XYZ", E.UNKNOWN_CURRENCY),
    ("850", "XAU", E.UNKNOWN_CURRENCY),
])
def test_a_bad_amount_or_currency_fails_its_row_with_a_code_and_a_description(amount: str, currency: str,
                                                                               code: E) -> None:
    draft = row(amount, currency)
    assert draft.amount is None and draft.failure is not None and draft.failure.code == code
    assert draft.failure.description


@pytest.mark.parametrize("amount, currency, minor", [
    ("850", "USD", 85000), ("850.50", "USD", 85050), ("850", "RWF", 850), ("1.234", "KWD", 1234),
    ("0.01", "MXN", 1), ("1.2345", "CLF", 12345),
])
def test_amounts_are_exact_minor_units_of_their_currency(amount: str, currency: str, minor: int) -> None:
    assert row(amount, currency).amount == Money(minor, currency)


@given(st.integers(1, 10**15), st.sampled_from(sorted(EXPONENTS)))
def test_any_amount_written_with_its_currencys_decimals_reads_back_exactly(minor: int, currency: str) -> None:
    written = Money(minor, currency).to_decimal_string()
    assert row(written, currency).amount == Money(minor, currency)


def test_a_row_with_too_few_values_or_a_field_too_long_fails_alone() -> None:
    header = read_header(list(COLUMNS))
    assert read_row(header, ["1", "2"], 3).failure.code == E.WRONG_COLUMN_COUNT  # type: ignore[union-attr]
    semicolons = read_row(header, ["1;r1;spei;clabe;646180110400000007;Juana Perez"], 4)
    assert semicolons.failure.code == E.WRONG_COLUMN_COUNT  # type: ignore[union-attr]
    assert semicolons.fields == {"unsplit": "1;r1;spei;clabe;646180110400000007;Juana Perez"}  # nothing in a column
    assert read_row(header, ["1", "Perez", " Juana"] + [""] * 10, 5).fields == {"unsplit": "1,Perez, Juana" + "," * 10}
    assert row("10", note="n" * 256).failure.code == E.FIELD_TOO_LONG  # type: ignore[union-attr]


def test_a_json_item_reads_like_a_csv_row_payee_from_credit_party() -> None:
    draft = read_item({"creditParty": [{"key": "msisdn", "value": "8837461856"}],
                       "debitParty": [{"key": "accountnumber", "value": "003001003874120160"}],
                       "subType": "SLCB", "amount": "820.00", "currency": "RWF", "descriptionText": "Test Payment"}, 0)
    assert draft.failure is not None and draft.failure.code == E.AMOUNT_PRECISION  # RWF has no decimals
    draft = read_item({"creditParty": [{"key": "msisdn", "value": "8837461856"}], "paymentMode": "gsma",
                       "amount": "820", "currency": "RWF", "requestId": "r-1"}, 4)
    assert (draft.amount, draft.payment_mode, draft.fields["payee_identifier_type"], draft.fields["id"]) == (
        Money(820, "RWF"), "gsma", "msisdn", "4")
    assert read_item("not an object", 0).failure is not None


def test_the_result_row_keeps_the_input_as_written_then_the_outcome() -> None:
    draft = drafts(SEED_CSV)[3]
    assert result_row(draft.fields, "FAILURE", "422", "Inactive Account")[-4:] == [
        "1", "FAILURE", "422", "Inactive Account"]


@pytest.mark.parametrize("text, line", [
    ('a,b\n1,"x\n2,y\n', 2), ('a,b\n1,"x\n2,y', 2), ('a,b\r\n1,x\r\n2,"y\r\n3,z\r\n', 3),
    ('a,b\n1,"x, y"\n2,"open', 3), ('"a,b\n1,2\n', 1), ('a,b\n1,"two\nlines"\n2,"never\nclosed\n', 4),
])
def test_an_unterminated_quoted_field_is_found_at_the_line_it_opens(text: str, line: int) -> None:
    assert bulk_csv.unterminated_quote(io.BytesIO(text.encode())) == line


@pytest.mark.parametrize("text", ['a,b\n1,2\n', 'a,b\n1,"x, ""y"""\n', 'a,b\n1,"two\nlines"\n', 'a,b\n1,x"y\n',
                                  'a,b\n1,"x"'])
def test_a_file_whose_quotes_all_close_has_no_unterminated_field(text: str) -> None:
    assert bulk_csv.unterminated_quote(io.BytesIO(text.encode())) is None


@pytest.mark.parametrize("item, kind", [(5, "a number"), (1.5, "a number"), ("x", "a string"), (None, "null"),
                                        ([{}], "an array"), (True, "true")])
def test_a_raw_item_that_is_not_an_object_fails_its_row_saying_what_it_is(item: object, kind: str) -> None:
    draft = read_item(item, 3)
    assert draft.failure == RowFailure(E.NOT_A_PAYMENT, f"item 3 is {kind}, not a payment object")
    assert draft.fields["id"] == "3"
    header = read_header(list(COLUMNS) + [ITEM_ERROR], items=True)
    again = read_row(header, [draft.fields.get(name, "") for name in list(COLUMNS) + [ITEM_ERROR]], 3)
    assert again.failure == draft.failure  # the CSV the items become fails the row the same way


def test_only_the_csv_of_raw_items_may_say_why_an_item_is_not_a_payment() -> None:
    with pytest.raises(FileError, match="unknown column"):
        read_header(list(COLUMNS) + [ITEM_ERROR])
    header = read_header(list(COLUMNS) + [ITEM_ERROR], items=True)
    paid = read_row(header, SEED_CSV.splitlines()[1].split(",") + [""], 0)
    assert paid.failure is None and paid.amount == Money(850_00, "USD")
