"""The sandbox's HTTP face: STP's paths on a Falcon WSGI app, plus a read-only view of its books (and, when
given, the GSMA and Mojaloop paths of `sandbox.mobile_money`)."""
from __future__ import annotations

import json
from dataclasses import asdict
from decimal import Decimal
from typing import Any

import falcon

from .bank import Answer, SandboxBank
from .mobile_money import MobileMoney, add_routes
from .wire import read_object, send

REGISTRA = "/speiws/rest/ordenPago/registra"
CONSULTA = "/efws/API/consultaOrden"
CONCILIACION = "/efws/API/V2/conciliacion"
BOOKS = "/_sandbox/books"


def dumps(body: Any) -> str:
    """JSON with amounts as numbers, as STP writes them (two decimals survive the float's shortest form)."""
    return json.dumps(body, ensure_ascii=False,
                      default=lambda v: float(v) if isinstance(v, Decimal) else str(v))


def _answer(resp: falcon.Response, answer: Answer) -> None:
    send(resp, answer, dumps)


class Registration:
    """``PUT ordenPago/registra``."""

    def __init__(self, bank: SandboxBank):
        self._bank = bank

    def on_put(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_object(req)
        if body is None:
            _answer(resp, Answer(400, {"resultado": {"id": 0, "descripcionError": "JSON no valido"}}))
        else:
            _answer(resp, self._bank.register(body))


class OrderQuery:
    """``POST consultaOrden``."""

    def __init__(self, bank: SandboxBank):
        self._bank = bank

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_object(req)
        _answer(resp, Answer(400, {"estado": 2, "mensaje": "JSON no valido"}) if body is None
                else self._bank.consult(body))


class Conciliation:
    """``POST V2/conciliacion``."""

    def __init__(self, bank: SandboxBank):
        self._bank = bank

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_object(req)
        _answer(resp, Answer(400, {"estado": 2, "mensaje": "JSON no valido"}) if body is None
                else self._bank.conciliation(body))


class BooksView:
    """``GET /_sandbox/books`` (not STP's): every order with its state and webhook attempts."""

    def __init__(self, bank: SandboxBank):
        self._bank = bank

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        orders = [dict(self._bank.view(o), claveRastreo=o.clave_rastreo,
                       deliveries=[asdict(d) for d in o.deliveries]) for o in self._bank.books.orders()]
        _answer(resp, Answer(200, {"scenario": self._bank.scenario.name, "orders": orders}))


def create_app(bank: SandboxBank,
               mobile_money: MobileMoney | None = None) -> falcon.App[falcon.Request, falcon.Response]:
    """The Falcon app serving STP's paths from ``bank``, and the mobile-money rails' from ``mobile_money``."""
    app = falcon.App()
    app.add_route(REGISTRA, Registration(bank))
    app.add_route(CONSULTA, OrderQuery(bank))
    app.add_route(CONCILIACION, Conciliation(bank))
    app.add_route(BOOKS, BooksView(bank))
    if mobile_money is not None:
        add_routes(app, mobile_money)
    return app
