"""Every procedure's own status table, move by move, through the one transition function.

The walk covers every table of the catalogue, every actor, every status a dossier of that
procedure can be in and every status there is: an allowed move is applied (status, history,
event id and notice in the stored dossier), any other is a 409 that names the moves the
procedure allows and changes nothing. The land-use procedure, which has steps of its own,
is then walked over HTTP as an agency and a citizen meet it.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from beanie import PydanticObjectId

from app.dossiers import transitions
from app.dossiers.transitions import Move
from app.errors import AppError
from models.catalogue import ServiceData, read_catalogue
from models.common import utcnow
from models.dossier import Delivery, Dossier, HistoryEntry
from models.dossier_status import ACTORS, DEFAULT_TABLE, DossierStatus
from tests.integration.dossiers.flows import confirm_payment, dossier, event, submitted, upload

LAND_USE = "LAND_USE_CHANGE"
NOTE = "Thiếu bản vẽ sơ đồ thửa đất; hãy chụp và gửi bổ sung."


def _tables() -> dict[str, ServiceData]:
    """One procedure per distinct status table of the catalogue (the default's among them)."""
    by_table: dict[str, ServiceData] = {}
    for data in read_catalogue():
        key = repr(sorted((a, sorted((s, sorted(t)) for s, t in m.items())) for a, m in data.status_table.items()))
        by_table.setdefault(key, data)
    return by_table


TABLES = _tables()


def test_the_catalogue_has_the_contract_table_and_one_of_its_own() -> None:
    tables = [service.table() for service in TABLES.values()]
    assert DEFAULT_TABLE in tables and len(tables) >= 2
    land_use = next(s for s in TABLES.values() if s.code == LAND_USE)
    assert {DossierStatus.APPRAISAL, DossierStatus.SITE_INSPECTION, DossierStatus.FEE_ASSESSMENT} <= set(
        land_use.statuses()
    )


async def _stored_at(service: ServiceData, status: DossierStatus) -> Dossier:
    now = utcnow()
    placed = Dossier(
        code=f"HS-TABLE-{uuid.uuid4().hex[:10].upper()}",
        citizen_id=PydanticObjectId(),
        service_code=service.code,
        agency_code=service.agency_code,
        status=status,
        delivery=Delivery(method="postal", address="1 Tràng Tiền, Hoàn Kiếm, Hà Nội"),
        due_at=now,
        history=[HistoryEntry(status=status, at=now, actor="test")],
    )
    await placed.insert()
    return placed


@pytest.mark.usefixtures("api")
@pytest.mark.parametrize("table_key", list(TABLES), ids=[s.code for s in TABLES.values()])
async def test_every_move_of_every_table(table_key: str) -> None:
    service = TABLES[table_key]
    table = service.table()
    applied = refused = 0
    for actor in ACTORS:
        for current in service.statuses():
            allowed = sorted(s.value for s in table.get(actor, {}).get(current, frozenset()))
            # A refused move changes nothing, so one dossier serves every refusal from `current`.
            untouched = await _stored_at(service, current)
            for target in DossierStatus:
                move = Move(actor, target, f"{actor}:walk", NOTE, event_key=f"walk-{uuid.uuid4().hex}")
                if target.value not in allowed:
                    with pytest.raises(AppError) as refusal:
                        await transitions.apply(untouched, service, move)
                    problem = refusal.value
                    assert problem.status == 409 and problem.code == "status-move-not-allowed"
                    assert problem.extra["allowed_next"] == allowed, (actor, current, target)
                    refused += 1
                    continue
                placed = await _stored_at(service, current)
                assert await transitions.apply(placed, service, move) is not None, (actor, current, target)
                stored = await Dossier.get(placed.id)
                assert stored is not None and stored.status is target
                assert stored.history[-1].status is target and stored.history[-1].event_id == move.event_key
                assert move.event_key in stored.event_ids
                assert [o.status for o in stored.outbox] == ([target] if service.notifies(target) else [])
                # The same move again (a retried event) matches nothing: no second effect.
                assert await transitions.apply(placed, service, move) is None
                again = await Dossier.get(placed.id)
                assert again is not None and len(again.history) == 2 and len(again.outbox) == len(stored.outbox)
                applied += 1
            after = await Dossier.get(untouched.id)
            assert after is not None and after.status is current and after.rev == 0 and len(after.history) == 1
    moves = sum(len(t) for m in table.values() for t in m.values())
    assert applied == moves and refused == len(ACTORS) * len(service.statuses()) * len(DossierStatus) - moves


# --- the land-use procedure over HTTP ----------------------------------------------------------


async def _land_use_dossier(api: httpx.AsyncClient, citizen: Any) -> dict[str, Any]:
    scan = await upload(api, citizen)
    assert scan.status_code == 201, scan.text
    return await submitted(
        api,
        citizen,
        LAND_USE,
        attachments=[{"name": "land_use_certificate", "upload_id": scan.json()["id"]}],
        delivery={"method": "postal", "address": "7 ngõ 15 Hoàng Hoa Thám, Ba Đình, Hà Nội"},
    )


async def test_land_use_follows_its_own_steps(api: httpx.AsyncClient, shared_citizen: Any, module_agency: Any) -> None:
    citizen, agency = shared_citizen, await module_agency([LAND_USE])
    # The catalogue shows the procedure's own steps and moves to apps and agencies.
    listed = (await api.get(f"/api/v1/services/{LAND_USE}", headers={"Accept-Language": "en"})).json()
    assert listed["status_table"]["agency"]["received"] == ["appraisal", "rejected", "supplement_required"]
    steps = [s["status"] for s in listed["steps"]]
    assert "site_inspection" in steps and "processing" not in steps
    code = (await _land_use_dossier(api, citizen))["code"]
    assert (await event(api, agency, code, "received")).status_code == 200
    await confirm_payment(api, citizen, code)

    # The contract's `processing` is not a step of this procedure: the 409 names its own.
    refused = await event(api, agency, code, "processing")
    assert refused.status_code == 409
    assert refused.json()["allowed_next"] == ["appraisal", "rejected", "supplement_required"]
    assert "appraisal, rejected, supplement_required" in refused.json()["detail"]
    in_vietnamese = await api.post(
        f"/api/v1/agency/dossiers/{code}/events",
        json={"event_id": f"evt-{uuid.uuid4().hex}", "status": "processing"},
        headers={**agency.headers, "Accept-Language": "vi"},
    )
    assert in_vietnamese.status_code == 409 and "Các trạng thái tiếp theo được phép" in in_vietnamese.json()["detail"]

    for step in ("appraisal", "site_inspection", "fee_assessment", "approved", "result_ready", "completed"):
        answer = await event(api, agency, code, step)
        assert answer.status_code == 200, (step, answer.text)
    seen = await dossier(api, citizen, code)
    assert [h["status"] for h in seen["history"]] == [
        "submitted", "received", "appraisal", "site_inspection", "fee_assessment", "approved", "result_ready",
        "completed",
    ]  # fmt: skip
    # The citizen reads the procedure's text of each step.
    assert "inspect the site" in seen["history"][3]["text"]


async def test_land_use_supplement_answer_returns_to_appraisal(
    api: httpx.AsyncClient, shared_citizen: Any, module_agency: Any
) -> None:
    citizen, agency = shared_citizen, await module_agency([LAND_USE])
    code = (await _land_use_dossier(api, citizen))["code"]
    assert (await event(api, agency, code, "received")).status_code == 200
    await confirm_payment(api, citizen, code)
    assert (await event(api, agency, code, "appraisal")).status_code == 200
    assert (await event(api, agency, code, "supplement_required", note=NOTE)).status_code == 200
    answer = await api.post(
        f"/api/v1/me/dossiers/{code}/supplement/answers",
        json={"item_id": "1", "text": "Đã gửi sơ đồ thửa đất."},
        headers=citizen.headers,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "appraisal"
    assert answer.json()["deadline"]["clock"] == "running"


async def test_one_land_use_event_sent_many_times_at_once_moves_once(
    api: httpx.AsyncClient, shared_citizen: Any, module_agency: Any
) -> None:
    citizen, agency = shared_citizen, await module_agency([LAND_USE])
    code = (await _land_use_dossier(api, citizen))["code"]
    assert (await event(api, agency, code, "received")).status_code == 200
    await confirm_payment(api, citizen, code)
    body = {"event_id": f"evt-{uuid.uuid4().hex}", "status": "appraisal"}
    answers = await asyncio.gather(
        *(api.post(f"/api/v1/agency/dossiers/{code}/events", json=body, headers=agency.headers) for _ in range(8))
    )
    assert {a.status_code for a in answers} == {200}
    assert {(a.json()["status"], len(a.json()["history"])) for a in answers} == {("appraisal", 3)}
    history = [h["status"] for h in (await dossier(api, citizen, code))["history"]]
    assert history == ["submitted", "received", "appraisal"]
