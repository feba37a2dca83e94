"""Bulk batches through every connector on the real stack: our web app on loopback (the connectors call it
back), the sandbox serving STP, GSMA and Mojaloop on one port, a worker on every queue and the outbox relay.
The seed's sample file pays through the closed loop, Mojaloop and GSMA; a SPEI batch ends in liquidated
orders with `ledger verify` and the reconciliation finding nothing wrong."""
from __future__ import annotations

import hashlib
import hmac
import io
import json
import secrets
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import dramatiq
import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import select, text

from adapters.sealing import KEYRING
from adapters.bank.signer import generate_key_pair
from adapters.loopback import LoopbackServer
from bootstrap import Container, build_container, web_app
from domain import clabe
from domain.payment_orders import PaymentOrder
from sandbox.config import SandboxConfig
from sandbox.server import SandboxServer
from tests.integration.helpers import RelayThread, isolated_settings, rows, wait_until
from usecases import bulk_sweeps, queries, scheduling, tenants
from usecases.verify import verify_all

pytestmark = pytest.mark.integration
SEED_CSV = Path(__file__).parent.parent / "data" / "ph-ee-bulk-demo-6.csv"
SEED_MODES = {"slcb": "closedloop", "mojaloop": "mojaloop", "gsma": "gsma", "spei": "spei"}
GSMA_SECRET = "gsma-callback-secret"  # not the STP webhook's


