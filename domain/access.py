"""Who may do what: API key roles and the actions each is allowed."""
from __future__ import annotations

import enum


class Role(str, enum.Enum):
    """The role an API key carries; ALLOWED says which actions each role may take."""

    ADMIN = "admin"          # everything
    TREASURY = "treasury"    # validations, approvals, adjustments, dead letters
    OPERATOR = "operator"    # catalogue and credits, no money decisions
    PARTNER = "partner"      # reads its own merchant's balances and reports
    TENANT = "tenant"        # submits and reads its own tenant's bulk batches
    ACCOUNT_EXECUTIVE = "account_executive"  # enables (and disables) the stores' offers


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
    MANAGE_TENANTS = "manage_tenants"    # a tenant's configuration
    FUND_TENANTS = "fund_tenants"        # credit a tenant's float: a money decision
    SUBMIT_BATCHES = "submit_batches"
    READ_BATCHES = "read_batches"
    APPROVE_BATCHES = "approve_batches"  # a batch waiting for approval: a money decision, by another key
    CONFIRM_BATCHES = "confirm_batches"  # the client's own confirmation (or cancellation) of its dated batch
    WITHDRAW_FROM_WALLETS = "withdraw_from_wallets"  # a closed-loop wallet's money paid out over SPEI
    READ_CALENDARS = "read_calendars"    # execution and delivery dates: every role
    TRACK_PAYMENTS = "track_payments"    # a payment by its UETR: every role, partners and tenants their own
    READ_CUSTOMERS = "read_customers"    # the lender's customers, their personal data masked
    READ_CUSTOMER_PII = "read_customer_pii"  # ... and unmasked: the roles that register and serve them
    MANAGE_CUSTOMERS = "manage_customers"  # register customers and edit their data
    SCORE_CUSTOMERS = "score_customers"  # the scoring process's risk profile
    MOVE_CUSTOMERS = "move_customers"    # enable, disable, block or delete a customer by hand, with a reason
    ENABLE_OFFERS = "enable_offers"      # a draft offer starts issuing loans: account executives and admin
    DISABLE_OFFERS = "disable_offers"    # an offer stops issuing loans (its loans go on being serviced)
    HANDLE_CREDITS = "handle_credits"    # deliver or cancel a credit; a partner its own merchant's only
    READ_LOANS = "read_loans"            # loans, their schedules, positions and repayments
    REQUEST_LOANS = "request_loans"      # a customer's loan request, completed or rejected
    MOVE_LOANS = "move_loans"            # freeze, unfreeze, open or resolve a dispute (operations, treasury)
    RECORD_REPAYMENTS = "record_repayments"  # a customer's payment, or one made outside that a person records
    REVERSE_REPAYMENTS = "reverse_repayments"  # give a payment back: what it paid is owed again


ALLOWED: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.TREASURY: frozenset({Action.READ, Action.VALIDATE, Action.ADJUST, Action.APPROVE_TRANSFER,
                              Action.EDIT_STORE, Action.DECIDE_PAYOUTS, Action.OPERATE_QUEUES,
                              Action.READ_OPERATIONS, Action.FUND_TENANTS, Action.READ_BATCHES,
                              Action.APPROVE_BATCHES, Action.READ_CALENDARS, Action.TRACK_PAYMENTS}),
    Role.OPERATOR: frozenset({Action.READ, Action.MANAGE_CATALOG, Action.EDIT_STORE, Action.ORIGINATE,
                              Action.READ_CALENDARS, Action.TRACK_PAYMENTS, Action.DISABLE_OFFERS,
                              Action.HANDLE_CREDITS}),
    Role.PARTNER: frozenset({Action.READ, Action.READ_CALENDARS, Action.TRACK_PAYMENTS, Action.HANDLE_CREDITS}),
    Role.TENANT: frozenset({Action.SUBMIT_BATCHES, Action.READ_BATCHES, Action.CONFIRM_BATCHES,
                            Action.WITHDRAW_FROM_WALLETS, Action.READ_CALENDARS, Action.TRACK_PAYMENTS}),
    Role.ACCOUNT_EXECUTIVE: frozenset({Action.READ, Action.ENABLE_OFFERS, Action.DISABLE_OFFERS,
                                       Action.READ_CALENDARS, Action.TRACK_PAYMENTS}),
}

# customers: operators register, edit and score them and see their data; treasury moves them (and deletes
# them) and sees their data masked; partners and tenants see none of them
ALLOWED[Role.OPERATOR] = ALLOWED[Role.OPERATOR] | {Action.READ_CUSTOMERS, Action.READ_CUSTOMER_PII,
                                                   Action.MANAGE_CUSTOMERS, Action.SCORE_CUSTOMERS}
ALLOWED[Role.TREASURY] = ALLOWED[Role.TREASURY] | {Action.READ_CUSTOMERS, Action.MOVE_CUSTOMERS}
# loans: operators take loan requests, move loans and record payments; treasury moves loans and reverses
# payments (a reversal makes the customer owe again: not the person who recorded it, by role)
ALLOWED[Role.OPERATOR] = ALLOWED[Role.OPERATOR] | {Action.READ_LOANS, Action.REQUEST_LOANS, Action.MOVE_LOANS,
                                                   Action.RECORD_REPAYMENTS}
ALLOWED[Role.TREASURY] = ALLOWED[Role.TREASURY] | {Action.READ_LOANS, Action.MOVE_LOANS, Action.REVERSE_REPAYMENTS}


def a_key_of(role: Role) -> str:
    """How an error names a key of the role: "an admin key", "an operator key", "a treasury key"."""
    return f"{'an' if role.value[0] in 'aeiou' else 'a'} {role.value} key"


def may(role: Role, action: Action) -> bool:
    """Whether the role is allowed the action."""
    return action in ALLOWED[role]


def sees_merchant(role: Role, own_merchant_id: int | None, merchant_id: int) -> bool:
    """A partner sees only its own merchant; the other roles see all."""
    return role != Role.PARTNER or own_merchant_id == merchant_id


def acts_for_tenant(role: Role, own_tenant_id: int | None, tenant_id: int) -> bool:
    """A tenant key acts for its own tenant only; admin and treasury keys for any."""
    return role in (Role.ADMIN, Role.TREASURY) or (role == Role.TENANT and own_tenant_id == tenant_id)
