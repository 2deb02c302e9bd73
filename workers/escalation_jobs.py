"""The escalation cron: unread critical notices go by SMS, then by letter (app/escalation)."""

from __future__ import annotations

from typing import Any

from app.config import get_settings
from app.escalation import service
from models.common import utcnow
from notifications.sms import SmsSender


async def open_sms_sender(ctx: dict[str, Any]) -> None:
    settings = get_settings()
    ctx["sms_sender"] = (
        SmsSender(settings.sms_provider_url, settings.sms_api_key, settings.sms_timeout_seconds)
        if settings.sms_provider_url
        else None
    )


async def close_sms_sender(ctx: dict[str, Any]) -> None:
    sender = ctx.pop("sms_sender", None)
    if sender is not None:
        await sender.aclose()


async def escalation_job(ctx: dict[str, Any]) -> dict[str, int]:
    return dict(await service.run(utcnow(), ctx.get("sms_sender"), get_settings()))
