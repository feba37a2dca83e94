"""The read side of the API: balances, balance updates, transfers and their reports, as plain data.

Every query takes a ``scope``: the merchant whose data the caller may see, or None for all.
Something outside the scope is reported as not existing, so that its existence does not leak.
Values stay Python values (Decimal rates, aware datetimes, integer minor units); the web layer
renders them.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from adapters.db import tables as db
from adapters.db.tables import api_keys, audit_log, event_log, reconciliation_mismatches, reconciliation_runs

from usecases.ports import ReadingUnitOfWork
from domain import masking
from domain.credits import ENDED, Credit, CreditStatus
from domain.dual_control import AdjustmentRequest, AdjustmentStatus
from domain.identity import id_of
from domain.ledger import BalanceUpdate, BalanceUpdateStatus, BalanceUpdateType, BankTransfer, TransferStatus
from domain.payment_orders import PaymentOrder
from domain.merchants import Merchant, PaymentOption, Store
from domain.products import Product, ProductStatus
from usecases.errors import NotFound

E = TypeVar("E")


@dataclass(frozen=True)
class Page:
    """One page of a listing; ``total`` counts every item the filters match."""

    items: list[dict[str, Any]]
    page: int
    per_page: int
    total: int

    def as_dict(self) -> dict[str, Any]:
        """The page as plain data."""
        return {"items": self.items, "page": self.page, "per_page": self.per_page, "total": self.total}


# --- views: what a caller is shown of each entity --------------------------------------------


def merchant_view(m: Merchant) -> dict[str, Any]:
    """What a caller is shown of a merchant: its fields, its store ids and its commission tiers."""
    return {
        "id": m.id, "name": m.name, "currency": m.currency, "tax_rate": m.tax_rate, "timezone": m.timezone,
        "status": m.status.value,
        "validated": m.validated, "can_originate": m.can_originate, "created_at": m.created_at,
        "store_ids": [s.id for s in m.stores],
        "tiers": [{"min_origination": t.min_origination, "commission_rate": t.commission_rate} for t in m.tiers],
    }


STORE_FIELDS = ("id", "merchant_id", "name", "clabe", "beneficiary_name", "rfc_curp", "currency", "time_of_day",
                "weekday", "day_of_month", "timezone", "minimum_transfer", "automation_enabled",
                "requires_confirmation", "validated", "validated_clabe", "validated_beneficiary_name",
                "validated_rfc_curp", "balance", "created_at")


def store_view(s: Store) -> dict[str, Any]:
    """What a caller is shown of a store, its balance included (centavos), its accounts and names masked."""
    view = {name: masking.field(name, getattr(s, name)) for name in STORE_FIELDS}
    view["disbursement_mode"] = s.disbursement_mode.value
    return view


OPTION_FIELDS = ("id", "store_id", "merchant_id", "product_id", "number_of_payments", "merchant_commission", "min_amount",
                 "max_amount", "priority", "identifier_code", "type", "a0_interest_rate", "c3_interest_rate",
                 "discount_percentage", "first_payment_month_shift", "starting_time", "ending_time", "is_promo",
                 "is_active", "can_commission_be_auto_updated", "is_in_trial_period", "trial_commission",
                 "end_of_trial_period", "validated", "created_at")


def option_view(o: PaymentOption, in_use: bool) -> dict[str, Any]:
    """What a caller is shown of a payment option (an offer): its fields, its status, and its tag: ``in_use``
    while at least one of its loans has not ended (paid or cancelled), ``idle`` otherwise."""
    return {**{name: getattr(o, name) for name in OPTION_FIELDS}, "status": o.status.value,
            "tag": "in_use" if in_use else "idle"}


def offers_in_use(uow: ReadingUnitOfWork, option_ids: list[int]) -> set[int]:
    """The offers among ``option_ids`` with at least one loan not ended (signed, active, frozen or in dispute)."""
    if not option_ids:
        return set()
    return set(uow.session.scalars(select(db.credits.c.payment_option_id).distinct().where(
        db.credits.c.payment_option_id.in_(option_ids), db.credits.c.status.not_in(list(ENDED)))))


def offer_view(uow: ReadingUnitOfWork, o: PaymentOption) -> dict[str, Any]:
    """One offer's view, with its tag."""
    return option_view(o, bool(offers_in_use(uow, [id_of(o)])))


