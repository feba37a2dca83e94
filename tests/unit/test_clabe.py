"""CLABE: 18 digits, a known bank code and the weighted (3, 7, 1) check digit."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from domain import clabe
from domain.clabe import InvalidClabe

# Banamex (002) and STP (646) accounts with their check digits.
VALID = ["002010077777777771", "646180110400000007"]
# The textbook example: check digit 9, but bank 032 (IXE) is no longer a SPEI participant.
TEXTBOOK = "032180000118359719"


def with_check_digit(first17: str) -> str:
    return first17 + str(clabe.check_digit(first17))


@pytest.mark.parametrize("account", VALID)
def test_valid_clabes(account: str) -> None:
    assert clabe.validate(account) == account
    assert clabe.is_valid(account)


def test_known_check_digit() -> None:
    # Weighted sum of 03218000011835971 with 3,7,1 (mod 10 per term) is 41 -> (10 - 1) % 10 = 9.
    assert clabe.check_digit(TEXTBOOK[:17]) == 9
    with pytest.raises(InvalidClabe, match="unknown bank code 032"):
        clabe.validate(TEXTBOOK)


@pytest.mark.parametrize("account", ["", "0321800001183597", "03218000011835971", "0321800001183597190",
                                     "03218000011835971a", "032-18000011835971", " 32180000118359719"])
def test_wrong_length_or_not_digits(account: str) -> None:
    with pytest.raises(InvalidClabe, match="18 digits"):
        clabe.validate(account)
    assert not clabe.is_valid(account)


def test_unknown_bank() -> None:
    account = with_check_digit("99918000011835971")
    with pytest.raises(InvalidClabe, match="unknown bank code 999"):
        clabe.validate(account)


@pytest.mark.parametrize("account", VALID)
def test_every_other_check_digit_is_wrong(account: str) -> None:
    for digit in "0123456789":
        if digit != account[17]:
            with pytest.raises(InvalidClabe, match="check digit"):
                clabe.validate(account[:17] + digit)


def test_none_is_not_valid() -> None:
    assert not clabe.is_valid(None)


bank_codes = st.sampled_from(sorted(clabe.BANK_CODES))
digits = st.text(alphabet="0123456789", min_size=1, max_size=11)


@given(bank_codes, st.text(alphabet="0123456789", min_size=3, max_size=3), st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_make_builds_valid_clabes(bank: str, branch: str, account: str) -> None:
    built = clabe.make(bank, branch, account)
    assert built == bank + branch + account + built[-1]
    assert clabe.is_valid(built)


@given(bank_codes, st.text(alphabet="0123456789", min_size=1, max_size=3), digits)
def test_make_pads_short_parts(bank: str, branch: str, account: str) -> None:
    built = clabe.make(bank, branch, account)
    assert len(built) == 18 and clabe.is_valid(built)
    assert built[3:6] == branch.zfill(3) and built[6:17] == account.zfill(11)


@given(bank_codes, st.text(alphabet="0123456789", min_size=14, max_size=14), st.integers(0, 16),
       st.integers(1, 9))
def test_changing_one_digit_breaks_the_check(bank: str, rest: str, position: int, delta: int) -> None:
    good = with_check_digit(bank + rest)
    digit = (int(good[position]) + delta) % 10
    typo = good[:position] + str(digit) + good[position + 1:]
    # A single-digit typo always changes the check digit: every weight (3, 7, 1) is a unit mod 10.
    if typo[:3] in clabe.BANK_CODES:
        with pytest.raises(InvalidClabe, match="check digit"):
            clabe.validate(typo)
    else:
        assert not clabe.is_valid(typo)


@given(st.text(max_size=20))
def test_is_valid_never_raises(text: str) -> None:
    assert clabe.is_valid(text) in (True, False)


def test_non_ascii_digits_are_not_a_clabe() -> None:
    assert not clabe.is_valid("012" + "²" * 15)


def test_arabic_indic_digits_are_not_a_clabe() -> None:
    account = with_check_digit("01218000044192876")
    assert not clabe.is_valid(account[:3] + "".join(chr(0x0660 + int(d)) for d in account[3:]))
