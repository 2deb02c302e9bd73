"""Every kind of data has a lifetime: one table (models/retention.py), enforced by TTL indexes
or the retention cron (driven here by the test's own clock), shown in the docs and listed in
the citizen's export."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from bson import ObjectId

from app import retention
from models.citizen import AuthSession
from models.common import utcnow
from models.payment import CallbackNonce, Payment
from models.postal import PostalLetter
from models.presentation import Presentation
from models.retention import DAY, LIFETIMES
from models.sms import SmsMessage
from models.support import ConsentCode
from models.webhook import WebhookDelivery
from tests.integration.dossiers.flows import PDF, submit, submitted, upload

TTL_MODELS: dict[str, Any] = {
    "presentations": Presentation,
    "sessions": AuthSession,
    "consent_codes": ConsentCode,
    "payments": Payment,
    "payment_callback_nonces": CallbackNonce,
    "webhook_logs": WebhookDelivery,
    "sms_logs": SmsMessage,
    "postal_letters": PostalLetter,
}
CONTRACT = Path(__file__).resolve().parents[3] / "docs" / "contract.md"


async def test_unattached_uploads_go_after_a_week_and_attached_ones_stay(
    api: httpx.AsyncClient, make_citizen: Any
) -> None:
    citizen = await make_citizen(devices=0)
    kept = (await upload(api, citizen, PDF + b"kept")).json()["id"]
    dropped = (await upload(api, citizen, PDF + b"dropped")).json()["id"]
    await submitted(api, citizen, "DEATH_REGISTRATION", attachments=[{"name": "death_notice", "upload_id": kept}])
    mine = [ObjectId(citizen.id)]
    assert await retention.enforce(utcnow() + timedelta(days=6), mine) == {"uploads": 0}
    assert await retention.enforce(utcnow() + timedelta(days=8), mine) == {"uploads": 1}
    assert (await api.get(f"/api/v1/me/attachments/{kept}", headers=citizen.headers)).status_code == 200
    assert (await api.get(f"/api/v1/me/attachments/{dropped}", headers=citizen.headers)).status_code == 404


async def test_an_upload_attached_while_the_cron_deletes_it_is_kept_or_refused_never_lost(
    api: httpx.AsyncClient, make_citizen: Any
) -> None:
    """Filings and retention runs fired together over week-old uploads: each filing either
    keeps its file (the dossier's paper can be downloaded) or is told to upload it again."""
    citizen = await make_citizen(devices=0)
    uploads = [(await upload(api, citizen, PDF + f"race {n}".encode())).json()["id"] for n in range(12)]
    mine, week_later = [ObjectId(citizen.id)], utcnow() + timedelta(days=8)

    async def filing(upload_id: str) -> httpx.Response:
        return await submit(
            api, citizen, "DEATH_REGISTRATION", attachments=[{"name": "death_notice", "upload_id": upload_id}]
        )

    answers = await asyncio.gather(
        *(filing(u) for u in uploads), *(retention.enforce(week_later, mine) for _ in range(4))
    )
    filed = 0
    for upload_id, answer in zip(uploads, answers[: len(uploads)], strict=True):
        assert isinstance(answer, httpx.Response)
        if answer.status_code == 201:
            filed += 1
            kept = await api.get(f"/api/v1/me/attachments/{upload_id}", headers=citizen.headers)
            assert kept.status_code == 200, (upload_id, kept.text)
        else:
            assert answer.status_code == 422, answer.text
            assert "Upload the file again" in answer.json()["errors"][0]["message"]
    # Later runs delete only what no dossier took; every filed paper is still there.
    await retention.enforce(week_later + timedelta(days=1), mine)
    dossiers = (await api.get("/api/v1/me/dossiers", headers=citizen.headers)).json()["items"]
    assert len(dossiers) == filed


async def test_each_ttl_lifetime_is_an_index_of_the_store(api: httpx.AsyncClient) -> None:
    ttl_kinds = {rule.kind: rule for rule in LIFETIMES if rule.enforced_by == "ttl-index"}
    assert set(ttl_kinds) == set(TTL_MODELS)
    for kind, model in TTL_MODELS.items():
        indexes = [i async for i in await model.get_pymongo_collection().list_indexes()]
        expiries = {i.get("expireAfterSeconds") for i in indexes if "expireAfterSeconds" in i}
        assert ttl_kinds[kind].days * DAY in expiries, (kind, expiries)


async def test_the_table_is_in_the_docs_and_in_the_citizens_export(api: httpx.AsyncClient, make_citizen: Any) -> None:
    documented = {
        m.group(1): int(m.group(2)) for m in re.finditer(r"^\| `(\w+)` \| (\d+) \|", CONTRACT.read_text(), re.M)
    }
    assert documented == {rule.kind: rule.days for rule in LIFETIMES}
    citizen = await make_citizen(devices=0)
    export = (await api.get("/api/v1/me/export", headers=citizen.headers)).json()
    listed = {row["kind"]: row["kept_days"] for row in export["retention"]}
    assert listed == documented
    required = {"uploads", "presentations", "sessions", "payments", "webhook_logs", "sms_logs", "consent_codes"}
    assert required <= set(listed)