class Stack:
    """The processes of a deployment, in threads of this one."""

    def __init__(self, container: Container, web: LoopbackServer, sandbox: SandboxServer):
        self.container, self.web, self.sandbox = container, web, sandbox

    def tenant(self, name: str, config: dict[str, Any], fund: tuple[str, str] | None = None,
               wallets: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
        with self.container.uow() as uow:
            made = tenants.put(uow, name, config)
            key = tenants.key_for(uow, made.tenant)
            if fund:
                tenants.fund(uow, name, *fund)
            for owner, currency in wallets:
                uow.wallets.lock(made.tenant.id or 0, owner, currency, uow.clock())
            uow.commit()
        return {"Authorization": f"Bearer {key}", "Platform-TenantId": name}

    def submit(self, headers: dict[str, str], path: Path | bytes, request_id: str) -> str:
        content = path.read_bytes() if isinstance(path, Path) else path
        # as the seed's curl does: the file as the multipart part data
        answer = httpx.post(f"{self.web.url}/batchtransactions", params={"type": "csv"}, files={
            "data": ("ph-ee-bulk-demo-6.csv", content, "text/csv")}, headers={
            **headers, "X-CorrelationID": request_id, "filename": "ph-ee-bulk-demo-6.csv"}, timeout=30)
        assert answer.status_code == 202, answer.text
        return str(answer.json()["batch_id"])

    def summary(self, headers: dict[str, str], batch_id: str) -> dict[str, Any]:
        answer = httpx.get(f"{self.web.url}/api/v1/batchtransactions/{batch_id}", headers=headers, timeout=30)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def finished(self, headers: dict[str, str], batch_id: str, timeout: float = 60) -> dict[str, Any]:
        wait_until(lambda: self.summary(headers, batch_id)["status"] in ("completed", "failed"), timeout,
                   f"batch {batch_id} to finish", diagnose=lambda: str(self.summary(headers, batch_id)))
        return self.summary(headers, batch_id)


@pytest.fixture
def stack(db_url: str, tmp_path: Path) -> Iterator[Stack]:
    private, public = generate_key_pair("frase")
    (tmp_path / "stp.pem").write_bytes(private)
    secret = secrets.token_hex(12)
    settings = isolated_settings(db_url, stp_private_key_path=str(tmp_path / "stp.pem"), stp_passphrase="frase",
                                 webhook_secret=secret, gsma_callback_secret=GSMA_SECRET, stp_timeout_seconds=2.0, max_retries=20,
                                 min_backoff_ms=50, max_backoff_ms=400, bulk_storage_dir=str(tmp_path / "batches"),
                                 connector_timeout_seconds=2.0)
    container = build_container(settings)
    container.broker.flush_all()
    container.redis.flushdb()
    web = LoopbackServer(web_app(container)).start()
    sandbox = SandboxServer(SandboxConfig(public_key_pem=public, empresa=settings.stp_empresa,
                                          webhook_url=f"{web.url}/webhooks/stp/order-status", webhook_secret=secret,
                                          gsma_callback_secret=GSMA_SECRET,
                                          scenario="happy", seed=3, speed=8, connector_hang_seconds=3.0)).start()
    container.settings = settings.model_copy(update={
        "stp_base_url": sandbox.url, "stp_efws_url": sandbox.url, "gsma_base_url": sandbox.url,
        "mojaloop_base_url": sandbox.url, "public_url": web.url})
    worker = dramatiq.Worker(container.broker, worker_threads=8)
    worker.start()
    relay = RelayThread(container).start()
    yield Stack(container, web, sandbox)
    relay.stop()
    worker.stop()
    sandbox.stop()
    web.stop()
    container.broker.flush_all()
    container.broker.close()
    container.engine.dispose()


def test_the_seeds_sample_file_pays_through_the_closed_loop_mojaloop_and_gsma(stack: Stack) -> None:
    headers = stack.tenant("ibank-usa", {"payment-modes": SEED_MODES, "splitting.sub-batch-size": 2},
                           fund=("10000", "USD"), wallets=(("927549027483", "USD"),))
    batch_id = stack.submit(headers, SEED_CSV, "3a4dfab5-0f4f-4e78-b6b5-1aff3859d4e8")
    summary = stack.finished(headers, batch_id)
    assert summary["status"] == "completed", summary
    assert (summary["total"], summary["successful"], summary["failed"], summary["ongoing"]) == (12, 12, 0, 0)
    assert summary["totalAmount"] == "6432.00" and summary["successfulAmount"] == "6432.00"
    assert summary["currency"] == "USD" and summary["mode"] == "gsma,mojaloop,slcb"
    subs = summary["subBatches"]
    assert len(subs) == 6 and all(s["total"] == 2 for s in subs)
    assert {s["paymentMode"]: s["connector"] for s in subs} == {"slcb": "closedloop", "mojaloop": "mojaloop",
                                                                 "gsma": "gsma"}
    booked = httpx.get(f"{stack.sandbox.url}/_sandbox/mobile-money", timeout=10).json()
    assert booked  # the sandbox saw the Mojaloop and GSMA transfers
    [float_wallet] = rows(stack.container, "SELECT balance FROM wallets WHERE owner_digest = :d",
                          d=KEYRING.digest("float"))
    assert float_wallet.balance == 1_000_000 - 4 * (850 + 222) * 100 // 2  # the four slcb rows: 2144.00
    result = httpx.get(f"{stack.web.url}/api/v1/batchtransactions/{batch_id}/result", headers=headers,
                       timeout=30).text.strip().splitlines()
    assert len(result) == 13 and all(line.split(",")[12] == "SUCCESS" for line in result[1:])
    assert verify_all(stack.container.sessions).violations == []


def test_inactive_and_pending_accounts_fail_and_wait_while_the_others_pay(stack: Stack) -> None:
    headers = stack.tenant("aid", {"payment-modes": {"gsma": "gsma", "mojaloop": "mojaloop"}})
    content = ("id,payment_mode,payee_identifier_type,payee_identifier,amount,currency\n"
               "0,gsma,msisdn,254700000000,100,KES\n"       # inactive account
               "1,gsma,msisdn,254700001234,100,KES\n"
               "2,mojaloop,msisdn,254700000000,100,KES\n"   # inactive account
               "3,mojaloop,msisdn,254700002222,100,KES\n"   # the first call times out
               "4,gsma,msisdn,254700003333,100,KES\n")      # the callback comes twice
    batch_id = stack.submit(headers, content.encode(), "aid-1")
    summary = stack.finished(headers, batch_id, timeout=90)
    assert summary["status"] == "completed", summary
    assert (summary["successful"], summary["failed"]) == (3, 2)
    detail = httpx.get(f"{stack.web.url}/api/v1/batchtransactions/{batch_id}/detail", headers=headers,
                       params={"status": "FAILURE"}, timeout=30).json()
    assert sorted(d["row"] for d in detail) == [0, 2]
    assert all("Inactive Account" in (d["statusDetail"] or "") for d in detail)
    assert rows(stack.container, "SELECT COUNT(*) AS n FROM instructions WHERE row = 3 AND attempts >= 2")[0].n == 1


def spei_file(count: int) -> bytes:
    lines = ["id,payment_mode,payee_identifier_type,payee_identifier,amount,currency,note"]
    for i in range(count):
        account = clabe.make("012", "180", f"{15000000 + i:011d}")
        lines.append(f"{i},spei,clabe,{account},{100 + i}.25,MXN,Proveedor {i}")
    return ("\n".join(lines) + "\n").encode()


def test_a_spei_batch_ends_in_liquidated_orders_that_reconcile(stack: Stack) -> None:
    funding = clabe.make("646", "180", "00000009999")
    headers = stack.tenant("nomina", {"payment-modes": {"spei": "spei"}, "splitting.sub-batch-size": 4,
                                      "spei.funding-account": funding, "spei.funding-name": "Nómina Norte SA"},
                           fund=("2000", "MXN"))
    batch_id = stack.submit(headers, spei_file(10), "nomina-2026-12")
    summary = stack.finished(headers, batch_id, timeout=90)
    assert summary["status"] == "completed" and summary["successful"] == 10, summary
    with stack.container.uow() as uow:
        orders = list(uow.session.scalars(select(PaymentOrder)))
    assert len(orders) == 10 and {o.status.value for o in orders} == {"liquidated"}
    uetrs = {r.uetr for r in rows(stack.container, "SELECT uetr FROM instructions")}
    assert {o.uetr for o in orders} == uetrs  # each row's UETR is its order's
    books = httpx.get(f"{stack.sandbox.url}/_sandbox/books", timeout=10).json()["orders"]
    assert {(b["cuentaOrdenante"], b["nombreOrdenante"]) for b in books} == {(funding, "Nomina Norte SA")}
    assert {b["nombreBeneficiario"] for b in books} == {f"Proveedor {i}" for i in range(10)}  # unsealed to pay
    result = httpx.get(f"{stack.web.url}/api/v1/batchtransactions/{batch_id}/result", headers=headers,
                       timeout=30).text.splitlines()[1:]
    assert {tuple(line.split(",")[6:10:3]) for line in result} == {  # payee, note: the account and name masked
        ("**************" + clabe.make("012", "180", f"{15000000 + i:011d}")[-4:], f"P*** {i}***") for i in range(10)}
    assert verify_all(stack.container.sessions).violations == []
    days = sorted({o.operation_date for o in orders})
    with stack.container.uow() as uow:
        for day in days:
            scheduling.enqueue_reconciliation(uow, day)
        uow.commit()
    runs: dict[str, Any] = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(runs) < len(days):
        with stack.container.uow() as uow:
            runs = {d: r for d in days if (r := queries.latest_reconciliation(uow, d))}
        time.sleep(0.2)
    assert set(runs) == set(days) and [m for r in runs.values() for m in r["mismatch_list"]] == []


def test_a_row_whose_word_never_comes_is_asked_again_then_flagged_with_an_alert(stack: Stack) -> None:
    headers = stack.tenant("aid", {"payment-modes": {"gsma": "gsma"}})
    content = ("id,payment_mode,payee_identifier_type,payee_identifier,amount,currency\n"
               "0,gsma,msisdn,254700001111,100,KES\n"   # pending for ever: no callback
               "1,gsma,msisdn,254700001234,100,KES\n")
    batch_id = stack.submit(headers, content.encode(), "aid-pending")
    wait_until(lambda: stack.summary(headers, batch_id)["successful"] == 1, 60, "the paid row")
    assert stack.summary(headers, batch_id)["status"] == "processing"
    container = stack.container
    with container.uow() as uow:
        now = uow.clock()
        early = bulk_sweeps.sweep_remote_rows(uow, now + timedelta(minutes=40), timedelta(minutes=30),
                                              timedelta(hours=24))
        late = bulk_sweeps.sweep_remote_rows(uow, now + timedelta(hours=25), timedelta(minutes=30),
                                             timedelta(hours=24))
        again = bulk_sweeps.sweep_remote_rows(uow, now + timedelta(hours=26), timedelta(minutes=30),
                                              timedelta(hours=24))
        uow.commit()
    assert early == {"bulk_rows_asked": 1, "bulk_rows_flagged": 0}
    assert late == {"bulk_rows_asked": 1, "bulk_rows_flagged": 1} and again["bulk_rows_flagged"] == 0
    [row] = httpx.get(f"{stack.web.url}/api/v1/batchtransactions/{batch_id}/detail", headers=headers,
                      params={"status": "IN_PROGRESS"}, timeout=30).json()
    assert row["errorCode"] == "NO_ANSWER" and "ask the provider" in row["statusDetail"]
    assert rows(container, "SELECT COUNT(*) AS n FROM event_log WHERE kind = 'bulk_row_no_answer' "
                           "AND level = 'ALERT'")[0].n == 1
    wait_until(lambda: rows(container, "SELECT COUNT(*) AS n FROM outbox WHERE actor_name = 'sync_instruction' "
                                       "AND published_at IS NOT NULL")[0].n == 3, 30, "the sweeps' questions")


def _payment(stack: Stack, uetr: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(f"{stack.web.url}/api/v1/payments/{uetr}", headers=headers, timeout=30)


def test_payments_are_tracked_by_their_uetr_through_liquidation_and_a_late_return(stack: Stack) -> None:
    """A bulk SPEI row and a store's payout: each UETR's timeline from initiation to liquidation, then a
    return months later; each key sees only its own."""
    from domain.stp import OrderOutcome
    from tests.factories import validated_store
    from usecases import access, bank_outcomes, credits as credit_cases

    container = stack.container
    headers = stack.tenant("nomina", {"payment-modes": {"spei": "spei"}}, fund=("100.25", "MXN"))
    batch_id = stack.submit(headers, spei_file(1), "nomina-track")
    assert stack.finished(headers, batch_id, timeout=90)["successful"] == 1
    with container.uow() as uow:
        store_id = validated_store(uow, disbursement_mode="instant", beneficiary_name="Tienda Centro")
        credit = credit_cases.originate(uow, store_id, "track-1", 500_000, 6)
        credit_cases.deliver(uow, credit.id)
        admin = access.create_api_key(uow, "admin", owner="admin@tests.example")
        uow.commit()
    wait_until(lambda: rows(container, "SELECT COUNT(*) AS n FROM payment_orders WHERE status = 'liquidated'")[0].n
               == 2, 60, "both orders liquidated")
    [row] = rows(container, "SELECT uetr FROM instructions")
    [store_order] = rows(container, "SELECT id, uetr FROM payment_orders WHERE source = 'bank_transfer'")
    with container.uow() as uow:
        account = uow.orders.get(store_order.id).beneficiary_account  # sealed at rest, read through the mapping
    wait_until(lambda: _payment(stack, row.uetr, headers).json()["status"] == "liquidated", 30, "the row's tracking")
    tracked = _payment(stack, row.uetr, headers).json()
    assert [e["event"] for e in tracked["timeline"]] == ["initiated", "sent", "accepted", "liquidated"]
    assert tracked["rail"] == "SPEI" and set(tracked["payee_account"][:-4]) == {"*"}
    assert tracked["tracking_key"] and tracked["bank_reference"]
    admin_headers = {"Authorization": f"Bearer {admin}"}
    wait_until(lambda: _payment(stack, store_order.uetr, admin_headers).json()["status"] == "liquidated", 30,
               "the payout's tracking")
    payout = _payment(stack, store_order.uetr, admin_headers).json()
    assert payout["source"] == "store_transfer" and payout["amount"] is not None
    assert payout["payee_account"] == "*" * 14 + account[-4:] and payout["payee_name"] == "T*** C***"
    assert _payment(stack, store_order.uetr, headers).status_code == 404   # a tenant sees its own only
    assert _payment(stack, "not-a-uetr", admin_headers).status_code == 404
    assert _payment(stack, "5d3f0a9e-0000-4000-8000-000000000000", admin_headers).status_code == 404
    with container.uow() as uow:  # the bank returns the store's payout months later
        bank_outcomes.apply_outcome(uow, store_order.id, OrderOutcome.RETURNED, cause="cuenta cancelada")
        uow.commit()
    wait_until(lambda: _payment(stack, store_order.uetr, admin_headers).json()["status"] == "returned", 30,
               "the return's tracking")
    returned = _payment(stack, store_order.uetr, admin_headers).json()
    assert [e["event"] for e in returned["timeline"]][-2:] == ["liquidated", "returned"]
    assert returned["reason"] == "cuenta cancelada"

    receipt = httpx.get(f"{stack.web.url}/api/v1/payments/{store_order.uetr}/receipt", headers=admin_headers,
                        timeout=30)
    assert receipt.status_code == 200 and receipt.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(receipt.content)).pages)
    assert "Payment receipt" in text and store_order.uetr in text and "returned" in text
    assert returned["amount"] in text and returned["payee_account"] in text and "T*** C***" in text
    assert account not in text and "Tienda" not in text  # the account and the name only masked
    assert httpx.get(f"{stack.web.url}/api/v1/payments/{store_order.uetr}/receipt", headers=headers,
                     timeout=30).status_code == 404


