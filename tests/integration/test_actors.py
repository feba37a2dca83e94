"""The ledger actors through the real broker: the relay publishes the outbox to RabbitMQ, an in-process
dramatiq worker runs each step against MariaDB. A redelivered or duplicated message changes nothing."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any, Iterator

import pytest

from scheduler import jobs
from usecases import ledger as ledger_cases
from tests.integration.helpers import (
    Traffic, actor_failures, cancel, count, deliver, delivered_credits, enqueue, execute, new_store, originate, outbox_message, rows, running_worker, scalar, settle, snapshot, tiered_store,
    wait_until,
)
from bootstrap import Container

pytestmark = pytest.mark.integration


@pytest.fixture
def traffic(container: Container) -> Iterator[Traffic]:
    with running_worker(container) as t:
        yield t


def credit_updates(container: Container, credit_id: int) -> list[Any]:
    return rows(container, "SELECT id, type, status, amount, sequence, previous_balance, new_balance, overwritten, "
                           "overwritten_by_id FROM balance_updates WHERE credit_id = :c ORDER BY sequence",
                c=credit_id)


def net_of(container: Container, credit_id: int) -> int:
    amount, commission, tax, contribution = rows(
        container, "SELECT amount, commission, tax, contribution FROM credits WHERE id = :c", c=credit_id)[0]
    assert contribution == amount - commission - tax
    return int(contribution)


def test_delivered_credit_becomes_one_contribution(container: Container, traffic: Traffic) -> None:
    store = new_store(container)
    credit = originate(container, store, "act-1", 100_000)
    deliver(container, credit)
    assert count(container, "balance_updates") == 0, "nothing may happen before the relay publishes"

    settle(container, traffic)

    net = net_of(container, credit)
    assert net == 94_200  # 5 % commission (5,000) and 16 % IVA on it (800)
    [bu] = credit_updates(container, credit)
    assert (bu.type, bu.status, bu.amount, bu.sequence, bu.previous_balance, bu.new_balance) == (
        "contribution", "pending", net, 1, 0, net)
    assert scalar(container, "SELECT balance FROM stores WHERE id = :s", s=store) == net
    assert count(container, "bank_transfers") == 0, "a daily store waits for its trigger"
    assert actor_failures(container) == []


@pytest.mark.parametrize("requires_confirmation, expected", [(False, "sending"), (True, "waiting_confirmation")])
def test_instant_store_is_paid_on_each_contribution(container: Container, traffic: Traffic,
                                                    requires_confirmation: bool, expected: str) -> None:
    store = new_store(container, disbursement_mode="instant", requires_confirmation=requires_confirmation)
    for i, amount in enumerate((100_000, 40_000)):
        [credit] = delivered_credits(container, store, [amount], prefix=f"inst-{i}")
        settle(container, traffic)
        [bu] = credit_updates(container, credit)
        assert bu.status == "in_transit"
        evaluation = rows(container, "SELECT outcome FROM trigger_evaluations WHERE store_id = :s AND "
                                     "period_key = :k", s=store, k=f"instant:bu-{bu.id}")
        assert [e.outcome for e in evaluation] == ["transfer"]
        transfer = rows(container, "SELECT t.id, t.status, t.amount FROM bank_transfers t JOIN bank_transfer_items i "
                                   "ON i.bank_transfer_id = t.id WHERE i.balance_update_id = :b", b=bu.id)
        assert [(t.status, t.amount) for t in transfer] == [(expected, net_of(container, credit))]
        history = rows(container, "SELECT status FROM bank_transfer_status_history WHERE bank_transfer_id = :t",
                       t=transfer[0].id)
        assert [h.status for h in history] == [expected]
    assert count(container, "bank_transfers") == 2
    assert actor_failures(container) == []


def test_cancellation_after_delivery_compensates_the_contribution(container: Container, traffic: Traffic) -> None:
    store = new_store(container)
    [credit] = delivered_credits(container, store, [250_000])
    settle(container, traffic)
    cancel(container, credit, "fraud")
    settle(container, traffic)

    contribution, cancellation = credit_updates(container, credit)
    assert contribution.type == "contribution" and cancellation.type == "credit_cancellation"
    assert cancellation.amount == -contribution.amount
    assert (cancellation.sequence, cancellation.previous_balance, cancellation.new_balance) == (
        2, contribution.amount, 0)
    assert contribution.overwritten and contribution.overwritten_by_id == cancellation.id
    assert scalar(container, "SELECT balance FROM stores WHERE id = :s", s=store) == 0


def test_cancel_message_before_contribute_message(container: Container, traffic: Traffic) -> None:
    """Messages are not ordered: the cancellation may be processed before the contribution."""
    store = new_store(container)
    [credit] = delivered_credits(container, store, [180_000])
    cancel(container, credit, "returned")
    message_id, args = outbox_message(container, "cancel_credit")
    enqueue(container, "cancel_credit", *args, message_id=message_id)  # only this one goes out
    execute(container, "UPDATE outbox SET published_at = NOW(6) WHERE message_id = :m", m=message_id)
    wait_until(lambda: traffic.outstanding <= 0, 20, "the cancel_credit message to be processed")
    assert count(container, "outbox", "actor_name = 'contribute' AND published_at IS NULL") == 1

    settle(container, traffic)  # now the contribute message arrives, late

    updates = credit_updates(container, credit)
    assert [(u.type, u.sequence) for u in updates] == [("contribution", 1), ("credit_cancellation", 2)]
    contribution, cancellation = updates
    assert contribution.amount == net_of(container, credit) and cancellation.amount == -contribution.amount
    assert contribution.overwritten and contribution.overwritten_by_id == cancellation.id
    assert scalar(container, "SELECT balance FROM stores WHERE id = :s", s=store) == 0
    assert actor_failures(container) == []


# --- a redelivered or duplicated message changes nothing ------------------------------------------------------

def assert_redelivery_changes_nothing(container: Container, traffic: Traffic, actor: str, args: list[Any],
                                      message_id: str) -> None:
    before = snapshot(container)
    sent = traffic.published_actors[actor]
    enqueue(container, actor, *args, message_id=message_id)  # the broker redelivers the same message
    settle(container, traffic)
    assert snapshot(container) == before, f"a redelivered {actor} message changed the books"
    enqueue(container, actor, *args)  # a copy of it with a new message id
    settle(container, traffic)
    assert snapshot(container) == before, f"a duplicated {actor} message changed the books"
    assert traffic.published_actors[actor] == sent + 2, "both copies must have reached the worker"
    assert actor_failures(container) == [], "a duplicate must be a quiet no-op, not a failure"


def test_redelivered_contribute(container: Container, traffic: Traffic) -> None:
    store = new_store(container)
    [credit] = delivered_credits(container, store, [100_000])
    settle(container, traffic)
    message_id, args = outbox_message(container, "contribute")
    assert_redelivery_changes_nothing(container, traffic, "contribute", args, message_id)
    assert count(container, "balance_updates", "credit_id = :c", c=credit) == 1


def test_redelivered_cancel_credit(container: Container, traffic: Traffic) -> None:
    store = new_store(container)
    [credit] = delivered_credits(container, store, [100_000])
    settle(container, traffic)
    cancel(container, credit)
    settle(container, traffic)
    message_id, args = outbox_message(container, "cancel_credit")
    assert_redelivery_changes_nothing(container, traffic, "cancel_credit", args, message_id)
    assert count(container, "balance_updates", "credit_id = :c AND type = 'credit_cancellation'", c=credit) == 1


def paid_daily_store(container: Container, traffic: Traffic, clock: Any) -> int:
    """A daily store whose first period made a transfer, with new pending money since then:
    re-running that period's evaluation or transfer would pay again were it not idempotent."""
    store = new_store(container)
    delivered_credits(container, store, [100_000], prefix="first")
    settle(container, traffic)
    clock.now += timedelta(days=1)
    assert jobs.enqueue_due_triggers(container) == 1
    settle(container, traffic)
    assert count(container, "bank_transfers") == 1
    delivered_credits(container, store, [70_000], prefix="later")
    settle(container, traffic)
    assert count(container, "balance_updates", "status = 'pending'") == 1
    return store


