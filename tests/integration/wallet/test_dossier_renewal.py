"""A renewal dossier's result supersedes the document it renews: one valid licence in the
wallet afterwards, both versions behind /versions, and no expiry reminder for the old one."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.integration.wallet.helpers import issued
from tests.support import FORMS

pytestmark = pytest.mark.usefixtures("worker")


def _renewed(number: str) -> dict[str, Any]:
    return {
        "type": "driver_licence",
        "number": number,
        "valid_from": "2026-11-22",
        "valid_until": "2036-11-22",
        "fields": {"classes": ["B2"]},
    }


async def _renewal_dossier(api: httpx.AsyncClient, citizen: Any, agency: Any, number: str) -> str:
    answer = await api.post(
        "/api/v1/me/dossiers",
        json={
            "service_code": "DL_RENEWAL",
            "form": {**FORMS["DL_RENEWAL"], "current_licence_number": number},
            "delivery": {"method": "online"},
        },
        headers={**citizen.headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert answer.status_code == 201, answer.text
    code: str = answer.json()["code"]
    for status in ("received", "processing", "approved"):
        moved = await api.post(
            f"/api/v1/agency/dossiers/{code}/events",
            json={"event_id": uuid.uuid4().hex, "status": status},
            headers=agency.headers,
        )
        assert moved.status_code == 200, moved.text
    return code


async def _wallet(api: httpx.AsyncClient, citizen: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await api.get("/api/v1/me/documents", headers=citizen.headers)).json()["items"]
    return items


async def test_the_result_supersedes_the_licence_it_renews_and_its_reminders_stop(
    api: httpx.AsyncClient, make_citizen: Any, make_issuer: Any, make_agency: Any, queue_pool: Any
) -> None:
    from app.wallet.reminders import send_expiry_reminders
    from models.wallet import WalletDocument, today_in_vietnam

    today = today_in_vietnam()
    expiring = (today + timedelta(days=10)).isoformat()
    renewing, waiting = await make_citizen(devices=0), await make_citizen(devices=0)
    issuer = await make_issuer(["driver_licence"])
    old = await issued(api, issuer, renewing, number="790111222333", valid_until=expiring)
    # Another citizen's licence ends the same day and is not renewed: the control.
    kept = await issued(api, issuer, waiting, number="790111222333", valid_until=expiring)
    agency = await make_agency(["DL_RENEWAL"])
    code = await _renewal_dossier(api, renewing, agency, "790111222333")

    # The agency's system retries its result_ready event: five copies at once.
    answers = await asyncio.gather(
        *(
            api.post(
                f"/api/v1/agency/dossiers/{code}/events",
                json={
                    "event_id": f"{code}-ready",
                    "status": "result_ready",
                    "result": {"document": _renewed("790111222333")},
                },
                headers=agency.headers,
            )
            for _ in range(5)
        )
    )
    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
    new_id = {a.json()["result_document_id"] for a in answers}
    assert len(new_id) == 1

    wallet = await _wallet(api, renewing)
    assert [(d["id"], d["type"], d["status"], d["valid_until"]) for d in wallet] == [
        (*new_id, "driver_licence", "valid", "2036-11-22")
    ]
    versions = (await api.get(f"/api/v1/me/documents/{wallet[0]['id']}/versions", headers=renewing.headers)).json()[
        "items"
    ]
    assert [(v["version"], v["status"]) for v in versions] == [(2, "valid"), (1, "superseded")]
    assert versions[1]["id"] == old["id"]
    assert versions[1]["superseded_by"] == wallet[0]["id"] and versions[0]["supersedes"] == old["id"]

    await send_expiry_reminders(queue_pool, today)
    old_doc = await WalletDocument.get(old["id"])
    kept_doc = await WalletDocument.get(kept["id"])
    assert old_doc is not None and kept_doc is not None
    assert old_doc.reminders_sent == [] and not [o for o in old_doc.outbox if o.kind == "document_expiring"]
    assert kept_doc.reminders_sent == [30]


async def test_a_result_naming_no_licence_in_the_wallet_is_a_new_document(
    api: httpx.AsyncClient, make_citizen: Any, make_issuer: Any, make_agency: Any
) -> None:
    citizen = await make_citizen(devices=0)
    issuer = await make_issuer(["driver_licence"])
    other = await issued(api, issuer, citizen, number="790999888777")
    agency = await make_agency(["DL_RENEWAL"])
    # The form names a paper licence the wallet does not hold.
    code = await _renewal_dossier(api, citizen, agency, "790123123123")
    ready = await api.post(
        f"/api/v1/agency/dossiers/{code}/events",
        json={"event_id": f"{code}-ready", "status": "result_ready", "result": {"document": _renewed("790123123123")}},
        headers=agency.headers,
    )
    assert ready.status_code == 200, ready.text
    statuses = sorted((d["number"], d["status"], d["version"]) for d in await _wallet(api, citizen))
    assert statuses == [("790123123123", "valid", 1), ("790999888777", "valid", 1)]
    assert other["id"] in {d["id"] for d in await _wallet(api, citizen)}


# Eight at once left two valid licences in 8 runs of 10 when the chain was read in two steps
# (app/wallet/renewal_link.py).
RENEWALS_AT_ONCE = 8


async def test_eight_renewals_of_one_licence_at_once_leave_one_valid_version(
    api: httpx.AsyncClient, make_citizen: Any, make_issuer: Any, make_agency: Any
) -> None:
    """Each result chains onto the one before it, whatever order they land in: a first issue
    decided while another renewal finished between two reads once left two valid licences
    (app/wallet/renewal_link.py)."""
    citizen = await make_citizen(devices=0)
    issuer = await make_issuer(["driver_licence"])
    await issued(api, issuer, citizen, number="790555444333")
    agency = await make_agency(["DL_RENEWAL"])
    codes = [await _renewal_dossier(api, citizen, agency, "790555444333") for _ in range(RENEWALS_AT_ONCE)]

    async def result_ready(code: str) -> httpx.Response:
        body = {"event_id": f"{code}-ready", "status": "result_ready", "result": {"document": _renewed("790555444333")}}
        for _ in range(5):
            answer = await api.post(f"/api/v1/agency/dossiers/{code}/events", json=body, headers=agency.headers)
            # As the answer says: the same event again, once the other renewal has landed.
            if answer.status_code != 409 or answer.json()["code"] != "renewed-document-changed":
                break
        return answer

    answers = await asyncio.gather(*(result_ready(code) for code in codes))
    assert [a.status_code for a in answers] == [200] * RENEWALS_AT_ONCE, [a.text for a in answers]
    wallet = await _wallet(api, citizen)
    assert [(d["status"], d["version"]) for d in wallet] == [("valid", RENEWALS_AT_ONCE + 1)]
    versions = (await api.get(f"/api/v1/me/documents/{wallet[0]['id']}/versions", headers=citizen.headers)).json()
    assert [v["status"] for v in versions["items"]] == ["valid"] + ["superseded"] * RENEWALS_AT_ONCE
