"""The seed's examples as written: numbers read exactly, a trailing comma forgiven, strings untouched."""
from __future__ import annotations

from decimal import Decimal

import pytest

from web.context import parse_json, without_trailing_commas


@pytest.mark.parametrize("text, value", [
    ('{"a": 1,}', {"a": 1}), ('[1, 2 ,\n ]', [1, 2]), ('{"a": {"b": "c",\r\n},\n}', {"a": {"b": "c"}}),
    ('{"a": ",}", "b": "\\\\",}', {"a": ",}", "b": "\\"}), ('{"a": "\\",]",}', {"a": '",]'}),
])
def test_a_comma_before_a_closing_bracket_is_dropped_and_strings_are_kept(text: str, value: object) -> None:
    assert parse_json(without_trailing_commas(text).encode()) == value


def test_valid_json_is_left_as_it_is_and_numbers_can_be_read_exactly() -> None:
    text = '{"a": [1, 2], "b": "x, ]", "c": 90071992547409.91}'
    assert without_trailing_commas(text) == text
    assert parse_json(text.encode(), exact=True)["c"] == Decimal("90071992547409.91")
    assert parse_json(text.encode())["c"] != Decimal("90071992547409.91")  # a float loses the cent
