"""Where we may call a tenant back: public addresses, the operator's exceptions, never a metadata service."""
from __future__ import annotations

import ipaddress

import pytest

from domain.callbacks import CallbackAddresses

NONE = CallbackAddresses.allowing("")


@pytest.mark.parametrize("address, kind", [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"), ("fc00::1", "private"),
    ("fd12:3456::1", "private"), ("100.64.0.1", "not public"),
    ("169.254.1.1", "link-local"), ("fe80::1", "link-local"),
    ("224.0.0.1", "multicast"), ("239.1.2.3", "multicast"), ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"), ("255.255.255.255", "reserved"), ("192.0.2.1", "private"),
    ("169.254.169.254", "metadata"), ("168.63.129.16", "metadata"), ("100.100.100.200", "metadata"),
    ("fd00:ec2::254", "metadata"), ("::ffff:169.254.169.254", "metadata"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"), ("64:ff9b::7f00:1", "loopback"),
    ("2002:7f00:1::1", "loopback"), ("::7f00:1", "reserved"),
])
def test_loopback_private_link_local_multicast_reserved_and_metadata_addresses_are_refused(address: str,
                                                                                          kind: str) -> None:
    why = NONE.refusal(ipaddress.ip_address(address), "callbacks.example")
    assert why is not None and kind in why, why


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_may_be_called(address: str) -> None:
    assert NONE.refusal(ipaddress.ip_address(address)) is None


def test_the_operator_allows_addresses_networks_and_names_but_never_a_metadata_service() -> None:
    allowed = CallbackAddresses.allowing("127.0.0.1, ::1 10.8.0.0/16,Callbacks.Internal. 169.254.0.0/16")
    assert allowed.refusal(ipaddress.ip_address("127.0.0.1")) is None
    assert allowed.refusal(ipaddress.ip_address("::ffff:127.0.0.1")) is None  # the same address, IPv4-mapped
    assert allowed.refusal(ipaddress.ip_address("::1")) is None
    assert allowed.refusal(ipaddress.ip_address("10.8.3.4")) is None
    assert allowed.refusal(ipaddress.ip_address("10.9.0.1")) is not None
    assert allowed.refusal(ipaddress.ip_address("127.0.0.2")) is not None
    assert allowed.refusal(ipaddress.ip_address("192.168.0.9"), "callbacks.internal") is None
    assert "metadata" in (allowed.refusal(ipaddress.ip_address("169.254.169.254")) or "")
    assert allowed.refusal(ipaddress.ip_address("169.254.1.1")) is None


@pytest.mark.parametrize("url, words", [
    ("http://127.0.0.1:8000/x", "loopback"), ("http://[::1]/x", "loopback"), ("https://169.254.169.254/", "metadata"),
    ("http://0.0.0.0:80/", "unspecified"), ("http://[::ffff:7f00:1]/", "loopback"), ("ftp://example.com/", "http(s)"),
    ("http:///nohost", "http(s)"), ("http://[fe80::1%25eth0]/", "link-local"),
])
def test_a_url_whose_host_is_a_refused_address_is_refused_as_written(url: str, words: str) -> None:
    why = NONE.url_refusal(url)
    assert why is not None and words in why, why


def test_a_url_with_a_name_is_checked_when_the_name_is_resolved() -> None:
    assert NONE.url_refusal("https://callbacks.example.com/progress?x=1") is None
    assert CallbackAddresses.allowing("127.0.0.1").url_refusal("http://127.0.0.1:9/progress") is None
