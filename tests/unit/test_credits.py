"""Credits: delivered once from signed; cancelled with a reason, telling whether it had been delivered."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.credits import CancellationReason, Credit, CreditError, CreditStatus

SIGNED_AT = datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc)
LATER = SIGNED_AT + timedelta(days=1)


def make_credit(status: CreditStatus = CreditStatus.SIGNED) -> Credit:
    return Credit(merchant_id=1, store_id=1, amount=10_000, currency="MXN", number_of_payments=6,
                  payment_option_id=1, commission_rate=Decimal("0.035"), tax_rate=Decimal("0.16"),
                  commission=350, tax=56, contribution=9_594, signed_at=SIGNED_AT, external_id="ext-1",
                  status=status, id=1)


def test_reasons_are_those_of_seed_004() -> None:
    assert {r.value for r in CancellationReason} == {"rejected", "returned", "fraud", "death", "refinanced"}


def test_a_signed_credit_is_delivered() -> None:
    credit = make_credit()
    credit.deliver(LATER)
    assert credit.status == CreditStatus.ACTIVE and credit.delivered_at == LATER
    assert not credit.disbursed


@pytest.mark.parametrize("status", [s for s in CreditStatus if s != CreditStatus.SIGNED])
def test_only_a_signed_credit_can_be_delivered(status: CreditStatus) -> None:
    credit = make_credit(status)
    with pytest.raises(CreditError):
        credit.deliver(LATER)
    assert credit.status == status and credit.delivered_at is None


def test_delivering_twice_is_refused() -> None:
    credit = make_credit()
    credit.deliver(LATER)
    with pytest.raises(CreditError):
        credit.deliver(LATER + timedelta(hours=1))
    assert credit.delivered_at == LATER


@pytest.mark.parametrize("reason", list(CancellationReason))
def test_cancel_before_delivery_needs_no_compensation(reason: CancellationReason) -> None:
    credit = make_credit()
    assert credit.cancel(reason, LATER) is False
    assert (credit.status, credit.cancellation_reason, credit.cancelled_at) == (CreditStatus.CANCELLED, reason, LATER)


@pytest.mark.parametrize("reason", list(CancellationReason))
def test_cancel_after_delivery_needs_compensation(reason: CancellationReason) -> None:
    credit = make_credit()
    credit.deliver(SIGNED_AT)
    assert credit.cancel(reason, LATER) is True
    assert credit.status == CreditStatus.CANCELLED and credit.cancellation_reason == reason
    assert credit.delivered_at == SIGNED_AT


@pytest.mark.parametrize("status", [CreditStatus.FROZEN, CreditStatus.IN_DISPUTE])
def test_frozen_or_disputed_credits_can_be_cancelled(status: CreditStatus) -> None:
    credit = make_credit()
    credit.deliver(SIGNED_AT)
    credit.status = status
    assert credit.cancel(CancellationReason.FRAUD, LATER) is True


@pytest.mark.parametrize("status", [CreditStatus.CANCELLED, CreditStatus.PAID])
def test_cancelled_or_paid_credits_cannot_be_cancelled(status: CreditStatus) -> None:
    credit = make_credit(status)
    with pytest.raises(CreditError):
        credit.cancel(CancellationReason.RETURNED, LATER)
    assert credit.status == status and credit.cancellation_reason is None and credit.cancelled_at is None


def test_a_second_cancellation_keeps_the_first_reason() -> None:
    credit = make_credit()
    credit.cancel(CancellationReason.REJECTED, LATER)
    with pytest.raises(CreditError):
        credit.cancel(CancellationReason.DEATH, LATER + timedelta(hours=1))
    assert credit.cancellation_reason == CancellationReason.REJECTED and credit.cancelled_at == LATER


def test_a_cancelled_credit_cannot_be_delivered() -> None:
    credit = make_credit()
    credit.cancel(CancellationReason.REJECTED, LATER)
    with pytest.raises(CreditError):
        credit.deliver(LATER)
    assert credit.delivered_at is None
