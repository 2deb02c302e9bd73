"""Deliveries to an agency's https endpoint: sent over TLS to the address that was checked,
the certificate checked against the endpoint's name (not the address). An endpoint whose
certificate chains to an authority the operator names in WEBHOOK_CA_FILE (a national root
that the public bundle lacks) gets the delivery; one whose certificate nobody trusts gets
nothing and the delivery waits for its retry; a file that cannot be read stops the worker
at its start."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from app.config import get_settings
from app.webhooks import address_guard, delivery
from tests.integration.tls import self_signed, server_context
from tests.integration.webhooks.helpers import deliveries, pending_delivery, subscribe, verified
from tests.integration.webhooks.receiver import Receiver


@pytest.fixture
async def tls_receiver(tmp_path: Path) -> AsyncIterator[tuple[Receiver, Path]]:
    """A receiver behind TLS with a certificate for `localhost` of the test's own, listening
    where the address check will send a delivery for `localhost`; and that certificate."""
    cert_file, key_file = self_signed(tmp_path)
    [address, *_] = await address_guard.resolve("localhost", 443)
    server = Receiver(tls=server_context(cert_file, key_file), host=str(address))
    await server.start()
    try:
        yield server, cert_file
    finally:
        await server.stop()


async def _attempt_once(
    api: httpx.AsyncClient, make_agency: Any, receiver: Receiver, path: str, ca_file: str
) -> tuple[delivery.Outcome, dict[str, Any], dict[str, Any]]:
    agency = await make_agency(["TEMPORARY_ABSENCE"])
    sub = await subscribe(api, agency, receiver.url(path))
    delivery_id, start = await pending_delivery(sub["id"], agency.code, retry_until_hours=24)
    settings = msgspec.structs.replace(get_settings(), webhook_ca_file=ca_file)
    async with delivery.make_client(settings) as client:
        outcome = await delivery.attempt(delivery_id, client, settings, now=start)
    [log] = await deliveries(api, agency, sub["id"])
    return outcome, log, sub


async def test_an_endpoint_under_an_authority_the_operator_trusts_gets_the_delivery(
    api: httpx.AsyncClient, make_agency: Any, tls_receiver: tuple[Receiver, Path]
) -> None:
    receiver, cert_file = tls_receiver
    outcome, log, sub = await _attempt_once(api, make_agency, receiver, "/trusted", str(cert_file))
    assert outcome.kind == "delivered" and log["state"] == "delivered"
    [received] = receiver.at("/trusted")
    # Sent to the address checked, named as the agency wrote it: the certificate matched the name.
    assert received.headers["host"] == f"localhost:{receiver.port}"
    assert verified(sub["secret"], received)["type"] == "webhook.ping"


async def test_an_endpoint_whose_certificate_is_not_trusted_gets_nothing(
    api: httpx.AsyncClient, make_agency: Any, tls_receiver: tuple[Receiver, Path]
) -> None:
    receiver, _ = tls_receiver
    outcome, log, _ = await _attempt_once(api, make_agency, receiver, "/untrusted", "")
    assert outcome.kind == "retry" and log["state"] == "pending"
    assert [(a["status_code"], a["error"]) for a in log["attempts"]] == [(None, "ConnectError")]
    assert receiver.at("/untrusted") == []


async def test_an_https_endpoint_down_mid_flow_gets_the_delivery_once_it_is_back(
    api: httpx.AsyncClient, make_agency: Any, tls_receiver: tuple[Receiver, Path]
) -> None:
    """The agency's endpoint goes away between the subscription and the delivery, then comes back
    on the same address with the same certificate: the retry delivers it, once, with nobody acting."""
    receiver, cert_file = tls_receiver
    agency = await make_agency(["TEMPORARY_ABSENCE"])
    sub = await subscribe(api, agency, receiver.url("/outage"))
    delivery_id, start = await pending_delivery(sub["id"], agency.code, retry_until_hours=24)
    settings = msgspec.structs.replace(get_settings(), webhook_ca_file=str(cert_file))
    async with delivery.make_client(settings) as client:
        await receiver.stop()
        down = await delivery.attempt(delivery_id, client, settings, now=start)
        await receiver.start()
        back = await delivery.attempt(delivery_id, client, settings, now=start + timedelta(minutes=1))
    assert down.kind == "retry" and back.kind == "delivered"
    [log] = await deliveries(api, agency, sub["id"])
    assert [(a["status_code"], a["error"]) for a in log["attempts"]] == [(None, "ConnectError"), (200, None)]
    assert len(receiver.at("/outage")) == 1


@pytest.mark.parametrize("content", [None, b"not a certificate\n"])
def test_a_ca_file_that_cannot_be_read_stops_the_worker_at_its_start(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "national-root.pem"
    if content is not None:
        path.write_bytes(content)
    settings = msgspec.structs.replace(get_settings(), webhook_ca_file=str(path))
    with pytest.raises(ValueError, match="WEBHOOK_CA_FILE"):
        delivery.make_client(settings)
