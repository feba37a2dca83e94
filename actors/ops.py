"""Operations actors: the dead-letter queues emptied into the dead letter table, the daily ledger check."""
from __future__ import annotations

from typing import Any, Callable

from actors.transaction import UowFactory
from adapters.dead_letter_queues import DeadLetterQueues
from domain.dead_letters import QueuedCopy
from usecases import dead_letters, verify


def drain_dead_letters(uow: UowFactory, queues: Callable[[], DeadLetterQueues]) -> Callable[[], None]:
    """Each copy in each XQ is taken out once its death is recorded (each copy in one transaction)."""
    def absorb(copy: QueuedCopy) -> bool:
        with uow() as u:
            taken = dead_letters.absorb(u, copy)
            u.commit()
        return taken

    def drain_dead_letters() -> None:
        queues().drain(absorb)
    return drain_dead_letters


def check_ledger(uow: UowFactory, sessions: Callable[[], Any]) -> Callable[[], None]:
    """The ledger's invariants over every store, recorded (an ALERT on any violation)."""
    def check_ledger() -> None:
        verify.check_ledger(uow, sessions, "daily")
    return check_ledger