def _signed_put(stack: Stack, uetr: str, body: dict[str, Any], secret: str = GSMA_SECRET,
                connector: str = "gsma") -> httpx.Response:
    raw = json.dumps(body).encode()
    signature = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return httpx.put(f"{stack.web.url}/callbacks/{connector}/{uetr}", content=raw, timeout=30,
                     headers={"Content-Type": "application/json", "X-Callback-Signature": signature})


def _row(stack: Stack, batch_id: str, row: int) -> Any:
    found = rows(stack.container, "SELECT i.uetr, i.status, i.connector FROM instructions i JOIN batches b "
                                  "ON b.id = i.batch_pk WHERE b.batch_id = :b AND i.row = :r", b=batch_id, r=row)
    return found[0] if found else None


def _alerts(stack: Stack, kind: str) -> int:
    return int(rows(stack.container, "SELECT COUNT(*) AS n FROM event_log WHERE kind = :k AND level = 'ALERT'",
                    k=kind)[0].n)


COMPLETED = {"transactionReference": "REF-FORGED", "transactionStatus": "completed"}


def test_a_signed_callback_settles_only_its_own_rows_waiting_for_it_once_the_provider_agrees(stack: Stack) -> None:
    """The audit's GSMA-signed callback marked closed-loop and SPEI rows, and rows of a batch awaiting
    approval, SUCCESS with no money moved. A callback is a claim about one of its own rows now."""
    headers = stack.tenant("mixto", {"payment-modes": {"gsma": "gsma", "slcb": "closedloop"}},
                           fund=("100", "KES"), wallets=(("254711110000", "KES"),))
    content = ("id,payment_mode,payee_identifier_type,payee_identifier,amount,currency\n"
               "0,gsma,msisdn,254700001111,100,KES\n"    # pending for ever: no callback, no word
               "1,slcb,msisdn,254711110000,100,KES\n")
    batch_id = stack.submit(headers, content.encode(), "mixto-1")
    wait_until(lambda: [getattr(_row(stack, batch_id, r), "status", None) for r in (0, 1)] == ["in_progress", "success"],
               60, "the GSMA row handed over and the closed-loop row paid")
    waiting, paid = _row(stack, batch_id, 0), _row(stack, batch_id, 1)
    # signed with STP's webhook secret: refused, one rail cannot speak for another
    assert _signed_put(stack, waiting.uetr, COMPLETED, secret=stack.container.settings.webhook_secret
                       ).status_code == 401
    # not the connector's shape: a 400, not a 500
    answer = _signed_put(stack, waiting.uetr, {"hello": "world"})
    assert answer.status_code == 400 and "gsma callback" in answer.json()["description"]
    # a row of another payment mode: refused, with an ALERT
    answer = _signed_put(stack, paid.uetr, {**COMPLETED, "transactionStatus": "failed"})
    assert answer.status_code == 409, answer.text
    assert _alerts(stack, "connector_callback_refused") == 1
    # its own row, waiting: queued, then contradicted by the provider's own status (still pending)
    assert _signed_put(stack, waiting.uetr, COMPLETED).status_code == 200
    wait_until(lambda: _alerts(stack, "connector_callback_contradicted") == 1, 30, "the contradiction's alert")
    assert _row(stack, batch_id, 0).status == "in_progress" and _row(stack, batch_id, 1).status == "success"
    # a batch awaiting approval: none of its rows waits for any connector
    approving = stack.tenant("aprueba", {"payment-modes": {"gsma": "gsma"}, "approval.enable": True})
    held = stack.submit(approving, b"id,payment_mode,payee_identifier_type,payee_identifier,amount,currency\n"
                                   b"0,gsma,msisdn,254700001234,100,KES\n", "aprueba-1")
    wait_until(lambda: stack.summary(approving, held)["status"] == "awaiting_approval" and _row(stack, held, 0),
               30, "the batch held")
    assert _signed_put(stack, _row(stack, held, 0).uetr, COMPLETED).status_code == 409
    assert _row(stack, held, 0).status == "pending"
    assert _alerts(stack, "connector_callback_refused") == 2
    assert verify_all(stack.container.sessions).violations == []


