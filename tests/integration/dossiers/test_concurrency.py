"""Changes that arrive at the same moment: copies of one event change the dossier once;
different events are applied one after the other, each checked against the table."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from typing import Any

import httpx

from models.dossier_status import TRANSITIONS, DossierStatus
from tests.integration.dossiers.flows import PDF, dossier, event_extra, move, submitted, upload

SERVICE = "BIRTH_REGISTRATION"


async def post(api: httpx.AsyncClient, agency: Any, code: str, body: dict[str, Any]) -> httpx.Response:
    return await api.post(f"/api/v1/agency/dossiers/{code}/events", json=body, headers=agency.headers)


async def test_concurrent_copies_of_one_event_make_one_change(
    api: httpx.AsyncClient, shared_citizen: Any, module_agency: Any
) -> None:
    agency = await module_agency([SERVICE])
    code = (await submitted(api, shared_citizen, SERVICE))["code"]
    body = {"event_id": f"evt-{uuid.uuid4().hex}", "status": "received"}
    answers = await asyncio.gather(*(post(api, agency, code, body) for _ in range(6)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    history = (await dossier(api, shared_citizen, code))["history"]
    assert [h["status"] for h in history] == ["submitted", "received"]


async def test_two_different_events_racing_one_wins_the_other_is_told(
    api: httpx.AsyncClient, shared_citizen: Any, module_agency: Any
) -> None:
    agency = await module_agency([SERVICE])
    for _ in range(3):
        code = (await submitted(api, shared_citizen, SERVICE))["code"]
        await move(api, agency, code, SERVICE, "received", "processing")
        approve = {"event_id": f"a-{uuid.uuid4().hex}", "status": "approved"}
        reject = {"event_id": f"r-{uuid.uuid4().hex}", "status": "rejected", **event_extra("rejected", SERVICE)}
        answers = await asyncio.gather(post(api, agency, code, approve), post(api, agency, code, reject))
        assert sorted(a.status_code for a in answers) == [200, 409]
        winner = next(a for a in answers if a.status_code == 200).json()["status"]
        loser = next(a for a in answers if a.status_code == 409).json()
        assert loser["code"] == "status-move-not-allowed"
        seen = await dossier(api, shared_citizen, code)
        assert seen["status"] == winner
        assert [h["status"] for h in seen["history"]] == ["submitted", "received", "processing", winner]


async def test_racing_moves_that_may_both_apply_are_applied_in_a_legal_order(
    api: httpx.AsyncClient, shared_citizen: Any, module_agency: Any
) -> None:
    agency = await module_agency([SERVICE])
    code = (await submitted(api, shared_citizen, SERVICE))["code"]
    moves = ("received", "rejected", "processing")
    bodies = [{"event_id": f"{m}-{uuid.uuid4().hex}", "status": m, **event_extra(m, SERVICE)} for m in moves]
    await asyncio.gather(*(post(api, agency, code, b) for b in bodies))
    statuses = [DossierStatus(h["status"]) for h in (await dossier(api, shared_citizen, code))["history"]]
    assert len(statuses) == len(set(statuses))
    for before, after in itertools.pairwise(statuses):
        assert after in TRANSITIONS["agency"][before]


async def test_answers_to_two_items_at_once_both_count_and_the_dossier_moves_once(
    api: httpx.AsyncClient, shared_citizen: Any, module_agency: Any
) -> None:
    service = "DEATH_REGISTRATION"
    agency = await module_agency([service])
    notice = (await upload(api, shared_citizen, PDF + b"race")).json()["id"]
    code = (await submitted(api, shared_citizen, service, attachments=[{"name": "death_notice", "upload_id": notice}]))[
        "code"
    ]
    await move(api, agency, code, service, "received")
    checklist = [
        {"kind": "other", "reason": "Thiếu thông tin", "action": "Trả lời"},
        {"kind": "field", "target": "place_of_death", "reason": "Sai nơi mất", "action": "Sửa lại"},
    ]
    asked = await post(
        api,
        agency,
        code,
        {"event_id": uuid.uuid4().hex, "status": "supplement_required", "note": "x", "checklist": checklist},
    )
    assert asked.status_code == 200, asked.text
    url = f"/api/v1/me/dossiers/{code}/supplement/answers"
    answers = await asyncio.gather(
        api.post(url, json={"item_id": "1", "text": "Đã bổ sung"}, headers=shared_citizen.headers),
        api.post(url, json={"item_id": "2", "value": "Nhà riêng"}, headers=shared_citizen.headers),
    )
    assert {a.status_code for a in answers} == {200}, [a.text for a in answers]
    seen = await dossier(api, shared_citizen, code)
    assert seen["status"] == "processing"
    assert [h["status"] for h in seen["history"]].count("processing") == 1
    assert all(i["answered_at"] for i in seen["supplement"]["items"])
    assert seen["form"]["place_of_death"] == "Nhà riêng"
