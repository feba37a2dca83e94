"""Dual control: no one person moves money alone.

Every API key (and, later, every console user) belongs to a person, and the rules here compare people,
never keys. A change of a store's bank details is validated by another person; the first payout to
changed details, a large transfer and a large adjustment (or a day's adjustments of a store that add up
to a large sum) wait for a second person's approval. Each refusal names the rule and who may act.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime

from domain.errors import DomainError

EMAIL_LENGTH = 254
# An address as people type it, in ASCII: local@domain.tld. The API's schema uses the same pattern.
EMAIL_PATTERN = (r"^[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                 r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_EMAIL = re.compile(EMAIL_PATTERN)

# Account fields: a change of any of them makes the next payout a "first payout to changed details".
ACCOUNT_FIELDS = frozenset({"clabe", "beneficiary_name", "rfc_curp"})


class DualControlError(DomainError):
    """A second person is needed: the message names the rule and who may act."""


class InvalidOwner(DomainError, ValueError):
    """An API key's owner is not an e-mail address."""


@dataclass(frozen=True)
class Person:
    """Someone who acts: every API key and console user belongs to one, by e-mail."""

    id: int
    email: str


def owner_email(raw: str) -> str:
    """The e-mail address a key's owner is known by, lower-cased; InvalidOwner when it is not one."""
    email = raw.strip().lower()
    if len(email) > EMAIL_LENGTH or not _EMAIL.match(email):
        raise InvalidOwner(f"owner must be the e-mail address of the person the key belongs to (at most "
                           f"{EMAIL_LENGTH} characters), not {raw[:80]!r}")
    return email


def require_second_person(actor: Person | None, first: Person | None, rule: str, who_may: str) -> None:
    """Refuse ``actor`` when they are the ``first`` person of a four-eyes decision.

    ``rule`` says what was done first and by whom is added; ``who_may`` who else may act. An action
    without a person (the system's own steps) is not a second person's and is not checked here."""
    if actor is not None and first is not None and actor.id == first.id:
        raise DualControlError(f"dual control: {rule} by {first.email}; {who_may} other than {first.email} must "
                               "do this")


# --- transfers --------------------------------------------------------------------------------------

STORE_CONFIRMATION = "the store requires treasury's confirmation of each transfer"
FIRST_PAYOUT = "first payout to changed bank details"


def large_transfer(limit: int) -> str:
    return f"above DISPERSA_TRANSFER_APPROVAL_ABOVE ({limit} minor units)"


def transfer_approval_reasons(requires_confirmation: bool, amount: int, limit: int | None,
                              details_changed: bool) -> list[str]:
    """Why a new transfer must wait for treasury's approval; none when it may be sent at once."""
    reasons = []
    if requires_confirmation:
        reasons.append(STORE_CONFIRMATION)
    if limit is not None and amount > limit:
        reasons.append(large_transfer(limit))
    if details_changed:
        reasons.append(FIRST_PAYOUT)
    return reasons


# --- adjustments ------------------------------------------------------------------------------------

class AdjustmentStatus(str, enum.Enum):
    """An adjustment that waits for a second person: approved (its balance update made) or rejected."""

    WAITING_APPROVAL = "waiting_approval"
    APPROVED = "approved"
    REJECTED = "rejected"


ALLOWED_ADJUSTMENT_MOVES: dict[AdjustmentStatus, frozenset[AdjustmentStatus]] = {
    AdjustmentStatus.WAITING_APPROVAL: frozenset({AdjustmentStatus.APPROVED, AdjustmentStatus.REJECTED}),
    AdjustmentStatus.APPROVED: frozenset(),
    AdjustmentStatus.REJECTED: frozenset(),
}


class AdjustmentMoveError(DomainError):
    """A move ALLOWED_ADJUSTMENT_MOVES forbids (deciding a request twice)."""


def adjustment_hold_reason(amount: int, applied_today: int, limit: int | None) -> str | None:
    """Why an adjustment must wait for a second person, or None when one may make it alone: above the
    limit either way, or taking the store's day's adjustments made alone (counted either way) above it."""
    if limit is None:
        return None
    if abs(amount) > limit:
        return f"an adjustment of {amount} is above DISPERSA_ADJUSTMENT_APPROVAL_ABOVE ({limit} minor units)"
    if applied_today + abs(amount) > limit:
        return (f"with the {applied_today} adjusted today without a second person, the store's adjustments would "
                f"add up above DISPERSA_ADJUSTMENT_APPROVAL_ABOVE ({limit} minor units)")
    return None


@dataclass(eq=False)
class AdjustmentRequest:
    """An adjustment held for a second person's approval; approved, it becomes its balance update."""

    store_id: int
    amount: int
    currency: str
    reason: str
    requested_by_id: int
    requested_at: datetime
    status: AdjustmentStatus = AdjustmentStatus.WAITING_APPROVAL
    note: str | None = None
    idempotency_key: str | None = None
    requested_key_id: int | None = None
    decided_by_id: int | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None
    balance_update_id: int | None = None
    id: int | None = None

    def decide(self, status: AdjustmentStatus, by: Person, at: datetime, note: str | None = None) -> None:
        """Approve or reject, once; AdjustmentMoveError when it was decided already."""
        if status not in ALLOWED_ADJUSTMENT_MOVES[self.status]:
            raise AdjustmentMoveError(f"adjustment request {self.id} is {self.status.value}, not waiting for "
                                      "approval")
        self.status, self.decided_by_id, self.decided_at, self.decision_note = status, by.id, at, note
