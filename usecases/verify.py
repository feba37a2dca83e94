"""``dispersa ledger verify`` and the daily ledger check: the ledger's invariants over every store in the
database and the loan book's over every loan (usecases.verify_loans), each run recorded with its violations
(an ALERT when there are any)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adapters.db import tables as db
from adapters.db.tables import bank_transfer_items
from usecases.ports import UnitOfWork
from usecases import verify_batches, verify_wallets
from usecases.verify_loans import verify_loans
from domain.credits import Credit
from domain.identity import id_of
from domain.invariants import StoreBooks, verify
from domain.ledger import BalanceUpdate, BankTransfer
from domain.merchants import Store
from domain.payment_orders import PaymentOrder


@dataclass
class VerifyReport:
    """What ``ledger verify`` went through (stores, balance updates, transfers) and the violations found."""

    stores: int = 0
    balance_updates: int = 0
    transfers: int = 0
    violations: list[str] = field(default_factory=list)
    batches: int = 0
    loans: int = 0
    loan_violations: int = 0  # of ``violations``, those of the loan book

    def summary(self) -> str:
        """The counts and the number of violations, in one line."""
        return (f"{self.stores} stores, {self.balance_updates} balance updates, {self.transfers} transfers, "
                f"{self.batches} batches, {self.loans} loans, {len(self.violations)} violations")


def load_books(session: Session, store: Store) -> StoreBooks:
    """Everything of one store the invariants look at: its balance updates, transfers (with their
    members), credits and payment orders."""
    updates = list(session.scalars(select(BalanceUpdate).where(db.balance_updates.c.store_id == store.id)
                                   .order_by(db.balance_updates.c.sequence)))
    by_id = {id_of(bu): bu for bu in updates}
    transfers = list(session.scalars(select(BankTransfer).where(db.bank_transfers.c.store_id == store.id)))
    members: dict[int, list[BalanceUpdate]] = {id_of(t): [] for t in transfers}
    if transfers:
        for transfer_id, bu_id in session.execute(select(
                bank_transfer_items.c.bank_transfer_id, bank_transfer_items.c.balance_update_id)
                .where(bank_transfer_items.c.bank_transfer_id.in_(list(members)))):
            members[transfer_id].append(by_id[bu_id])
    credits = list(session.scalars(select(Credit).where(db.credits.c.store_id == store.id)))
    orders = list(session.scalars(select(PaymentOrder).where(db.payment_orders.c.bank_transfer_id.in_(list(members))))) \
        if members else []
    return StoreBooks(id_of(store), store.balance, updates, transfers, credits, members, orders)


def duplicate_tracking_keys(session: Session) -> list[str]:
    """A violation per tracking key used by more than one order."""
    rows = session.execute(select(db.payment_orders.c.tracking_key, func.count()).group_by(db.payment_orders.c.tracking_key)
                           .having(func.count() > 1))
    return [f"tracking key {key} used by {n} orders" for key, n in rows]


def verify_all(sessions: Callable[[], Session], progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Every store's books against the invariants, one short read per store."""
    report = VerifyReport()
    with sessions() as session:
        store_ids = list(session.scalars(select(db.stores.c.id).order_by(db.stores.c.id)))
        report.violations.extend(duplicate_tracking_keys(session))
    for store_id in store_ids:
        with sessions() as session:  # one short read per store keeps memory flat
            store = session.get(Store, store_id)
            if store is None:  # deleted by hand since the list was read
                continue
            books = load_books(session, store)
        report.stores += 1
        report.balance_updates += len(books.updates)
        report.transfers += len(books.transfers)
        report.violations.extend(verify(books))
        if progress:
            progress(1)
    with sessions() as session:
        batches = verify_batches.batch_keys(session)
        report.violations.extend(verify_batches.check_floats(session))
        report.violations.extend(verify_wallets.check_wallets(session))
    for batch_pk in batches:
        with sessions() as session:
            report.violations.extend(verify_batches.check_batch(session, batch_pk))
        report.batches += 1
    return report



def record_check(uow: UnitOfWork, report: VerifyReport, started_at: datetime, source: str) -> int:
    """Keep a run of the invariants (``source``: cli or daily); any violation is an ALERT. Returns its id."""
    seconds = int((uow.clock() - started_at).total_seconds())
    check_id = uow.ledger_checks.record(started_at, seconds, report.stores, report.balance_updates, report.transfers,
                                        report.violations, source)
    if report.loan_violations:
        first = next(v for v in report.violations if v.startswith("loan "))
        uow.alert("loan_book_violation", f"the loan book check found {report.loan_violations} violations in "
                  f"{report.loans} loans; the first: {first}", details={"check_id": check_id})
    if report.violations:
        uow.alert("ledger_violation", f"the ledger check found {len(report.violations)} violations "
                  f"({report.summary()}); the first: {report.violations[0]}", details={"check_id": check_id})
    else:
        uow.log("ledger_check", report.summary(), details={"check_id": check_id})
    return check_id


def check_ledger(new_uow: Callable[[], UnitOfWork], sessions: Callable[[], Session], source: str) -> VerifyReport:
    """Verify every store's books and record the run."""
    with new_uow() as uow:
        started_at = uow.clock()
    report = verify_all(sessions)
    book = verify_loans(new_uow)
    report.loans, report.loan_violations = book.loans, len(book.violations)
    report.violations.extend(book.violations)
    with new_uow() as uow:
        record_check(uow, report, started_at, source)
        uow.commit()
    return report
