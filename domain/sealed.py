"""Payee details sealed at rest are bound to their place (table, column, row): one read anywhere else is
refused. The refusal reaches the rules as a RefusedValue, empty so that nothing can ever be paid to it."""
from __future__ import annotations


class RefusedValue(str):
    """A stored payee detail that was refused where it was read (copied from another row, or altered):
    no text, and why."""

    why: str

    def __new__(cls, why: str) -> RefusedValue:
        value = super().__new__(cls, "")
        value.why = why
        return value


def refusal(*values: object) -> str | None:
    """Why one of ``values`` was refused, or None when none was."""
    return next((v.why for v in values if isinstance(v, RefusedValue)), None)
