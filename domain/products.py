"""Products group offers (the stores' payment options): a name, a currency and a payment frequency, and a
status by a transition table. An inactive product issues no new offers and no new loans, and charges no
new interest; its data stays."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping, TypeVar

from domain.errors import DomainError


class StatusMoveRefused(DomainError, ValueError):
    """A status move the transition table does not allow from the current status."""


class ProductEditRefused(DomainError, ValueError):
    """A product field that cannot be edited."""


EDITABLE = frozenset({"name", "payment_frequency"})


class PaymentFrequency(str, enum.Enum):
    """How often a product's installments fall due (monthly unless said)."""

    MONTHLY = "monthly"
    BIWEEKLY = "biweekly"
    WEEKLY = "weekly"


class ProductStatus(str, enum.Enum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class ProductAction(str, enum.Enum):
    ACTIVATE = "activate"
    DEACTIVATE = "deactivate"


A = TypeVar("A", bound=enum.Enum)
S = TypeVar("S", bound=enum.Enum)
Moves = Mapping[A, tuple[frozenset[S], S]]


# action -> (the statuses it may start from, the status it leads to)
PRODUCT_MOVES: Moves[ProductAction, ProductStatus] = {
    ProductAction.ACTIVATE: (frozenset({ProductStatus.INACTIVE}), ProductStatus.ACTIVE),
    ProductAction.DEACTIVATE: (frozenset({ProductStatus.ACTIVE}), ProductStatus.INACTIVE),
}


def allowed_actions(moves: Moves[A, S], status: S) -> list[str]:
    """The actions a transition table allows from ``status``, by value."""
    return [action.value for action, (sources, _) in moves.items() if status in sources]


def next_status(moves: Moves[A, S], what: str, status: S, action: A) -> S:
    """The status ``action`` leads to from ``status``; the same status when it is there already (a repeat
    changes nothing). Raises StatusMoveRefused naming the status and the actions it allows."""
    sources, target = moves[action]
    if status == target:
        return target
    if status not in sources:
        allowed = ", ".join(allowed_actions(moves, status)) or "none"
        raise StatusMoveRefused(f"{what} is {status.value}: it cannot {action.value} (allowed: {allowed})")
    return target


@dataclass(eq=False)
class Product:
    """A lender's product. ``default_for_currency`` marks the one product an offer made without naming one
    goes under (one per currency, made on first need)."""

    name: str
    currency: str
    created_at: datetime
    payment_frequency: PaymentFrequency = PaymentFrequency.MONTHLY
    status: ProductStatus = ProductStatus.ACTIVE
    default_for_currency: str | None = None
    id: int | None = None

    @property
    def is_active(self) -> bool:
        """Whether it takes new offers and new loans."""
        return self.status == ProductStatus.ACTIVE

    @property
    def charges_interest(self) -> bool:
        """Whether its loans accrue new interest: an inactive product charges nothing new."""
        return self.is_active

    def edit(self, changes: Mapping[str, object]) -> dict[str, tuple[object, object]]:
        """Apply an edit of its name or payment frequency (its currency stays: its offers are in it); returns
        what changed as (old, new). Raises ProductEditRefused for another field."""
        refused = sorted(set(changes) - EDITABLE)
        if refused:
            raise ProductEditRefused(f"{', '.join(refused)} cannot be edited")
        changed = {name: (getattr(self, name), value) for name, value in changes.items() if getattr(self, name) != value}
        for name, (_, value) in changed.items():
            setattr(self, name, value)
        return changed

    def move(self, action: ProductAction) -> bool:
        """Apply ``action``; True when the status changed. Raises StatusMoveRefused when the table refuses it."""
        before = self.status
        self.status = next_status(PRODUCT_MOVES, f"product {self.id}", self.status, action)
        return self.status != before
