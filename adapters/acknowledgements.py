"""Posting an acknowledgement to a tenant's X-CallbackURL, with retries (tenacity) on transport faults
and 5xx answers; a 4xx is the tenant's refusal and is not retried.

The URL is the client's, so the call may go only where ``CallbackAddresses`` allows: its host is
resolved, every address it has is checked, and the connection is made to the checked address itself
(never resolved again), so that a name cannot be pointed at this machine, a private network or a
metadata service between the check and the call (DNS rebinding). No proxy from the environment is used."""
from __future__ import annotations

import ipaddress
import socket
import typing
from typing import Any, Callable
from urllib.parse import urlsplit

import httpcore
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from domain.callbacks import CallbackAddresses

Resolve = Callable[..., list[tuple[Any, ...]]]  # socket.getaddrinfo's shape


class CallbackFailed(Exception):
    """The tenant's endpoint did not take the acknowledgement (no answer, a 5xx): it may take it later."""


class CallbackRefused(Exception):
    """The acknowledgement can never be delivered: the endpoint answered 4xx, or its address may not be
    called. Retrying will not help."""


class AddressRefused(CallbackRefused):
    """The URL's host is, or resolves to, an address we may not call."""


class CheckedConnections(httpcore.SyncBackend):
    """TCP connections only to addresses ``CallbackAddresses`` allows, made to the address checked."""

    def __init__(self, addresses: CallbackAddresses, resolve: Resolve = socket.getaddrinfo):
        self._addresses, self._resolve = addresses, resolve

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: typing.Iterable[Any] | None = None) -> httpcore.NetworkStream:
        try:
            found = self._resolve(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as e:
            raise httpcore.ConnectError(f"{host} cannot be resolved: {e}") from None
        addresses = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0])) for info in found))
        refused = [why for why in (self._addresses.refusal(a, host) for a in addresses) if why is not None]
        if refused or not addresses:  # a name with one address inside is refused whole
            raise AddressRefused(f"{host} may not be called back: {'; '.join(refused) or 'it has no address'}")
        error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                error = e
        raise typing.cast(Exception, error)


def _origin(url: str) -> str:
    """The URL without its path and query, which may hold the tenant's tokens: what messages show."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
    except ValueError:
        return "the X-CallbackURL"


class AcknowledgementSender:
    """POSTs signed JSON bodies, only where ``addresses`` allows."""

    def __init__(self, timeout_seconds: float = 5.0, attempts: int = 3,
                 addresses: CallbackAddresses = CallbackAddresses(), resolve: Resolve = socket.getaddrinfo):
        self._timeout, self._attempts = timeout_seconds, attempts
        self._addresses, self._resolve = addresses, resolve

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST the body; returns the status. Raises CallbackFailed after the retries, CallbackRefused on a
        4xx, AddressRefused (at once) when the URL's address may not be called."""
        why = self._addresses.url_refusal(url)
        if why is not None:
            raise AddressRefused(f"{_origin(url)} may not be called back: {why}")
        sent = [(b"Content-Type", b"application/json"), *((k.encode(), v.encode()) for k, v in headers.items())]
        timeout = {"connect": self._timeout, "read": self._timeout, "write": self._timeout, "pool": self._timeout}

        @retry(retry=retry_if_exception_type(CallbackFailed), stop=stop_after_attempt(self._attempts),
               wait=wait_exponential(multiplier=0.2, max=2), reraise=True)
        def once() -> int:
            try:
                with httpcore.ConnectionPool(network_backend=CheckedConnections(self._addresses, self._resolve)) \
                        as pool:
                    answer = pool.request("POST", url, headers=sent, content=body, extensions={"timeout": timeout})
            except httpcore.UnsupportedProtocol as e:
                raise CallbackRefused(f"{_origin(url)}: {e}") from None
            except httpcore.TimeoutException:
                raise CallbackFailed(f"{_origin(url)} did not answer within {self._timeout:g} s") from None
            except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.ProxyError) as e:
                raise CallbackFailed(f"{_origin(url)}: {type(e).__name__} {e}") from None
            if answer.status >= 500:
                raise CallbackFailed(f"{_origin(url)} answered {answer.status}")
            if answer.status >= 400:
                raise CallbackRefused(f"{_origin(url)} answered {answer.status}")
            return int(answer.status)
        return once()
