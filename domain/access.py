"""Who may do what: API key roles and the actions each is allowed."""
from __future__ import annotations

import enum


class Role(str, enum.Enum):
    """The role an API key carries; ALLOWED says which actions each role may take."""

    ADMIN = "admin"          # everything
    TREASURY = "treasury"    # validations, approvals, adjustments, dead letters
    OPERATOR = "operator"    # catalogue and credits, no money decisions
    PARTNER = "partner"      # reads its own merchant's balances and reports


class Action(str, enum.Enum):
    """Something a caller asks to do; each role is allowed a set of actions in ALLOWED."""

    READ = "read"
    MANAGE_CATALOG = "manage_catalog"
    EDIT_STORE = "edit_store"            # reaches the store; which fields a role may change is checked per field
    VALIDATE = "validate"
    ORIGINATE = "originate"
    ADJUST = "adjust"
    APPROVE_TRANSFER = "approve_transfer"
    DECIDE_PAYOUTS = "decide_payouts"    # a store's bank details and its approval switch
    OPERATE_QUEUES = "operate_queues"
    READ_OPERATIONS = "read_operations"  # the event log and the audit log
    MANAGE_KEYS = "manage_keys"


ALLOWED: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.TREASURY: frozenset({Action.READ, Action.VALIDATE, Action.ADJUST, Action.APPROVE_TRANSFER,
                              Action.EDIT_STORE, Action.DECIDE_PAYOUTS, Action.OPERATE_QUEUES,
                              Action.READ_OPERATIONS}),
    Role.OPERATOR: frozenset({Action.READ, Action.MANAGE_CATALOG, Action.EDIT_STORE, Action.ORIGINATE}),
    Role.PARTNER: frozenset({Action.READ}),
}


def may(role: Role, action: Action) -> bool:
    """Whether the role is allowed the action."""
    return action in ALLOWED[role]


def sees_merchant(role: Role, own_merchant_id: int | None, merchant_id: int) -> bool:
    """A partner sees only its own merchant; the other roles see all."""
    return role != Role.PARTNER or own_merchant_id == merchant_id
