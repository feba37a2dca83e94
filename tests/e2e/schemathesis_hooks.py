"""Loaded by schemathesis (SCHEMATHESIS_HOOKS): how to write a value of the API's own ``clabe`` and ``curp``
formats, rules (a bank code, a birth date and state, check digits) that no JSON Schema pattern can say."""
from hypothesis import strategies as st

import schemathesis
from domain import clabe
from domain.customers import CURP_STATES, with_check_digit

BANKS = sorted(clabe.BANK_CODES)

schemathesis.openapi.format("clabe", st.builds(
    lambda bank, branch, account: clabe.make(bank, f"{branch:03d}", f"{account:011d}"),
    st.sampled_from(BANKS), st.integers(0, 999), st.integers(0, 10**11 - 1)))

CONSONANTS = "BCDFGHJKLMNPQRSTVWXZ"
schemathesis.openapi.format("curp", st.builds(
    lambda letters, vowel, born, sex, state, inner, tail: with_check_digit(
        f"{letters[0]}{vowel}{letters[1:]}{born:%y%m%d}{sex}{state}{inner}{tail}"),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3), st.sampled_from("AEIOUX"),
    st.dates(), st.sampled_from("HMX"), st.sampled_from(sorted(CURP_STATES)),
    st.text(CONSONANTS, min_size=3, max_size=3), st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")))