def _float(stack: Stack, tenant: str, currency: str = "MXN") -> int | None:
    with stack.container.uow() as uow:
        wallet = uow.wallets.find(uow.tenants.get(tenant).id or 0, "float", currency)
        return None if wallet is None else wallet.balance


def test_spei_rows_are_paid_from_the_tenants_float_and_a_return_gives_the_money_back(stack: Stack) -> None:
    """The audit saw 10,000 MXN liquidated for a tenant whose MXN float held 5,000. A SPEI row is paid out
    of the float now: one it cannot cover fails INSUFFICIENT_FUNDS and is never sent; a returned one
    puts its money back into the float; and ledger verify holds the float to its fundings and rows."""
    from domain.stp import OrderOutcome
    from usecases import bank_outcomes

    container = stack.container
    headers = stack.tenant("rentas", {"payment-modes": {"spei": "spei"}}, fund=("5000", "MXN"))
    accounts = [clabe.make("012", "180", f"{16000000 + i:011d}") for i in range(3)]
    content = ("id,payment_mode,payee_identifier_type,payee_identifier,amount,currency,note\n"
               f"0,spei,clabe,{accounts[0]},3000,MXN,Casa Uno\n"
               f"1,spei,clabe,{accounts[1]},2500,MXN,Casa Dos\n"      # beyond what is left: 2000
               f"2,spei,clabe,{accounts[2]},2000,MXN,Casa Tres\n")
    batch_id = stack.submit(headers, content.encode(), "rentas-1")
    summary = stack.finished(headers, batch_id, timeout=90)
    assert (summary["successful"], summary["failed"]) == (2, 1), summary
    [refused] = httpx.get(f"{stack.web.url}/api/v1/batchtransactions/{batch_id}/detail", headers=headers,
                          params={"status": "FAILURE"}, timeout=30).json()
    assert refused["row"] == 1 and refused["errorCode"] == "INSUFFICIENT_FUNDS"
    books = httpx.get(f"{stack.sandbox.url}/_sandbox/books", timeout=10).json()["orders"]
    assert sorted(b["cuentaBeneficiario"] for b in books) == [accounts[0], accounts[2]]  # nothing sent for row 1
    assert rows(container, "SELECT COUNT(*) AS n FROM payment_orders")[0].n == 2
    assert _float(stack, "rentas") == 0
    assert verify_all(container.sessions).violations == []
    # the bank returns row 0 (its return confirmed): its 3,000 come back to the float, once
    [order] = rows(container, "SELECT po.id FROM payment_orders po JOIN instructions i ON i.uetr = po.uetr "
                              "WHERE i.row = 0")
    for _ in range(2):
        with container.uow() as uow:
            bank_outcomes.apply_outcome(uow, order.id, OrderOutcome.RETURNED, cause="Cuenta cancelada")
            uow.commit()
    assert _float(stack, "rentas") == 300_000
    assert stack.summary(headers, batch_id)["failed"] == 2
    assert verify_all(container.sessions).violations == []
    # money taken out of the float behind the ledger's back is found
    with container.uow() as uow:
        uow.session.execute(text("UPDATE wallets SET balance = balance + 100000 WHERE owner_digest = :d"),
                            {"d": KEYRING.digest("float")})
        uow.commit()
    violations = verify_all(container.sessions).violations
    assert len([v for v in violations if "tenant rentas's MXN float (400000)" in v]) == 2, violations
    assert any("MXN wallets hold 400000; funded 500000 less paid out 200000 is 300000" in v for v in violations)
    # a row marked paid with no order behind it is found, its status written as the column holds it
    with container.uow() as uow:
        uow.session.execute(text("UPDATE instructions SET status = 'success' WHERE `row` = 1"))
        uow.commit()
    violations = verify_all(container.sessions).violations
    assert any(v.endswith("row 1 (success) has 0 payment orders, 0 liquidated") for v in violations), violations


