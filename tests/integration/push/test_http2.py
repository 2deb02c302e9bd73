"""firebase-admin's async send goes over HTTP/2, as to FCM itself, and the direct transport over
HTTP/1.1; the emulator serves HTTP/2 (prior knowledge) and HTTP/1.1 on the same port."""

from __future__ import annotations

import uuid

import httpx
import pytest

from notifications.fcm import TRANSPORTS, FcmSender
from notifications.push import Push
from tests.integration.push.helpers import attempts


@pytest.mark.parametrize(
    ("transport", "h2c", "version"),
    [("firebase-admin", True, "2"), ("firebase-admin", False, "1.1"), ("direct", True, "1.1")],
)
async def test_the_sender_speaks_http2_to_an_http_endpoint(
    stack_env: dict[str, str], emulator: httpx.AsyncClient, transport: str, h2c: bool, version: str
) -> None:
    tokens = [f"h2-{uuid.uuid4().hex}" for _ in range(3)]
    pushes = [Push(token=t, title="t", body="b", data={"notification_id": "n"}, collapse_id="n") for t in tokens]
    name = f"h2-{uuid.uuid4().hex}"
    async with FcmSender(
        stack_env["FCM_PROJECT_ID"], None, stack_env["FCM_ENDPOINT"], app_name=name, h2c=h2c, transport=transport
    ) as sender:
        outcomes = await sender.send(pushes)
    assert [o.kind for o in outcomes] == ["sent"] * 3
    for token in tokens:
        [attempt] = await attempts(emulator, token)
        assert attempt["http_version"] == version
        assert attempt["headers"]["authorization"].startswith("Bearer ")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_errors_come_back_with_their_retry_after(
    stack_env: dict[str, str], emulator: httpx.AsyncClient, transport: str
) -> None:
    token = f"h2-{uuid.uuid4().hex}"
    await emulator.put(f"/emulator/tokens/{token}", json={"error": "QUOTA_EXCEEDED", "retry_after": 7})
    push = Push(token=token, title="t", body="b", data={"notification_id": "n"}, collapse_id="n")
    name = f"h2-{uuid.uuid4().hex}"
    async with FcmSender(
        stack_env["FCM_PROJECT_ID"], None, stack_env["FCM_ENDPOINT"], app_name=name, h2c=True, transport=transport
    ) as sender:
        [outcome] = await sender.send([push])
    assert (outcome.kind, outcome.error_code, outcome.retry_after_seconds) == ("retryable", "QUOTA_EXCEEDED", 7.0)
