"""Loaded by schemathesis (SCHEMATHESIS_HOOKS): how to write a value of the API's own ``clabe`` format,
a rule (the bank code and check digit) that no JSON Schema pattern can say."""
from hypothesis import strategies as st

import schemathesis
from domain import clabe

BANKS = sorted(clabe.BANK_CODES)

schemathesis.openapi.format("clabe", st.builds(
    lambda bank, branch, account: clabe.make(bank, f"{branch:03d}", f"{account:011d}"),
    st.sampled_from(BANKS), st.integers(0, 999), st.integers(0, 10**11 - 1)))
