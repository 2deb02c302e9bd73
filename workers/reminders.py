"""The wallet's hourly cron: expiry reminders, and renewals a crash left half-done.

Reminders go out in Vietnam's daytime only (a push about an expiring licence at 3 a.m. helps
nobody); running every hour of that window means a worker that was down at 8:00 still sends
today's reminders when it is back, and the atomic record of each reminder means none is sent
twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from app.wallet.lifecycle import finish_pending_renewals
from app.wallet.reminders import send_expiry_reminders
from models.wallet import VIETNAM

log = structlog.get_logger(__name__)
# Hours of the day, Vietnam time, in which reminders are sent.
REMINDER_HOURS = range(8, 20)


async def wallet_upkeep_job(ctx: dict[str, Any]) -> dict[str, int]:
    now = datetime.now(VIETNAM)
    counts = {"renewals_finished": await finish_pending_renewals()}
    if now.hour in REMINDER_HOURS:
        counts |= await send_expiry_reminders(ctx["redis"], now.date())
    if any(counts.values()):
        log.info("wallet_upkeep", **counts)
    return counts
