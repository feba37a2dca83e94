"""Dead letters: messages that exhausted their retries, kept until treasury requeues or drops them.

A message dies when its step failed every attempt (or failed in a way no retry can mend). Its dead
letter says what it was (actor, queue, arguments, message id), why it died (the error and the end of
its traceback) and after how many attempts. Treasury requeues it once the cause is fixed, or drops it
with a reason; a requeued message that dies again comes back to the list, its history growing.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.errors import DomainError

ERROR_LENGTH = 1000
TRACEBACK_LINES = 12


class DeadLetterError(DomainError):
    """A requeue or a drop of a dead letter that is not dead any more."""


class DeadLetterStatus(str, enum.Enum):
    """Where a dead letter stands."""

    DEAD = "dead"            # waiting for treasury
    REQUEUED = "requeued"    # published again with its retries reset
    DROPPED = "dropped"      # given up, with a reason


# What a list of dead letters may be asked for, the CLI's --status and the API's status alike: a status, or
# all of them; by default those still dead, which wait for treasury.
LISTED = tuple(s.value for s in DeadLetterStatus) + ("all",)
LISTED_BY_DEFAULT = DeadLetterStatus.DEAD.value


class DeadLetterEventKind(str, enum.Enum):
    """What happened to a dead letter."""

    DIED = "died"
    REQUEUED = "requeued"
    DROPPED = "dropped"


@dataclass(frozen=True)
class DeadMessage:
    """A message as it died: what it was, why, and after how many attempts."""

    message_id: str
    queue_name: str
    actor_name: str
    args: list[Any]
    attempts: int
    error: str
    traceback: str
    died_at: datetime


@dataclass(frozen=True)
class QueuedCopy:
    """A message found in a ``<queue>.XQ``, and when the broker put it there (None when it does not say)."""

    message: DeadMessage
    queued_at: datetime | None


def traceback_tail(traceback: str, lines: int = TRACEBACK_LINES) -> str:
    """The last ``lines`` lines of a traceback: where it failed and the error."""
    return "\n".join(traceback.strip().splitlines()[-lines:])


def error_of(traceback: str) -> str:
    """The error a traceback ends with (its last line), cut to ERROR_LENGTH."""
    lines = traceback.strip().splitlines()
    return (lines[-1] if lines else "unknown error")[:ERROR_LENGTH]


@dataclass(eq=False)
class DeadLetterEvent:
    """One line of a dead letter's history."""

    kind: DeadLetterEventKind
    at: datetime
    detail: str
    attempts: int = 0
    dead_letter_id: int | None = None
    id: int | None = None


@dataclass(eq=False)
class DeadLetter:
    """A message that died, and what treasury did with it."""

    message_id: str
    queue_name: str
    actor_name: str
    args: list[Any]
    error: str
    traceback: str
    attempts: int
    died_at: datetime
    status: DeadLetterStatus = DeadLetterStatus.DEAD
    deaths: int = 1
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: str | None = None
    history: list[DeadLetterEvent] = field(default_factory=list)
    id: int | None = None

    @classmethod
    def of(cls, dead: DeadMessage) -> DeadLetter:
        """The dead letter of a message that died for the first time."""
        letter = cls(dead.message_id, dead.queue_name, dead.actor_name, list(dead.args), dead.error[:ERROR_LENGTH],
                     traceback_tail(dead.traceback), dead.attempts, dead.died_at)
        letter.history.append(DeadLetterEvent(DeadLetterEventKind.DIED, dead.died_at, letter.error, dead.attempts))
        return letter

    def died_again(self, dead: DeadMessage) -> None:
        """The message died once more (after a requeue, or a copy of it did): dead again, with the new error."""
        self.status = DeadLetterStatus.DEAD
        self.error, self.traceback = dead.error[:ERROR_LENGTH], traceback_tail(dead.traceback)
        self.attempts, self.died_at = dead.attempts, dead.died_at
        self.deaths += 1
        self.resolved_at = self.resolved_by = self.resolution = None
        self.history.append(DeadLetterEvent(DeadLetterEventKind.DIED, dead.died_at, self.error, dead.attempts))

    def _resolve(self, kind: DeadLetterEventKind, status: DeadLetterStatus, at: datetime, who: str,
                 note: str) -> None:
        if self.status != DeadLetterStatus.DEAD:
            raise DeadLetterError(f"dead letter {self.id} is {self.status.value}, not dead: nothing to "
                                  f"{'requeue' if kind == DeadLetterEventKind.REQUEUED else 'drop'}")
        self.status, self.resolved_at, self.resolved_by, self.resolution = status, at, who, note
        self.history.append(DeadLetterEvent(kind, at, f"{who}: {note}" if note else who))

    def requeue(self, at: datetime, who: str) -> None:
        """Treasury sends the message again; raises DeadLetterError unless it is dead."""
        self._resolve(DeadLetterEventKind.REQUEUED, DeadLetterStatus.REQUEUED, at, who, "")

    def drop(self, at: datetime, who: str, reason: str) -> None:
        """Treasury gives the message up, saying why; raises DeadLetterError unless it is dead."""
        self._resolve(DeadLetterEventKind.DROPPED, DeadLetterStatus.DROPPED, at, who, reason)