def product_view(p: Product) -> dict[str, Any]:
    """What a caller is shown of a product."""
    return {"id": p.id, "name": p.name, "currency": p.currency, "payment_frequency": p.payment_frequency.value,
            "status": p.status.value, "charges_interest": p.charges_interest,
            "default": p.default_for_currency is not None, "created_at": p.created_at}


CREDIT_FIELDS = ("id", "external_id", "merchant_id", "store_id", "payment_option_id", "amount", "currency",
                 "number_of_payments", "commission_rate", "tax_rate", "commission", "tax", "contribution",
                 "signed_at", "delivered_at", "cancelled_at", "disbursed")


def credit_view(c: Credit) -> dict[str, Any]:
    """What a caller is shown of a credit (amounts in centavos)."""
    view = {name: getattr(c, name) for name in CREDIT_FIELDS}
    view["status"] = c.status.value
    view["cancellation_reason"] = c.cancellation_reason.value if c.cancellation_reason else None
    return view


BU_FIELDS = ("id", "store_id", "sequence", "amount", "previous_balance", "new_balance", "currency", "credit_id",
             "bank_transfer_id", "admin_creator_id", "note", "overwritten", "overwritten_by_id", "created_at")


def balance_update_view(bu: BalanceUpdate) -> dict[str, Any]:
    """What a caller is shown of a balance update (amounts in centavos)."""
    view = {name: getattr(bu, name) for name in BU_FIELDS}
    view.update(type=bu.type.value, status=bu.status.value)
    return view


def _liquidated_at(t: BankTransfer) -> datetime | None:
    applied = [h.at for h in t.history if h.status == TransferStatus.APPLIED]
    return applied[-1] if applied else None


def orders_of(uow: ReadingUnitOfWork, transfer_ids: list[int]) -> dict[int, PaymentOrder]:
    """The payment order of each transfer that has one."""
    if not transfer_ids:
        return {}
    return {o.bank_transfer_id: o for o in uow.session.scalars(
        select(PaymentOrder).where(db.payment_orders.c.bank_transfer_id.in_(transfer_ids)))
        if o.bank_transfer_id is not None}


def transfer_view(t: BankTransfer, order: PaymentOrder | None = None, detail: bool = False) -> dict[str, Any]:
    """The bank fields (UETR, tracking key, STP's order id) stay null until the bank step records them."""
    view: dict[str, Any] = {
        "id": t.id, "store_id": t.store_id, "status": t.status.value, "amount": t.amount, "currency": t.currency,
        "trigger_key": t.trigger_key, "requires_confirmation": t.requires_confirmation,
        "returned_after_applied": t.returned_after_applied, "status_reason": t.status_reason,
        "created_at": t.created_at, "updated_at": t.updated_at,
        "uetr": order.uetr if order else None,
        "tracking_key": order.tracking_key if order else None,
        "bank_order_id": order.bank_order_id if order else None,
        "liquidated_at": (order.liquidated_at if order else None) or _liquidated_at(t),
        "order_status": order.status.value if order else None,
        "order_attempts": order.attempts if order else 0,
        "order_last_error": order.last_error if order else None,
        "approval_reason": t.approval_reason,
    }
    if detail:
        view["balance_update_ids"] = [bu.id for bu in t.balance_updates]
        view["history"] = [{"status": h.status.value, "previous_status": h.previous_status.value
                            if h.previous_status else None, "reason": h.reason, "at": h.at} for h in t.history]
    return view


# --- scope -------------------------------------------------------------------------------------

