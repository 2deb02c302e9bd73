"""Sensitive matters (criminal record, health): neutral text on the lock screen, the detail in
the inbox behind login."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from notifications.templates import NEUTRAL
from tests.integration.push.helpers import received
from tests.support import submit_residence


async def _inbox(api: httpx.AsyncClient, citizen: Any, language: str) -> list[dict[str, Any]]:
    answer = await api.get("/api/v1/me/notifications", headers={**citizen.headers, "Accept-Language": language})
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def test_a_criminal_record_dossier_is_neutral_on_the_phone_and_detailed_in_the_inbox(
    api: httpx.AsyncClient, make_citizen: Callable[..., Awaitable[Any]], emulator: httpx.AsyncClient, worker: Any
) -> None:
    citizen = await make_citizen(devices=2, locale="en")
    code = await submit_residence(api, citizen, "CRIMINAL_RECORD")
    for token in citizen.device_tokens:
        [push] = await received(emulator, token)
        assert (push["title"], push["body"]) == NEUTRAL["en"]
        assert code not in push["title"] + push["body"]
        # The phone still knows which notification to open.
        assert push["data"]["notification_id"]
    [item] = await _inbox(api, citizen, "en")
    assert code in item["title"]
    assert "criminal record" in item["body"].lower()
    [item_vi] = await _inbox(api, citizen, "vi")
    assert "lý lịch tư pháp" in item_vi["body"].lower()


async def test_a_health_record_issued_is_neutral_on_the_phone_and_named_in_the_inbox(
    api: httpx.AsyncClient, make_citizen: Callable[..., Awaitable[Any]], emulator: httpx.AsyncClient, worker: Any
) -> None:
    from app.cli import create_agency

    citizen = await make_citizen(devices=1, locale="vi")
    code = f"HR{secrets.token_hex(3).upper()}"
    creds = await create_agency(code, f"Health test agency {code}", [], ["health_record"])
    token = await api.post(
        "/api/v1/agency/token", json={"client_id": creds["client_id"], "client_secret": creds["client_secret"]}
    )
    issued = await api.post(
        "/api/v1/agency/documents",
        json={
            "event_id": uuid.uuid4().hex,
            "national_id": citizen.national_id,
            "type": "health_record",
            "number": "SK-000123",
            "valid_from": "2026-01-10",
            "fields": {"vaccinations": [{"vaccine": "Viêm gan B", "dose": 1, "date": "2025-12-01"}]},
        },
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )
    assert issued.status_code == 201, issued.text
    [push] = await received(emulator, citizen.device_tokens[0])
    assert (push["title"], push["body"]) == NEUTRAL["vi"]
    [item] = await _inbox(api, citizen, "vi")
    assert "sức khỏe" in item["body"].lower()
