"""The client address is the TCP peer unless that peer is a trusted proxy; what a client writes
into X-Forwarded-For or Forwarded itself is never believed."""

from __future__ import annotations

import pytest
from litestar.datastructures import Headers

from app.client_address import parse_networks, resolve

PROXIES = parse_networks("10.0.0.0/8, 2001:db8:cafe::/48")


def headers(**values: str) -> Headers:
    return Headers({name.replace("_", "-"): value for name, value in values.items()})


def test_no_trusted_proxy_means_the_peer_whatever_the_headers_say() -> None:
    for peer in ("127.0.0.1", "10.1.2.3", "::1"):
        assert resolve(peer, headers(x_forwarded_for="203.0.113.9"), ()) == peer


def test_loopback_is_not_trusted_unless_named() -> None:
    assert resolve("127.0.0.1", headers(x_forwarded_for="203.0.113.9"), PROXIES) == "127.0.0.1"
    loopback = parse_networks("127.0.0.1")
    assert resolve("127.0.0.1", headers(x_forwarded_for="203.0.113.9"), loopback) == "203.0.113.9"


def test_a_trusted_proxy_names_the_client_and_what_the_client_wrote_is_ignored() -> None:
    # The client sent "X-Forwarded-For: 198.51.100.1" itself; the proxy appended what it saw.
    forged = headers(x_forwarded_for="198.51.100.1, 203.0.113.9")
    assert resolve("10.0.0.5", forged, PROXIES) == "203.0.113.9"
    # Through two proxies of ours: the first address that is not ours is the client.
    assert resolve("10.0.0.5", headers(x_forwarded_for="198.51.100.1, 203.0.113.9, 10.2.0.1"), PROXIES) == (
        "203.0.113.9"
    )


def test_junk_in_the_chain_stops_at_the_last_sure_hop() -> None:
    assert resolve("10.0.0.5", headers(x_forwarded_for="not-an-ip, 10.2.0.1"), PROXIES) == "10.2.0.1"
    assert resolve("10.0.0.5", headers(x_forwarded_for=""), PROXIES) == "10.0.0.5"
    assert resolve("10.0.0.5", headers(), PROXIES) == "10.0.0.5"


def test_forwarded_header_when_that_is_the_one_the_proxy_writes() -> None:
    value = 'for=198.51.100.1, for="[2001:db8::17]:4711";proto=https, for=10.2.0.1:80'
    assert resolve("10.0.0.5", headers(forwarded=value), PROXIES, "forwarded") == "2001:db8::17"
    # Configured for Forwarded, a client's own X-Forwarded-For is not read at all.
    assert resolve("10.0.0.5", headers(x_forwarded_for="198.51.100.1"), PROXIES, "forwarded") == "10.0.0.5"
    assert resolve("2001:db8:cafe::1", headers(forwarded="for=_hidden"), PROXIES, "forwarded") == "2001:db8:cafe::1"


def test_a_typo_in_trusted_proxies_stops_the_start() -> None:
    with pytest.raises(ValueError):
        parse_networks("10.0.0.0/8, 10.0.0.300")
    assert parse_networks("") == ()
