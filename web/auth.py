"""API key authentication and role checks, driven by the route table."""
from __future__ import annotations

from typing import Any, Callable, Mapping

import falcon

from adapters.db.uow import UnitOfWork
from domain.access import a_key_of, may
from usecases.access import Principal, authenticate
from web.routes import Operation

CHALLENGE = ["Bearer"]


def presented_key(req: falcon.Request) -> str | None:
    """``Authorization: Bearer <key>``, or ``X-API-Key: <key>``."""
    header = req.get_header("Authorization")
    if header:
        scheme, _, key = header.strip().partition(" ")
        if scheme.lower() == "bearer" and key.strip():
            return key.strip()
    given = req.get_header("X-API-Key")
    return given.strip() if given and given.strip() else None


class Authentication:
    """Middleware: finds the operation of the request; unless it is public, the caller's key must be known
    (401) and its role allowed the operation's action (403). Sets ``req.context.operation`` and ``.principal``."""

    def __init__(self, uow: Callable[[], UnitOfWork], operations: Mapping[tuple[str, str], Operation]):
        self._uow = uow
        self._operations = operations

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: Any,
                         params: dict[str, Any]) -> None:
        op = self._operations.get((req.uri_template or "", req.method)) if resource is not None else None
        req.context.operation = op
        req.context.principal = None
        if op is None or op.action is None:
            return
        who = self._principal(req)
        if not may(who.role, op.action):
            raise falcon.HTTPForbidden(
                title="Forbidden",
                description=f"{a_key_of(who.role)} may not {op.action.value.replace('_', ' ')} ({op.operation_id})")
        req.context.principal = who

    def _principal(self, req: falcon.Request) -> Principal:
        key = presented_key(req)
        if key is None:
            raise falcon.HTTPUnauthorized(
                title="Unauthorized", challenges=CHALLENGE,
                description="this operation needs an API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'")
        with self._uow() as uow:
            who = authenticate(uow, key)
        if who is None:
            raise falcon.HTTPUnauthorized(title="Unauthorized", challenges=CHALLENGE,
                                          description="the API key is unknown or revoked")
        return who
