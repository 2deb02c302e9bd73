"""A dossier change answers with the dossier as stored, though the store is not read after the
write (app/dossiers/store.py `applied`): the dossier read, with the update applied in memory."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from app.dossiers import store
from tests.integration.dossiers.flows import submitted

FREE = "BIRTH_REGISTRATION"


async def test_the_written_dossier_is_the_stored_one(
    api: httpx.AsyncClient, shared_citizen: Any, module_agency: Any
) -> None:
    agency = await module_agency([FREE])
    code = (await submitted(api, shared_citizen, FREE))["code"]
    body = {"event_id": f"evt-{uuid.uuid4().hex}", "status": "received"}
    url, headers = f"/api/v1/agency/dossiers/{code}/events", {**agency.headers, "Accept-Language": "en"}
    first = await api.post(url, json=body, headers=headers)
    assert first.status_code == 200, first.text
    # The same event again is answered from a fresh read of the store: the same answer.
    replay = await api.post(url, json=body, headers=headers)
    assert replay.status_code == 200 and replay.json() == first.json()

    # Every operator the writers use, a nested path and a time finer than the store keeps.
    read = await store.by_code(code)
    assert read is not None
    at = datetime(2026, 12, 2, 8, 1, 2, 345678, tzinfo=UTC)
    update: dict[str, Any] = {
        "$set": {"clock.paused_at": at, "rating": None},
        "$push": {"pauses": {"$each": []}, "event_ids": "evt-in-memory"},
        "$inc": {"rev": 0},
    }
    assert store.applied(read, update) is not None  # no read back for these
    written = await store.write(read, update)
    stored = await store.by_code(code)
    assert written is not None and stored is not None
    assert written.model_dump() == stored.model_dump()
    assert written.clock.paused_at == datetime(2026, 12, 2, 8, 1, 2, 345000, tzinfo=UTC)
