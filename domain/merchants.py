"""Merchants, stores and payment options, and the treasury's validation chain."""
from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal

from domain import clabe, stp
from domain.commission import DEFAULT_MXN_TAX_RATE, OptionTerms
from domain.errors import DomainError
from domain.products import next_status
from domain.schedules import DEFAULT_TIMEZONE, DisbursementMode, Schedule


NOT_EDITABLE = frozenset({"id", "validated", "balance", "last_sequence", "created_at", "options", "stores", "tiers",
                          "merchant_id", "store_id", "validated_clabe", "validated_beneficiary_name",
                          "validated_rfc_curp", "details_changed_by_id", "new_details_by_id",
                          "product_id"})
# Money decisions: where a store's payouts go and whether treasury approves each one. Only treasury
# or admin may change them (domain.access.Action.DECIDE_PAYOUTS), and the audit keeps old and new values.
PAYOUT_FIELDS = frozenset({"clabe", "beneficiary_name", "rfc_curp", "requires_confirmation"})


class ValidationError(DomainError, ValueError):
    """Treasury cannot validate this yet; the message says what is missing."""


class MerchantStatus(str, enum.Enum):
    """Whether a merchant is enabled; a disabled merchant cannot originate credits."""

    ENABLED = "enabled"
    DISABLED = "disabled"


class OfferStatus(str, enum.Enum):
    """An offer (a payment option) is made a draft, enabled by an account executive, and disabled for good."""

    DRAFT = "draft"
    ENABLED = "enabled"
    DISABLED = "disabled"


class OfferAction(str, enum.Enum):
    ENABLE = "enable"
    DISABLE = "disable"


# action -> (the statuses it may start from, the status it leads to); a disabled offer stays disabled
OFFER_MOVES: dict[OfferAction, tuple[frozenset[OfferStatus], OfferStatus]] = {
    OfferAction.ENABLE: (frozenset({OfferStatus.DRAFT}), OfferStatus.ENABLED),
    OfferAction.DISABLE: (frozenset({OfferStatus.ENABLED}), OfferStatus.DISABLED),
}


@dataclass(eq=False)
class PaymentOption:
    """A term a store offers (seed 000, figure 2.2). Rates are decimals (0.035 is 3.5 %)."""

    store_id: int
    merchant_id: int
    number_of_payments: int
    merchant_commission: Decimal
    min_amount: int
    max_amount: int
    created_at: datetime
    priority: int = 0
    identifier_code: str = ""
    type: str = "regular"
    a0_interest_rate: Decimal = Decimal("0")
    c3_interest_rate: Decimal = Decimal("0")
    discount_percentage: Decimal = Decimal("0")
    first_payment_month_shift: int = 0
    starting_time: datetime | None = None
    ending_time: datetime | None = None
    is_promo: bool = False
    is_active: bool = True
    can_commission_be_auto_updated: bool = False
    is_in_trial_period: bool = False
    trial_commission: Decimal | None = None
    end_of_trial_period: datetime | None = None
    validated: bool = False
    product_id: int | None = None
    status: OfferStatus = OfferStatus.DRAFT
    id: int | None = None

    def move(self, action: OfferAction) -> bool:
        """Apply ``action``; True when the status changed. Raises StatusMoveRefused when the table refuses it."""
        before = self.status
        self.status = next_status(OFFER_MOVES, f"offer {self.id}", self.status, action)
        return self.status != before

    @property
    def issues_loans(self) -> bool:
        """Only an enabled offer issues new loans (its product must be active too); a disabled one's loans go on
        being serviced."""
        return self.status == OfferStatus.ENABLED

    def terms(self) -> OptionTerms:
        """The option as the commission selection reads it (an option not stored yet has id 0)."""
        return OptionTerms(
            id=self.id or 0, number_of_payments=self.number_of_payments, priority=self.priority,
            min_amount=self.min_amount, max_amount=self.max_amount, commission_rate=self.merchant_commission,
            validated=self.validated, active=self.is_active, starts_at=self.starting_time, ends_at=self.ending_time,
            in_trial=self.is_in_trial_period, trial_commission_rate=self.trial_commission,
            trial_ends_at=self.end_of_trial_period,
        )


