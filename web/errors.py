"""Every failure leaves as JSON ``{"title", "description"}``; unexpected ones are logged with the request's ids."""
from __future__ import annotations

import json
import logging
from typing import Any

import falcon
from sqlalchemy.exc import IntegrityError

from usecases.errors import Conflict, Forbidden, Invalid, NotFound, UseCaseError

log = logging.getLogger("dispersa.web")

STATUS = {Conflict: falcon.HTTP_409, Invalid: falcon.HTTP_422, Forbidden: falcon.HTTP_403}


def use_case_error(req: falcon.Request, resp: falcon.Response, ex: UseCaseError, params: dict[str, Any]) -> None:
    status = next((status for kind, status in STATUS.items() if isinstance(ex, kind)), falcon.HTTP_400)
    error = falcon.HTTPError(status, title=ex.title, description=str(ex))
    error.extra = getattr(ex, "extra", None)  # type: ignore[attr-defined]  # e.g. a customer's status
    raise error


def not_found(req: falcon.Request, resp: falcon.Response, ex: NotFound, params: dict[str, Any]) -> None:
    raise falcon.HTTPNotFound(title=NotFound.title, description=str(ex))


def integrity_error(req: falcon.Request, resp: falcon.Response, ex: IntegrityError, params: dict[str, Any]) -> None:
    # Two requests raced for one business key (an external id, an idempotency key): the loser is told to
    # repeat, and the repeat finds what the winner wrote.
    log.warning("integrity conflict on %s %s %s: %s", req.method, req.path, params, ex.orig)
    raise falcon.HTTPConflict(title="Conflict",
                              description="a concurrent request wrote the same thing; repeat the request")


def route_not_found(req: falcon.Request, resp: falcon.Response, ex: Exception, params: dict[str, Any]) -> None:
    raise falcon.HTTPNotFound(title="Not found", description=f"no resource at {req.path}")


def unexpected(req: falcon.Request, resp: falcon.Response, ex: Exception, params: dict[str, Any]) -> None:
    ids = " ".join(f"{k}={v}" for k, v in sorted((params or {}).items()))
    log.error("unexpected error on %s %s %s", req.method, req.path, ids, exc_info=ex)
    where = f" ({ids})" if ids else ""
    raise falcon.HTTPInternalServerError(
        title="Internal server error",
        description=f"an unexpected error stopped {req.method} {req.path}; it was logged{where}")


def serialize(req: falcon.Request, resp: falcon.Response, ex: falcon.HTTPError) -> None:
    """JSON whatever the client accepts (a CSV client still gets a readable error)."""
    body = {"title": ex.title, "description": ex.description or ex.title}
    if getattr(ex, "errorInformation", None):  # the bulk API's clients read the seed's field
        body["errorInformation"] = ex.errorInformation  # type: ignore[attr-defined]
    body.update(getattr(ex, "extra", None) or {})
    resp.content_type = falcon.MEDIA_JSON
    resp.text = json.dumps(body) + "\n"


def install(app: falcon.App[falcon.Request, falcon.Response]) -> None:
    """Handlers by specificity: Falcon picks the closest class in the exception's MRO."""
    app.add_error_handler(Exception, unexpected)
    app.add_error_handler(UseCaseError, use_case_error)
    app.add_error_handler(NotFound, not_found)
    app.add_error_handler(IntegrityError, integrity_error)
    app.add_error_handler(falcon.HTTPRouteNotFound, route_not_found)
    app.set_error_serializer(serialize)
