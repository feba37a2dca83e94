"""Dead letters as treasury works with them, on the fake unit of work: a death recorded once per message,
requeued or dropped only while dead, a later death bringing it back, and the XQ copies the drain may take."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from adapters.clock import ManualClock
from domain.dead_letters import DeadLetterStatus as S, DeadMessage, QueuedCopy, error_of, traceback_tail
from tests.fake_uow import FakeUnitOfWork
from usecases import dead_letters, steps
from usecases.errors import Conflict

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
TRACE = "Traceback (most recent call last):\n" + "".join(f'  File "x.py", line {n}\n' for n in range(30)) + \
        "domain.ledger.BalanceOutOfRange: store 1: a balance of 9007199254840991 is beyond the bound"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def uow(clock: ManualClock) -> FakeUnitOfWork:
    return FakeUnitOfWork(clock)


def death(at: datetime, message_id: str = "m-1", attempts: int = 3) -> DeadMessage:
    return DeadMessage(message_id, "ledger", "contribute", [7], attempts, error_of(TRACE), TRACE, at)


def test_a_traceback_is_kept_by_its_end_and_its_error_is_its_last_line() -> None:
    assert error_of(TRACE).startswith("domain.ledger.BalanceOutOfRange")
    assert traceback_tail(TRACE).splitlines()[-1] == error_of(TRACE) and len(traceback_tail(TRACE).splitlines()) == 12


def test_a_death_is_recorded_once_per_message_with_an_alert(uow: FakeUnitOfWork) -> None:
    letter = dead_letters.record(uow, death(NOW))
    assert (letter.status, letter.deaths, letter.attempts, letter.args) == (S.DEAD, 1, 3, [7])
    assert dead_letters.record(uow, death(NOW + timedelta(minutes=1))) is letter  # the same message again
    assert letter.deaths == 2 and [e.kind.value for e in letter.history] == ["died", "died"]
    assert uow.kinds("ALERT") == ["dead_letter", "dead_letter"]


def test_a_requeue_resends_under_the_message_id_and_asks_for_a_drain_once(uow: FakeUnitOfWork) -> None:
    letter = dead_letters.record(uow, death(NOW))
    dead_letters.requeue(uow, letter.id, "treasury key 4")  # type: ignore[arg-type]
    assert uow.outbox.resent == [("m-1", "contribute", (7,))]
    assert len(uow.outbox.to(steps.DRAIN_DEAD_LETTERS)) == 1
    with pytest.raises(Conflict, match="requeued, not dead"):
        dead_letters.requeue(uow, letter.id, "treasury key 4")  # type: ignore[arg-type]
    with pytest.raises(Conflict):
        dead_letters.drop(uow, letter.id, "treasury key 4", "late")  # type: ignore[arg-type]
    assert uow.outbox.resent == [("m-1", "contribute", (7,))]
    assert (letter.status, letter.resolved_by) == (S.REQUEUED, "treasury key 4")


def test_a_requeued_message_that_dies_again_is_dead_again_and_can_be_requeued_again(uow: FakeUnitOfWork) -> None:
    letter = dead_letters.record(uow, death(NOW))
    dead_letters.requeue(uow, letter.id, "treasury key 4")  # type: ignore[arg-type]
    dead_letters.record(uow, death(NOW + timedelta(minutes=5), attempts=1))
    assert (letter.status, letter.deaths, letter.attempts, letter.resolved_by) == (S.DEAD, 2, 1, None)
    dead_letters.requeue(uow, letter.id, "admin key 1")  # type: ignore[arg-type]
    assert [e.kind.value for e in letter.history] == ["died", "requeued", "died", "requeued"]
    assert len(uow.outbox.to(steps.DRAIN_DEAD_LETTERS)) == 2  # one drain per requeue


def test_a_drop_keeps_its_reason_and_sends_nothing_again(uow: FakeUnitOfWork) -> None:
    letter = dead_letters.record(uow, death(NOW))
    dead_letters.drop(uow, letter.id, "treasury key 4", "the credit was void")  # type: ignore[arg-type]
    assert (letter.status, letter.resolution) == (S.DROPPED, "the credit was void")
    assert uow.outbox.resent == [] and [e.detail for e in letter.history][-1] == "treasury key 4: the credit was void"


def test_the_drain_takes_recorded_copies_waits_for_young_ones_and_records_old_unrecorded_ones(
        uow: FakeUnitOfWork, clock: ManualClock) -> None:
    recorded = dead_letters.record(uow, death(NOW))
    assert dead_letters.absorb(uow, QueuedCopy(death(NOW), NOW)) is True
    young = QueuedCopy(death(NOW, "m-2"), NOW - timedelta(seconds=30))
    assert dead_letters.absorb(uow, young) is False and uow.dead_letters.by_message_id("m-2") is None
    clock.now = NOW + dead_letters.RECORDING_GRACE
    assert dead_letters.absorb(uow, young) is True and uow.dead_letters.by_message_id("m-2") is not None
    # a copy of a death after treasury's requeue, whose record never came, is a death of its own
    dead_letters.requeue(uow, recorded.id, "treasury key 4")  # type: ignore[arg-type]
    later = QueuedCopy(death(NOW + timedelta(minutes=10)), clock() + timedelta(seconds=1))
    assert dead_letters.absorb(uow, later) is False
    clock.now += dead_letters.RECORDING_GRACE * 2
    assert dead_letters.absorb(uow, later) is True and (recorded.status, recorded.deaths) == (S.DEAD, 2)


def test_the_queue_filter_names_every_queue_of_the_steps_in_the_api_and_the_cli() -> None:
    from typer.testing import CliRunner

    from usecases.steps import QUEUES
    from web.routes import QUEUE_FILTER
    from workers.cli import app

    assert QUEUE_FILTER.choices == QUEUES and "bulk" in QUEUES
    shown = " ".join(CliRunner().invoke(app, ["dlq", "list", "--help"], env={"COLUMNS": "200"}).output.split())
    assert f"only this queue ({', '.join(QUEUES)})" in shown