def test_redelivered_evaluate_trigger(container: Container, traffic: Traffic, clock: Any) -> None:
    paid_daily_store(container, traffic, clock)
    message_id, args = outbox_message(container, "evaluate_trigger")
    assert_redelivery_changes_nothing(container, traffic, "evaluate_trigger", args, message_id)
    assert count(container, "trigger_evaluations") == 1 and count(container, "bank_transfers") == 1


def test_redelivered_create_transfer(container: Container, traffic: Traffic, clock: Any) -> None:
    """Treasury's request for a transfer now: a redelivery of its message pays nothing twice."""
    store = paid_daily_store(container, traffic, clock)
    with container.uow() as uow:
        ledger_cases.request_transfer(uow, store)
        uow.commit()
    settle(container, traffic)
    assert count(container, "bank_transfers") == 2
    message_id, args = outbox_message(container, "create_transfer")
    assert_redelivery_changes_nothing(container, traffic, "create_transfer", args, message_id)
    assert count(container, "bank_transfers") == 2


def test_redelivered_update_monthly_commissions(container: Container, traffic: Traffic, clock: Any) -> None:
    merchant, store = tiered_store(container, [{"min_origination": 0, "commission_rate": "0.045"},
                                               {"min_origination": 1_000_000, "commission_rate": "0.03"}])
    originate(container, store, "tier-1", 800_000)
    originate(container, store, "tier-2", 800_000)
    clock.now = clock.now.replace(year=2026, month=12, day=1, hour=9)
    assert jobs.monthly_commissions(container) == 1
    settle(container, traffic)
    auto = scalar(container, "SELECT merchant_commission FROM payment_options WHERE store_id = :s AND "
                             "can_commission_be_auto_updated", s=store)
    assert Decimal(auto) == Decimal("0.03")
    # Treasury changes the rate afterwards: replaying last month's update must not undo that.
    execute(container, "UPDATE payment_options SET merchant_commission = '0.07' WHERE store_id = :s AND "
                       "can_commission_be_auto_updated", s=store)
    message_id, args = outbox_message(container, "update_monthly_commissions")
    assert args == [merchant, "2026-11"]
    assert_redelivery_changes_nothing(container, traffic, "update_monthly_commissions", args, message_id)
    assert count(container, "commission_updates") == 1
