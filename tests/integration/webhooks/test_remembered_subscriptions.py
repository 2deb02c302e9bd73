"""Each API process remembers which webhooks an agency has (app/webhooks/subscriptions_cache.py,
decision 31). A subscription made, paused or enabled through one process is heard of by
another at once, over Redis, not when its memory expires (60 s)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx

from devtools.devstack import ManagedProcess
from tests.integration.dossiers.flows import submitted
from tests.integration.webhooks.helpers import BASE, deliveries, subscribe
from tests.integration.webhooks.receiver import Receiver

FREE = "TEMPORARY_ABSENCE"
# Pub/sub between processes takes milliseconds; a process waiting for its memory to expire
# would take 60 s.
ALLOWANCE_S = 5.0


async def _delivered_codes(api: httpx.AsyncClient, agency: Any, subscription_id: str) -> set[str]:
    """The dossiers whose events the subscription's delivery log holds."""
    return {json.loads(d["body"])["data"]["dossier_code"] for d in await deliveries(api, agency, subscription_id)}


async def _submissions_until(
    other: httpx.AsyncClient, api: httpx.AsyncClient, citizen: Any, agency: Any, subscription_id: str, heard: bool
) -> list[str]:
    """Submit through the other process until a submission's event is (or is not) among the
    subscription's deliveries as soon as its answer came back; the codes submitted."""
    codes: list[str] = []
    deadline = time.monotonic() + ALLOWANCE_S
    while time.monotonic() < deadline:
        codes.append((await submitted(other, citizen, FREE))["code"])
        if (codes[-1] in await _delivered_codes(api, agency, subscription_id)) is heard:
            return codes
        await asyncio.sleep(0.05)
    raise AssertionError(f"the other process did not see the change within {ALLOWANCE_S} s ({len(codes)} submissions)")


async def test_the_other_process_hears_of_a_new_paused_and_enabled_subscription_at_once(
    api: httpx.AsyncClient, callback_api: ManagedProcess, make_agency: Any, make_citizen: Any, receiver: Receiver
) -> None:
    agency = await make_agency([FREE])
    citizen = await make_citizen(devices=0, eid_level=2)
    async with httpx.AsyncClient(base_url=callback_api.url or "", timeout=10) as other:
        # The other process learns (and remembers) that the agency has no subscription.
        before = (await submitted(other, citizen, FREE))["code"]
        made = await subscribe(api, agency, receiver.url("/remembered"))
        codes = await _submissions_until(other, api, citizen, agency, made["id"], heard=True)
        assert len(codes) <= 2, codes  # the first one, unless it overtook the announcement

        paused = await api.patch(f"{BASE}/{made['id']}", json={"enabled": False}, headers=agency.headers)
        assert paused.status_code == 200, paused.text
        quiet = await _submissions_until(other, api, citizen, agency, made["id"], heard=False)
        assert len(quiet) <= 2, quiet
        enabled = await api.patch(f"{BASE}/{made['id']}", json={"enabled": True}, headers=agency.headers)
        assert enabled.status_code == 200, enabled.text
        again = await _submissions_until(other, api, citizen, agency, made["id"], heard=True)
        assert len(again) <= 2, again

    logged = await _delivered_codes(api, agency, made["id"])
    assert before not in logged and quiet[-1] not in logged and {codes[-1], again[-1]} <= logged
