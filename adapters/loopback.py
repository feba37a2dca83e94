"""A WSGI app served on loopback from threads of this process: the embedded demo's web process and
the STP sandbox run in process this way (production serves through gunicorn)."""
from __future__ import annotations

import logging
import socketserver
import threading
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

log = logging.getLogger(__name__)


class _QuietHandler(WSGIRequestHandler):
    """wsgiref's handler, logging requests at debug level instead of to stderr."""

    timeout = 10  # a connection that never sends a request cannot hold up stop()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the stdlib's name)
        log.debug("%s " + format, self.address_string(), *args)


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    """One thread per request; close() waits for them."""

    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("request from %s failed", client_address, exc_info=True)


class LoopbackServer:
    """``app`` on ``host:port`` (port 0 picks a free one): ``start()``, ``url``, ``stop()``. ``shutdown()``
    and ``close()`` apart let the owner release requests that wait on it in between."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, name: str = "loopback-http"):
        self._server = _ThreadingServer((host, port), _QuietHandler)
        self._server.set_app(app)
        self._name = name
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = self._server.server_address[0]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{self.port}"

    def start(self) -> LoopbackServer:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=self._name, daemon=True)
        self._thread.start()
        return self

    def shutdown(self) -> None:
        """Stop accepting; requests in progress go on."""
        self._server.shutdown()

    def close(self) -> None:
        """Wait for the requests in progress, then free the port."""
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def stop(self) -> None:
        self.shutdown()
        self.close()
