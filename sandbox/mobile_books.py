"""The mobile-money simulators' books: every transfer booked under its client's idempotency key, its fate
(read from the payee identifier's last four digits) and how its callbacks went.

Request threads and the timetable share one `MobileBooks`; every read returns a copy taken under the lock.
A key books once: a first call claims it; a repeat with the same terms waits for that call's booking and
answers it, a repeat with other terms is a conflict.
"""
from __future__ import annotations

import copy
import enum
import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from domain.money import Money, MoneyError

AMOUNT_TEXT = re.compile(r"^\d{1,18}(\.\d{1,4})?$")


class Fate(enum.Enum):
    """What the sandbox does with a transfer, by the payee identifier's last four digits."""

    INACTIVE = "0000"              # refused: inactive account
    PENDING_FOR_EVER = "1111"      # accepted, never final
    HANGS = "2222"                 # the first call answers too late, then the transfer is booked and paid
    DUPLICATE_CALLBACKS = "3333"   # paid, and the (GSMA) callback is sent twice
    UNAVAILABLE = "5555"           # 503, nothing booked
    PAID = ""                      # anything else

    @classmethod
    def of(cls, payee: str) -> Fate:
        """The fate of a transfer to ``payee``."""
        for fate in cls:
            if fate.value and payee.endswith(fate.value):
                return fate
        return cls.PAID


class Conflict(Exception):
    """The key already booked (or is booking) a transfer with other terms."""


class Stopping(Exception):
    """The sandbox stopped before the transfer could be booked."""


@dataclass(frozen=True)
class Terms:
    """What a key books: the amount (exact, in minor units) and the two parties."""

    amount: Money
    payee_type: str
    payee: str
    payer_type: str
    payer: str


@dataclass
class CallbackRecord:
    """One copy of a callback: how its attempts went."""

    copy: int
    attempts: int = 0
    delivered: bool = False
    gave_up: bool = False
    last_status: int | None = None     # HTTP status of the last attempt; None after a connection error


@dataclass
class MobileTransfer:
    """A transfer as a simulator holds it: the rail's key and reference, its terms, fate and state."""

    rail: str                      # "gsma" or "mojaloop"
    key: str                       # X-CorrelationID or homeTransactionId
    reference: str                 # serverCorrelationId or transferId
    terms: Terms
    fate: Fate
    state: str                     # the rail's word: pending/completed/failed, or the SDK's currentState
    request: dict[str, Any]        # the body as received
    created_at: str
    callback_url: str = ""
    transaction_reference: str | None = None
    completed_at: str | None = None
    callbacks: list[CallbackRecord] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        """As ``GET /_sandbox/mobile-money`` shows it."""
        return {"rail": self.rail, "key": self.key, "reference": self.reference, "state": self.state,
                "fate": self.fate.name.lower(), "amount": self.terms.amount.to_decimal_string(),
                "currency": self.terms.amount.currency, "payee": self.terms.payee,
                "callbackUrl": self.callback_url or None, "transactionReference": self.transaction_reference,
                "createdAt": self.created_at, "completedAt": self.completed_at,
                "callbacks": [asdict(c) for c in self.callbacks]}


def read_amount(text: Any, currency: Any) -> Money:
    """A positive amount written as a decimal string in major units; MoneyError otherwise."""
    if not isinstance(text, str) or not AMOUNT_TEXT.match(text):
        raise MoneyError(f"amount must be a decimal string such as 850 or 850.50, got {text!r}")
    if not isinstance(currency, str):
        raise MoneyError("currency must be an ISO 4217 code")
    amount = Money.parse(text, currency)
    if amount.minor <= 0:
        raise MoneyError("amount must be positive")
    return amount


class MobileBooks:
    """Thread-safe transfers of both rails, one per (rail, key)."""

    def __init__(self) -> None:
        self._transfers: dict[tuple[str, str], MobileTransfer] = {}
        self._claims: dict[tuple[str, str], Terms] = {}
        self._changed = threading.Condition()
        self._stopping = threading.Event()

    def take(self, rail: str, key: str, terms: Terms, make: Callable[[], MobileTransfer],
             hang_seconds: float = 0.0) -> tuple[MobileTransfer, bool]:
        """The key's transfer and whether it is new: the one booked before, or one ``make`` books now
        (after ``hang_seconds``). Raises `Conflict` for other terms, `Stopping` when the sandbox stops first."""
        slot = (rail, key)
        with self._changed:
            while slot in self._claims and not self._stopping.is_set():
                if self._claims[slot] != terms:
                    raise Conflict(key)
                self._changed.wait(0.1)
            if self._stopping.is_set():
                raise Stopping()
            booked = self._transfers.get(slot)
            if booked is not None:
                if booked.terms != terms:
                    raise Conflict(key)
                return copy.deepcopy(booked), False
            self._claims[slot] = terms
        try:
            if hang_seconds > 0 and self._stopping.wait(hang_seconds):
                raise Stopping()
            transfer = make()
            with self._changed:
                self._transfers[slot] = transfer
                return copy.deepcopy(transfer), True
        finally:
            with self._changed:
                del self._claims[slot]
                self._changed.notify_all()

    def update(self, rail: str, key: str, change: Callable[[MobileTransfer], None]) -> MobileTransfer:
        """Apply ``change`` to the key's transfer under the lock; returns a copy after."""
        with self._changed:
            transfer = self._transfers[(rail, key)]
            change(transfer)
            self._changed.notify_all()
            return copy.deepcopy(transfer)

    def find(self, rail: str, identifier: str) -> MobileTransfer | None:
        """The rail's transfer whose key, reference or transaction reference is ``identifier``."""
        with self._changed:
            for transfer in self._transfers.values():
                if transfer.rail == rail and identifier in (transfer.key, transfer.reference,
                                                            transfer.transaction_reference):
                    return copy.deepcopy(transfer)
            return None

    def record_callback(self, rail: str, key: str, copy_number: int, attempts: int, status: int | None,
                        delivered: bool, gave_up: bool) -> None:
        """Count one attempt of one callback copy."""
        def change(transfer: MobileTransfer) -> None:
            while len(transfer.callbacks) <= copy_number:
                transfer.callbacks.append(CallbackRecord(len(transfer.callbacks)))
            record = transfer.callbacks[copy_number]
            record.attempts, record.last_status, record.delivered, record.gave_up = (attempts, status, delivered,
                                                                                      gave_up)
        self.update(rail, key, change)

    def transfers(self) -> list[MobileTransfer]:
        """Every transfer, in booking order."""
        with self._changed:
            return [copy.deepcopy(t) for t in self._transfers.values()]

    def wait_for(self, predicate: Callable[[list[MobileTransfer]], bool], timeout: float) -> bool:
        """Block until ``predicate(transfers)`` holds or the timeout passes; returns whether it holds."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate([copy.deepcopy(t) for t in self._transfers.values()]),
                                          timeout)

    def stop(self) -> None:
        """Release calls that hang or wait for another's booking: they answer that the sandbox stops."""
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
