"""The whole payout flow for each of the sandbox's fault scenarios: real RabbitMQ, MariaDB and Redis,
the sandbox over HTTP calling our webhook. It ends with the ledger invariants holding and
reconciliation finding the sandbox's books and ours equal, order by order."""
from __future__ import annotations

import secrets
import threading
import time
from typing import Any, Callable

import dramatiq
import pytest
from sqlalchemy import func, select

from adapters.bank.signer import generate_key_pair
from adapters.db.tables import bank_events, outbox
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from domain.ledger import BalanceUpdate, BalanceUpdateType, BankTransfer, TransferStatus
from domain.payment_orders import PaymentOrder, PaymentOrderStatus as S
from tests.factories import validated_store
from tests.integration.helpers import RelayThread, isolated_settings
from usecases import credits as credit_cases, ledger, queries, scheduling
from usecases.verify import verify_all
from bootstrap import Container, build_container, web_app
from adapters.loopback import LoopbackServer

SCENARIOS = ("happy", "mixed", "late-returns", "duplicates", "out-of-order", "timeouts", "errors-5xx",
             "webhook-down", "chaos")
BANK_STATE = {"LQ": S.LIQUIDATED, "CN": S.CANCELLED, "D": S.RETURNED}
WEBHOOK = "/webhooks/stp/order-status"


class FlakyWebhook:
    """Our web app, except that the first ``failures`` webhook calls answer 503 (the sandbox retries)."""

    def __init__(self, app: Callable[..., Any], failures: int):
        self.app, self.failures, self._lock = app, failures, threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") == WEBHOOK:
            with self._lock:
                fail = self.failures > 0
                self.failures -= fail
            if fail:
                start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
                return [b"down for maintenance"]
        return self.app(environ, start_response)


@pytest.fixture(params=SCENARIOS)
def flow(request, db_url, tmp_path):
    scenario = request.param
    private, public = generate_key_pair("frase")
    (tmp_path / "stp.pem").write_bytes(private)
    secret = secrets.token_hex(12)
    settings = isolated_settings(db_url, stp_private_key_path=str(tmp_path / "stp.pem"), stp_passphrase="frase",
                                 webhook_secret=secret, stp_timeout_seconds=1.0, max_retries=30,
                                 min_backoff_ms=50, max_backoff_ms=400)
    container = build_container(settings)
    container.broker.flush_all()
    container.redis.flushdb()
    app = web_app(container)
    web = LoopbackServer(FlakyWebhook(app, 15) if scenario == "webhook-down" else app).start()
    bank = SandboxServer(SandboxConfig(public_key_pem=public, empresa=settings.stp_empresa,
                                       webhook_url=web.url + WEBHOOK, webhook_secret=secret, scenario=scenario,
                                       seed=11, speed=4, hang_seconds=2.0)).start()
    container.settings = settings.model_copy(update={"stp_base_url": bank.url, "stp_efws_url": bank.url})
    worker = dramatiq.Worker(container.broker, worker_threads=8)
    worker.start()
    relay = RelayThread(container).start()
    yield container, bank
    relay.stop()
    worker.stop()
    bank.stop()
    web.stop()
    container.broker.flush_all()
    container.broker.close()
    container.engine.dispose()


def _count(container: Container, stmt) -> int:
    with container.uow() as uow:
        return uow.session.execute(stmt).scalar() or 0


def _quiet(container: Container, bank: SandboxServer) -> bool:
    """Nothing in flight anywhere: the bank has nothing scheduled, every order has its final word."""
    if not bank.wait_idle(0.5):
        return False
    busy = (
        _count(container, select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))),
        _count(container, select(func.count()).select_from(PaymentOrder).where(
            PaymentOrder.status.in_([S.CREATED, S.SENDING, S.SENT]))),
        _count(container, select(func.count()).select_from(bank_events).where(
            bank_events.c.status.in_(["received", "unmatched"]))),
        _count(container, select(func.count()).select_from(BankTransfer).where(
            BankTransfer.status == TransferStatus.SENDING)),
    )
    return not any(busy)


def wait_quiet(container: Container, bank: SandboxServer, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _quiet(container, bank) and (time.sleep(0.3) or _quiet(container, bank)):
            return
        time.sleep(0.2)
    with container.uow() as uow:
        orders = uow.session.execute(select(PaymentOrder.status, func.count()).group_by(PaymentOrder.status)).all()
    pytest.fail(f"not quiet after {timeout}s: orders {orders}")


def pay_stores(container: Container, stores: int, credits_each: int) -> list[int]:
    ids = []
    with container.uow() as uow:
        for s in range(stores):
            store_id = validated_store(uow, disbursement_mode="instant", beneficiary_name=f"Tienda {s}")
            ids.append(store_id)
            for c in range(credits_each):
                credit = credit_cases.originate(uow, store_id, f"flow-{store_id}-{c}", 10_000_00 + 137 * c, 6)
                credit_cases.deliver(uow, credit.id)
        uow.commit()
    return ids


def test_payouts_end_to_end_under_each_bank_scenario(flow):
    container, bank = flow
    store_ids = pay_stores(container, stores=4, credits_each=3)
    wait_quiet(container, bank)
    # Money that came back (cancelled, returned) is paid again on treasury's request.
    for store_id in store_ids:
        with container.uow() as uow:
            ledger.request_transfer(uow, store_id)
            uow.commit()
    wait_quiet(container, bank)

    with container.uow() as uow:
        days = sorted(set(uow.session.scalars(select(PaymentOrder.operation_date))))
        for day in days:
            scheduling.enqueue_reconciliation(uow, day)
        uow.commit()
    deadline = time.monotonic() + 30
    runs: dict[str, Any] = {}
    while time.monotonic() < deadline and len(runs) < len(days):
        with container.uow() as uow:
            runs = {d: r for d in days if (r := queries.latest_reconciliation(uow, d))}
        time.sleep(0.2)
    assert set(runs) == set(days), "reconciliation did not run for every day"
    assert [m for r in runs.values() for m in r["mismatch_list"]] == []

    books = {o.clave_rastreo: o for o in bank.books.orders()}
    with container.uow() as uow:
        orders = list(uow.session.scalars(select(PaymentOrder)))
        for order in orders:
            booked = books.get(order.tracking_key)
            assert booked is not None, f"{order.tracking_key} never reached the bank"
            assert BANK_STATE[booked.estado] == order.status, order.tracking_key
            transfer = uow.session.get(BankTransfer, order.bank_transfer_id)
            disbursed = uow.session.execute(select(func.coalesce(func.sum(BalanceUpdate.amount), 0)).where(
                BalanceUpdate.bank_transfer_id == transfer.id, BalanceUpdate.type.in_(
                    [BalanceUpdateType.DISBURSEMENT, BalanceUpdateType.DISBURSEMENT_OVERRIDE]))).scalar()
            assert -disbursed == (order.amount if booked.estado == "LQ" else 0), order.tracking_key
    assert len(orders) == len(books) >= len(store_ids)

    report = verify_all(container.sessions)
    assert report.violations == []
