"""The citizen's expected completion date, and the warning when it moves past the deadline.

The estimate comes from the recent processing times of the same procedure at the same
agency (one small document the rollup keeps, `RecentProcessing`). It is conditioned on the
time already spent: a dossier 6 working days in is compared with past dossiers that took 6
or more. The days the dossier waited for the citizen (and is waiting now) move it later, as
they move the legal deadline. Too few past dossiers: the legal deadline, and it says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import structlog
from arq import ArqRedis

from app.dossiers import store
from app.dossiers.deadlines import effective_due
from app.inbox.outbox import flush
from app.statistics.facts import elapsed_working_days, histogram_size, quantile
from app.statistics.schemas import ExpectedOut
from models.common import utcnow
from models.dossier import Dossier, OutboxEntry
from models.dossier_status import FINAL
from models.working_days import add_working_days, local, working_days_between

log = structlog.get_logger(__name__)

# Fewer past dossiers than this (at or beyond the time already spent) is not history enough.
MIN_SAMPLE = 5
NOTICE_KIND = "dossier_expected_late"


def waited_working_days(dossier: Dossier, now: datetime) -> int:
    """Working days the dossier has waited for the citizen, including a wait still going on."""
    clock = dossier.clock
    ongoing = working_days_between(clock.paused_at, now) if clock.state == "paused" and clock.paused_at else 0
    return clock.paused_working_days + ongoing


def estimate(dossier: Dossier, histogram: Mapping[str, int] | None, now: datetime) -> ExpectedOut | None:
    """p50 and p90 expected dates of an open dossier; None once it is settled."""
    if dossier.status in FINAL or dossier.clock.state == "stopped":
        return None
    legal = effective_due(dossier, now)
    start = dossier.clock.received_at or dossier.submitted_at
    waited = waited_working_days(dossier, now)
    spent = max(0, elapsed_working_days(start, now) - waited)
    histogram = histogram or {}
    sample = histogram_size(histogram, at_least=spent)
    p50, p90 = quantile(histogram, 0.5, at_least=spent), quantile(histogram, 0.9, at_least=spent)
    if sample < MIN_SAMPLE or p50 is None or p90 is None:
        return ExpectedOut(p50=legal, p90=legal, sample_size=sample, basis="legal_due_date")
    return ExpectedOut(
        p50=add_working_days(start, p50 + waited),
        p90=add_working_days(start, p90 + waited),
        sample_size=sample,
        basis="history",
    )


async def recent_histogram(agency_code: str, service_code: str) -> dict[str, int] | None:
    return await store.recent_histogram(agency_code, service_code)


async def expected_for(dossier: Dossier, now: datetime | None = None) -> ExpectedOut | None:
    if dossier.status in FINAL or dossier.clock.state == "stopped":
        return None
    return estimate(dossier, await recent_histogram(dossier.agency_code, dossier.service_code), now or utcnow())


# --- the warning --------------------------------------------------------------------------


async def _warn(dossier: Dossier, expected: ExpectedOut, due: datetime, pool: ArqRedis) -> bool:
    key = f"dossier:{dossier.code}:expected-late"
    notice = OutboxEntry(
        key=key,
        kind=NOTICE_KIND,
        status=dossier.status,
        params={"expected_date": f"{local(expected.p90):%d/%m/%Y}", "due_date": f"{local(due):%d/%m/%Y}"},
    )
    # The notification is made from the outbox entry under its key: a repeat (a crash before
    # the marker below) finds the same notification and sends nothing new.
    written = await store.write(dossier, {"$push": {"outbox": notice.model_dump()}}, {"outbox.key": {"$ne": key}})
    if written is None:
        return False
    raw = await store.raw(dossier.id)
    if raw is not None:
        await flush(Dossier, raw, pool, keys=[key])
    await store.note_expected_late(dossier.code, utcnow())
    return True


async def warn_expected_late(pool: ArqRedis, *, now: datetime | None = None, batch: int = 500) -> int:
    """Tell each citizen, once, when their running dossier's p90 expected date has moved past
    its deadline while the deadline is still ahead. Safe to run twice or concurrently."""
    now = now or utcnow()
    histograms: dict[tuple[str, str], dict[str, int] | None] = {}
    warned = 0
    # Running dossiers not yet past their date (the overdue sweeper's index); the apology
    # takes over once the date is missed.
    cursor = store.running_not_late(now)
    chunk: list[dict[str, Any]] = []

    async def handle(raws: list[dict[str, Any]]) -> int:
        done = 0
        told = await store.told_expected_late([r["code"] for r in raws])
        for raw in raws:
            if raw["code"] in told:
                continue
            dossier = Dossier.model_validate(raw)
            key = (dossier.agency_code, dossier.service_code)
            if key not in histograms:
                histograms[key] = await recent_histogram(*key)
            expected = estimate(dossier, histograms[key], now)
            due = effective_due(dossier, now)
            if expected is not None and expected.basis == "history" and expected.p90 > due > now:
                done += await _warn(dossier, expected, due, pool)
        return done

    async for raw in cursor:
        chunk.append(raw)
        if len(chunk) >= batch:
            warned += await handle(chunk)
            chunk = []
    if chunk:
        warned += await handle(chunk)
    if warned:
        log.info("expected_late_warnings", count=warned)
    return warned


async def expected_late_job(ctx: dict[str, Any]) -> int:
    """The arq cron entry (workers/settings.py)."""
    return await warn_expected_late(ctx["redis"])
