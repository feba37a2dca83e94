"""Party lookup: whether a row's payee can be paid by its connector, before any money moves.

SPEI pays CLABEs (a known bank code and a right check digit); GSMA mobile money pays MSISDNs; the closed
loop pays wallets that exist; Mojaloop pays the party identifier types its schemes know."""
from __future__ import annotations

import re
from typing import Callable

from domain import clabe, masking

MSISDN = re.compile(r"^\+?[1-9][0-9]{6,14}$")  # E.164: up to 15 digits, no leading zero
MOJALOOP_ID_TYPES = frozenset({"msisdn", "email", "personal_id", "business", "device", "account_id", "iban",
                               "alias", "mosip", "accountnumber"})

WalletExists = Callable[[str], bool]


def spei(id_type: str, identifier: str) -> str | None:
    """Why a SPEI payee cannot be paid (None when it can): a CLABE with a known bank and its check digit."""
    try:
        clabe.validate(identifier.strip())
    except clabe.InvalidClabe as e:
        return f"the payee is not a valid CLABE: {e}"
    return None


def gsma(id_type: str, identifier: str) -> str | None:
    """Why a mobile-money payee cannot be paid: GSMA pays MSISDNs, as E.164 numbers."""
    if id_type.strip().lower() not in ("msisdn", ""):
        return f"GSMA mobile money pays an msisdn, not a {id_type!r}"
    if not MSISDN.match(identifier.strip()):
        return f"the payee identifier {masking.account(identifier.strip())!r} is not an MSISDN (7 to 15 digits, no " \
               "leading zero)"
    return None


def mojaloop(id_type: str, identifier: str) -> str | None:
    """Why a Mojaloop payee cannot be paid: an identifier type its schemes know, and an identifier."""
    if id_type.strip().lower() not in MOJALOOP_ID_TYPES:
        return f"Mojaloop does not know the party identifier type {id_type!r}"
    if not identifier.strip():
        return "the payee identifier is empty"
    return None


def closedloop(exists: WalletExists) -> Callable[[str, str], str | None]:
    """The closed loop pays wallets: the payee's must exist."""
    def check(id_type: str, identifier: str) -> str | None:
        return None if exists(identifier.strip()) else \
            f"no wallet {masking.account(identifier.strip())!r} in the closed loop"
    return check
