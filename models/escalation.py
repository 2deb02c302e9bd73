"""Notices that must not be missed: which are critical, and how an unread one escalates.

A procedure marks notices critical (`Service.critical_notices`, defaults below, a catalogue
entry may override them): sent back for supplement, fee due, result ready for collection,
document revoked or suspended. A critical notice is made with its escalation plan (in the
same upsert that makes the notification, app/inbox/outbox.py); unread after `sms_after_hours`
it goes by SMS, and a legal one (with `letter_after_hours`) unread after that by letter through
the post. Reading it stops what is left (app/escalation/service.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

StepKind = Literal["sms", "letter"]
StepOutcome = Literal["sent", "failed", "rate_limited", "no_phone", "posted"]


class CriticalRule(BaseModel):
    model_config = {"extra": "forbid"}

    sms_after_hours: float = Field(gt=0)
    # Legal notices only (the citizen's rights or a deadline depend on it): then by letter.
    letter_after_hours: float | None = Field(default=None, gt=0)


# By notice name: a dossier status notice is named by its status, other kinds by their kind.
DEFAULT_CRITICAL: dict[str, CriticalRule] = {
    "supplement_required": CriticalRule(sms_after_hours=48, letter_after_hours=120),
    "payment_requested": CriticalRule(sms_after_hours=48),
    "result_ready": CriticalRule(sms_after_hours=72),
    "document_revoked": CriticalRule(sms_after_hours=24, letter_after_hours=72),
    "document_suspended": CriticalRule(sms_after_hours=24, letter_after_hours=72),
}


def default_critical() -> dict[str, CriticalRule]:
    return dict(DEFAULT_CRITICAL)


def notice_name(kind: str, status: str | None) -> str:
    return status if kind == "dossier_status" and status else kind


class EscalationStep(BaseModel):
    step: StepKind
    at: datetime
    outcome: StepOutcome
    # The SMS log entry or the letter made by this step.
    ref: str | None = None
    error: str | None = None


class Escalation(BaseModel):
    """Kept inside the notification it escalates: one document, one conditional update per step."""

    sms_due_at: datetime
    letter_due_at: datetime | None = None
    # When the cron next looks at it; None once nothing is left (or the notice was read).
    next_at: datetime | None
    sms_attempts: int = 0
    steps: list[EscalationStep] = Field(default_factory=list)


def plan(rule: CriticalRule, created_at: datetime) -> Escalation:
    sms = created_at + timedelta(hours=rule.sms_after_hours)
    letter = created_at + timedelta(hours=rule.letter_after_hours) if rule.letter_after_hours else None
    return Escalation(sms_due_at=sms, letter_due_at=max(letter, sms) if letter else None, next_at=sms)
