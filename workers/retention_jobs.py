"""The daily retention cron (models/retention.py: what no TTL index can enforce)."""

from __future__ import annotations

from typing import Any

import structlog

from app import retention
from app.announcements import service as announcements
from models.common import utcnow

log = structlog.get_logger(__name__)


async def retention_job(ctx: dict[str, Any]) -> dict[str, int]:
    now = utcnow()
    purged = await retention.enforce(now)
    purged["announcement_device_lists"] = await announcements.purge_device_lists(now)
    if any(purged.values()):
        log.info("retention.purged", **purged)
    return purged
