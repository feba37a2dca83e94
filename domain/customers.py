"""Customers, the borrowers of the lender (seed 004, "Definition of customer status"): their personal data,
the risk profile scoring gives them, the statuses they move through and what each status lets them do.

The lender is the platform's own for now (OWN_LENDER): a customer's external id is unique per lender.
Personal data (PII_FIELDS) is sealed at rest, never copied into events or the audit log, and erased when a
customer is deleted; the row keeps its id, external id and status, so that loans still add up."""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from domain.errors import DomainError

OWN_LENDER = "own"  # the platform lends on its own account; a lender of its own later joins this scope
DEFAULT_DPD = 30  # DISPERSA_CUSTOMER_DEFAULT_DPD: a loan more days past due than this disables its customer
NAME_LENGTH, PHONE_LENGTH, ADDRESS_LENGTH, REASON_LENGTH = 100, 16, 300, 255
PII_FIELDS = ("first_name", "last_name", "second_last_name", "phone", "email", "address", "national_id")
# what a registration needs before the customer may borrow; a second last name is not every person's
REGISTRATION_FIELDS = ("first_name", "last_name", "phone", "email", "address", "national_id")


class CustomerError(DomainError, ValueError):
    """A customer's data or move the rules refuse."""


class RiskProfile(str, enum.Enum):
    """The profile scoring gives a customer, best first: A0 is the lowest risk, C3 the highest. Seed 000's
    payment options carry a rate for each end (``a0_interest_rate``, ``c3_interest_rate``); the loan
    schedule maps the profiles between them to those rates."""

    A0 = "A0"
    A1 = "A1"
    A2 = "A2"
    A3 = "A3"
    B1 = "B1"
    B2 = "B2"
    B3 = "B3"
    C1 = "C1"
    C2 = "C2"
    C3 = "C3"

    @property
    def rank(self) -> int:
        """0 for A0 up to 9 for C3."""
        return list(RiskProfile).index(self)


class CustomerStatus(str, enum.Enum):
    """Seed 004's customer statuses; ``unregistered`` is the first."""

    UNREGISTERED = "unregistered"
    ENABLED = "enabled"
    DISABLED = "disabled"
    BLOCKED = "blocked"
    DELETED = "deleted"


class CustomerEvent(str, enum.Enum):
    """What moves a customer: the automatic events (from the customer's data and loans) and the proactive
    ones (a treasury or admin key, with a reason)."""

    REGISTRATION_COMPLETED = "registration_completed"
    FELL_PAST_DUE = "fell_past_due"
    CURED = "cured"
    FRAUD_CANCELLATION = "fraud_cancellation"
    ENABLE = "enable"
    DISABLE = "disable"
    BLOCK = "block"
    DELETE = "delete"


U, E, D, B, X = (CustomerStatus.UNREGISTERED, CustomerStatus.ENABLED, CustomerStatus.DISABLED,
                 CustomerStatus.BLOCKED, CustomerStatus.DELETED)
# event -> (the statuses it may leave, the status it reaches)
TRANSITIONS: dict[CustomerEvent, tuple[frozenset[CustomerStatus], CustomerStatus]] = {
    CustomerEvent.REGISTRATION_COMPLETED: (frozenset({U}), E),
    CustomerEvent.FELL_PAST_DUE: (frozenset({E}), D),
    CustomerEvent.CURED: (frozenset({D}), E),
    CustomerEvent.FRAUD_CANCELLATION: (frozenset({U, E, D}), B),
    CustomerEvent.ENABLE: (frozenset({D, B}), E),
    CustomerEvent.DISABLE: (frozenset({E}), D),
    CustomerEvent.BLOCK: (frozenset({U, E, D}), B),
    CustomerEvent.DELETE: (frozenset({U, E, D, B}), X),
}
AUTOMATIC = frozenset({CustomerEvent.REGISTRATION_COMPLETED, CustomerEvent.FELL_PAST_DUE, CustomerEvent.CURED,
                       CustomerEvent.FRAUD_CANCELLATION})
PROACTIVE = frozenset(CustomerEvent) - AUTOMATIC
# a person's moves (disable, block) hold the customer where they put it: only a person takes it out
HOLDING = frozenset({CustomerEvent.DISABLE, CustomerEvent.BLOCK, CustomerEvent.FRAUD_CANCELLATION})


