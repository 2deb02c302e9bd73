"""The daily retention cron (models/retention.py: what no TTL index can enforce)."""

from __future__ import annotations

from typing import Any

import structlog

from app import retention
from models.common import utcnow

log = structlog.get_logger(__name__)


async def retention_job(ctx: dict[str, Any]) -> dict[str, int]:
    purged = await retention.enforce(utcnow())
    if any(purged.values()):
        log.info("retention.purged", **purged)
    return purged
