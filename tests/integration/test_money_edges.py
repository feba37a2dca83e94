"""Money at its edges, over the API on MariaDB: the credit's three numbers round once, commission
tiers count Mexico City months, and balances and adjustments stay within their bounds."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from domain.ledger import MAX_BALANCE
from tests.conftest import FakeClock
from tests.integration.helpers import rows, tiered_store
from tests.integration.test_web_access import Api, expect, is_error
from usecases import commissions, credits as credit_cases

pytestmark = pytest.mark.integration


@pytest.fixture
def api(container) -> Api:
    return Api(container)


def test_tax_is_the_tax_rate_of_the_rounded_commission(api: Api) -> None:
    """The audit's case: 1,127,228 at 8.25 % is a commission of 92,996 and a tax of 14,879 (16 % of
    92,996 is 14,879.36), not 14,880 from rounding commission-plus-tax as one number."""
    shop = api.shop(commission="0.0825")
    credit = expect(api.operator.post("/credits", json={
        "store_id": shop.store_id, "external_id": "iva-1", "amount": 1_127_228, "number_of_payments": 3}), 201)
    assert (credit["commission"], credit["tax"], credit["contribution"]) == (92_996, 14_879, 1_019_353)
    assert credit["amount"] == credit["commission"] + credit["tax"] + credit["contribution"]


def test_commission_tiers_count_origination_in_mexico_city_months(container, clock: FakeClock) -> None:
    """A credit signed at 21:00 on 31 October in Mexico City is October's, though it is 1 November in UTC."""
    merchant, store = tiered_store(container, [{"min_origination": 0, "commission_rate": "0.045"},
                                               {"min_origination": 1_000_000, "commission_rate": "0.03"}])
    clock.now = datetime(2026, 11, 1, 3, 0, tzinfo=timezone.utc)
    with container.uow() as uow:
        credit_cases.originate(uow, store, "halloween", 1_500_000, 3)
        uow.commit()
    clock.now = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
    assert commissions.previous_month(datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc), "America/Mexico_City") \
        == "2026-10"  # 21:00 on 30 November there
    for month in ("2026-10", "2026-11"):
        with container.uow() as uow:
            commissions.update_monthly_commissions(uow, merchant, month)
            uow.commit()
    assert {r.month: r.origination for r in rows(container, "SELECT month, origination FROM commission_updates")} \
        == {"2026-10": 1_500_000, "2026-11": 0}


def test_a_merchant_west_of_mexico_city_is_counted_once_its_own_month_has_ended(container, clock: FakeClock) -> None:
    """Tijuana is two hours behind Mexico City: at 01:30 on 1 December there, November is not over
    in Tijuana, and a credit signed at 23:45 its time is still November's."""
    merchant, store = tiered_store(container, [{"min_origination": 0, "commission_rate": "0.045"},
                                               {"min_origination": 1_000_000, "commission_rate": "0.03"}],
                                   timezone="America/Tijuana")
    clock.now = datetime(2026, 11, 10, 18, 0, tzinfo=timezone.utc)
    with container.uow() as uow:
        credit_cases.originate(uow, store, "early-november", 600_000, 3)
        uow.commit()

    def hourly_job() -> list[list]:
        with container.uow() as uow:
            commissions.enqueue_monthly_commissions(uow, clock())
            uow.commit()
        return [r.args for r in rows(container, "SELECT args FROM outbox WHERE actor_name = 'update_monthly_commissions'")]

    clock.now = datetime(2026, 12, 1, 7, 30, tzinfo=timezone.utc)  # 01:30 in Mexico City, 23:30 in Tijuana
    assert [json.loads(a) for a in hourly_job()] == [[merchant, "2026-10"]]
    with container.uow() as uow:  # an early message for November counts nothing yet
        assert commissions.update_monthly_commissions(uow, merchant, "2026-11") == 0
        uow.commit()
    clock.now = datetime(2026, 12, 1, 7, 45, tzinfo=timezone.utc)  # 23:45 on 30 November in Tijuana
    with container.uow() as uow:
        credit_cases.originate(uow, store, "late-november", 600_000, 3)
        uow.commit()
    clock.now = datetime(2026, 12, 1, 8, 5, tzinfo=timezone.utc)  # 00:05 on 1 December in Tijuana
    assert [json.loads(a) for a in hourly_job()] == [[merchant, "2026-10"], [merchant, "2026-11"]]
    hourly_job()  # the next hour's run adds nothing
    with container.uow() as uow:
        assert commissions.update_monthly_commissions(uow, merchant, "2026-11") == 1
        uow.commit()
    assert {r.month: r.origination for r in rows(container, "SELECT month, origination FROM commission_updates")} \
        == {"2026-11": 1_200_000}


def test_a_single_adjustment_has_a_configurable_maximum(container) -> None:
    container.settings = container.settings.model_copy(update={"adjustment_approval_above": MAX_BALANCE})
    api = Api(container)  # these limits hold whoever approves; dual control is tested in test_dual_control
    shop = api.shop()
    limit = api.container.settings.max_adjustment
    expect(api.treasury.post(f"/stores/{shop.store_id}/adjustments", json={"amount": limit}), 201)
    expect(api.treasury.post(f"/stores/{shop.store_id}/adjustments", json={"amount": -limit}), 201)
    for amount in (limit + 1, -(limit + 1), 2**53 - 1):
        is_error(api.treasury.post(f"/stores/{shop.store_id}/adjustments", json={"amount": amount}), 422,
                 "DISPERSA_MAX_ADJUSTMENT")


def test_a_balance_beyond_the_safe_integer_range_is_refused_with_422(container) -> None:
    """The audit's fuzzer: adjustments of 2^53 - 1 until the column overflowed (500). With the single
    adjustment limit raised to the bound, the second one is a 422 and changes nothing."""
    container.settings = container.settings.model_copy(update={"max_adjustment": MAX_BALANCE,
                                                               "adjustment_approval_above": MAX_BALANCE})
    api = Api(container)
    shop = api.shop()
    path = f"/stores/{shop.store_id}/adjustments"
    expect(api.treasury.post(path, json={"amount": MAX_BALANCE}), 201)
    is_error(api.treasury.post(path, json={"amount": 1}), 422, "beyond")
    for _ in range(2):  # a day apart: a store's day of adjustments by one person is bounded too (dual control)
        container.clock.now += timedelta(days=1)
        expect(api.treasury.post(path, json={"amount": -MAX_BALANCE}), 201)
    is_error(api.treasury.post(path, json={"amount": -1}), 422, "beyond")
    balance = expect(api.operator.get(f"/stores/{shop.store_id}/balance"), 200)
    assert balance["balance"] == -MAX_BALANCE
    updates = expect(api.operator.get(f"/stores/{shop.store_id}/balance-updates", params={"per_page": 200}), 200)
    assert all(abs(v) <= MAX_BALANCE for u in updates["items"]
               for v in (u["amount"], u["previous_balance"], u["new_balance"]))
    assert len(updates["items"]) == 3


def test_a_credit_that_would_take_the_balance_beyond_the_bound_is_refused(container) -> None:
    container.settings = container.settings.model_copy(update={"max_adjustment": MAX_BALANCE,
                                                               "adjustment_approval_above": MAX_BALANCE})
    api = Api(container)
    shop = api.shop()
    expect(api.treasury.post(f"/stores/{shop.store_id}/adjustments", json={"amount": MAX_BALANCE - 10}), 201)
    is_error(api.operator.post("/credits", json={"store_id": shop.store_id, "external_id": "too-far",
                                                 "amount": 1_000, "number_of_payments": 3}), 422, "beyond")

