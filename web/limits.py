"""What a request body may be: its size (413), its type where JSON is expected (415), and how long it
may take to arrive (408). Slow or hostile clients cannot hold the web process; the body is read once
here and kept for the responder."""
from __future__ import annotations

import contextlib
from typing import Any, Iterator

import falcon

from web.routes import Operation

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
CHUNK = 64 * 1024


class SlowBody(Exception):
    """The body did not arrive within the read deadline."""


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Under gunicorn's gevent worker (the Procfile's), a body that trickles in is cut off after
    ``seconds``; elsewhere (tests, the embedded demo) reading is not timed."""
    try:
        from gevent import Timeout, monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        yield
        return
    if not monkey.is_module_patched("socket"):
        yield
        return
    with Timeout(seconds, SlowBody):
        yield


def too_large(limit: int) -> falcon.HTTPError:
    return falcon.HTTPContentTooLarge(title="Body too large", description=f"the body is at most {limit} bytes")


def read_body(req: falcon.Request, limit: int) -> bytes:
    """At most ``limit`` bytes of the body, whether it has a Content-Length or comes chunked."""
    length = req.content_length
    if length is not None and length > limit:
        raise too_large(limit)
    if length is None and not req.env.get("wsgi.input_terminated"):
        return b""  # no length and no terminated stream: no body (reading would wait for ever)
    wanted = limit + 1 if length is None else length
    parts: list[bytes] = []
    got = 0
    while got < wanted:
        part = req.stream.read(min(CHUNK, wanted - got))
        if not part:
            break
        parts.append(part)
        got += len(part)
    if got > limit:
        raise too_large(limit)
    return b"".join(parts)


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class RequestLimits:
    """Middleware, after authentication: reads the body of every POST, PUT or PATCH within its limits and
    its deadline, whatever the route (a JSON body, a callback's raw one, or none declared), and keeps it
    as ``req.context.raw_body``. Only a streamed upload is left to its responder, which reads each part
    within the same deadline. (A request's line and headers have theirs in gunicorn: workers.serving.)"""

    def __init__(self, max_body_bytes: int, read_seconds: float):
        self._max = max_body_bytes
        self._seconds = read_seconds

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: Any,
                         params: dict[str, Any]) -> None:
        req.context.raw_body = b""
        op: Operation | None = getattr(req.context, "operation", None)
        if req.method not in BODY_METHODS or op is None or op.streamed:
            return
        limit = op.body_limit or self._max
        try:
            with deadline(self._seconds):
                raw = read_body(req, limit)
        except SlowBody:
            raise falcon.HTTPError(falcon.HTTP_408, title="Request timeout",
                                   description=f"the body did not arrive within {self._seconds:g} s") from None
        if op.body is not None and raw.strip() and not _is_json(req.content_type):
            raise falcon.HTTPUnsupportedMediaType(
                title="Unsupported media type",
                description=f"the body is JSON: send it with 'Content-Type: application/json' "
                            f"(got {req.content_type or 'no Content-Type'})")
        req.context.raw_body = raw
