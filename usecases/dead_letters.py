"""Dead letters: recorded when a message dies, requeued or dropped by treasury, each in one transaction.

A message that died is kept twice for a while: as a row here, and as a copy in RabbitMQ's
``<queue>.XQ``. The row is what treasury works with; the drain step empties the XQ into the rows
(a copy whose death was not recorded, because the database was down then, is recorded from the copy)."""
from __future__ import annotations

from datetime import timedelta

from usecases.ports import UnitOfWork
from domain.dead_letters import DeadLetter, DeadLetterError, DeadLetterStatus, DeadMessage, QueuedCopy
from usecases import steps
from usecases.errors import Conflict

# A copy in the XQ younger than this may belong to a death whose record is still being written.
RECORDING_GRACE = timedelta(minutes=2)


def record(uow: UnitOfWork, dead: DeadMessage) -> DeadLetter:
    """The message died: its dead letter is written (or, when it died before, dead again with its new
    error), with an ALERT in the event log, in this one transaction."""
    letter = uow.dead_letters.by_message_id(dead.message_id, lock=True)
    if letter is None:
        letter = uow.dead_letters.add(DeadLetter.of(dead))
    else:
        letter.died_again(dead)
    uow.alert("dead_letter", f"{dead.actor_name}{tuple(dead.args)} died (dead-lettered to {dead.queue_name}.XQ) "
              f"after {dead.attempts} "
              f"attempts ({letter.deaths} {'death' if letter.deaths == 1 else 'deaths'}): {letter.error}; "
              f"dead letter {letter.id}: requeue it once the cause is fixed, or drop it",
              reference=dead.message_id, details={"dead_letter_id": letter.id, "actor": dead.actor_name,
                                                  "queue": dead.queue_name, "args": list(dead.args),
                                                  "attempts": dead.attempts})
    return letter


def _drain_again(uow: UnitOfWork, occasion: str) -> None:
    uow.outbox.send(steps.DRAIN_DEAD_LETTERS, again=occasion)


def requeue(uow: UnitOfWork, dead_letter_id: int, who: str) -> DeadLetter:
    """Publish the message again through the outbox, under its own message id and with its retries reset;
    its copy leaves the XQ. Raises Conflict unless it is dead, so two requeues at once publish once."""
    letter = uow.dead_letters.lock(dead_letter_id)
    try:
        letter.requeue(uow.clock(), who)
    except DeadLetterError as e:
        raise Conflict(str(e)) from None
    occasion = f"requeue-{dead_letter_id}-{letter.deaths}"
    uow.outbox.resend(letter.message_id, letter.queue_name, letter.actor_name, letter.args, occasion)
    _drain_again(uow, occasion)
    uow.log("dead_letter_requeued", f"dead letter {dead_letter_id} ({letter.actor_name}{tuple(letter.args)}) "
            f"requeued by {who}", level="WARNING", reference=letter.message_id)
    return letter


def drop(uow: UnitOfWork, dead_letter_id: int, who: str, reason: str) -> DeadLetter:
    """Give the message up with a reason; its copy leaves the XQ. Raises Conflict unless it is dead."""
    letter = uow.dead_letters.lock(dead_letter_id)
    try:
        letter.drop(uow.clock(), who, reason)
    except DeadLetterError as e:
        raise Conflict(str(e)) from None
    _drain_again(uow, f"drop-{dead_letter_id}-{letter.deaths}")
    uow.log("dead_letter_dropped", f"dead letter {dead_letter_id} ({letter.actor_name}{tuple(letter.args)}) "
            f"dropped by {who}: {reason}", level="WARNING", reference=letter.message_id)
    return letter


def absorb(uow: UnitOfWork, copy: QueuedCopy) -> bool:
    """Whether the XQ copy may go: its death is recorded (whatever became of it since), or it is old
    enough that its record will not come, and it is recorded from the copy now. A copy of a death after
    treasury requeued the message is a death of its own."""
    letter = uow.dead_letters.by_message_id(copy.message.message_id)
    if letter is not None and not _later_death(letter, copy):
        return True
    if copy.queued_at is not None and uow.clock() - copy.queued_at < RECORDING_GRACE:
        return False
    record(uow, copy.message)
    return True


def _later_death(letter: DeadLetter, copy: QueuedCopy) -> bool:
    return (letter.status != DeadLetterStatus.DEAD and letter.resolved_at is not None
            and copy.queued_at is not None and copy.queued_at > letter.resolved_at)