@dataclass(eq=False)
class Store:
    """A merchant's point of sale, with its own bank account, schedule and balance ledger."""

    merchant_id: int
    name: str
    clabe: str
    created_at: datetime
    beneficiary_name: str = ""
    rfc_curp: str = ""
    currency: str = "MXN"
    disbursement_mode: DisbursementMode = DisbursementMode.DAILY
    time_of_day: time = time(0, 0)
    weekday: int = 0
    day_of_month: int = 1
    timezone: str = DEFAULT_TIMEZONE
    minimum_transfer: int = 0
    automation_enabled: bool = False
    requires_confirmation: bool = False
    validated: bool = False
    # The bank details treasury validated: every payment order carries these, never unvalidated ones.
    validated_clabe: str | None = None
    validated_beneficiary_name: str | None = None
    validated_rfc_curp: str | None = None
    balance: int = 0
    last_sequence: int = 0
    # Dual control: the person who changed the payout fields since the last validation (someone else
    # validates), and the one who changed the account since its last approved payout (someone else
    # approves the next payout). None when no person's change waits.
    details_changed_by_id: int | None = None
    new_details_by_id: int | None = None
    id: int | None = None
    options: list[PaymentOption] = field(default_factory=list)

    @property
    def schedule(self) -> Schedule:
        """The store's disbursement schedule from its mode and anchors; raises ScheduleError when they do not fit."""
        return Schedule(self.disbursement_mode, self.time_of_day, self.weekday, self.day_of_month, self.timezone)

    @property
    def payee_name(self) -> str:
        """The name payment orders carry: the validated beneficiary name, or the store's own name."""
        return self.validated_beneficiary_name or self.name


@dataclass(eq=False)
class CommissionTierRow:
    """A merchant's monthly commission tier, as configured by treasury."""

    merchant_id: int
    min_origination: int
    commission_rate: Decimal
    id: int | None = None


@dataclass(eq=False)
class Merchant:
    """A partner offering our credits, with one or more stores."""

    name: str
    created_at: datetime
    currency: str = "MXN"
    tax_rate: Decimal = DEFAULT_MXN_TAX_RATE
    timezone: str = DEFAULT_TIMEZONE  # the months of its commission tiers are months here
    status: MerchantStatus = MerchantStatus.ENABLED
    validated: bool = False
    id: int | None = None
    stores: list[Store] = field(default_factory=list)
    tiers: list[CommissionTierRow] = field(default_factory=list)

    @property
    def can_originate(self) -> bool:
        """A merchant originates credits only when validated and enabled."""
        return self.validated and self.status == MerchantStatus.ENABLED


def validate_option(option: PaymentOption) -> None:
    """Treasury validates a payment option; raises ValidationError when its min amount is above its max
    or it has no payment."""
    if option.min_amount > option.max_amount:
        raise ValidationError("min amount is above max amount")
    if option.number_of_payments < 1:
        raise ValidationError("an option has at least one payment")
    option.validated = True


def validate_store(store: Store) -> None:
    """Treasury validates a store with a valid CLABE and a validated payment option: its bank details
    become the validated ones payment orders carry. Raises ValidationError otherwise."""
    if not clabe.is_valid(store.clabe):
        raise ValidationError("the store's bank account is not a valid CLABE")
    if not any(o.validated for o in store.options):
        raise ValidationError("the store has no validated payment option")
    if not stp.fold_text(store.beneficiary_name or store.name):
        raise ValidationError("the beneficiary name has nothing STP can carry (ASCII letters or digits)")
    store.validated = True
    store.validated_clabe = store.clabe
    store.validated_beneficiary_name = store.beneficiary_name
    store.validated_rfc_curp = store.rfc_curp


def validate_merchant(merchant: Merchant) -> None:
    """Treasury validates a merchant with a validated store; raises ValidationError otherwise."""
    if not any(s.validated for s in merchant.stores):
        raise ValidationError("the merchant has no validated store")
    merchant.validated = True


Change = tuple[object, object]  # (old value, new value)


def edit(entity: Merchant | Store | PaymentOption, changes: dict[str, object]) -> dict[str, Change]:
    """Apply an edit, all or nothing, and return what actually changed as (old, new).
    Whatever changes needs treasury's validation again; an edit that changes nothing keeps it."""
    editable = {f.name for f in dataclasses.fields(entity) if f.name not in NOT_EDITABLE}
    if isinstance(entity, PaymentOption):
        editable.discard("status")  # an offer's status moves by OFFER_MOVES only
    refused = sorted(set(changes) - editable)
    if refused:
        raise ValidationError(f"{', '.join(refused)} cannot be edited")
    changed = {name: (getattr(entity, name), value) for name, value in changes.items()
               if getattr(entity, name) != value}
    for name, (_, value) in changed.items():
        setattr(entity, name, value)
    if changed:
        entity.validated = False
    return changed