@dataclass(frozen=True)
class Outcome:
    """What an event would do to a customer in a status: the status it reaches, or why it may not."""

    event: CustomerEvent
    current: CustomerStatus
    allowed: bool
    target: CustomerStatus | None
    why: str = ""


def dry_run(current: CustomerStatus, event: CustomerEvent) -> Outcome:
    """What ``event`` would do to a customer in ``current``, changing nothing."""
    sources, target = TRANSITIONS[event]
    if current in sources:
        return Outcome(event, current, True, target)
    leaves = ", ".join(sorted(s.value for s in sources))
    return Outcome(event, current, False, None, f"{event.value} moves a customer who is {leaves}, not one who is "
                                                 f"{current.value}")


class CustomerAction(str, enum.Enum):
    """What a customer (or someone for the customer) asks to do; ``allowed_actions`` says which each status
    permits. The loan code calls ``Customer.require`` with these."""

    COMPLETE_REGISTRATION = "complete_registration"  # the customer's own data, filled in through the platform
    UPDATE_DETAILS = "update_details"                # a staff correction of the customer's data
    SCORE = "score"                                  # a risk profile from the scoring process
    REQUEST_LOAN = "request_loan"
    PAY_OWN_CHANNEL = "pay_own_channel"              # automatic and voluntary payments through the platform
    PAY_RECORDED_BY_OPERATOR = "pay_recorded_by_operator"  # a payment made outside, recorded by an operator


A = CustomerAction
ALLOWED_ACTIONS: dict[CustomerStatus, frozenset[CustomerAction]] = {
    U: frozenset({A.COMPLETE_REGISTRATION, A.UPDATE_DETAILS, A.SCORE}),
    E: frozenset({A.REQUEST_LOAN, A.PAY_OWN_CHANNEL, A.PAY_RECORDED_BY_OPERATOR, A.UPDATE_DETAILS, A.SCORE}),
    D: frozenset({A.PAY_OWN_CHANNEL, A.PAY_RECORDED_BY_OPERATOR, A.UPDATE_DETAILS, A.SCORE}),
    B: frozenset({A.PAY_RECORDED_BY_OPERATOR, A.UPDATE_DETAILS}),
    X: frozenset(),
}


def allowed_actions(status: CustomerStatus) -> list[str]:
    """The actions a status permits, sorted by name (as the 409's body lists them)."""
    return sorted(a.value for a in ALLOWED_ACTIONS[status])


class ActionRefused(CustomerError):
    """The customer's status does not permit the action: says the status and the actions it permits."""

    status: CustomerStatus = CustomerStatus.DELETED
    action: CustomerAction | None = None

    @classmethod
    def of(cls, customer_id: int | None, status: CustomerStatus, action: CustomerAction) -> ActionRefused:
        permits = ", ".join(allowed_actions(status)) or "nothing"
        refused = cls(f"customer {customer_id} is {status.value}: it may not {action.value.replace('_', ' ')}; "
                      f"a customer who is {status.value} may {permits}")
        refused.status, refused.action = status, action
        return refused

    @property
    def allowed(self) -> list[str]:
        return allowed_actions(self.status)


def automatic_events(status: CustomerStatus, registered: bool, max_dpd: int, threshold: int, fraud: bool,
                     held: bool = False) -> list[CustomerEvent]:
    """The automatic moves a customer is due, in order, from plain facts: whether its registration is
    complete, the largest days past due of its loans, the threshold (DISPERSA_CUSTOMER_DEFAULT_DPD), whether
    one of its loans was cancelled for fraud, and whether a person holds it where it is."""
    if status in (X, B):
        return []
    if fraud:
        return [CustomerEvent.FRAUD_CANCELLATION]
    past_due = max_dpd > threshold
    if status == U:
        if not registered:
            return []
        return [CustomerEvent.REGISTRATION_COMPLETED] + ([CustomerEvent.FELL_PAST_DUE] if past_due else [])
    if status == E and past_due:
        return [CustomerEvent.FELL_PAST_DUE]
    if status == D and not past_due and not held:
        return [CustomerEvent.CURED]
    return []


