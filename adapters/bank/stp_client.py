"""STP's HTTP API: register an order, query it by tracking key, list a day's orders."""
from __future__ import annotations

import json
import logging
from decimal import Decimal
from dataclasses import dataclass
from typing import Any, Callable

import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from adapters.bank.signer import Signer
from domain import stp

log = logging.getLogger("dispersa.bank")

# Only faults where the request surely never reached STP are retried blindly; any other
# doubt (read timeout, 5xx, a dropped answer) is settled by querying the tracking key.
_not_sent = retry(retry=retry_if_exception_type((httpx.ConnectError, httpx.ConnectTimeout)),
                  stop=stop_after_attempt(4), wait=wait_exponential(multiplier=0.2, max=3), reraise=True)


class BankUnavailable(Exception):
    """STP could not be reached or did not answer clearly: whether it acted is unknown."""


@dataclass(frozen=True)
class FoundOrder:
    """What consultaOrden says of one order."""

    bank_order_id: int | None
    estado: str
    fields: dict[str, Any]


class StpClient:
    """Signs and sends; every call goes through the shared rate limit."""

    def __init__(self, base_url: str, efws_url: str, empresa: str, signer: Signer, timeout: float,
                 acquire: Callable[[], None] = lambda: None, transport: httpx.BaseTransport | None = None):
        self.empresa = empresa
        self._signer = signer
        self._acquire = acquire
        self._base = base_url.rstrip("/")
        self._efws = efws_url.rstrip("/")
        self._http = httpx.Client(timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    @_not_sent
    def _call(self, method: str, url: str, body: dict[str, Any] | bytes) -> httpx.Response:
        self._acquire()
        if isinstance(body, bytes):
            return self._http.request(method, url, content=body, headers={"Content-Type": "application/json"})
        return self._http.request(method, url, json=body)

    def _json(self, method: str, url: str, body: dict[str, Any] | bytes,
              ok: tuple[int, ...] = (200,)) -> tuple[int, Any]:
        try:
            response = self._call(method, url, body)
        except httpx.HTTPError as e:
            raise BankUnavailable(f"{type(e).__name__} calling {url}") from e
        if response.status_code not in ok:
            raise BankUnavailable(f"HTTP {response.status_code} from {url}")
        try:  # amounts come as JSON numbers: read them as exact decimals, never floats
            return response.status_code, json.loads(response.content, parse_float=Decimal)
        except ValueError:
            raise BankUnavailable(f"unreadable answer from {url}") from None

    def register(self, fields: dict[str, str]) -> stp.RegistrationAnswer:
        """``PUT ordenPago/registra`` with the signed order."""
        order = dict(fields, empresa=self.empresa)
        body = stp.registration_body(order, self._signer.sign(stp.cadena_original(order)))
        _, answer = self._json("PUT", f"{self._base}/speiws/rest/ordenPago/registra", body)
        try:
            return stp.read_registration(answer)
        except stp.OrderError as e:
            raise BankUnavailable(str(e)) from None

    def query(self, tracking_key: str, operation_date: str = "") -> FoundOrder | None:
        """``consultaOrden`` by tracking key; None when STP has no such order."""
        body = {"empresa": self.empresa, "claveRastreo": tracking_key, "tipoOrden": "E"}
        if operation_date:
            body["fechaOperacion"] = operation_date
        body["firma"] = self._signer.sign(stp.cadena_consulta(self.empresa, tracking_key, "E", operation_date))
        status, answer = self._json("POST", f"{self._efws}/efws/API/consultaOrden", body, ok=(200, 400))
        if status == 400 or answer.get("estado") == 6:
            if answer.get("estado") == 6:
                return None
            raise BankUnavailable(f"consultaOrden refused: {answer!r}")
        found = answer.get("respuesta") or {}
        raw_id = found.get("idEF") or found.get("id")
        return FoundOrder(stp.bank_order_id(raw_id), str(found.get("estado", "")), found)

    def day_orders(self, operation_date: str) -> list[dict[str, Any]]:
        """Every outgoing order of the day from ``V2/conciliacion``, all pages."""
        orders: list[dict[str, Any]] = []
        page = 1
        while True:
            body = {"empresa": self.empresa, "tipoOrden": "E", "fechaOperacion": operation_date, "page": page,
                    "firma": self._signer.sign(stp.cadena_conciliacion(self.empresa, "E", operation_date))}
            _, answer = self._json("POST", f"{self._efws}/efws/API/V2/conciliacion", body)
            batch = answer.get("datos") or []
            orders.extend(batch)
            total = int(answer.get("total") or 0)
            if not batch or len(orders) >= total:
                return orders
            page += 1
