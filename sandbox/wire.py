"""JSON in and out of the sandbox's handlers: a request body read as one object (None when it is not
one), and an Answer written with its status."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Callable

import falcon

from .bank import Answer


def read_object(req: falcon.Request) -> dict[str, Any] | None:
    """The body as a JSON object, numbers with decimals as Decimal; None for anything else."""
    try:
        body = json.loads(req.bounded_stream.read() or b"null", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _plain(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False)


def send(resp: falcon.Response, answer: Answer, dumps: Callable[[Any], str] = _plain) -> None:
    """The answer's status and JSON body (``dumps`` writes it; STP's amounts are numbers)."""
    resp.status = falcon.code_to_http_status(answer.status)
    resp.content_type = falcon.MEDIA_JSON
    resp.text = dumps(answer.body)
