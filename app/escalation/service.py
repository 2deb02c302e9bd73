"""Escalating unread critical notices: SMS, then (legal notices) a letter through the post.

The cron (`run`, every minute in the worker's outbound lane) takes unread notifications whose
escalation step is due (`escalation.next_at`, kept inside the notification: models/escalation.py).
Each step is claimed first by a conditional update that moves `next_at` on by a lease, so two
runners never take the same step; its outcome is then recorded in the notification
(`escalation.steps`: the citizen's timeline and the agency's read receipts show them).

- SMS: to the citizen's phone, one GSM-7 part without sensitive detail (notifications/sms.py),
  at most SMS_PER_CITIZEN_DAY a day per citizen (beyond: recorded as `rate_limited`, not
  sent). A provider failure is logged in the SMS log and retried SMS_MAX_ATTEMPTS times,
  after SMS_RETRY_MINUTES doubling; then recorded as `failed`. Either way the letter follows.
- Letter: one `PostalLetter` per notification (unique), listed to the postal operator.

A notice read meanwhile is never taken (the query wants `read_at: null`); its plan is closed.
`now` is a parameter: the tests drive the clock.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import structlog
from bson import ObjectId

from app.config import Settings
from app.escalation import store
from models.escalation import Escalation, EscalationStep, notice_name
from models.postal import PostalLetter
from models.sms import SmsAttempt
from notifications.sms import SmsResult, SmsSender, sms_text

log = structlog.get_logger(__name__)

# A claimed step not recorded within this (the runner died) is taken again.
LEASE = timedelta(minutes=10)


async def run(
    now: datetime,
    sender: SmsSender | None,
    settings: Settings,
    *,
    citizen_ids: list[ObjectId] | None = None,
    batch: int = 200,
    budget_seconds: float = 40.0,
) -> Counter[str]:
    """Take due steps (at most `batch`, for at most `budget_seconds`, inside the job's timeout;
    the next minute's run takes the rest); `citizen_ids` narrows the run to some citizens."""
    scope: dict[str, Any] = {"citizen_id": {"$in": citizen_ids}} if citizen_ids is not None else {}
    # Read notices leave the plan: nothing more is owed for them.
    await store.close_read(scope, now)
    counts: Counter[str] = Counter()
    stop = time.monotonic() + budget_seconds
    async for raw in store.due(scope, now, batch):
        counts[await _step(raw, now, sender, settings)] += 1
        if time.monotonic() > stop:
            break
    return counts


async def _step(raw: dict[str, Any], now: datetime, sender: SmsSender | None, settings: Settings) -> str:
    plan = Escalation.model_validate(raw["escalation"])
    if not await store.claim(raw["_id"], plan.next_at, now + LEASE):
        return "taken"
    if not any(s.step == "sms" for s in plan.steps):
        return await _sms(raw, plan, now, sender, settings)
    if plan.letter_due_at is not None and not any(s.step == "letter" for s in plan.steps):
        return await _letter(raw, plan, now)
    await store.record(raw["_id"], None, None)
    return "done"


async def _sms(
    raw: dict[str, Any], plan: Escalation, now: datetime, sender: SmsSender | None, settings: Settings
) -> str:
    after = plan.letter_due_at  # what comes once the SMS step is over, if anything
    phone, language = await store.sms_recipient(raw["citizen_id"])
    if not phone:
        await store.record(raw["_id"], EscalationStep(step="sms", at=now, outcome="no_phone"), after)
        return "no_phone"
    sent_today = await store.sms_sent_since(raw["citizen_id"], now - timedelta(days=1))
    if sent_today >= settings.sms_per_citizen_day:
        await store.record(raw["_id"], EscalationStep(step="sms", at=now, outcome="rate_limited"), after)
        return "rate_limited"
    data = raw.get("data") or {}
    text = sms_text(notice_name(raw["kind"], data.get("status")), data.get("dossier_code"), language)
    result = (
        await sender.send(phone, text, reference=str(raw["_id"]))
        if sender is not None
        else SmsResult(False, error="no-provider")
    )
    result_ok, retryable, error, provider_id = result.sent, result.retryable, result.error, result.provider_id
    attempts = plan.sms_attempts + 1
    await store.log_sms(
        raw["_id"],
        {
            "citizen_id": raw["citizen_id"],
            "notification_id": raw["_id"],
            "phone_tail": phone[-3:],
            "text": text,
            "created_at": now,
        },
        "sent" if result_ok else "failed",
        provider_id,
        SmsAttempt(at=now, ok=result_ok, error=error).model_dump(),
    )
    log.info("escalation.sms", notification_id=str(raw["_id"]), ok=result_ok, error=error, attempt=attempts)
    if result_ok:
        step = EscalationStep(step="sms", at=now, outcome="sent", ref=str(raw["_id"]))
        await store.record(raw["_id"], step, after, attempts)
        return "sms_sent"
    if retryable and attempts < settings.sms_max_attempts:
        retry = now + timedelta(minutes=settings.sms_retry_minutes * 2 ** (attempts - 1))
        await store.record(raw["_id"], None, retry, attempts)
        return "sms_retry"
    await store.record(raw["_id"], EscalationStep(step="sms", at=now, outcome="failed", error=error), after, attempts)
    return "sms_failed"


async def _letter(raw: dict[str, Any], plan: Escalation, now: datetime) -> str:
    assert plan.letter_due_at is not None
    if now < plan.letter_due_at:
        await store.record(raw["_id"], None, plan.letter_due_at)
        return "waiting"
    data = raw.get("data") or {}
    recipient_name = await store.citizen_name(raw["citizen_id"])
    address = None
    if data.get("dossier_code"):
        address = await store.delivery_address(data["dossier_code"])
    letter_id = await store.post_letter(
        PostalLetter(
            notification_id=raw["_id"],
            citizen_id=raw["citizen_id"],
            recipient_name=recipient_name,
            address=address,
            notice=notice_name(raw["kind"], data.get("status")),
            dossier_code=data.get("dossier_code"),
            created_at=now,
        )
    )
    ref = str(letter_id) if letter_id is not None else None
    await store.record(raw["_id"], EscalationStep(step="letter", at=now, outcome="posted", ref=ref), None)
    log.info("escalation.letter", notification_id=str(raw["_id"]))
    return "letter_posted"
