"""The sandbox's mobile-money rails: a GSMA Mobile Money API provider and a Mojaloop SDK scheme adapter,
served beside STP's paths on the sandbox's one port.

GSMA: ``POST /transactions/type/transfer`` (keyed by ``X-CorrelationID``), ``GET /requeststates/{id}``
(by serverCorrelationId or X-CorrelationID), ``GET /transactions/{transactionReference}``.
Mojaloop: ``POST /transfers`` (keyed by ``homeTransactionId``), ``GET /transfers/{id}`` (by transferId
or homeTransactionId). ``GET /_sandbox/mobile-money`` (not a rail's) lists every transfer booked, with
its state and callback attempts.

What happens is decided by the payee identifier's last four digits, so one sandbox serves every case:

=========  ==================================================  ================================================
payee      GSMA                                                Mojaloop
=========  ==================================================  ================================================
…0000      422 ``{"errorCategory": "businessRule",             500, transferState ERROR_OCCURRED, lastError
           "errorCode": "inactiveAccount", "errorDescription":  errorInformation 5104 "Inactive Account"
           "Inactive Account"}``; no callback
…1111      202 pending for ever; no callback                   200 WAITING_FOR_QUOTE_ACCEPTANCE for ever
…2222      the first call for a key hangs                      the same, then 200 COMPLETED
           ``connector_hang_seconds`` (15 s), then books it;
           the rest as any other payee
…3333      as any other payee, but the callback is sent twice  as any other payee
…5555      503, nothing booked                                 503 (statusCode 2003), nothing booked
any other  202 pending; ``connector_callback_delay_seconds``   200 COMPLETED at once
           (0.2 s) later completed, and the transaction
           object (transactionStatus "completed") is PUT to
           ``X-Callback-URL``
=========  ==================================================  ================================================

Idempotency: a repeat of a key books nothing new and answers where the transfer stands (GSMA: 202
pending, 201 and the transaction once completed, the 422 again; Mojaloop: the transfer again); a repeat
while the first call still hangs waits for its booking. The same key with another amount, currency or
party answers 409 (GSMA ``duplicateRequest``, Mojaloop FSPIOP 3106 "Modified request").

Callbacks are signed ``PUT``s (see `sandbox.callbacks`), retried with backoff when they get no 2xx.
Amounts are decimal strings in major units with no more decimals than the currency has; a malformed
body answers 400 (GSMA ``formatError``, Mojaloop 3100/3101).
"""
from __future__ import annotations

import falcon

from .bank import Answer
from .callbacks import Callbacks
from .config import SandboxConfig
from .gsma import GsmaProvider
from .mobile_books import MobileBooks
from .mojaloop import MojaloopAdapter
from .wire import read_object, send

GSMA_TRANSFER = "/transactions/type/transfer"
GSMA_REQUEST_STATE = "/requeststates/{identifier}"
GSMA_TRANSACTION = "/transactions/{reference}"
MOJALOOP_TRANSFERS = "/transfers"
MOJALOOP_TRANSFER = "/transfers/{identifier}"
VIEW = "/_sandbox/mobile-money"


class MobileMoney:
    """Both rails on shared books and one timetable: ``start()``, ``stop()``, ``wait_idle()``."""

    def __init__(self, config: SandboxConfig):
        self.books = MobileBooks()
        self.callbacks = Callbacks(config)
        self.gsma = GsmaProvider(config, self.books, self.callbacks)
        self.mojaloop = MojaloopAdapter(config, self.books)

    def start(self) -> None:
        """Start the timetable that completes transfers and sends callbacks."""
        self.callbacks.start()

    def stop(self) -> None:
        """Release hanging calls, drop what is still due, and wait for the callback threads to end."""
        self.books.stop()
        self.callbacks.stop()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every due completion happened and every callback finished; False on timeout."""
        return self.callbacks.wait_idle(timeout)


class GsmaTransfer:
    """``POST /transactions/type/transfer``."""

    def __init__(self, gsma: GsmaProvider):
        self._gsma = gsma

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        send(resp, self._gsma.transfer(req.get_header("X-CorrelationID"), req.get_header("X-Callback-URL"),
                                          read_object(req)))


class GsmaRequestState:
    """``GET /requeststates/{identifier}``."""

    def __init__(self, gsma: GsmaProvider):
        self._gsma = gsma

    def on_get(self, req: falcon.Request, resp: falcon.Response, identifier: str) -> None:
        send(resp, self._gsma.request_state(identifier))


class GsmaTransaction:
    """``GET /transactions/{reference}``."""

    def __init__(self, gsma: GsmaProvider):
        self._gsma = gsma

    def on_get(self, req: falcon.Request, resp: falcon.Response, reference: str) -> None:
        send(resp, self._gsma.transaction(reference))


class MojaloopTransfers:
    """``POST /transfers``."""

    def __init__(self, mojaloop: MojaloopAdapter):
        self._mojaloop = mojaloop

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        send(resp, self._mojaloop.transfer(read_object(req)))


class MojaloopTransfer:
    """``GET /transfers/{identifier}``."""

    def __init__(self, mojaloop: MojaloopAdapter):
        self._mojaloop = mojaloop

    def on_get(self, req: falcon.Request, resp: falcon.Response, identifier: str) -> None:
        send(resp, self._mojaloop.lookup(identifier))


class MobileMoneyView:
    """``GET /_sandbox/mobile-money`` (no rail's): every transfer booked, with its callbacks."""

    def __init__(self, books: MobileBooks):
        self._books = books

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        send(resp, Answer(200, {"transfers": [t.view() for t in self._books.transfers()]}))


def add_routes(app: falcon.App[falcon.Request, falcon.Response], mobile_money: MobileMoney) -> None:
    """Serve both rails' paths and the view of their books on ``app``."""
    app.add_route(GSMA_TRANSFER, GsmaTransfer(mobile_money.gsma))
    app.add_route(GSMA_REQUEST_STATE, GsmaRequestState(mobile_money.gsma))
    app.add_route(GSMA_TRANSACTION, GsmaTransaction(mobile_money.gsma))
    app.add_route(MOJALOOP_TRANSFERS, MojaloopTransfers(mobile_money.mojaloop))
    app.add_route(MOJALOOP_TRANSFER, MojaloopTransfer(mobile_money.mojaloop))
    app.add_route(VIEW, MobileMoneyView(mobile_money.books))
