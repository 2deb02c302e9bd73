"""Sealing the audit trail into its hash chain, a few seconds behind the writes."""

from __future__ import annotations

from typing import Any

from app.audit.service import seal


async def seal_audit_job(ctx: dict[str, Any]) -> int:
    total = 0
    # Drain what has piled up, in bounded batches so one run never holds the worker long.
    while (sealed := await seal(batch=1000)) and total < 20_000:
        total += sealed
    return total
