"""The client's address, decided in one place: the peer of the TCP connection, unless that peer
is a proxy named in TRUSTED_PROXIES, whose forwarding header then says who it forwards for.

The ASGI server must not rewrite the address itself: every uvicorn command line of the project
passes `--no-proxy-headers` (uvicorn otherwise believes X-Forwarded-For from 127.0.0.1, so any
local caller could pick its own address). Everything downstream (throttles, rate limits) reads
`scope["client"]`, which this middleware sets.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Literal

from litestar.datastructures import Headers
from litestar.middleware.base import DefineMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from app.config import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
ForwardingHeader = Literal["x-forwarded-for", "forwarded"]


def parse_networks(spec: str) -> tuple[Network, ...]:
    """`TRUSTED_PROXIES`: CIDRs or single addresses separated by commas; a typo stops the start."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def _address(raw: str) -> Address | None:
    value = raw.strip().strip('"')
    if value.startswith("["):  # [2001:db8::1]:4711 (Forwarded, IPv6 with a port)
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:  # 192.0.2.1:4711
        value = value.partition(":")[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None  # "unknown", "_hidden" or junk


def _hops(headers: Headers, header: ForwardingHeader) -> list[str]:
    """The addresses the chain of proxies recorded, nearest the client first."""
    hops: list[str] = []
    for line in headers.getall(header, []):
        for element in line.split(","):
            if header == "x-forwarded-for":
                hops.append(element)
                continue
            for pair in element.split(";"):
                name, _, value = pair.strip().partition("=")
                if name.lower() == "for":
                    hops.append(value)
    return hops


def resolve(
    peer: str, headers: Headers, proxies: Sequence[Network], header: ForwardingHeader = "x-forwarded-for"
) -> str:
    """Walks back from the peer through trusted proxies only: the first hop that is not one of
    them is the client. What a client writes into the header itself lies beyond that hop and is
    never read."""
    current = _address(peer)
    if current is None or not any(current in net for net in proxies):
        return peer
    for raw in reversed(_hops(headers, header)):
        hop = _address(raw)
        if hop is None:
            break  # a trusted proxy never writes this: the client did; keep the last sure hop
        current = hop
        if not any(hop in net for net in proxies):
            break
    return str(current)


class ClientAddress:
    """ASGI middleware: `scope["client"]` becomes the resolved client address."""

    def __init__(self, app: ASGIApp, proxies: Sequence[Network], header: ForwardingHeader) -> None:
        self.app = app
        self.proxies = tuple(proxies)
        self.header = header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if self.proxies and client and scope["type"] in ("http", "websocket"):
            address = resolve(client[0], Headers.from_scope(scope), self.proxies, self.header)
            if address != client[0]:
                scope["client"] = (address, 0)
        await self.app(scope, receive, send)


def client_address_middleware(settings: Settings) -> list[DefineMiddleware]:
    """For create_app's middleware list: nothing at all when no proxy is trusted (the default)."""
    proxies = parse_networks(settings.trusted_proxies)
    header = settings.trusted_proxy_header.strip().lower()
    if header not in ("x-forwarded-for", "forwarded"):
        raise ValueError(f"TRUSTED_PROXY_HEADER must be x-forwarded-for or forwarded, not {header!r}")
    if not proxies:
        return []
    return [DefineMiddleware(ClientAddress, proxies=proxies, header=header)]
