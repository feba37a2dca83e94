"""The acknowledgement sender against a real HTTP server on loopback: a host is resolved once per
connection, every address it has is checked, and the connection goes to the address checked, so that a
name re-pointed between the check and the call (DNS rebinding) reaches nothing it was not allowed to."""
from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

from adapters.acknowledgements import AcknowledgementSender, AddressRefused
from domain.callbacks import CallbackAddresses


@pytest.fixture
def server() -> Iterator[tuple[int, list[str]]]:
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the http.server name)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            hosts.append(self.headers.get("Host", ""))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1], hosts
    httpd.shutdown()
    httpd.server_close()


def answers(*addresses: str) -> Any:
    """A resolver that gives each call the next list of addresses (the last one from then on)."""
    calls: list[str] = []

    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        given = addresses[min(len(calls), len(addresses) - 1)]
        calls.append(host)
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in given.split()]
    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


def test_the_connection_goes_to_the_address_checked_never_resolved_again(server: tuple[int, list[str]]) -> None:
    port, hosts = server
    resolve = answers("127.0.0.1", "169.254.169.254")  # the name is re-pointed right after the check
    sender = AcknowledgementSender(1.0, attempts=1, addresses=CallbackAddresses.allowing("127.0.0.1"), resolve=resolve)
    assert sender.post(f"http://tenant.example:{port}/progress", b"{}", {}) == 200
    assert resolve.calls == ["tenant.example"] and hosts == [f"tenant.example:{port}"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("addresses", ["10.0.0.7", "169.254.169.254", "8.8.8.8 127.0.0.1", "::ffff:127.0.0.1"])
def test_a_name_that_resolves_to_an_address_we_may_not_call_is_refused_before_connecting(
        server: tuple[int, list[str]], addresses: str) -> None:
    port, hosts = server
    sender = AcknowledgementSender(1.0, attempts=3, resolve=answers(addresses))
    with pytest.raises(AddressRefused, match="may not be called back"):
        sender.post(f"http://tenant.example:{port}/progress?token=secret", b"{}", {})
    assert hosts == []


def test_an_address_url_is_refused_as_written_and_the_message_hides_the_path() -> None:
    sender = AcknowledgementSender(1.0, resolve=answers("8.8.8.8"))
    with pytest.raises(AddressRefused) as refused:
        sender.post("http://169.254.169.254/latest/meta-data?token=secret", b"{}", {})
    assert "metadata" in str(refused.value) and "secret" not in str(refused.value)
