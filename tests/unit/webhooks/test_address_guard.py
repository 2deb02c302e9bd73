"""The SSRF guard of webhook endpoints: what it refuses, and that it pins the checked address."""

from __future__ import annotations

import msgspec
import pytest

from app.config import Settings
from app.webhooks import address_guard

STRICT = Settings(webhook_allow_private_addresses=False)
PRODUCTION = msgspec.structs.replace(STRICT, environment="production")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8080/hook",
        "http://10.0.0.8/hook",
        "http://172.16.5.4/hook",
        "http://192.168.1.1/hook",
        "http://100.64.0.1/hook",  # carrier-grade NAT
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://0.0.0.0/hook",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[fd00:ec2::254]/hook",  # AWS metadata over IPv6
        "http://[::ffff:127.0.0.1]/hook",
        "http://[64:ff9b::a00:1]/hook",  # NAT64 of 10.0.0.1
        "http://2130706433/hook",  # 127.0.0.1 as one number
    ],
)
async def test_internal_addresses_are_refused(url: str) -> None:
    with pytest.raises(address_guard.AddressRefused) as refused:
        await address_guard.check(url, STRICT)
    assert refused.value.reason in ("address-not-public", "host-not-found")


@pytest.mark.parametrize("url", ["http://93.184.215.14/hook", "ftp://93.184.215.14/", "https://u:p@93.184.215.14/"])
async def test_production_takes_https_only(url: str) -> None:
    with pytest.raises(address_guard.AddressRefused):
        await address_guard.check(url, PRODUCTION)


async def test_the_connection_goes_to_the_address_checked_under_the_original_name() -> None:
    target = await address_guard.check("https://93.184.215.14:8443/hooks/in?x=1", PRODUCTION)
    assert target.url == "https://93.184.215.14:8443/hooks/in?x=1"
    assert target.server_name == "93.184.215.14" and target.host_header == "93.184.215.14:8443"


async def test_the_operator_may_allow_private_addresses() -> None:
    allowed = msgspec.structs.replace(STRICT, webhook_allow_private_addresses=True)
    target = await address_guard.check("http://127.0.0.1:9000/hook", allowed)
    assert target.url == "http://127.0.0.1:9000/hook"
