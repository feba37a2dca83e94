"""What a responder reads from its request: the caller, its scope, the checked body and paging; and the audit row."""
from __future__ import annotations

from typing import Any

import falcon

from adapters.db.uow import UnitOfWork
from domain.access import Role
from usecases.access import Principal, audit
from web.rendering import jsonable
from web.routes import PAGE, PER_PAGE, Operation


def operation(req: falcon.Request) -> Operation:
    return req.context.operation


def principal(req: falcon.Request) -> Principal:
    return req.context.principal


def scope(req: falcon.Request) -> int | None:
    """The merchant a partner key is limited to; None (everything) for the other roles."""
    who = principal(req)
    return who.merchant_id if who.role == Role.PARTNER else None


def body(req: falcon.Request) -> dict[str, Any]:
    """The request's JSON body, checked against the operation's declared body (400 malformed, 422 invalid)."""
    try:
        raw = req.get_media(default_when_empty={})
    except falcon.MediaMalformedError as e:
        raise falcon.HTTPBadRequest(title="Malformed JSON",
                                    description=f"the body is not valid JSON: {e.__cause__ or e.description}") from None
    declared = operation(req).body
    return declared.parse(raw) if declared is not None else {}


def paging(req: falcon.Request) -> tuple[int, int]:
    return PAGE.read(req), PER_PAGE.read(req)


def record(uow: UnitOfWork, req: falcon.Request, resource: str, resource_id: Any,
           details: dict[str, Any] | None = None) -> None:
    """The audit row of a privileged action, in the action's own transaction."""
    audit(uow, principal(req), operation(req).operation_id, resource, resource_id,
          jsonable(details) if details else None)
