"""Unit of work: one MySQL transaction, with the outbox and the event log riding along."""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from adapters.db import bulk, customers, loans, repayments, repositories as r, servicing, tracking, withdrawals
from adapters.db.outbox import Outbox
from adapters.db.tables import event_log

ALERT = "ALERT"
alerts = logging.getLogger("dispersa.alerts")
events = logging.getLogger("dispersa.events")
LEVELS = {"INFO": logging.INFO, "WARNING": logging.WARNING, "ERROR": logging.ERROR, ALERT: logging.ERROR}


class UnitOfWork:
    """One MySQL transaction: open with ``with``; nothing is kept unless ``commit()`` is called inside the
    block. Its repositories (``uow.stores``, ``uow.credits``, ``uow.transfers``, ``uow.orders``, …), its
    outbox and its event log all write in that transaction."""

    def __init__(self, sessions: sessionmaker[Session], clock: Callable[[], datetime], new_id: Callable[[], str]):
        self._sessions = sessions
        self.clock = clock
        self.new_id = new_id

    def __enter__(self) -> UnitOfWork:
        self.session = self._sessions()
        self.outbox = Outbox(self.session, self.clock, self.new_id)
        self.merchants = r.Merchants(self.session)
        self.stores = r.Stores(self.session)
        self.options = r.PaymentOptions(self.session)
        self.products = r.Products(self.session)
        self.credits = r.Credits(self.session)
        self.balance_updates = r.BalanceUpdates(self.session)
        self.transfers = r.Transfers(self.session)
        self.evaluations = r.Evaluations(self.session)
        self.orders = r.Orders(self.session)
        self.bank_events = r.BankEvents(self.session)
        self.commission_updates = r.CommissionUpdates(self.session)
        self.reconciliations = r.Reconciliations(self.session)
        self.api_keys = r.ApiKeys(self.session)
        self.people = r.People(self.session)
        self.adjustment_requests = r.AdjustmentRequests(self.session)
        self.audit = r.AuditLog(self.session)
        self.dead_letters = r.DeadLetters(self.session)
        self.ledger_checks = r.LedgerChecks(self.session)
        self.tenants = r.Tenants(self.session)
        self.wallets = r.Wallets(self.session)
        self.withdrawals = withdrawals.Withdrawals(self.session)
        self.customers = customers.Customers(self.session)
        self.loans = loans.Loans(self.session)
        self.repayments = repayments.Repayments(self.session)
        self.loan_requests = loans.LoanRequests(self.session)
        self.customer_loans = loans.CustomerLoans(self.session)
        self.servicing = servicing.LoanServicing(self.session)
        self.batches = bulk.Batches(self.session)
        self.instructions = bulk.Instructions(self.session)
        self.sub_batches = bulk.SubBatches(self.session)
        self.payment_events = tracking.PaymentEvents(self.session)
        self.payment_tracking = tracking.PaymentTracking(self.session)
        return self

    def __exit__(self, *exc: object) -> None:
        # close() rolls back whatever was not committed; unlike rollback() it leaves the
        # loaded objects readable (detached) for the caller.
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def log(self, kind: str, message: str, level: str = "INFO", details: dict[str, Any] | None = None,
            **refs: Any) -> None:
        """A row in the event log, in this transaction: an external event, an error, a decision. It is a log
        line too (at DEBUG for INFO rows), carrying the payment's UETR (``uetr=``, kept in the details) and
        tracking key when it names them."""
        details = _with_uetr(details, refs)
        self.session.execute(insert(event_log).values(
            at=self.clock(), level=level, kind=kind, message=message, details=details, **refs))
        if level != ALERT:
            events.log(logging.DEBUG if level == "INFO" else LEVELS.get(level, logging.INFO), "%s: %s", kind, message,
                       extra=_ids(kind, details, refs))

    def alert(self, kind: str, message: str, details: dict[str, Any] | None = None, **refs: Any) -> None:
        """Something a person must look at: an event of level ALERT (``GET /api/v1/events?level=ALERT``),
        also logged at ERROR so that log-based alerting sees it."""
        details = _with_uetr(details, refs)
        alerts.error("%s: %s", kind, message, extra=_ids(kind, details, refs))
        self.log(kind, message, level=ALERT, details=details, **refs)


def _with_uetr(details: dict[str, Any] | None, refs: dict[str, Any]) -> dict[str, Any] | None:
    """The details with the ``uetr`` a caller named among the references (the event log keeps it there)."""
    uetr = refs.pop("uetr", None)
    return {**(details or {}), "uetr": uetr} if uetr else details


def _ids(kind: str, details: dict[str, Any] | None, refs: dict[str, Any]) -> dict[str, Any]:
    """The ids a log line carries: the UETR (from the details), the tracking key or batch (the reference)."""
    found: dict[str, Any] = {"kind": kind}
    if details and details.get("uetr"):
        found["uetr"] = details["uetr"]
    reference = refs.get("reference")
    if reference:
        found["batch_id" if kind.startswith("batch") else "tracking_key"] = reference
    for name in ("store_id", "bank_transfer_id"):
        if refs.get(name) is not None:
            found[name] = refs[name]
    return found