def test_a_spei_row_the_bank_refuses_gives_its_money_back_to_the_float(stack: Stack) -> None:
    headers = stack.tenant("rechazos", {"payment-modes": {"spei": "spei"}}, fund=("1000", "MXN"))
    account = clabe.make("012", "180", "00017000001")
    batch_id = stack.submit(headers, ("id,payment_mode,payee_identifier_type,payee_identifier,amount,currency,note\n"
                                      f"0,spei,clabe,{account},1000,MXN,PLD RECHAZADO\n").encode(), "rechazos-1")
    summary = stack.finished(headers, batch_id, timeout=90)
    assert (summary["successful"], summary["failed"]) == (0, 1), summary  # STP's -200: refused for good
    assert rows(stack.container, "SELECT status FROM payment_orders")[0].status == "cancelled"
    assert _float(stack, "rechazos") == 100_000  # taken when the order was made, given back when refused
    [row] = rows(stack.container, "SELECT instruction_id FROM instructions")
    moved = rows(stack.container, "SELECT reference, amount FROM wallet_entries WHERE reference NOT LIKE 'fund:%' "
                                  "ORDER BY id")
    assert [(m.reference, m.amount) for m in moved] == [(row.instruction_id, 100_000),
                                                        (f"{row.instruction_id}:back", 100_000)]
    assert verify_all(stack.container.sessions).violations == []
