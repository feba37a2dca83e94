"""The lender's business day: loans fall due, change status and take payments on days in the lender's zone
(Mexico City), whatever the server's clock zone."""
from __future__ import annotations

from datetime import date

from domain.stp import MEXICO_CITY
from usecases.ports import UnitOfWork


def lender_today(uow: UnitOfWork) -> date:
    """Today in the lender's zone."""
    return uow.clock().astimezone(MEXICO_CITY).date()
