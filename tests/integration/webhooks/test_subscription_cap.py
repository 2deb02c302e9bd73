"""An agency's subscriptions are capped (WEBHOOK_SUBSCRIPTIONS_PER_AGENCY), however many
creations arrive at once."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from app.config import get_settings
from tests.integration.webhooks.helpers import BASE
from tests.integration.webhooks.receiver import Receiver
from tests.support import remember_secrets


async def test_creations_all_at_once_stop_at_the_cap_and_a_deletion_frees_a_place(
    api: httpx.AsyncClient, make_agency: Any, receiver: Receiver
) -> None:
    cap = get_settings().webhook_subscriptions_per_agency
    agency = await make_agency(["TEMPORARY_ABSENCE"])
    body = {"url": receiver.url("/capped", "ok"), "event_types": ["dossier.submitted"]}
    answers = await asyncio.gather(*(api.post(BASE, json=body, headers=agency.headers) for _ in range(cap + 6)))
    created = [a.json() for a in answers if a.status_code == 201]
    remember_secrets(*(c["secret"] for c in created))
    refused = [a for a in answers if a.status_code != 201]
    assert len(created) == cap, [a.text for a in refused]
    assert {a.status_code for a in refused} == {409}
    assert {a.json()["code"] for a in refused} == {"too-many-subscriptions"}
    listed = (await api.get(BASE, headers=agency.headers)).json()
    assert len(listed["items"] if isinstance(listed, dict) else listed) == cap

    assert (await api.delete(f"{BASE}/{created[0]['id']}", headers=agency.headers)).status_code == 204
    again = await asyncio.gather(*(api.post(BASE, json=body, headers=agency.headers) for _ in range(3)))
    assert sorted(a.status_code for a in again) == [201, 409, 409]
    remember_secrets(*(a.json()["secret"] for a in again if a.status_code == 201))
