"""Operator figures: what the worker processes counted, as an admin endpoint and Prometheus
metrics read at scrape time by the API."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
from beanie import PydanticObjectId

from tests.conftest import METRICS_TOKEN
from tests.integration.push.helpers import received, wait_for
from tests.support import submit_residence

FIGURES = "/api/v1/admin/push/figures"
# Prometheus's credential for /metrics (METRICS_TOKEN, set for the run in stack_env).
SCRAPER = {"Authorization": f"Bearer {METRICS_TOKEN}"}


async def _figures(api: httpx.AsyncClient, admin: Any) -> dict[str, Any]:
    answer = await api.get(FIGURES, headers=admin.headers)
    assert answer.status_code == 200, answer.text
    figures: dict[str, Any] = answer.json()
    return figures


async def test_sent_and_failed_by_reason_are_counted_across_processes(
    api: httpx.AsyncClient,
    make_admin: Callable[[], Awaitable[Any]],
    make_citizen: Callable[..., Awaitable[Any]],
    emulator: httpx.AsyncClient,
    worker: Any,
) -> None:
    from models.notification import Notification

    admin = await make_admin()
    before = await _figures(api, admin)
    fine, refused = await make_citizen(devices=1), await make_citizen(devices=1)
    await emulator.put(f"/emulator/tokens/{refused.device_tokens[0]}", json={"error": "SENDER_ID_MISMATCH"})
    await submit_residence(api, fine)
    await submit_residence(api, refused)
    await received(emulator, fine.device_tokens[0])

    async def failed() -> Any:
        return await Notification.find_one({"citizen_id": PydanticObjectId(refused.id), "state": "failed"})

    await wait_for(failed, "the refused push recorded as failed")

    async def counted() -> dict[str, Any] | None:
        figures = await _figures(api, admin)
        reasons = figures["failed_by_reason"]
        done = reasons.get("SENDER_ID_MISMATCH", 0) > before["failed_by_reason"].get("SENDER_ID_MISMATCH", 0)
        return figures if done and figures["sent"] > before["sent"] else None

    after = await wait_for(counted, "the figures to count the sent and the failed push")
    assert (
        after["failed_by_reason"]["SENDER_ID_MISMATCH"] == before["failed_by_reason"].get("SENDER_ID_MISMATCH", 0) + 1
    )
    assert set(after["queue"]) == {"ready", "deferred"}

    metrics = await api.get("/metrics", headers=SCRAPER)
    assert metrics.status_code == 200
    text = metrics.text
    sent = re.search(r"^cwallet_push_sent_total (\S+)$", text, re.MULTILINE)
    assert sent is not None and float(sent.group(1)) >= after["sent"]
    assert re.search(r'^cwallet_push_failed_total\{reason="SENDER_ID_MISMATCH"\} [1-9]', text, re.MULTILINE)
    for name in (
        "cwallet_push_retried_total",
        "cwallet_push_tokens_dropped_total",
        "cwallet_push_oldest_pending_seconds",
    ):
        assert re.search(rf"^{name} ", text, re.MULTILINE), name
    assert 'cwallet_push_queue_depth{state="ready"}' in text


async def test_the_oldest_pending_notification_shows_how_late_delivery_runs(
    api: httpx.AsyncClient, make_admin: Callable[[], Awaitable[Any]], make_citizen: Callable[..., Awaitable[Any]]
) -> None:
    from models.common import utcnow
    from models.notification import Notification

    admin = await make_admin()
    citizen = await make_citizen(devices=0)
    stuck = Notification(
        citizen_id=PydanticObjectId(citizen.id),
        key=f"test:{uuid.uuid4().hex}",
        kind="dossier_status",
        params={"dossier_code": "HS-LATE", "status": "received"},
        created_at=utcnow() - timedelta(minutes=10),
        # Not due for the sweeper while the test runs: it stands for a stuck queue.
        next_attempt_at=utcnow() + timedelta(hours=1),
    )
    await stuck.insert()
    try:
        figures = await _figures(api, admin)
        assert figures["oldest_pending_seconds"] >= 600
        assert figures["pending_notifications"] >= 1
        scraped = (await api.get("/metrics", headers=SCRAPER)).text
        gauge = re.search(r"^cwallet_push_oldest_pending_seconds (\S+)$", scraped, re.M)
        assert gauge is not None and float(gauge.group(1)) >= 600
    finally:
        await stuck.delete()
