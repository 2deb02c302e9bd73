"""Wallet test helpers: issuing, status events, presentations, verification and pushes."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from typing import Any

import httpx

# How long to wait for the worker before calling it a failure: a deadline, not a speed check.
DEADLINE_SECONDS = 30.0

LICENCE: dict[str, Any] = {
    "type": "driver_licence",
    "number": "790123456789",
    "valid_from": "2026-01-10",
    "valid_until": "2036-01-10",
    "fields": {"classes": ["A1", "B2"], "place_of_issue": "Sở GTVT Hà Nội"},
}


async def issue(
    api: httpx.AsyncClient, agency: Any, citizen: Any, document: dict[str, Any] | None = None, **extra: Any
) -> httpx.Response:
    body = {"event_id": uuid.uuid4().hex, "national_id": citizen.national_id, **(document or LICENCE), **extra}
    return await api.post("/api/v1/agency/documents", json=body, headers=agency.headers)


async def issued(api: httpx.AsyncClient, agency: Any, citizen: Any, **extra: Any) -> dict[str, Any]:
    answer = await issue(api, agency, citizen, **extra)
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def present(
    api: httpx.AsyncClient, citizen: Any, document_id: str, disclose: list[str], **extra: Any
) -> dict[str, Any]:
    answer = await api.post(
        f"/api/v1/me/documents/{document_id}/presentations",
        json={"disclose": disclose, **extra},
        headers=citizen.headers,
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def verify(api: httpx.AsyncClient, token: str, language: str = "en", **extra: Any) -> httpx.Response:
    return await api.post("/api/v1/verify", json={"token": token, **extra}, headers={"Accept-Language": language})


async def status_event(
    api: httpx.AsyncClient,
    agency: Any,
    document_id: str,
    status: str,
    reason: str | None = None,
    *,
    event_id: str | None = None,
    language: str = "vi",
) -> httpx.Response:
    body = {"event_id": event_id or uuid.uuid4().hex, "status": status, "reason": reason}
    return await api.post(
        f"/api/v1/agency/documents/{document_id}/events",
        json=body,
        headers={**agency.headers, "Accept-Language": language},
    )


def token_payload(token: str) -> dict[str, Any]:
    """What anyone who scans the QR code can read, signature or not."""
    part = token.split(".")[1]
    payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return payload


async def pushes_for(emulator: httpx.AsyncClient, token: str, at_least: int) -> list[dict[str, Any]]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_SECONDS
    while True:
        answer = await emulator.get("/emulator/messages", params={"token": token})
        messages: list[dict[str, Any]] = answer.json()["messages"]
        if len(messages) >= at_least or loop.time() > deadline:
            return messages
        await asyncio.sleep(0.1)
