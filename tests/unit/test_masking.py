"""Payee data as every answer and log line shows it: accounts by their last four, names by initials."""
from __future__ import annotations

from hypothesis import given, strategies as st

from domain import masking


def test_an_account_shows_only_its_last_four_digits() -> None:
    assert masking.account("646180000000000025") == "**************0025"
    assert masking.account("5215512345678") == "*********5678"  # a wallet's phone number
    assert masking.account("1234567") == "*******"  # too short: its last four would be most of it
    assert masking.account("") == "" and masking.account(None) is None


@given(st.text(alphabet="0123456789", min_size=8, max_size=40))
def test_a_masked_account_keeps_its_length_and_hides_all_but_four(value: str) -> None:
    shown = masking.account(value)
    assert shown is not None and len(shown) == len(value) and shown.endswith(value[-4:])
    assert set(shown[:-4]) == {"*"}


def test_a_name_shows_only_the_initial_of_each_word() -> None:
    assert masking.name("José Pérez López") == "J*** P*** L***"
    assert masking.name("  Ana  ") == "A***" and masking.name("") == "" and masking.name(None) is None


def test_a_record_masks_its_accounts_and_names_and_nothing_else() -> None:
    shown = masking.fields({"clabe": "646180000000000025", "beneficiary_name": "Ana Ruiz", "rfc_curp": "RUAA800101",
                            "payee_identifier": "5215512345678", "note": "Nómina", "amount": 100, "validated_clabe": None})
    assert shown == {"clabe": "**************0025", "beneficiary_name": "A*** R***", "rfc_curp": "RUAA800101",
                     "payee_identifier": "*********5678", "note": "Nómina", "amount": 100, "validated_clabe": None}


def test_a_log_line_has_its_clabes_masked_but_not_its_references() -> None:
    line = ("order DSP4F3A646180000000000025 (UETR 6c2f0d1e-8a4b-4c2d-9e1f-123456789012) to 646180000000000025, "
            "amount 123456789012345678901 and 12345678901234567")
    assert masking.in_text(line) == ("order DSP4F3A646180000000000025 (UETR 6c2f0d1e-8a4b-4c2d-9e1f-123456789012) "
                                     "to **************0025, amount 123456789012345678901 and 12345678901234567")


def test_a_bulk_row_that_did_not_split_is_masked_as_an_account_is() -> None:
    row = "1;r1;spei;clabe;646180110400000007;Juana Perez"
    assert masking.fields({"unsplit": row}) == {"unsplit": "*" * (len(row) - 4) + "erez"}
