"""Turning outbox entries into notifications, and queueing their push.

A change that owes the citizen a notification writes an outbox entry in the same atomic
update as the change itself. This module then, for each entry the change wrote: inserts the
notification under the entry's key (so a replay creates nothing new) and queues the send job
(an agency event: its webhook deliveries). Each step is safe to repeat, so the API calls it
right after the change and the sweeper calls it again for anything a crash left behind.

The entry stays in the document afterwards, as the record of what the change told whom: taking
it out was a second write of the document for every change, the largest cost of a submission
on the store (decision 0032). The sweeper therefore does not look for entries still there; it
walks the entries by the time they were made, from where its last run stopped, and finishes
those whose notification is missing.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from arq import ArqRedis
from beanie import Document
from bson import ObjectId

from app.audit import service as audit
from app.catalogue import store as catalogue_store
from app.catalogue.renewal import renewal_service
from app.inbox import store
from app.queue import enqueue_notification
from app.webhooks.fanout import fan_out
from models.catalogue import ServiceData
from models.common import utcnow
from models.document_types import is_sensitive, type_names
from models.dossier import Dossier, OutboxEntry
from models.escalation import DEFAULT_CRITICAL, Escalation, notice_name, plan
from models.support import SupportLookup
from models.wallet import WalletDocument
from models.webhook import AGENCY_EVENT
from notifications.templates import category_of


def _dossier_params(
    raw: dict[str, Any], entry: OutboxEntry, service: ServiceData | None
) -> tuple[dict[str, str], dict[str, str]]:
    assert entry.status is not None
    params = {
        "dossier_code": raw["code"],
        "status": entry.status.value,
        "service_name_vi": service.name.vi if service else raw["service_code"],
        "service_name_en": service.name.en if service else raw["service_code"],
        # Kinds other than a status change bring their own (amount, delivery step, new date).
        **entry.params,
    }
    data = {"type": entry.kind, "dossier_code": raw["code"], "status": entry.status.value}
    return params, data


async def _document_params(raw: dict[str, Any], entry: OutboxEntry) -> tuple[dict[str, str], dict[str, str]]:
    # The real name: the inbox (behind login) shows it; a sensitive type's push is neutral
    # as a whole (Notification.sensitive), so the name never reaches the lock screen.
    name_vi, name_en = type_names(raw["type"])
    params = {"document_type_name_vi": name_vi, "document_type_name_en": name_en}
    data = {"type": entry.kind, "document_id": str(raw["_id"])}
    if entry.kind == "document_expiring" and raw.get("valid_until"):
        until = date.fromisoformat(raw["valid_until"])
        params |= {"valid_until_vi": f"{until:%d/%m/%Y}", "valid_until_en": until.isoformat()}
        # A renewal service would name a sensitive type: the app offers it once opened instead.
        service = None if is_sensitive(raw["type"]) else await renewal_service(raw["type"])
        if service is not None:
            # The phone opens the renewal form straight from the push.
            params |= {"renewal": "online", "service_name_vi": service.name.vi, "service_name_en": service.name.en}
            data["service_code"] = service.code
    return params, data


def _support_lookup_params(raw: dict[str, Any], entry: OutboxEntry) -> tuple[dict[str, str], dict[str, str]]:
    params = {"staff": raw["staff_username"], "reason": raw["reason"]}
    office = (raw.get("office") or "").strip()
    if office:
        params |= {"office": office, "place": "office"}
    return params, {"type": entry.kind, "lookup_id": str(raw["_id"])}


def _is_sensitive(model: type[Document], raw: dict[str, Any], service: ServiceData | None) -> bool:
    """About health or a criminal record: the push shows neutral text, the inbox the detail."""
    if model is Dossier:
        return (
            service is not None
            and bool(service.result_document_type)
            and is_sensitive(service.result_document_type or "")
        )
    if model is WalletDocument:
        return is_sensitive(raw["type"])
    return False


def _escalation(model: type[Document], entry: OutboxEntry, service: ServiceData | None) -> Escalation | None:
    """The escalation plan of a critical notice (its procedure's rule; a document's follows the
    defaults), counted from when the change was made."""
    if model is Dossier:
        rules = service.critical_notices if service is not None else DEFAULT_CRITICAL
    elif model is WalletDocument:
        rules = DEFAULT_CRITICAL
    else:
        return None
    rule = rules.get(notice_name(entry.kind, entry.status.value if entry.status else None))
    return plan(rule, entry.created_at) if rule is not None else None


async def _upsert_notification(
    citizen_id: ObjectId,
    entry: OutboxEntry,
    params: dict[str, str],
    data: dict[str, str],
    *,
    sensitive: bool,
    key: str | None = None,
    escalation: Escalation | None = None,
) -> tuple[ObjectId, bool]:
    """The notification of this entry (made now, or by an earlier run), and whether it is new."""
    key = key or entry.key
    now = utcnow()
    return await store.upsert_notification(
        key,
        {
            "citizen_id": citizen_id,
            "key": key,
            "kind": entry.kind,
            "category": category_of(entry.kind),
            "sensitive": sensitive,
            "params": params,
            "data": data,
            "created_at": entry.created_at,
            "read_at": None,
            "state": "pending",
            "deliveries": [],
            "attempts": 0,
            "updated_at": now,
            "next_attempt_at": now,
            "escalation": escalation.model_dump() if escalation else None,
        },
    )


async def _guardians_of(raw: dict[str, Any]) -> list[ObjectId]:
    """The parents who manage the document's citizen (a child under 14, who has no phone of
    their own). A dossier made for a citizen without guardians needs no read: guardians are
    never added to an existing citizen (models/dossier.py: had_guardians)."""
    if raw.get("had_guardians") is False:
        return []
    return await store.guardian_ids(raw["citizen_id"])


async def _copy_to_guardians(
    guardians: list[ObjectId],
    raw: dict[str, Any],
    entry: OutboxEntry,
    params: dict[str, str],
    data: dict[str, str],
    *,
    sensitive: bool,
    pool: ArqRedis,
    escalation: Escalation | None = None,
) -> list[ObjectId]:
    """A child's notification also goes to each parent's own inbox and phones, marked with the
    child's id (the text then says it is about their child); the child's access log records
    each copy, as it records the parent's reads."""
    child_id = raw["citizen_id"]
    copies: list[ObjectId] = []
    for guardian_id in guardians:
        copy_id, new = await _upsert_notification(
            guardian_id,
            entry,
            params,
            {**data, "child_id": str(child_id)},
            sensitive=sensitive,
            key=f"{entry.key}:guardian:{guardian_id}",
            # A child has no phone: the parent's copy goes by SMS; the letter is the child's own.
            escalation=escalation.model_copy(update={"letter_due_at": None}) if escalation else None,
        )
        if new:
            await audit.record(child_id, "guardian", str(guardian_id), "notification.copy", entry.key)
        await enqueue_notification(pool, str(copy_id))
        copies.append(copy_id)
    return copies


