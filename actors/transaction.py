"""The shape of a step: the message's arguments to one use case, in one unit of work, committed."""
from __future__ import annotations

from typing import Any, Callable

from adapters.db.uow import UnitOfWork
from usecases.payouts import PayoutConfig

UowFactory = Callable[[], UnitOfWork]
Config = Callable[[], PayoutConfig]  # read per message, so that it follows the process's settings


def in_one_transaction(uow: UowFactory, use_case: Callable[..., Any]) -> Callable[..., None]:
    """The step: the message's arguments to the use case, in one unit of work, committed."""
    def step(*args: Any) -> None:
        with uow() as u:
            use_case(u, *args)
            u.commit()
    step.__name__ = use_case.__name__
    return step
