"""The tracking actor, on the ``tracking`` queue: payment events projected into the read model."""
from __future__ import annotations

from typing import Callable

from actors.transaction import UowFactory, in_one_transaction
from adapters.db.uow import UnitOfWork
from usecases import tracking


def project_payments(uow: UowFactory) -> Callable[..., None]:
    """A page of unprojected payment events folded into the read model, in one transaction."""
    def project_payments(u: UnitOfWork) -> None:
        tracking.project(u)
    return in_one_transaction(uow, project_payments)
