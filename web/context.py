"""What a responder reads from its request: the caller, its scope, the checked body and paging; and the audit row."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import falcon

from adapters.db.uow import UnitOfWork
from domain.access import Role
from domain.dual_control import Person
from usecases.access import Principal, audit
from web.rendering import jsonable
from web.routes import PAGE, PER_PAGE, Operation


def operation(req: falcon.Request) -> Operation:
    op: Operation = req.context.operation
    return op


def principal(req: falcon.Request) -> Principal:
    who: Principal = req.context.principal
    return who


def person(req: falcon.Request) -> Person:
    """The person behind the caller's key: dual control compares people."""
    who = principal(req).person
    assert who is not None, "every key belongs to a person"
    return who


def scope(req: falcon.Request) -> int | None:
    """The merchant a partner key is limited to; None (everything) for the other roles."""
    who = principal(req)
    return who.merchant_id if who.role == Role.PARTNER else None


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json(raw: bytes, exact: bool = False) -> Any:
    """Strict JSON: no NaN or Infinity, nesting within reason; ValueError says what is wrong. ``exact``: a
    number with a fraction is read as the Decimal it is written as, never a float (an amount)."""
    try:
        return json.loads(raw, parse_constant=_not_json, parse_float=Decimal if exact else float)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None


def _next_mark(text: str, start: int) -> str:
    end = start
    while end < len(text) and text[end] in " \t\r\n":
        end += 1
    return text[end:end + 1]


def without_trailing_commas(text: str) -> str:
    """JSON text with each comma that only precedes a closing ``}`` or ``]`` dropped (strings untouched)."""
    out, in_string, escaped = [], False, False
    for i, char in enumerate(text):
        if in_string:
            in_string, escaped = (escaped or char != '"'), (not escaped and char == "\\")
        elif char == '"':
            in_string = True
        elif char == "," and _next_mark(text, i + 1) in ("}", "]"):
            continue
        out.append(char)
    return "".join(out)


def _hand_written(raw: bytes) -> Any:
    try:
        return parse_json(raw, exact=True)
    except ValueError as first:
        try:
            return parse_json(without_trailing_commas(raw.decode("utf-8")).encode("utf-8"), exact=True)
        except (ValueError, UnicodeDecodeError):
            raise first from None


def raw_json(req: falcon.Request, empty: Any = None, hand_written: bool = False) -> Any:
    """The body read by RequestLimits, parsed (400 when it is not JSON); ``empty`` when there is none.
    ``hand_written``: numbers read exactly and a trailing comma forgiven, as the seed's examples write them."""
    raw = getattr(req.context, "raw_body", b"")
    if not raw.strip():
        return empty
    try:
        return _hand_written(raw) if hand_written else parse_json(raw)
    except ValueError as e:
        raise falcon.HTTPBadRequest(title="Malformed JSON", description=f"the body is not valid JSON: {e}") from None


def body(req: falcon.Request, hand_written: bool = False) -> dict[str, Any]:
    """The request's JSON body, checked against the operation's declared body (400 malformed, 422 invalid);
    ``hand_written`` as ``raw_json`` says."""
    raw = raw_json(req, empty={}, hand_written=hand_written)
    declared = operation(req).body
    return declared.parse(raw) if declared is not None else {}


def paging(req: falcon.Request) -> tuple[int, int]:
    return PAGE.read(req), PER_PAGE.read(req)


def record(uow: UnitOfWork, req: falcon.Request, resource: str, resource_id: Any,
           details: dict[str, Any] | None = None) -> None:
    """The audit row of a privileged action, in the action's own transaction."""
    audit(uow, principal(req), operation(req).operation_id, resource, resource_id,
          jsonable(details) if details else None)
