"""Monthly commission update: auto-updatable options take the tier of last month's origination."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from usecases.ports import UnitOfWork
from domain.commission import CommissionTier, CommissionUpdate, tier_rate
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
    done = uow.commission_updates.of(merchant_id, month)
    if done is not None:
        return done.options_updated
    merchant = uow.merchants.lock(merchant_id)
    start, end = month_bounds(month, merchant.timezone)
    if uow.clock() < end:  # its credits are still coming in: the month is counted once it has ended there
        uow.log("commission_update_early", f"merchant {merchant_id} {month}: the month has not ended in "
                f"{merchant.timezone}; not counted yet", level="WARNING", merchant_id=merchant_id)
        return 0
    origination = uow.credits.origination(merchant_id, start, end)
    rate = tier_rate([CommissionTier(t.min_origination, t.commission_rate) for t in merchant.tiers], origination)
    changed = 0
    if rate is not None:
        for option in uow.options.auto_updatable(merchant_id):
            if option.merchant_commission != rate:
                option.merchant_commission = rate
                changed += 1
    uow.commission_updates.add(CommissionUpdate(merchant_id, month, origination, rate, changed, uow.clock()))
    uow.log("commission_update", f"merchant {merchant_id} {month}: origination {origination}, rate {rate}, "
            f"{changed} options updated", merchant_id=merchant_id)
    return changed


def enqueue_monthly_commissions(uow: UnitOfWork, now: datetime) -> int:
    """One update message per merchant with tiers, for the last month that has ended in the merchant's own
    time zone; the (merchant, month) business key makes a repeat during the day a no-op. Returns how
    many messages were new."""
    sent = 0
    for merchant in uow.merchants.with_tiers():
        sent += uow.outbox.send(steps.UPDATE_MONTHLY_COMMISSIONS, merchant.id, previous_month(now, merchant.timezone))
    return sent
