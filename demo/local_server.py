"""Serve a WSGI app on loopback from a thread: the embedded demo's web process."""
from __future__ import annotations

import socketserver
import threading
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name)
        pass


class _Threading(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class ThreadedServer:
    """A WSGI app on 127.0.0.1 (port 0 picks a free one) until ``stop()``."""

    def __init__(self, app: Any, port: int = 0):
        self._server = make_server("127.0.0.1", port, app, server_class=_Threading, handler_class=_Quiet)
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-web", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> ThreadedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
