"""The sandbox's books: every order it accepted, its state, and how each callback went.

Request threads and the notifier share one `Books`; every read returns a copy taken under the lock.
"""
from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from .scenarios import CANCELLED, IN_FLIGHT, LIQUIDATED, RETURNED

# The moves STP's orders make; anything else is ignored.
MOVES = {IN_FLIGHT: (LIQUIDATED, CANCELLED, RETURNED), LIQUIDATED: (RETURNED,)}


class TrackingKeyUsed(Exception):
    """The empresa already sent an order with this claveRastreo."""


@dataclass
class Delivery:
    """One webhook callback: its estado, which copy, and how the attempts went."""

    estado: str
    copy: int
    attempts: int = 0
    delivered: bool = False
    gave_up: bool = False
    last_status: int | None = None     # HTTP status of the last attempt; None after a connection error


@dataclass
class BookedOrder:
    """An accepted order as STP holds it."""

    id: int
    empresa: str
    clave_rastreo: str
    fecha_operacion: str
    fields: dict[str, str]
    ts_captura: int
    estado: str = IN_FLIGHT
    ts_liquidacion: int | None = None
    ts_cancelacion: int | None = None
    ts_devolucion: int | None = None
    causa_devolucion: str | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    amended: dict[str, Any] = field(default_factory=dict)  # what the queries show instead (see `Books.amend`)
    forgotten: bool = False  # left out of the queries (see `Books.forget`)


class Books:
    """Thread-safe ledger of accepted orders, with ids of 7 or more digits."""

    def __init__(self, first_id: int = 10_000_000):
        if first_id < 1_000_000:
            raise ValueError("STP order ids have at least 7 digits")
        self._next_id = first_id
        self._orders: dict[int, BookedOrder] = {}
        self._by_key: dict[tuple[str, str], int] = {}
        self._changed = threading.Condition()

    def register(self, fields: dict[str, str], fecha_operacion: str, ts_captura: int) -> BookedOrder:
        """Book a new order; raises `TrackingKeyUsed` when the empresa already used its claveRastreo."""
        key = (fields["empresa"], fields["claveRastreo"])
        with self._changed:
            if key in self._by_key:
                raise TrackingKeyUsed(fields["claveRastreo"])
            order = BookedOrder(self._next_id, key[0], key[1], fecha_operacion,
                                dict(fields, fechaOperacion=fecha_operacion), ts_captura)
            self._next_id += 1
            self._orders[order.id] = order
            self._by_key[key] = order.id
            self._changed.notify_all()
            return copy.deepcopy(order)

    def settle(self, order_id: int, estado: str, ts: int, causa: str | None = None) -> BookedOrder:
        """Move an order to LQ, CN or D (a move STP would not make is ignored); returns the order after."""
        with self._changed:
            order = self._orders[order_id]
            if estado in MOVES.get(order.estado, ()):
                order.estado = estado
                if estado == LIQUIDATED:
                    order.ts_liquidacion = ts
                elif estado == CANCELLED:
                    order.ts_cancelacion = ts
                else:
                    order.ts_devolucion, order.causa_devolucion = ts, causa
                self._changed.notify_all()
            return copy.deepcopy(order)

    def amend(self, order_id: int, **shown: Any) -> None:
        """Show the order with other values in STP's queries (``monto``, ``estado``, ``idEF``...): books that
        differ from ours, for reconciliation to find. No callback tells of it."""
        with self._changed:
            self._orders[order_id].amended.update(shown)
            self._changed.notify_all()

    def forget(self, order_id: int) -> None:
        """Leave the order out of STP's queries, as if it had never booked it: an order we have and it has
        not. (Its planned outcomes still happen, unseen.)"""
        with self._changed:
            order = self._orders[order_id]
            order.forgotten = True
            self._by_key.pop((order.empresa, order.clave_rastreo), None)
            self._changed.notify_all()

    def add_delivery(self, order_id: int, estado: str, copy_number: int) -> int:
        with self._changed:
            deliveries = self._orders[order_id].deliveries
            deliveries.append(Delivery(estado, copy_number))
            return len(deliveries) - 1

    def record_attempt(self, order_id: int, delivery: int, status: int | None, delivered: bool,
                       gave_up: bool = False) -> int:
        """Count one webhook attempt; returns the attempts so far."""
        with self._changed:
            record = self._orders[order_id].deliveries[delivery]
            record.attempts += 1
            record.last_status, record.delivered, record.gave_up = status, delivered, gave_up
            self._changed.notify_all()
            return record.attempts

    def get(self, order_id: int) -> BookedOrder | None:
        with self._changed:
            order = self._orders.get(order_id)
            return copy.deepcopy(order) if order else None

    def find(self, empresa: str, clave_rastreo: str, fecha_operacion: str | None = None) -> BookedOrder | None:
        """The empresa's order with this claveRastreo (on that day, when a day is given)."""
        with self._changed:
            order_id = self._by_key.get((empresa, clave_rastreo))
            order = self._orders.get(order_id) if order_id is not None else None
            if order is None or (fecha_operacion and order.fecha_operacion != fecha_operacion):
                return None
            return copy.deepcopy(order)

    def of_day(self, empresa: str, fecha_operacion: str) -> list[BookedOrder]:
        """The empresa's orders of one operation day, by id."""
        with self._changed:
            return [copy.deepcopy(o) for o in sorted(self._orders.values(), key=lambda o: o.id)
                    if o.empresa == empresa and o.fecha_operacion == fecha_operacion and not o.forgotten]

    def orders(self) -> list[BookedOrder]:
        with self._changed:
            return self._view()

    def wait_for(self, predicate: Callable[[list[BookedOrder]], bool], timeout: float) -> bool:
        """Block until ``predicate(orders)`` holds or the timeout passes; returns whether it holds."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self._view()), timeout)

    def _view(self) -> list[BookedOrder]:
        return [copy.deepcopy(o) for o in sorted(self._orders.values(), key=lambda o: o.id)]