def _related(cls: type, name: str) -> Any:
    """A relationship the imperative mapping added to a domain class (its type does not know it)."""
    return getattr(cls, name)


NAMES = {Merchant: "merchant", Store: "store", PaymentOption: "payment option", Product: "product", Credit: "credit",
         BankTransfer: "transfer", BalanceUpdate: "balance update"}


def _get(uow: ReadingUnitOfWork, cls: type[E], id_: int) -> E:
    obj = uow.session.get(cls, id_)
    if obj is None:
        raise NotFound(f"{NAMES.get(cls, cls.__name__)} {id_} does not exist")
    return obj


def totals_by_status(uow: ReadingUnitOfWork, store_id: int) -> dict[BalanceUpdateStatus, int]:
    """A store's pending and in-transit totals."""
    rows = uow.session.execute(
        select(db.balance_updates.c.status, func.coalesce(func.sum(db.balance_updates.c.amount), 0))
        .where(db.balance_updates.c.store_id == store_id,
               db.balance_updates.c.status.in_([BalanceUpdateStatus.PENDING, BalanceUpdateStatus.IN_TRANSIT]))
        .group_by(db.balance_updates.c.status))
    totals = {BalanceUpdateStatus.PENDING: 0, BalanceUpdateStatus.IN_TRANSIT: 0}
    totals.update({status: int(total) for status, total in rows})
    return totals



def _merchant_of(uow: ReadingUnitOfWork, obj: object) -> int:
    if isinstance(obj, Merchant):
        return id_of(obj)
    if isinstance(obj, BankTransfer):
        return _get(uow, Store, obj.store_id).merchant_id
    return int(getattr(obj, "merchant_id"))


def visible(uow: ReadingUnitOfWork, cls: type[E], id_: int, scope: int | None) -> E:
    """Load an entity the caller may see; one outside the scope is NotFound, like a missing one."""
    obj = _get(uow, cls, id_)
    if scope is not None and _merchant_of(uow, obj) != scope:
        raise NotFound(f"{NAMES.get(cls, cls.__name__)} {id_} does not exist")
    return obj


