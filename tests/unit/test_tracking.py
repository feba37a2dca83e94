"""Payment tracking: the fold of a payment's events, the projection into the read model, and who may see
a payment (on the fake unit of work)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.access import Role
from domain.tracking import PaymentEvent, PaymentEventKind as K, PaymentView
from tests.fake_uow import FakeUnitOfWork
from usecases import steps, tracking
from usecases.access import Principal
from usecases.errors import NotFound

AT = datetime(2026, 12, 1, 18, 0, tzinfo=timezone.utc)
UETR = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"


def events(*kinds: K, **first: object) -> list[PaymentEvent]:
    return [PaymentEvent(UETR, k, AT + timedelta(minutes=i), dict(first) if i == 0 else {})
            for i, k in enumerate(kinds)]


def test_the_fold_keeps_the_last_word_and_a_return_after_liquidation() -> None:
    view = PaymentView(UETR)
    for e in events(K.INITIATED, K.SENT, K.ACCEPTED, K.LIQUIDATED, K.SENT, K.RETURNED, K.LIQUIDATED,
                    amount=12_345, currency="MXN", payee_account="646180000000000025", merchant_id=7):
        view.apply(e)
    assert (view.status, view.amount, view.currency, view.merchant_id) == ("returned", 12_345, "MXN", 7)
    assert view.payee_account == "**************0025" and view.updated_at == AT + timedelta(minutes=6)


def test_projection_folds_each_event_once_and_the_view_scopes_the_caller() -> None:
    uow = FakeUnitOfWork(clock=lambda: AT)
    tracking.record(uow, events(K.INITIATED, K.SENT, amount=500, currency="USD", tenant_id=3, payee_account="w-91"))
    assert tracking.project(uow) == 2 and tracking.project(uow) == 0  # each event once
    tracking.record(uow, [PaymentEvent(UETR, K.LIQUIDATED, AT + timedelta(hours=1), {"bank_reference": "R-1"})])
    assert tracking.project(uow) == 1
    tenant = Principal(1, Role.TENANT, None, 3)
    shown = tracking.payment(uow, UETR, tenant)
    assert (shown["status"], shown["amount"], shown["bank_reference"]) == ("liquidated", "5.00", "R-1")
    assert [e["event"] for e in shown["timeline"]] == ["initiated", "sent", "liquidated"]
    assert shown["payee_account"] == "****"  # a short wallet id is masked whole
    with pytest.raises(NotFound):
        tracking.payment(uow, UETR, Principal(2, Role.TENANT, None, 4))      # another tenant's key
    with pytest.raises(NotFound):
        tracking.payment(uow, UETR, Principal(3, Role.PARTNER, 9, None))     # a partner: its merchant's only
    with pytest.raises(NotFound):
        tracking.payment(uow, "0d8e0f4a-1b2c-4d3e-8f40-5a6b7c8d9e0f", Principal(4, Role.ADMIN, None, None))


def test_the_api_reads_events_the_projection_has_not_taken_and_the_sweep_asks_for_them() -> None:
    uow = FakeUnitOfWork(clock=lambda: AT)
    tracking.record(uow, events(K.INITIATED, K.SENT, amount=500, currency="MXN", tenant_id=3))
    tracking.record(uow, [PaymentEvent(UETR, K.ACCEPTED, AT, {})])  # the same second: one projection asked
    assert len(uow.outbox.to(steps.PROJECT_PAYMENTS)) == 1
    assert tracking.project(uow) == 3
    tracking.record(uow, [PaymentEvent(UETR, K.RETURNED, AT + timedelta(days=40), {"reason": "cuenta cancelada"})])
    shown = tracking.payment(uow, UETR, Principal(1, Role.ADMIN, None, None))
    assert (shown["status"], shown["reason"]) == ("returned", "cuenta cancelada")  # not projected yet, shown
    assert uow.payment_tracking.rows[UETR][0].status == "accepted"
    assert tracking.sweep(uow, AT + timedelta(minutes=5)) == 1 and len(uow.outbox.to(steps.PROJECT_PAYMENTS)) == 2
    assert tracking.project(uow) == 1 and tracking.sweep(uow, AT + timedelta(minutes=10)) == 0
    assert uow.payment_tracking.rows[UETR][0].status == "returned"
