"""Monthly commission update: auto-updatable options take the tier of last month's origination."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from adapters.db import repository as repo
from adapters.db.tables import commission_updates
from adapters.db.uow import UnitOfWork
from domain.commission import CommissionTier, tier_rate
from domain.credits import Credit, CreditStatus
from domain.merchants import Merchant, PaymentOption
from usecases import steps


def month_bounds(month: str, tz: str) -> tuple[datetime, datetime]:
    """The month's first and next month's first instant, at midnight in ``tz`` (its months, not UTC's)."""
    zone = ZoneInfo(tz)
    year, mon = (int(p) for p in month.split("-"))
    start = datetime(year, mon, 1, tzinfo=zone)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=zone)
    return start, end


def previous_month(at: datetime, tz: str) -> str:
    """The month before the one ``at`` falls in, read in ``tz``."""
    local = at.astimezone(ZoneInfo(tz))
    year, mon = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return f"{year}-{mon:02d}"


def update_monthly_commissions(uow: UnitOfWork, merchant_id: int, month: str) -> int:
    """Once per (merchant, month); returns how many options changed. Treasury validated the tiers,
    so an automatic change keeps the options validated."""
    done = uow.session.execute(select(commission_updates.c.options_updated).where(
        commission_updates.c.merchant_id == merchant_id, commission_updates.c.month == month)).scalar()
    if done is not None:
        return done
    merchant = repo.get(uow.session, Merchant, merchant_id, lock=True)
    start, end = month_bounds(month, merchant.timezone)
    origination = int(uow.session.execute(select(func.coalesce(func.sum(Credit.amount), 0)).where(
        Credit.merchant_id == merchant_id, Credit.signed_at >= start, Credit.signed_at < end,
        Credit.status != CreditStatus.CANCELLED)).scalar())
    rate = tier_rate([CommissionTier(t.min_origination, t.commission_rate) for t in merchant.tiers], origination)
    changed = 0
    if rate is not None:
        options = uow.session.scalars(select(PaymentOption).where(
            PaymentOption.merchant_id == merchant_id, PaymentOption.can_commission_be_auto_updated.is_(True)))
        for option in options:
            if option.merchant_commission != rate:
                option.merchant_commission = rate
                changed += 1
    uow.session.execute(insert(commission_updates).values(
        merchant_id=merchant_id, month=month, origination=origination, commission_rate=rate,
        options_updated=changed, at=uow.clock()))
    uow.log("commission_update", f"merchant {merchant_id} {month}: origination {origination}, rate {rate}, "
            f"{changed} options updated", merchant_id=merchant_id)
    return changed


def enqueue_monthly_commissions(uow: UnitOfWork, month: str) -> int:
    ids = list(uow.session.scalars(select(Merchant.id).where(Merchant.tiers.any())))
    for merchant_id in ids:
        uow.outbox.send(steps.UPDATE_MONTHLY_COMMISSIONS, merchant_id, month)
    return len(ids)
