"""API processes remember procedures (app/catalogue/cache.py); loading a new catalogue, from
any process, is seen by every API process at once, not after the memory expires."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from app.catalogue.cache import TTL_SECONDS
from app.catalogue.service import load_catalogue
from devtools.devstack import ManagedProcess
from models.catalogue import CATALOGUE_FILE, Service
from tests.integration.dossiers.flows import submitted

FREE = "BIRTH_REGISTRATION"
NAME, RENAMED = "Đăng ký khai sinh", "Đăng ký khai sinh (tên mới)"
# Pub/sub delivery between processes takes milliseconds; a process that only waited for its
# memory to expire would take TTL_SECONDS (60 s), far past this.
DELIVERY_ALLOWANCE_S = 5.0


async def _name_becomes(client: httpx.AsyncClient, agency: Any, code: str, event: dict[str, str], expected: str) -> str:
    """The procedure's name in the answer to a replayed agency event (the event's procedure is
    the remembered one; a replay changes nothing)."""
    deadline = time.monotonic() + DELIVERY_ALLOWANCE_S
    while True:
        answer = await client.post(f"/api/v1/agency/dossiers/{code}/events", json=event, headers=agency.headers)
        assert answer.status_code == 200, answer.text
        name: str = answer.json()["service_name"]
        if name == expected or time.monotonic() > deadline:
            return name
        await asyncio.sleep(0.02)


async def test_a_catalogue_loaded_elsewhere_is_seen_by_every_api_process(
    api: httpx.AsyncClient, callback_api: ManagedProcess, shared_citizen: Any, module_agency: Any, tmp_path: Path
) -> None:
    assert DELIVERY_ALLOWANCE_S < TTL_SECONDS
    agency = await module_agency([FREE])
    code = (await submitted(api, shared_citizen, FREE))["code"]
    event = {"event_id": f"evt-{uuid.uuid4().hex}", "status": "received"}
    renamed = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    for service in renamed["services"]:
        if service["code"] == FREE:
            service["name"]["vi"] = RENAMED
    path = tmp_path / "services.json"
    path.write_text(json.dumps(renamed, ensure_ascii=False), encoding="utf-8")
    async with httpx.AsyncClient(base_url=callback_api.url or "", timeout=10) as other:
        try:
            # Both API processes have read the procedure and now remember it.
            for client in (api, other):
                assert await _name_becomes(client, agency, code, event, NAME) == NAME
            # Changed behind the loader's back: the remembered procedure is still used (the
            # store read it saves), until a load is announced.
            await Service.get_pymongo_collection().update_one({"code": FREE}, {"$set": {"name.vi": "Chưa báo"}})
            for client in (api, other):
                answer = await client.post(f"/api/v1/agency/dossiers/{code}/events", json=event, headers=agency.headers)
                assert answer.json()["service_name"] == NAME
            await load_catalogue(path)  # this test's process, as `cwallet catalogue load` would
            for client in (api, other):
                assert await _name_becomes(client, agency, code, event, RENAMED) == RENAMED
        finally:
            assert await load_catalogue() >= 12
        for client in (api, other):
            assert await _name_becomes(client, agency, code, event, NAME) == NAME