@dataclass(eq=False)
class StatusMove:
    """One move of a customer's status, for its history (no personal data)."""

    event: CustomerEvent
    previous: CustomerStatus
    status: CustomerStatus
    reason: str | None
    at: datetime
    customer_id: int | None = None
    id: int | None = None


@dataclass(eq=False)
class Customer:
    """A borrower. Its personal data is None once deleted; its id, external id and status stay."""

    external_id: str
    created_at: datetime
    lender: str = OWN_LENDER
    first_name: str | None = None
    last_name: str | None = None
    second_last_name: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    national_id: str | None = None
    risk_profile: RiskProfile | None = None
    score: int | None = None
    scored_at: datetime | None = None
    status: CustomerStatus = CustomerStatus.UNREGISTERED
    held: bool = False  # a person put it in its status: no automatic move takes it out
    status_reason: str | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None
    id: int | None = None
    moves: list[StatusMove] = field(default_factory=list, repr=False, compare=False)

    @property
    def registered(self) -> bool:
        """Registration is complete: every field of REGISTRATION_FIELDS given and a risk profile scored."""
        return all(getattr(self, name) for name in REGISTRATION_FIELDS) and self.risk_profile is not None

    def may(self, action: CustomerAction) -> bool:
        return action in ALLOWED_ACTIONS[self.status]

    def require(self, action: CustomerAction) -> None:
        """Raises ActionRefused unless the customer's status permits ``action``."""
        if not self.may(action):
            raise ActionRefused.of(self.id, self.status, action)

    def move(self, event: CustomerEvent, at: datetime, reason: str | None = None) -> StatusMove:
        """Apply ``event``; raises CustomerError when the transition table does not allow it from here."""
        outcome = dry_run(self.status, event)
        if outcome.target is None:
            raise CustomerError(f"customer {self.id}: {outcome.why}")
        made = StatusMove(event, self.status, outcome.target, reason, at)
        self.status, self.status_reason, self.updated_at = outcome.target, reason, at
        self.held = event in HOLDING
        self.moves.append(made)
        return made

    def erase(self, at: datetime) -> None:
        """Deleted means gone: every personal field emptied."""
        for name in PII_FIELDS:
            setattr(self, name, None)
        self.deleted_at = at


# --- the national id (CURP) ---------------------------------------------------------------------------------

CURP_ALPHABET = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"
CURP_PATTERN = r"^[A-Z][AEIOUX][A-Z]{2}[0-9]{6}[HMX][A-Z]{2}[B-DF-HJ-NP-TV-Z]{3}[0-9A-Z][0-9]$"
CURP_STATES = frozenset("AS BC BS CC CL CM CS CH DF DG GT GR HG JC MC MN MS NT NL OC PL QT QR SP SL SR TC TS TL "
                        "VZ YN ZS NE".split())  # the 32 states (DF: Mexico City) and NE, born abroad
_CURP = re.compile(CURP_PATTERN)


def curp_check_digit(first17: str) -> int:
    """RENAPO's check digit: each of the 17 characters' value in CURP_ALPHABET weighted 18 down to 2, and
    10 less the sum's last digit (0 for 10)."""
    total = sum(CURP_ALPHABET.index(c) * (18 - i) for i, c in enumerate(first17))
    return (10 - total % 10) % 10


def with_check_digit(first17: str) -> str:
    """The whole CURP of its first 17 characters."""
    return first17 + str(curp_check_digit(first17))


def validate_curp(value: str) -> str:
    """The CURP, upper-cased, when its shape, birth date, state and check digit are right; CustomerError
    otherwise (the message never repeats the value: it is personal data)."""
    curp = value.strip().upper()
    if not _CURP.match(curp):
        raise CustomerError("national_id is a CURP: 18 letters and digits (4 letters, a birth date YYMMDD, H, M or "
                            "X, a state, 3 consonants, a letter or digit and the check digit)")
    try:
        date(2000 + int(curp[4:6]), int(curp[6:8]), int(curp[8:10]))
    except ValueError:
        raise CustomerError("national_id: the CURP's birth date is not a date") from None
    if curp[11:13] not in CURP_STATES:
        raise CustomerError("national_id: the CURP's state code is not one of Mexico's states (or NE)")
    if curp_check_digit(curp[:17]) != int(curp[17]):
        raise CustomerError("national_id: the CURP's check digit is wrong")
    return curp
