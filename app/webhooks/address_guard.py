"""Where a webhook may be sent: never into our own network (SSRF).

An endpoint URL is checked when a subscription is saved and again before every attempt: the
host is resolved, EVERY address it resolves to must be a public one (not private, loopback,
link-local — the cloud metadata address 169.254.169.254 among them —, shared, multicast,
reserved or unspecified, nor an IPv6 form of one of those), and the connection is then made
to the address that was checked (`Target.url`, with the original name as `Host` and as the
TLS server name), so a DNS answer that changes between the check and the connection (DNS
rebinding) cannot redirect it. In production only https is accepted. An operator may allow
private addresses (WEBHOOK_ALLOW_PRIVATE_ADDRESSES, for dev and tests); the scheme rule stays.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from app.config import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
RESOLVE_SECONDS = 2.0


class AddressRefused(Exception):
    """The URL may not be called; `reason` is a stable code for the caller and the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Target:
    # The URL to connect to: the checked address in place of the host name.
    url: str
    # The original host[:port], sent as `Host`, and the name TLS checks the certificate against.
    host_header: str
    server_name: str


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:10.0.0.1, 2002:0a00:0001:: (6to4) and 64:ff9b::10.0.0.1 (NAT64) reach the
        # IPv4 address they carry.
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is None and address in NAT64:
            mapped = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if mapped is not None:
            return is_public(mapped)
    return address.is_global and not address.is_multicast


def check_syntax(url: str, settings: Settings) -> tuple[str, str, int]:
    """(scheme, host, port) of an acceptable URL; raises AddressRefused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise AddressRefused("malformed-url") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise AddressRefused("scheme-not-allowed")
    if scheme == "http" and settings.environment == "production":
        raise AddressRefused("https-required")
    if not parts.hostname or parts.username is not None or parts.password is not None:
        raise AddressRefused("malformed-url")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


async def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        # A resolver that does not answer must not hold a request (or a delivery slot) long.
        async with asyncio.timeout(RESOLVE_SECONDS):
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, TimeoutError):
        raise AddressRefused("host-not-found") from None
    # The scope id of a link-local IPv6 answer (fe80::1%eth0) is dropped: it is refused anyway.
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


async def check(url: str, settings: Settings) -> Target:
    """The target to connect to for `url`, every address of its host checked."""
    scheme, host, port = check_syntax(url, settings)
    addresses = await resolve(host, port)
    if not addresses:
        raise AddressRefused("host-not-found")
    if not settings.webhook_allow_private_addresses and not all(is_public(a) for a in addresses):
        raise AddressRefused("address-not-public")
    pinned = addresses[0]
    parts = urlsplit(url)
    netloc = f"[{pinned}]:{port}" if pinned.version == 6 else f"{pinned}:{port}"
    host_header = parts.netloc.rsplit("@", 1)[-1]
    return Target(urlunsplit((scheme, netloc, parts.path or "/", parts.query, "")), host_header, host)
