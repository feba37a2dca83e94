"""Who may do what: API key roles and the actions each is allowed."""
from __future__ import annotations

import enum


class Role(str, enum.Enum):
    ADMIN = "admin"          # everything
    TREASURY = "treasury"    # validations, approvals, adjustments, dead letters
    OPERATOR = "operator"    # catalogue and credits, no money decisions
    PARTNER = "partner"      # reads its own merchant's balances and reports


class Action(str, enum.Enum):
    READ = "read"
    MANAGE_CATALOG = "manage_catalog"
    VALIDATE = "validate"
    ORIGINATE = "originate"
    ADJUST = "adjust"
    APPROVE_TRANSFER = "approve_transfer"
    OPERATE_QUEUES = "operate_queues"


ALLOWED: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.TREASURY: frozenset({Action.READ, Action.VALIDATE, Action.ADJUST, Action.APPROVE_TRANSFER,
                              Action.OPERATE_QUEUES}),
    Role.OPERATOR: frozenset({Action.READ, Action.MANAGE_CATALOG, Action.ORIGINATE}),
    Role.PARTNER: frozenset({Action.READ}),
}


def may(role: Role, action: Action) -> bool:
    return action in ALLOWED[role]


def sees_merchant(role: Role, own_merchant_id: int | None, merchant_id: int) -> bool:
    """A partner sees only its own merchant; the other roles see all."""
    return role != Role.PARTNER or own_merchant_id == merchant_id
