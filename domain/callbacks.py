"""Where we may call a tenant back (its X-CallbackURL): a public address, never this machine, its private
networks or a cloud's metadata service, since a URL a client gives would otherwise let it reach them
through us (server-side request forgery). The operator may allow a few addresses, networks or host names
(DISPERSA_CALLBACK_ALLOW: tests and `make up` call back on loopback); a metadata address is never allowed.

The rule is checked on each address a name resolves to, when connecting, so that a name cannot be made
to point elsewhere between the check and the call."""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# the clouds' instance metadata services (AWS, ECS, Azure, Alibaba; GCP's is AWS's address)
METADATA = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "168.63.129.16", "100.100.100.200", "fd00:ec2::254"))
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _inner(ip: Address) -> list[Address]:
    """The addresses a connection to ``ip`` may reach: the IPv4 address an IPv6 one carries (mapped, 6to4,
    Teredo, NAT64) first, then the address itself (an IPv4-mapped one is only its IPv4 address)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return [ip]
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    carried: list[Address] = []
    if ip.sixtofour is not None:
        carried.append(ip.sixtofour)
    if ip.teredo is not None:
        carried.extend(ip.teredo)
    if ip in NAT64:
        carried.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [*carried, ip]


def _not_public(ip: Address) -> str | None:
    """What kind of address this is when it is not a public one."""
    kinds = (("unspecified", ip.is_unspecified), ("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
             ("multicast", ip.is_multicast), ("reserved", ip.is_reserved), ("private", ip.is_private),
             ("not public", not ip.is_global))
    return next((kind for kind, applies in kinds if applies), None)


@dataclass(frozen=True)
class CallbackAddresses:
    """The addresses we may call back: public ones, and the exceptions the operator allows."""

    networks: tuple[Network, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def allowing(cls, text: str) -> CallbackAddresses:
        """From DISPERSA_CALLBACK_ALLOW: addresses, networks (CIDR) and host names, separated by commas or
        spaces (``127.0.0.1,::1``; ``10.8.0.0/16 callbacks.internal``)."""
        networks: list[Network] = []
        hosts: set[str] = set()
        for entry in filter(None, re.split(r"[\s,]+", text.strip())):
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(_host(entry))
        return cls(tuple(networks), frozenset(hosts))

    def refusal(self, ip: Address, host: str = "") -> str | None:
        """Why we may not connect to ``ip`` (found for ``host``), or None when we may."""
        inner = _inner(ip)
        if any(a in METADATA for a in inner):
            return f"{ip} is a cloud metadata address"
        if _host(host) in self.hosts or any(a in n for a in inner for n in self.networks if a.version == n.version):
            return None
        for address in inner:
            kind = _not_public(address)
            if kind is not None:
                return f"{ip} is a {kind} address" if address == ip else f"{ip} carries {address}, a {kind} address"
        return None

    def url_refusal(self, url: str) -> str | None:
        """Why ``url`` can never be called back, as written: not http(s), no host, or a host that is an
        address we may not call (a name is checked when it is resolved, at each call)."""
        try:
            parts = urlsplit(url.strip())
            host = parts.hostname or ""
        except ValueError as e:
            return f"it is not a URL ({e})"
        if parts.scheme.lower() not in ("http", "https") or not host:
            return "it is not an http(s) URL with a host"
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return None
        return self.refusal(ip, host)


def _host(name: str) -> str:
    return name.strip().lower().rstrip(".")
