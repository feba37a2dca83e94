"""How payee data is shown wherever it is shown (API answers, receipts, audit rows, log lines): an
account by its last four digits, a name by its initials. What is stored is sealed (adapters.sealing);
what is shown is never the whole."""
from __future__ import annotations

import re
from typing import Any, Mapping

SHOWN_DIGITS = 4
SHORTEST_SHOWN = 8  # an identifier shorter than this is masked whole: its last four would be most of it
CLABE_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{18}(?![0-9A-Za-z])")


def account(value: str | None) -> str | None:
    """``**************0025``: an account (CLABE, wallet, phone) by its last four characters."""
    if not value:
        return value
    if len(value) < SHORTEST_SHOWN:
        return "*" * len(value)
    return "*" * (len(value) - SHOWN_DIGITS) + value[-SHOWN_DIGITS:]


def name(value: str | None) -> str | None:
    """``J*** P***``: a person's or company's name by the initial of each word."""
    if not value:
        return value
    return " ".join(word[0] + "***" for word in value.split())


def in_text(text: str) -> str:
    """A free text (a log line) with every CLABE it holds masked."""
    return CLABE_IN_TEXT.sub(lambda m: account(m.group()) or "", text)


# ``unsplit``: a bulk row that did not split into its columns, which may hold an account and a name
ACCOUNT_FIELDS = frozenset({"clabe", "validated_clabe", "beneficiary_account", "payee_identifier",
                            "payer_identifier", "payee_account", "account", "unsplit"})
NAME_FIELDS = frozenset({"beneficiary_name", "validated_beneficiary_name", "payee_name"})


def field(key: str, value: Any) -> Any:
    """A named field's value as shown: masked when it is a payee's account or name."""
    if not isinstance(value, str):
        return value
    if key in ACCOUNT_FIELDS:
        return account(value)
    return name(value) if key in NAME_FIELDS else value


def fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """A record as shown: each account and name in it masked."""
    return {key: field(key, value) for key, value in values.items()}


def deep(value: Any, names: frozenset[str] = frozenset()) -> Any:
    """A JSON value as shown, however nested: each account and name in its objects masked (and the
    fields ``names`` lists, where a payee's name may be: a SPEI part's notes)."""
    if isinstance(value, Mapping):
        return {key: (name(item) if key in names and isinstance(item, str) else
                      field(key, item) if isinstance(item, str) else deep(item, names)) for key, item in value.items()}
    if isinstance(value, list):
        return [deep(item, names) for item in value]
    return value