def _page(uow: ReadingUnitOfWork, stmt: Any, page: int, per_page: int) -> tuple[list[Any], int]:
    total = uow.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar() or 0
    rows = list(uow.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return rows, int(total)


# --- catalogue -----------------------------------------------------------------------------------


def merchant(uow: ReadingUnitOfWork, merchant_id: int, scope: int | None) -> dict[str, Any]:
    """One merchant; NotFound when it does not exist or is outside the scope."""
    return merchant_view(visible(uow, Merchant, merchant_id, scope))


def merchants(uow: ReadingUnitOfWork, scope: int | None, page: int, per_page: int) -> Page:
    """Merchants by id, oldest first."""
    stmt = select(Merchant).options(selectinload(_related(Merchant, "stores")), selectinload(_related(Merchant, "tiers"))
                                    ).order_by(db.merchants.c.id)
    if scope is not None:
        stmt = stmt.where(db.merchants.c.id == scope)
    rows, total = _page(uow, stmt, page, per_page)
    return Page([merchant_view(m) for m in rows], page, per_page, total)


def store(uow: ReadingUnitOfWork, store_id: int, scope: int | None) -> dict[str, Any]:
    """One store; NotFound when it does not exist or is outside the scope."""
    return store_view(visible(uow, Store, store_id, scope))


def payment_options(uow: ReadingUnitOfWork, store_id: int, scope: int | None) -> list[dict[str, Any]]:
    """A store's payment options; NotFound when the store does not exist or is outside the scope."""
    options = visible(uow, Store, store_id, scope).options
    in_use = offers_in_use(uow, [id_of(o) for o in options])
    return [option_view(o, o.id in in_use) for o in options]


def payment_option(uow: ReadingUnitOfWork, option_id: int, scope: int | None) -> dict[str, Any]:
    """One payment option; NotFound when it does not exist or is outside the scope."""
    return offer_view(uow, visible(uow, PaymentOption, option_id, scope))


def credit(uow: ReadingUnitOfWork, credit_id: int, scope: int | None) -> dict[str, Any]:
    """One credit; NotFound when it does not exist or is outside the scope."""
    return credit_view(visible(uow, Credit, credit_id, scope))


def credits(uow: ReadingUnitOfWork, scope: int | None, page: int, per_page: int, store_id: int | None = None,
            status: CreditStatus | None = None) -> Page:
    """Credits, newest first (highest id first), optionally of one store and one status."""
    stmt = select(Credit).order_by(db.credits.c.id.desc())
    if scope is not None:
        stmt = stmt.where(db.credits.c.merchant_id == scope)
    if store_id is not None:
        stmt = stmt.where(db.credits.c.store_id == store_id)
    if status is not None:
        stmt = stmt.where(db.credits.c.status == status)
    rows, total = _page(uow, stmt, page, per_page)
    return Page([credit_view(c) for c in rows], page, per_page, total)


def product(uow: ReadingUnitOfWork, product_id: int) -> dict[str, Any]:
    """One product; NotFound when it does not exist."""
    return product_view(_get(uow, Product, product_id))


def products(uow: ReadingUnitOfWork, page: int, per_page: int, status: ProductStatus | None = None) -> Page:
    """Products, oldest first, optionally of one status."""
    stmt = select(Product).order_by(db.products.c.id)
    if status is not None:
        stmt = stmt.where(db.products.c.status == status)
    rows, total = _page(uow, stmt, page, per_page)
    return Page([product_view(p) for p in rows], page, per_page, total)


def merchant_stores(uow: ReadingUnitOfWork, merchant_id: int, scope: int | None, page: int, per_page: int) -> Page:
    """A merchant's stores, oldest first."""
    visible(uow, Merchant, merchant_id, scope)
    stmt = select(Store).where(db.stores.c.merchant_id == merchant_id).order_by(db.stores.c.id)
    rows, total = _page(uow, stmt, page, per_page)
    return Page([store_view(s) for s in rows], page, per_page, total)


# --- operations ----------------------------------------------------------------------------------


def _table_page(uow: ReadingUnitOfWork, table: Any, where: list[Any], page: int, per_page: int) -> tuple[list[Any], int]:
    total = uow.session.execute(select(func.count()).select_from(table).where(*where)).scalar() or 0
    rows = uow.session.execute(select(table).where(*where).order_by(table.c.id.desc())
                               .limit(per_page).offset((page - 1) * per_page)).mappings().all()
    return list(rows), int(total)


EVENT_FIELDS = ("id", "at", "level", "kind", "message", "merchant_id", "store_id", "credit_id", "bank_transfer_id",
                "reference", "details")


def events(uow: ReadingUnitOfWork, page: int, per_page: int, level: str | None = None, kind: str | None = None,
           store_id: int | None = None, since: datetime | None = None) -> Page:
    """The event log, newest first; ``level="ALERT"`` is what a person must look at."""
    where = [c for c in (
        event_log.c.level == level if level else None, event_log.c.kind == kind if kind else None,
        event_log.c.store_id == store_id if store_id is not None else None,
        event_log.c.at >= since if since is not None else None) if c is not None]
    rows, total = _table_page(uow, event_log, where, page, per_page)
    return Page([{name: row[name] for name in EVENT_FIELDS} for row in rows], page, per_page, total)


AUDIT_FIELDS = ("id", "at", "api_key_id", "role", "action", "resource", "resource_id", "details")


def audit_entries(uow: ReadingUnitOfWork, page: int, per_page: int, action: str | None = None,
                  resource: str | None = None, since: datetime | None = None) -> Page:
    """The audit log of privileged actions, newest first."""
    where = [c for c in (
        audit_log.c.action == action if action else None, audit_log.c.resource == resource if resource else None,
        audit_log.c.at >= since if since is not None else None) if c is not None]
    rows, total = _table_page(uow, audit_log, where, page, per_page)
    return Page([{name: row[name] for name in AUDIT_FIELDS} for row in rows], page, per_page, total)


API_KEY_FIELDS = ("id", "prefix", "role", "merchant_id", "owner", "label", "created_at", "revoked_at")
KEYS_WITH_OWNERS = select(*api_keys.c, db.people.c.email.label("owner")).join(
    db.people, db.people.c.id == api_keys.c.person_id)


def api_key_view(row: Any) -> dict[str, Any]:
    """What is shown of an API key: its id, prefix, role, merchant, label and dates; never its hash."""
    return {name: row[name] for name in API_KEY_FIELDS}


def api_key_list(uow: ReadingUnitOfWork, page: int, per_page: int) -> Page:
    """API keys, newest first: their prefix, role and state, never the key."""
    total = uow.session.execute(select(func.count()).select_from(api_keys)).scalar() or 0
    rows = uow.session.execute(KEYS_WITH_OWNERS.order_by(api_keys.c.id.desc()).limit(per_page)
                               .offset((page - 1) * per_page)).mappings().all()
    return Page([api_key_view(row) for row in rows], page, per_page, int(total))


def api_key(uow: ReadingUnitOfWork, key_id: int) -> dict[str, Any]:
    """One API key; raises NotFound when there is none with this id."""
    row = uow.session.execute(KEYS_WITH_OWNERS.where(api_keys.c.id == key_id)).mappings().first()
    if row is None:
        raise NotFound(f"API key {key_id} does not exist")
    return api_key_view(row)


# --- dead letters --------------------------------------------------------------------------------

DEAD_LETTER_FIELDS = ("id", "message_id", "queue_name", "actor_name", "args", "error", "attempts", "deaths",
                      "status", "died_at", "resolved_at", "resolved_by", "resolution")


def dead_letters(uow: ReadingUnitOfWork, page: int, per_page: int, queue: str | None = None, actor: str | None = None,
                 status: str | None = None) -> Page:
    """Dead letters, newest first, optionally of one queue, one actor and one status ("all" or None: any)."""
    status = None if status == "all" else status
    t = db.dead_letters
    where = [c for c in (t.c.queue_name == queue if queue else None, t.c.actor_name == actor if actor else None,
                         t.c.status == status if status else None) if c is not None]
    rows, total = _table_page(uow, t, where, page, per_page)
    return Page([_dead_letter_row(row) for row in rows], page, per_page, total)


def _dead_letter_row(row: Any) -> dict[str, Any]:
    view = {name: row[name] for name in DEAD_LETTER_FIELDS}
    view["status"] = getattr(view["status"], "value", view["status"])
    return view


def dead_letter(uow: ReadingUnitOfWork, dead_letter_id: int) -> dict[str, Any]:
    """One dead letter with the end of its traceback and its history, oldest event first; NotFound
    when there is none with this id."""
    t, h = db.dead_letters, db.dead_letter_history
    row = uow.session.execute(select(t).where(t.c.id == dead_letter_id)).mappings().first()
    if row is None:
        raise NotFound(f"dead letter {dead_letter_id} does not exist")
    history = uow.session.execute(select(h.c.kind, h.c.at, h.c.detail, h.c.attempts)
                                  .where(h.c.dead_letter_id == dead_letter_id).order_by(h.c.id)).mappings().all()
    return {**_dead_letter_row(row), "traceback": row["traceback"],
            "history": [{**e, "kind": getattr(e["kind"], "value", e["kind"])} for e in history]}


# --- ledger --------------------------------------------------------------------------------------


def balance(uow: ReadingUnitOfWork, store_id: int, scope: int | None) -> dict[str, Any]:
    """The balance is the last balance update's new balance; it equals pending plus in transit."""
    s = visible(uow, Store, store_id, scope)
    totals = totals_by_status(uow, store_id)
    return {"store_id": s.id, "currency": s.currency, "balance": s.balance,
            "pending": totals[BalanceUpdateStatus.PENDING], "in_transit": totals[BalanceUpdateStatus.IN_TRANSIT]}


def balance_updates(uow: ReadingUnitOfWork, store_id: int, scope: int | None, page: int, per_page: int) -> Page:
    """A store's balance updates, newest first (highest sequence number first)."""
    visible(uow, Store, store_id, scope)
    stmt = select(BalanceUpdate).where(db.balance_updates.c.store_id == store_id).order_by(db.balance_updates.c.sequence.desc())
    rows, total = _page(uow, stmt, page, per_page)
    return Page([balance_update_view(bu) for bu in rows], page, per_page, total)


def transfers(uow: ReadingUnitOfWork, scope: int | None, page: int, per_page: int, status: TransferStatus | None = None,
              store_id: int | None = None) -> Page:
    """Transfers, newest first (highest id first), optionally of one status and one store."""
    stmt = select(BankTransfer).order_by(db.bank_transfers.c.id.desc())
    if scope is not None:
        stmt = stmt.join(Store, db.stores.c.id == db.bank_transfers.c.store_id).where(db.stores.c.merchant_id == scope)
    if status is not None:
        stmt = stmt.where(db.bank_transfers.c.status == status)
    if store_id is not None:
        stmt = stmt.where(db.bank_transfers.c.store_id == store_id)
    rows, total = _page(uow, stmt.options(selectinload(_related(BankTransfer, "history"))), page, per_page)
    orders = orders_of(uow, [id_of(t) for t in rows])
    return Page([transfer_view(t, orders.get(id_of(t))) for t in rows], page, per_page, total)


def transfer(uow: ReadingUnitOfWork, transfer_id: int, scope: int | None) -> dict[str, Any]:
    """One transfer with its payment order's fields, its balance update ids and its status history;
    NotFound when it does not exist or is outside the scope."""
    t = visible(uow, BankTransfer, transfer_id, scope)
    return transfer_view(t, orders_of(uow, [transfer_id]).get(transfer_id), detail=True)


@dataclass(frozen=True)
class ReportRow:
    """One balance update of a transfer. ``amount - commission - tax = net``, and net is the BU's amount."""

    balance_update_id: int
    sequence: int
    type: str
    credit_id: int | None
    credit_external_id: str | None
    amount: int
    commission: int
    tax: int
    net: int
    note: str | None


@dataclass(frozen=True)
class TransferReport:
    """Every balance update a transfer pays, with totals; the totals' net is the transfer's amount."""

    transfer: dict[str, Any]
    store: dict[str, Any]
    currency: str
    rows: list[ReportRow]

    @property
    def totals(self) -> dict[str, int]:
        """The sums of amount, commission, tax and net over the rows, in centavos."""
        return {name: sum(getattr(r, name) for r in self.rows) for name in ("amount", "commission", "tax", "net")}

    def as_dict(self) -> dict[str, Any]:
        """The report as plain data, totals included."""
        return {"transfer": self.transfer, "store": self.store, "currency": self.currency,
                "rows": [asdict(r) for r in self.rows], "totals": self.totals}


CREDIT_SIGN = {BalanceUpdateType.CONTRIBUTION: 1, BalanceUpdateType.CREDIT_CANCELLATION: -1}


def _report_row(bu: BalanceUpdate, credit_: Credit | None) -> ReportRow:
    sign = CREDIT_SIGN.get(bu.type)
    if credit_ is not None and sign is not None:
        amount, commission, tax = sign * credit_.amount, sign * credit_.commission, sign * credit_.tax
    else:
        amount, commission, tax = bu.amount, 0, 0
    return ReportRow(id_of(bu), bu.sequence, bu.type.value, bu.credit_id, credit_.external_id if credit_ else None,
                     amount, commission, tax, bu.amount, bu.note)


def transfer_report(uow: ReadingUnitOfWork, transfer_id: int, scope: int | None) -> TransferReport:
    """The report of one transfer: each balance update it pays, with the credit's amount, commission and tax
    for a credit's updates; NotFound when the transfer does not exist or is outside the scope."""
    t = visible(uow, BankTransfer, transfer_id, scope)
    s = _get(uow, Store, t.store_id)
    credit_ids = {bu.credit_id for bu in t.balance_updates if bu.credit_id is not None}
    by_id = {id_of(c): c for c in uow.session.scalars(select(Credit).where(db.credits.c.id.in_(credit_ids)))} \
        if credit_ids else {}
    rows = [_report_row(bu, by_id.get(bu.credit_id) if bu.credit_id is not None else None) for bu in t.balance_updates]
    store_ = {"id": s.id, "merchant_id": s.merchant_id, "name": s.name, "clabe": masking.account(s.clabe),
              "beneficiary_name": masking.name(s.beneficiary_name)}
    return TransferReport(transfer_view(t, orders_of(uow, [transfer_id]).get(transfer_id), detail=True), store_,
                          t.currency, rows)


# --- reconciliation --------------------------------------------------------------------------------


def latest_reconciliation(uow: ReadingUnitOfWork, day: str) -> dict[str, Any] | None:
    """The latest reconciliation run of ``day`` (YYYYMMDD) with its mismatches, or None."""
    run = uow.session.execute(select(reconciliation_runs).where(reconciliation_runs.c.operation_date == day)
                              .order_by(reconciliation_runs.c.id.desc()).limit(1)).mappings().first()
    if run is None:
        return None
    rows = uow.session.execute(select(reconciliation_mismatches).where(
        reconciliation_mismatches.c.run_id == run["id"]).order_by(reconciliation_mismatches.c.id)).mappings()
    return {**{k: v for k, v in run.items()}, "mismatch_list": [
        {"tracking_key": r["tracking_key"], "kind": r["kind"], "ours": r["ours"], "bank": r["bank"]} for r in rows]}


# --- dual control --------------------------------------------------------------------------------

def adjustment_request_view(uow: ReadingUnitOfWork, request: AdjustmentRequest,
                            emails: dict[int, str] | None = None) -> dict[str, Any]:
    """A held adjustment: its amount, why it waits, who asked and who decided (by e-mail address; ``emails``
    when the caller read them already)."""
    known = emails if emails is not None else uow.people.emails(_deciders([request]))

    def email(person_id: int | None) -> str | None:
        return known[person_id] if person_id is not None else None

    return {"id": request.id, "store_id": request.store_id, "amount": request.amount, "currency": request.currency,
            "note": request.note, "status": request.status.value, "reason": request.reason,
            "requested_by": email(request.requested_by_id), "requested_at": request.requested_at,
            "decided_by": email(request.decided_by_id), "decided_at": request.decided_at,
            "decision_note": request.decision_note, "balance_update_id": request.balance_update_id}


def adjustment_requests(uow: ReadingUnitOfWork, status: AdjustmentStatus | None, store_id: int | None, page: int,
                        per_page: int) -> Page:
    """Adjustment requests, newest first, optionally of one status and one store."""
    stmt = select(AdjustmentRequest).order_by(db.adjustment_requests.c.id.desc())
    if status is not None:
        stmt = stmt.where(db.adjustment_requests.c.status == status)
    if store_id is not None:
        stmt = stmt.where(db.adjustment_requests.c.store_id == store_id)
    rows, total = _page(uow, stmt, page, per_page)
    emails = uow.people.emails(_deciders(rows))
    return Page([adjustment_request_view(uow, r, emails) for r in rows], page, per_page, total)


def _deciders(requests: list[AdjustmentRequest]) -> set[int]:
    return {p for r in requests for p in (r.requested_by_id, r.decided_by_id) if p is not None}
