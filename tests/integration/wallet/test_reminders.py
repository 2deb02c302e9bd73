"""Expiry reminders 30 and 7 days ahead: once per document and threshold, linking the renewal
service when the catalogue has one, neutral for sensitive types."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.integration.wallet.helpers import issued, pushes_for
from tests.support import sent_once_each, settled_notifications

pytestmark = pytest.mark.usefixtures("worker")


async def test_reminders_at_30_and_7_days_once_each(
    api: httpx.AsyncClient, emulator: httpx.AsyncClient, make_citizen: Any, make_issuer: Any, queue_pool: Any
) -> None:
    from app.wallet.reminders import send_expiry_reminders
    from models.wallet import today_in_vietnam

    citizen = await make_citizen(devices=1, locale="en")
    agency = await make_issuer(["driver_licence", "health_record"])
    today = today_in_vietnam()

    def until(days: int) -> str:
        return (today + timedelta(days=days)).isoformat()

    in_20 = await issued(api, agency, citizen, number="790000000020", valid_until=until(20))
    in_5 = await issued(api, agency, citizen, number="790000000005", valid_until=until(5))
    in_40 = await issued(api, agency, citizen, number="790000000040", valid_until=until(40))
    health = await issued(
        api,
        agency,
        citizen,
        document={
            "type": "health_record",
            "number": "SK-9",
            "valid_from": "2024-01-01",
            "valid_until": until(6),
            "fields": {"vaccinations": [{"vaccine": "Cúm mùa", "dose": 1, "date": "2024-10-01"}]},
        },
    )
    token = citizen.device_tokens[0]
    await pushes_for(emulator, token, 4)  # the four "document issued" pushes

    # Two workers, or one run twice: still one reminder each.
    await asyncio.gather(send_expiry_reminders(queue_pool, today), send_expiry_reminders(queue_pool, today))
    await send_expiry_reminders(queue_pool, today)
    # Fifteen days on: the 20-day one is inside 7 days, the 40-day one inside 30, the 5-day one has ended.
    await send_expiry_reminders(queue_pool, today + timedelta(days=15))
    await send_expiry_reminders(queue_pool, today + timedelta(days=15))

    settled = await settled_notifications(citizen.id, 9)
    assert len(settled) == 9 and sent_once_each(settled)
    messages = (await emulator.get("/emulator/messages", params={"token": token})).json()["messages"]
    reminders = [m for m in messages if m["data"]["type"] == "document_expiring"]
    by_document: dict[str, list[dict[str, Any]]] = {}
    for message in reminders:
        by_document.setdefault(message["data"]["document_id"], []).append(message)
    assert {k: len(v) for k, v in by_document.items()} == {
        in_20["id"]: 2,
        in_40["id"]: 1,
        in_5["id"]: 1,
        health["id"]: 1,
    }

    licence = by_document[in_5["id"]][0]
    assert licence["title"] == "Document expiring soon"
    assert licence["body"] == (
        f"Driver's licence expires on {until(5)}. You can apply for Driver's licence renewal online in the app."
    )
    assert licence["data"]["service_code"] == "DL_RENEWAL"

    # A health record's reminder does not say what it is about, and links no service.
    neutral = by_document[health["id"]][0]
    assert "health" not in (neutral["title"] + neutral["body"]).lower()
    assert "service_code" not in neutral["data"]
