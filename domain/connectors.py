"""What a payment connector is asked to pay and what it answers: one instruction of a bulk batch handed
to SPEI, the closed loop, a GSMA mobile-money provider or a Mojaloop scheme adapter.

A connector is called with the instruction's stable id as its idempotency key, so that asking twice
(a redelivered sub-batch, a retry after a timeout) pays at most once."""
from __future__ import annotations

import enum
from dataclasses import dataclass


class Connector(enum.StrEnum):
    """What a payment mode is paid through (a tenant's payment-modes name one). Its name is written as is in
    callback paths, rates and messages, hence a StrEnum. The local ones act in the step's transaction; the
    remote ones are called over HTTP, each row committed in progress before its call."""

    SPEI = "spei"
    CLOSED_LOOP = "closedloop"
    GSMA = "gsma"
    MOJALOOP = "mojaloop"

    @property
    def is_remote(self) -> bool:
        """Called over HTTP, with an answer that may come later (a callback, a status query)."""
        return self in REMOTE


LOCAL = frozenset({Connector.CLOSED_LOOP, Connector.SPEI})
REMOTE = frozenset({Connector.GSMA, Connector.MOJALOOP})


class Outcome(str, enum.Enum):
    """Where the connector says the payment stands."""

    SUCCESS = "success"  # paid
    FAILURE = "failure"  # refused for good: the money did not move
    PENDING = "pending"  # accepted; the final word comes later (a callback, a query)


@dataclass(frozen=True)
class Payment:
    """One instruction as a connector sees it: amounts in minor units of ``currency``."""

    instruction_id: str
    payee_identifier_type: str
    payee_identifier: str
    payer_identifier_type: str
    payer_identifier: str
    amount: int
    currency: str
    note: str = ""
    callback_url: str = ""  # where an asynchronous connector reports the final word


@dataclass(frozen=True)
class Answer:
    """The connector's word on one payment: its outcome, its own reference, and why when it failed.
    ``retryable`` marks a failure of transport (a timeout, a 5xx) where the payment may or may not exist:
    the instruction stays in progress and is asked about again, never paid blindly a second time."""

    outcome: Outcome
    reference: str | None = None
    error_code: str | None = None
    error_description: str | None = None
    retryable: bool = False

    @classmethod
    def failed(cls, code: str, description: str, reference: str | None = None) -> Answer:
        """A refusal for good, with its code and description (cut to the columns' lengths)."""
        return cls(Outcome.FAILURE, reference, code[:32], description[:512])

    @classmethod
    def in_doubt(cls, description: str) -> Answer:
        """No clear answer (a timeout, a connection refused, a 5xx): try again with the same key."""
        return cls(Outcome.PENDING, None, "CONNECTOR_UNAVAILABLE", description[:512], retryable=True)