async def flush(
    model: type[Document],
    raw: dict[str, Any],
    pool: ArqRedis,
    service: ServiceData | None = None,
    guardians: list[ObjectId] | None = None,
    *,
    keys: Collection[str],
    again: bool = False,
) -> list[ObjectId]:
    """Materialise and queue the outbox entries `keys` of one dossier, wallet document or
    support lookup (the ones the change just wrote: the document keeps its earlier ones). A
    caller that holds the dossier's procedure already passes it as `service`, and one that has
    just read the owner's guardians passes them as `guardians`. `again`: the sweeper's second
    look, where an agency event's deliveries may exist already.

    Nothing is written to the document: an entry a crash left half-done is finished by the
    sweeper, which every step allows."""
    created: list[ObjectId] = []
    entries = [e for e in raw.get("outbox") or [] if e["key"] in keys]
    if model is Dossier and entries and (service is None or service.code != raw["service_code"]):
        service = await catalogue_store.service(raw["service_code"])
    notices = [e for e in entries if e.get("kind") != AGENCY_EVENT]
    if not notices or model not in (Dossier, WalletDocument):
        guardians = []
    elif guardians is None:
        guardians = await _guardians_of(raw)
    for entry_raw in entries:
        entry = OutboxEntry.model_validate(entry_raw)
        created += await _flush_entry(model, raw, entry, pool, service, guardians, again=again)
    return created


async def _flush_entry(
    model: type[Document],
    raw: dict[str, Any],
    entry: OutboxEntry,
    pool: ArqRedis,
    service: ServiceData | None,
    guardians: list[ObjectId],
    *,
    again: bool,
) -> list[ObjectId]:
    """One entry's guardians' copies and notification, or its webhook deliveries, queued."""
    created: list[ObjectId] = []
    if entry.kind == AGENCY_EVENT:
        # For the dossier's agency, not the citizen: webhook deliveries (decision 0028).
        await fan_out(raw, entry, pool, again=again)
        return created
    if model is Dossier:
        params, data = _dossier_params(raw, entry, service)
    elif model is SupportLookup:
        params, data = _support_lookup_params(raw, entry)
    else:
        params, data = await _document_params(raw, entry)
    sensitive = _is_sensitive(model, raw, service)
    escalation = _escalation(model, entry, service)
    if guardians:
        # Before the citizen's own: the sweeper takes that one's existence for "all made".
        created += await _copy_to_guardians(
            guardians, raw, entry, params, data, sensitive=sensitive, pool=pool, escalation=escalation
        )
    notification_id, _ = await _upsert_notification(
        raw["citizen_id"], entry, params, data, sensitive=sensitive, escalation=escalation
    )
    await enqueue_notification(pool, str(notification_id))
    created.append(notification_id)
    return created
