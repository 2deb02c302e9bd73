"""Preferences per category and quiet hours: what reaches the phone, and when. The inbox always
gets everything at once."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import httpx

from tests.integration.push.helpers import messages, received, wait_for
from tests.support import submit_residence

PREFERENCES = "/api/v1/me/notification-preferences"
VIETNAM_OFFSET = timedelta(hours=7)  # Asia/Ho_Chi_Minh: UTC+7 all year


async def _notification(citizen: Any, kind: str | None = None) -> Any:
    from beanie import PydanticObjectId

    from models.notification import Notification

    query: dict[str, Any] = {"citizen_id": PydanticObjectId(citizen.id)}
    if kind:
        query["kind"] = kind
    return await Notification.find_one(query, sort=[("_id", -1)])


async def test_defaults_then_a_full_replacement(
    api: httpx.AsyncClient, make_citizen: Callable[..., Awaitable[Any]]
) -> None:
    citizen = await make_citizen(devices=0)
    shown = (await api.get(PREFERENCES, headers=citizen.headers)).json()
    assert shown["categories"] == {
        "dossier_updates": True,
        "documents": True,
        "document_expiry": True,
        "announcements": True,
    }
    assert shown["quiet_hours"] is None and shown["timezone"] == "Asia/Ho_Chi_Minh"
    assert "critical" in shown["always_on"]

    body = {"categories": {"announcements": False}, "quiet_hours": {"start": "22:30", "end": "06:00"}}
    put = await api.put(PREFERENCES, json=body, headers=citizen.headers)
    assert put.status_code == 200, put.text
    assert put.json()["categories"]["announcements"] is False
    assert put.json()["quiet_hours"] == {"start": "22:30", "end": "06:00"}
    # A replacement: what is left out is on again, quiet hours gone.
    put = await api.put(PREFERENCES, json={"categories": {"documents": False}}, headers=citizen.headers)
    assert put.json()["categories"] == {
        "dossier_updates": True,
        "documents": False,
        "document_expiry": True,
        "announcements": True,
    }
    assert put.json()["quiet_hours"] is None


async def test_wrong_preferences_are_refused_whole_and_say_why(
    api: httpx.AsyncClient, make_citizen: Callable[..., Awaitable[Any]]
) -> None:
    citizen = await make_citizen(devices=0)
    before = (await api.get(PREFERENCES, headers=citizen.headers)).json()
    wrong = [
        ({"categories": {"weather": False}}, "categories.weather"),
        ({"categories": {"critical": False, "announcements": False}}, "categories.critical"),
        ({"quiet_hours": {"start": "25:00", "end": "06:00"}}, "quiet_hours.start"),
        ({"quiet_hours": {"start": "22:00", "end": "6h"}}, "quiet_hours.end"),
        ({"quiet_hours": {"start": "22:00", "end": "22:00"}}, "quiet_hours.end"),
    ]
    for body, field in wrong:
        for language in ("vi", "en"):
            answer = await api.put(PREFERENCES, json=body, headers={**citizen.headers, "Accept-Language": language})
            assert answer.status_code == 422, answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")
            problem = answer.json()
            assert field in [e["field"] for e in problem["errors"]], problem
            assert problem["detail"]
    malformed = await api.put(PREFERENCES, json={"quiet_hours": "night"}, headers=citizen.headers)
    assert malformed.status_code in (400, 422)
    assert malformed.headers["content-type"].startswith("application/problem+json")
    assert (await api.get(PREFERENCES, headers=citizen.headers)).json() == before


async def test_a_muted_category_reaches_the_inbox_but_not_the_phone(
    api: httpx.AsyncClient, make_citizen: Callable[..., Awaitable[Any]], emulator: httpx.AsyncClient, worker: Any
) -> None:
    citizen = await make_citizen(devices=1)
    [token] = citizen.device_tokens
    put = await api.put(PREFERENCES, json={"categories": {"dossier_updates": False}}, headers=citizen.headers)
    assert put.status_code == 200, put.text
    await submit_residence(api, citizen)
    inbox = (await api.get("/api/v1/me/notifications", headers=citizen.headers)).json()["items"]
    assert len(inbox) == 1

    async def finished() -> Any:
        found = await _notification(citizen)
        return found if found is not None and found.state != "pending" else None

    notification = await wait_for(finished, "the worker deciding on the muted push")
    assert [d.state for d in notification.deliveries] == ["muted"]
    assert await messages(emulator, token) == []

    # Turned back on, the same phone gets the next one.
    await api.put(PREFERENCES, json={}, headers=citizen.headers)
    await submit_residence(api, citizen)
    assert len(await received(emulator, token)) == 1


def _quiet_window_around(now: datetime) -> tuple[str, str, datetime]:
    """Quiet hours from an hour ago to an hour ahead (Vietnam time), and when they end (UTC)."""
    local = now + VIETNAM_OFFSET
    start, end = local - timedelta(hours=1), local + timedelta(hours=1)
    ends_at = end.replace(second=0, microsecond=0) - VIETNAM_OFFSET
    return f"{start:%H:%M}", f"{end:%H:%M}", ends_at


async def test_quiet_hours_hold_the_push_to_their_end_but_not_a_critical_one(
    api: httpx.AsyncClient,
    make_citizen: Callable[..., Awaitable[Any]],
    make_agency: Callable[..., Awaitable[Any]],
    emulator: httpx.AsyncClient,
    worker: Any,
) -> None:
    from models.common import utcnow

    citizen = await make_citizen(devices=1)
    [token] = citizen.device_tokens
    start, end, ends_at = _quiet_window_around(utcnow())
    body = {"quiet_hours": {"start": start, "end": end}}
    assert (await api.put(PREFERENCES, json=body, headers=citizen.headers)).status_code == 200

    await submit_residence(api, citizen)
    # The inbox has it at once...
    assert len((await api.get("/api/v1/me/notifications", headers=citizen.headers)).json()["items"]) == 1

    async def held() -> Any:
        found = await _notification(citizen, "dossier_status")
        return found if found is not None and found.held_until is not None else None

    # ...the phone only when the quiet hours end.
    notification = await wait_for(held, "the worker holding the push for quiet hours")
    assert notification.held_until == ends_at
    assert notification.state == "pending" and notification.next_attempt_at == ends_at

    # A revoked document is critical: it goes out at once, quiet hours or not.
    agency = await make_agency(services=["DL_RENEWAL"])
    issued = await api.post(
        "/api/v1/agency/documents",
        json={
            "event_id": uuid.uuid4().hex,
            "national_id": citizen.national_id,
            "type": "driver_licence",
            "number": "790123456789",
            "valid_from": "2026-01-10",
            "valid_until": "2036-01-10",
            "fields": {"classes": ["B2"]},
        },
        headers=agency.headers,
    )
    assert issued.status_code == 201, issued.text
    revoked = await api.post(
        f"/api/v1/agency/documents/{issued.json()['id']}/events",
        json={"event_id": uuid.uuid4().hex, "status": "revoked", "reason": "Cấp nhầm hạng"},
        headers=agency.headers,
    )
    assert revoked.status_code == 200, revoked.text
    [push] = await received(emulator, token)
    assert push["data"]["type"] == "document_revoked"

    async def issue_held() -> Any:
        found = await _notification(citizen, "document_issued")
        return found if found is not None and found.held_until is not None else None

    # Issuing is not critical: that push waits like the first one.
    assert (await wait_for(issue_held, "the issue push held for quiet hours")).category == "documents"
    assert [m["data"]["type"] for m in await messages(emulator, token)] == ["document_revoked"]
