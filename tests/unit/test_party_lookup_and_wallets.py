"""Party lookup per connector, and the closed loop's wallets: double entry, never below zero."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, strategies as st

from domain import clabe, party_lookup as lookup
from domain.money import MAX_MINOR
from domain.wallets import Wallet, WalletError, fund as funding, move

AT = datetime(2026, 12, 1, tzinfo=timezone.utc)


def test_spei_pays_valid_clabes_only() -> None:
    assert lookup.spei("accountNumber", clabe.make("646", "180", "1")) is None
    good = clabe.make("646", "180", "1")
    assert "check digit" in (lookup.spei("clabe", good[:-1] + str((int(good[-1]) + 1) % 10)) or "")
    assert lookup.spei("clabe", "927549027483") is not None


@pytest.mark.parametrize("id_type, identifier, ok", [
    ("msisdn", "8837461856", True), ("MSISDN", "+525512345678", True), ("msisdn", "0123456", False),
    ("msisdn", "12345", False), ("msisdn", "1234567890123456", False), ("accountNumber", "8837461856", False),
])
def test_gsma_pays_msisdns(id_type: str, identifier: str, ok: bool) -> None:
    assert (lookup.gsma(id_type, identifier) is None) == ok


def test_mojaloop_knows_its_identifier_types_and_the_closed_loop_its_wallets() -> None:
    assert lookup.mojaloop("mosip", "437892675228") is None and lookup.mojaloop("passport", "x") is not None
    check = lookup.closedloop(lambda owner: owner == "927549027483")
    assert check("accountNumber", " 927549027483 ") is None and "no wallet" in (check("accountNumber", "1") or "")


def wallets(balance: int) -> tuple[Wallet, Wallet]:
    return Wallet(1, "float", "USD", balance, id=1), Wallet(1, "927549027483", "USD", 0, id=2)


def fund(float_wallet: Wallet, amount: int, reference: str, at: datetime) -> None:
    """A funding out of a fresh outside account (the tenant's: fundings come out of it)."""
    funding(Wallet(1, "outside", "USD", 0, id=9), float_wallet, amount, reference, at)


def test_a_movement_is_two_legs_of_one_entry_and_never_overdraws() -> None:
    payer, payee = wallets(1000)
    entry = move(payer, payee, 850, "batch:0", AT)
    assert (payer.balance, payee.balance, entry.debit_wallet_id, entry.credit_wallet_id) == (150, 850, 1, 2)
    with pytest.raises(WalletError, match="insufficient funds"):
        move(payer, payee, 151, "batch:1", AT)
    assert (payer.balance, payee.balance) == (150, 850)


@pytest.mark.parametrize("amount", [0, -1])
def test_a_movement_or_funding_is_positive(amount: int) -> None:
    payer, payee = wallets(10)
    with pytest.raises(WalletError):
        move(payer, payee, amount, "r", AT)
    with pytest.raises(WalletError):
        fund(payer, amount, "r", AT)


def test_no_wallet_goes_beyond_the_bound_however_often_it_is_funded_or_paid() -> None:
    payer, payee = wallets(0)
    fund(payer, MAX_MINOR - 1, "f1", AT)
    fund(payer, 1, "f2", AT)
    with pytest.raises(WalletError, match="beyond"):
        fund(payer, 1, "f3", AT)
    move(payer, payee, MAX_MINOR, "all", AT)
    fund(payer, 1, "f4", AT)
    with pytest.raises(WalletError, match="beyond"):
        move(payer, payee, 1, "one more", AT)
    assert (payer.balance, payee.balance) == (1, MAX_MINOR)


def test_currencies_do_not_mix_and_a_wallet_does_not_pay_itself() -> None:
    payer, _ = wallets(10)
    with pytest.raises(WalletError, match="into a MXN"):
        move(payer, Wallet(1, "x", "MXN", id=3), 5, "r", AT)
    with pytest.raises(WalletError, match="itself"):
        move(payer, payer, 5, "r", AT)


@given(st.integers(0, 10**6), st.lists(st.integers(-100, 5000), max_size=40))
def test_money_is_neither_made_nor_lost_and_no_balance_goes_negative(funding: int, payments: list[int]) -> None:
    payer, payee = wallets(0)
    if funding:
        fund(payer, funding, "treasury", AT)
    for amount in payments:
        try:
            move(payer, payee, amount, "r", AT)
        except WalletError:
            pass
        assert payer.balance >= 0 and payee.balance >= 0
    assert payer.balance + payee.balance == funding
