"""GET /metrics on MariaDB, RabbitMQ and Redis: the gauges operations alert on follow the system's state,
and a source that is down is reported as down, never as a failed scrape."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from falcon.testing import TestClient

from bootstrap import Container, web_app
from domain.bank_events import BankEventStatus
from domain.dead_letters import DeadLetterStatus
from domain.ledger import TransferStatus
from domain.payment_orders import PaymentOrderStatus
from tests.integration.helpers import delivered_credits, enqueue, new_store
from tests.integration.orders import order_sent
from usecases import verify
from usecases.reconciliation import reconcile_day

pytestmark = pytest.mark.integration


def scrape(container: Container) -> dict[str, float]:
    result = TestClient(web_app(container)).simulate_get("/metrics")
    assert result.status_code == 200 and result.headers["content-type"].startswith("text/plain")
    samples = {}
    for line in result.text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def test_the_outbox_backlog_its_age_and_the_queues_are_gauged(container: Container, clock) -> None:
    assert scrape(container)["dispersa_outbox_unpublished"] == 0
    store = new_store(container)
    delivered_credits(container, store, [100_000, 200_000])  # two contribute messages wait in the outbox
    clock.now += timedelta(minutes=3)
    enqueue(container, "contribute", 1)  # and one in the ledger queue, nobody consuming it
    samples = scrape(container)
    assert samples["dispersa_outbox_unpublished"] == 2
    assert samples["dispersa_outbox_oldest_unpublished_age_seconds"] == pytest.approx(180, abs=1)
    assert samples['dispersa_queue_messages{queue="ledger"}'] == 1
    assert samples['dispersa_queue_messages{queue="ledger.XQ"}'] == 0
    assert samples['dispersa_metrics_source_up{source="broker"}'] == 1


def test_orders_transfers_the_last_reconciliation_and_ledger_check_are_gauged(container: Container) -> None:
    order = order_sent(container, 7_777_777)
    with container.uow() as uow:
        reconcile_day(uow, order.operation_date, [], container.payout_config.estados)  # the bank knows none
        uow.commit()
    verify.check_ledger(container.uow, container.sessions, "cli")
    samples = scrape(container)
    assert samples['dispersa_payment_orders{status="sent"}'] == 1
    assert samples['dispersa_transfers{status="in_transit"}'] == 1
    assert samples["dispersa_reconciliation_last_mismatches"] == 1  # missing at the bank
    assert samples["dispersa_ledger_check_last_violations"] == 0
    assert samples["dispersa_ledger_check_last_run_timestamp_seconds"] == container.clock().timestamp()


def test_on_empty_tables_every_gauge_is_there_at_zero(container: Container) -> None:
    """An alert on a gauge (dead letters, refused orders) must not wait for the first row to exist."""
    samples = scrape(container)
    for family, statuses in (("dispersa_payment_orders", PaymentOrderStatus), ("dispersa_transfers", TransferStatus),
                             ("dispersa_dead_letters", DeadLetterStatus)):
        assert {f'{family}{{status="{s.value}"}}': samples.get(f'{family}{{status="{s.value}"}}')
                for s in statuses} == {f'{family}{{status="{s.value}"}}': 0 for s in statuses}
    assert all(samples[f'dispersa_webhook_events{{result="{s.value}"}}'] == 0 for s in BankEventStatus)
    for name in ("dispersa_reconciliation_last_mismatches", "dispersa_reconciliation_last_run_timestamp_seconds",
                 "dispersa_ledger_check_last_violations", "dispersa_ledger_check_last_run_timestamp_seconds",
                 "dispersa_alerts_last_hour", "dispersa_outbox_oldest_unpublished_age_seconds"):
        assert samples.get(name) == 0, name


def test_a_source_that_is_down_is_reported_and_the_rest_still_answers(container: Container) -> None:
    nowhere = container.settings.model_copy(update={"rabbitmq_url": "amqp://guest:guest@127.0.0.1:1/%2F"})
    samples = scrape(dataclasses.replace(container, settings=nowhere))
    assert samples['dispersa_metrics_source_up{source="broker"}'] == 0
    assert samples['dispersa_metrics_source_up{source="database"}'] == 1
    assert "dispersa_outbox_unpublished" in samples and not any(k.startswith("dispersa_queue") for k in samples)
