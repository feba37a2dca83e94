"""The lender's customers: register, edit, score, move by hand (treasury, admin) or by the rules, delete (and
erase), and what a caller is shown of one. Nothing personal goes into the event log or the audit details:
they name fields, never their values."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from domain import masking
from domain.customers import (
    ADDRESS_LENGTH, DEFAULT_DPD, NAME_LENGTH, OWN_LENDER, PII_FIELDS, PROACTIVE, REASON_LENGTH, ActionRefused,
    Customer, CustomerAction, CustomerError, CustomerEvent, CustomerStatus, Outcome, RiskProfile, StatusMove,
    allowed_actions, automatic_events, dry_run, validate_curp,
)
from domain.dual_control import EMAIL_LENGTH, EMAIL_PATTERN
from usecases.errors import Conflict, Invalid
from usecases.ports import CustomerLoans, UnitOfWork

PHONE_PATTERN = r"^\+?[0-9]{8,15}$"  # E.164: up to 15 digits, the country code's + optional
MAX_SCORE = 10_000
NAME_FIELDS = ("first_name", "last_name", "second_last_name")
_PHONE, _EMAIL = re.compile(PHONE_PATTERN), re.compile(EMAIL_PATTERN)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class NoLoans:
    """A loan book where nobody owes anything or is late (a customer's rules without loans)."""

    def outstanding(self, customer_id: int) -> int:
        return 0

    def max_days_past_due(self, customer_id: int) -> int:
        return 0


NO_LOANS: CustomerLoans = NoLoans()


class StatusConflict(Conflict):
    """The customer's status refuses the request (409): the body also names the status and what it allows."""

    def __init__(self, message: str, status: CustomerStatus):
        super().__init__(message)
        self.extra = {"status": status.value, "allowed_actions": allowed_actions(status)}


@dataclass(frozen=True)
class CustomerRules:
    """The settings the customers' rules read: the days past due beyond which a customer is disabled
    (DISPERSA_CUSTOMER_DEFAULT_DPD), and the loan book they ask: the unit of work's own (``uow.customer_loans``,
    read in the transaction that asks, so it sees the loan changes made before) unless one is given."""

    default_dpd: int = DEFAULT_DPD
    loans: CustomerLoans | None = None

    def loan_book(self, uow: UnitOfWork) -> CustomerLoans:
        return self.loans if self.loans is not None else uow.customer_loans


def _text(name: str, value: Any, length: int, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip() and not required):
        if required:
            raise Invalid(f"{name} is required")
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > length or _CONTROL.search(value):
        raise Invalid(f"{name} is text of 1 to {length} characters, without control characters")
    return value.strip()


def _phone(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _PHONE.match(value):
        raise Invalid("phone is 8 to 15 digits, the country code's + optional")
    return value


def _email(value: Any) -> str | None:
    if value is None or value == "":
        return None
    email = value.strip().lower() if isinstance(value, str) else ""
    if len(email) > EMAIL_LENGTH or not _EMAIL.match(email):
        raise Invalid(f"email is an e-mail address of at most {EMAIL_LENGTH} characters")
    return email


def _curp(value: Any) -> str | None:
    if value is None or value == "":
        return None
    try:
        return validate_curp(str(value))
    except CustomerError as e:
        raise Invalid(str(e)) from None


def _name(field: str) -> Callable[[Any], str | None]:
    return lambda value: _text(field, value, NAME_LENGTH, required=False)


CLEAN: dict[str, Callable[[Any], str | None]] = {
    **{name: _name(name) for name in NAME_FIELDS}, "phone": _phone, "email": _email, "national_id": _curp,
    "address": lambda value: _text("address", value, ADDRESS_LENGTH, required=False)}


def _details(fields: dict[str, Any], creating: bool) -> dict[str, Any]:
    """The personal fields given, checked and normalised (empty is None); Invalid, never repeating a value,
    otherwise."""
    out = {name: CLEAN[name](fields[name]) for name in PII_FIELDS if name in fields}
    if creating and not out.get("first_name"):
        raise Invalid("first_name is required")
    return out


def _refused(customer: Customer, action: CustomerAction) -> None:
    try:
        customer.require(action)
    except ActionRefused as e:
        raise StatusConflict(str(e), e.status) from None


def _unique_national_id(uow: UnitOfWork, national_id: str | None, customer_id: int | None = None) -> None:
    """Conflict when another customer of the lender has this CURP (the message never repeats it)."""
    if national_id is None:
        return
    holder = uow.customers.id_by_national_id(OWN_LENDER, national_id)
    if holder is not None and holder != customer_id:
        raise Conflict(f"another customer ({holder}) has this national_id")


def _record_moves(uow: UnitOfWork, customer: Customer, moves: list[StatusMove]) -> None:
    """Each status move as an event, with ids and statuses only."""
    for move in moves:
        uow.log("customer_status_changed", f"customer {customer.id} {move.previous.value} -> {move.status.value} "
                f"({move.event.value})", details={"customer_id": customer.id, "event": move.event.value,
                                                 "previous": move.previous.value, "status": move.status.value})


def _automatic(uow: UnitOfWork, customer: Customer, rules: CustomerRules, fraud: bool = False) -> list[StatusMove]:
    """The automatic moves the customer is due now, made."""
    assert customer.id is not None
    events = automatic_events(customer.status, customer.registered, rules.loan_book(uow).max_days_past_due(customer.id),
                              rules.default_dpd, fraud, customer.held)
    return [customer.move(event, uow.clock()) for event in events]


def _settled(uow: UnitOfWork, customer: Customer, moves: list[StatusMove]) -> Customer:
    uow.customers.save(customer)
    _record_moves(uow, customer, moves)
    return customer


def create_customer(uow: UnitOfWork, fields: dict[str, Any], rules: CustomerRules = CustomerRules()) -> Customer:
    """Register a customer (unregistered until its registration is complete and it is scored). Conflict when
    the external id or the CURP is another customer's; Invalid for a bad field."""
    _text("external_id", fields.get("external_id"), 64, required=True)
    external_id = fields["external_id"]  # as given: an identifier is not trimmed
    if uow.customers.by_external_id(OWN_LENDER, external_id) is not None:
        raise Conflict(f"external_id {external_id!r} names a customer already")
    details = _details(fields, creating=True)
    _unique_national_id(uow, details.get("national_id"))
    customer = Customer(external_id=fields["external_id"], created_at=uow.clock(), **details)
    uow.customers.add(customer)
    uow.log("customer_created", f"customer {customer.id} registered", details={"customer_id": customer.id})
    return _settled(uow, customer, _automatic(uow, customer, rules))


def update_customer(uow: UnitOfWork, customer_id: int, changes: dict[str, Any],
                    rules: CustomerRules = CustomerRules()) -> tuple[Customer, list[str]]:
    """Edit the customer's personal data; returns it and the names of the fields that changed (what the audit
    log keeps: never their values)."""
    customer = uow.customers.lock(customer_id)
    _refused(customer, CustomerAction.UPDATE_DETAILS)
    details = _details(changes, creating=False)
    if "first_name" in details and details["first_name"] is None:
        raise Invalid("first_name cannot be emptied")
    changed = sorted(name for name, value in details.items() if getattr(customer, name) != value)
    if "national_id" in changed:
        _unique_national_id(uow, details["national_id"], customer_id)
    for name in changed:
        setattr(customer, name, details[name])
    customer.updated_at = uow.clock()
    return _settled(uow, customer, _automatic(uow, customer, rules)), changed


def score_customer(uow: UnitOfWork, customer_id: int, risk_profile: str, score: int | None = None,
                   rules: CustomerRules = CustomerRules()) -> Customer:
    """The scoring process's verdict: the customer's risk profile (and its score, when given)."""
    customer = uow.customers.lock(customer_id)
    _refused(customer, CustomerAction.SCORE)
    try:
        customer.risk_profile = RiskProfile(risk_profile)
    except ValueError:
        raise Invalid(f"risk_profile is one of {[p.value for p in RiskProfile]}") from None
    if score is not None and (isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= MAX_SCORE):
        raise Invalid(f"score is an integer from 0 to {MAX_SCORE}")
    customer.score, customer.scored_at = score, uow.clock()
    uow.log("customer_scored", f"customer {customer.id} scored {customer.risk_profile.value}",
            details={"customer_id": customer.id, "risk_profile": customer.risk_profile.value})
    return _settled(uow, customer, _automatic(uow, customer, rules))


def _proactive(event: str) -> CustomerEvent:
    try:
        move = CustomerEvent(event)
    except ValueError:
        move = CustomerEvent.DELETE
    if move not in PROACTIVE or move is CustomerEvent.DELETE:
        raise Invalid("event is one of enable, disable, block (to delete, POST the customer's deletion)")
    return move


def move_customer(uow: UnitOfWork, customer_id: int, event: str, reason: str) -> tuple[Customer, StatusMove]:
    """A person's move (enable, disable, block), with its reason. StatusConflict when the customer's status
    does not allow it."""
    move, why = _proactive(event), _text("reason", reason, REASON_LENGTH, required=True)
    customer = uow.customers.lock(customer_id)
    try:
        made = customer.move(move, uow.clock(), why)
    except CustomerError as e:
        raise StatusConflict(str(e), customer.status) from None
    _settled(uow, customer, [made])
    return customer, made


def preview_move(uow: UnitOfWork, customer_id: int, event: str) -> Outcome:
    """What a person's move would do to the customer now, changing nothing."""
    return dry_run(uow.customers.get(customer_id).status, _proactive(event))


def apply_automatic_moves(uow: UnitOfWork, customer_id: int, rules: CustomerRules, fraud: bool = False) -> Customer:
    """The automatic moves the customer is due from its loans (the loan servicing calls this: after the
    daily days-past-due run, and with ``fraud`` when one of its loans is cancelled for fraud)."""
    customer = uow.customers.lock(customer_id)
    return _settled(uow, customer, _automatic(uow, customer, rules, fraud))


def require(uow: UnitOfWork, customer_id: int, action: CustomerAction) -> Customer:
    """The customer, when its status permits ``action`` (the loan code asks before a request or a payment);
    StatusConflict otherwise."""
    customer = uow.customers.get(customer_id)
    _refused(customer, action)
    return customer


def move_details(move: StatusMove) -> dict[str, Any]:
    """A status move as the audit log keeps it: statuses and the reason, nothing personal."""
    return {"event": move.event.value, "previous": move.previous.value, "status": move.status.value,
            "reason": move.reason}


@dataclass(frozen=True)
class Deletion:
    """A customer deleted: the move, what it still owed, and whether that needed force."""

    customer: Customer
    move: StatusMove
    owed: int
    force: bool

    def audit_details(self) -> dict[str, Any]:
        return {**move_details(self.move), "force": self.force, "outstanding": self.owed}


def delete_customer(uow: UnitOfWork, customer_id: int, reason: str, force: bool = False,
                    rules: CustomerRules = CustomerRules()) -> Deletion:
    """Delete: its personal data erased for good, its id, external id and status kept. A customer who still
    owes needs ``force``."""
    why = _text("reason", reason, REASON_LENGTH, required=True)
    customer = uow.customers.lock(customer_id)
    if customer.status == CustomerStatus.DELETED:
        raise StatusConflict(f"customer {customer_id} is deleted already", customer.status)
    owed = rules.loan_book(uow).outstanding(customer_id)
    if owed and not force:
        raise Conflict(f"customer {customer_id} owes {owed} (minor units): deleting it needs force")
    made = customer.move(CustomerEvent.DELETE, uow.clock(), why)
    customer.erase(uow.clock())
    _settled(uow, customer, [made])
    return Deletion(customer, made, owed, force)


# --- what a caller is shown -------------------------------------------------------------------------------


def _masked_email(value: str | None) -> str | None:
    """``j***@example.com``: the first character of the mailbox and the domain."""
    if not value:
        return value
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}"


MASKS = {"first_name": masking.name, "last_name": masking.name, "second_last_name": masking.name,
         "phone": masking.account, "email": _masked_email, "address": lambda v: "***" if v else v,
         "national_id": masking.account}


def customer_view(customer: Customer, personal: bool) -> dict[str, Any]:
    """A customer as shown: its personal data whole when ``personal`` (a role that needs it), masked
    otherwise; none once deleted."""
    shown = {name: (getattr(customer, name) if personal else MASKS[name](getattr(customer, name)))
             for name in PII_FIELDS}
    return {"id": customer.id, "external_id": customer.external_id, **shown,
            "risk_profile": customer.risk_profile.value if customer.risk_profile else None,
            "score": customer.score, "scored_at": customer.scored_at, "status": customer.status.value,
            "status_reason": customer.status_reason, "held": customer.held, "registered": customer.registered,
            "allowed_actions": allowed_actions(customer.status), "created_at": customer.created_at,
            "updated_at": customer.updated_at, "deleted_at": customer.deleted_at}


def customers_page(uow: UnitOfWork, external_id: str | None, status: str | None, page: int, per_page: int,
                   personal: bool) -> dict[str, Any]:
    """One page of customers, oldest first: by external id and status when given."""
    found, total = uow.customers.page(OWN_LENDER, external_id, CustomerStatus(status) if status else None,
                                      (page - 1) * per_page, per_page)
    return {"items": [customer_view(c, personal) for c in found], "page": page, "per_page": per_page,
            "total": total}
