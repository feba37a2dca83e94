"""The sandbox's STP: verifies, validates and books orders, answers queries, and plans each order's fate."""
from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

from adapters.bank.signer import Verifier
from domain.stp import MONEY_FIELDS, cadena_conciliacion, cadena_consulta, format_amount, operation_date

from . import validation
from .books import BookedOrder, Books, TrackingKeyUsed
from .config import SandboxConfig
from .notifier import Notifier
from .scenarios import draw_plan, styled

CONSULTED = "Datos consultados correctamente"
NOT_FOUND = {"estado": 6, "mensaje": "No se encontraron datos relacionados"}
SENT_ORDERS = "E"


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status and JSON body."""

    status: int
    body: dict[str, Any]


def _resultado(id_: int, message: str | None = None) -> Answer:
    result: dict[str, Any] = {"id": id_}
    if message is not None:
        result["descripcionError"] = message
    return Answer(200, {"resultado": result})


class SandboxBank:
    """STP as the sandbox plays it: one seeded random generator decides every fault and outcome."""

    def __init__(self, config: SandboxConfig, books: Books | None = None):
        self.config = config
        self.scenario = config.the_scenario()
        self._rng = random.Random(config.seed)
        self._rng_lock = threading.Lock()
        self._verifier = Verifier.from_pem(config.public_key_pem) if config.public_key_pem else None
        self.books = books or Books(first_id=self._rng.randrange(10_000_000, 90_000_000))
        self.notifier = Notifier(self.books, config, self.scenario)
        self.stopping = threading.Event()

    def today(self) -> str:
        return operation_date(self.config.clock())

    # -- ordenPago/registra ------------------------------------------------------------------------------

    def register(self, body: Mapping[str, Any]) -> Answer:
        """STP's ``ordenPago/registra``: the new order's id, or an error code with its description."""
        with self._rng_lock:
            unavailable = self._rng.random() < self.scenario.error_5xx
        if unavailable:
            return Answer(503, {"mensaje": "Servicio no disponible"})
        if not validation.firma_is_valid(body, self._verifier):
            return _resultado(0, validation.FIRMA_ERROR)
        fields = validation.as_text_fields(body)
        c = self.config
        rejection = validation.check_fields(fields, c.empresa, c.missing_accounts, c.pld_blocklist)
        if rejection:
            return _resultado(rejection.code, rejection.message)
        fields.update({m: format_amount(fields[m]) for m in MONEY_FIELDS if m in fields})
        with self._rng_lock:
            try:
                order = self.books.register(fields, fields.get("fechaOperacion") or self.today(), self._now_ms())
            except TrackingKeyUsed:
                return _resultado(-1, f"La clave de rastreo {fields['claveRastreo']} ya fue utilizada")
            plan = draw_plan(self.scenario, self._rng, c.speed)
        first_sent = self.notifier.follow(order, plan)
        if plan.early_callback:
            first_sent.wait(c.early_callback_wait_seconds)
        self.notifier.forget(first_sent)
        if plan.timeout:
            self.stopping.wait(c.hang_seconds)
        return _resultado(order.id)

    # -- consultaOrden and conciliacion ----------------------------------------------------------------

    def consult(self, body: Mapping[str, Any]) -> Answer:
        """STP's ``consultaOrden``: one sent order by claveRastreo (and fechaOperacion when given)."""
        empresa, clave, tipo, fecha = (validation.text(body.get(k)) for k in
                                       ("empresa", "claveRastreo", "tipoOrden", "fechaOperacion"))
        problem = self._query_problem(body, cadena_consulta(empresa, clave, tipo, fecha),
                                      empresa=empresa, claveRastreo=clave, tipoOrden=tipo)
        if problem:
            return problem
        order = self.books.find(empresa, clave, fecha or None) if tipo == SENT_ORDERS else None
        if order is None:
            return Answer(400, NOT_FOUND)
        return Answer(200, {"estado": 0, "mensaje": CONSULTED, "respuesta": self.view(order)})

    def conciliation(self, body: Mapping[str, Any]) -> Answer:
        """STP's ``V2/conciliacion``: the empresa's orders of one day, a page at a time (pages from 1)."""
        empresa, tipo, fecha = (validation.text(body.get(k)) for k in ("empresa", "tipoOrden", "fechaOperacion"))
        problem = self._query_problem(body, cadena_conciliacion(empresa, tipo, fecha),
                                      empresa=empresa, tipoOrden=tipo)
        if problem:
            return problem
        try:
            page = int(validation.text(body.get("page")) or 1)
        except ValueError:
            page = 0
        if page < 1:
            return Answer(400, {"estado": 2, "mensaje": "El campo page no es valido"})
        orders = self.books.of_day(empresa, fecha or self.today()) if tipo == SENT_ORDERS else []
        size = self.config.page_size
        datos = [self.view(o) for o in orders[(page - 1) * size: page * size]]
        return Answer(200, {"estado": 0, "mensaje": CONSULTED, "datos": datos, "total": len(orders),
                            "page": page})

    def _query_problem(self, body: Mapping[str, Any], cadena: str, **required: str) -> Answer | None:
        for name, value in required.items():
            if not value:
                return Answer(400, {"estado": 2, "mensaje": f"El campo {name} es obligatorio"})
        if self._verifier and not self._verifier.verify(cadena, validation.text(body.get("firma"))):
            return Answer(400, {"estado": 1, "mensaje": validation.FIRMA_ERROR})
        return None

    def view(self, order: BookedOrder) -> dict[str, Any]:
        """An order as STP's queries show it: its fields (amounts as numbers), id, state and times."""
        shown: dict[str, Any] = dict(order.fields)
        shown.update({m: Decimal(shown[m]) for m in MONEY_FIELDS if m in shown})
        shown.update(idEF=order.id, fechaOperacion=order.fecha_operacion,
                     estado=styled(order.estado, self.config.estado_style),
                     causaDevolucion=order.causa_devolucion, tsCaptura=order.ts_captura,
                     tsLiquidacion=order.ts_liquidacion, tsDevolucion=order.ts_devolucion)
        shown.update(order.amended)
        return shown

    def _now_ms(self) -> int:
        return int(self.config.clock().timestamp() * 1000)
