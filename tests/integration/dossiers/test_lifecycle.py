"""The status table, move by move: every allowed move works, forbidden ones are 409 with the
allowed next statuses, and the citizen may withdraw only before the agency receives."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from models.dossier_status import TRANSITIONS, DossierStatus
from tests.integration.dossiers.flows import dossier, event, event_extra, move, pushes_for, submitted
from tests.support import sent_once_each, settled_notifications

# A free procedure with an online result document: every move of the table applies to it.
SERVICE = "BIRTH_REGISTRATION"
# How to bring a new dossier to each status, with agency moves only.
PATH_TO: dict[DossierStatus, tuple[str, ...]] = {
    DossierStatus.SUBMITTED: (),
    DossierStatus.RECEIVED: ("received",),
    DossierStatus.PROCESSING: ("received", "processing"),
    DossierStatus.SUPPLEMENT_REQUIRED: ("received", "supplement_required"),
    DossierStatus.APPROVED: ("received", "processing", "approved"),
    DossierStatus.RESULT_READY: ("received", "processing", "approved", "result_ready"),
    DossierStatus.REJECTED: ("rejected",),
    DossierStatus.COMPLETED: ("received", "processing", "approved", "result_ready", "completed"),
}
AGENCY_MOVES = sorted((a.value, b.value) for a, nexts in TRANSITIONS["agency"].items() for b in nexts)
FORBIDDEN_SAMPLE = [
    ("submitted", "processing"),
    ("submitted", "approved"),
    ("received", "approved"),
    ("processing", "completed"),
    ("supplement_required", "approved"),
    ("approved", "rejected"),
    ("result_ready", "rejected"),
    ("rejected", "received"),
    ("completed", "processing"),
    ("withdrawn", "received"),
]


@pytest.fixture
async def agency(module_agency: Any) -> Any:
    return await module_agency([SERVICE])


@pytest.fixture
def citizen(shared_citizen: Any) -> Any:
    return shared_citizen


async def at_status(api: httpx.AsyncClient, citizen: Any, agency: Any, status: DossierStatus) -> str:
    code = str((await submitted(api, citizen, SERVICE))["code"])
    if status is DossierStatus.WITHDRAWN:
        withdrawn = await api.post(f"/api/v1/me/dossiers/{code}/withdraw", json={}, headers=citizen.headers)
        assert withdrawn.status_code == 200, withdrawn.text
    else:
        await move(api, agency, code, SERVICE, *PATH_TO[status])
    return code


@pytest.mark.parametrize(("current", "target"), AGENCY_MOVES)
async def test_every_allowed_agency_move(
    api: httpx.AsyncClient, citizen: Any, agency: Any, current: str, target: str
) -> None:
    code = await at_status(api, citizen, agency, DossierStatus(current))
    answer = await event(api, agency, code, target, **event_extra(target, SERVICE))
    assert answer.status_code == 200, answer.text
    body = await dossier(api, citizen, code)
    assert body["status"] == target
    assert body["history"][-1]["status"] == target
    # The citizen reads what the step means, from the procedure.
    assert body["step"] and body["history"][-1]["text"] == body["step"]


@pytest.mark.parametrize(("current", "target"), FORBIDDEN_SAMPLE)
async def test_forbidden_moves_are_409_and_change_nothing(
    api: httpx.AsyncClient, citizen: Any, agency: Any, current: str, target: str
) -> None:
    code = await at_status(api, citizen, agency, DossierStatus(current))
    before = await dossier(api, citizen, code)
    answer = await event(api, agency, code, target, **event_extra(target, SERVICE))
    assert answer.status_code == 409, answer.text
    problem = answer.json()
    allowed = sorted(s.value for s in TRANSITIONS["agency"].get(DossierStatus(current), frozenset()))
    assert problem["code"] == "status-move-not-allowed"
    assert problem["allowed_next"] == allowed
    assert (", ".join(allowed) or "-") in problem["detail"]
    after = await dossier(api, citizen, code)
    assert after["status"] == current and after["history"] == before["history"]


async def test_citizen_withdraws_before_receipt_but_not_after(
    api: httpx.AsyncClient, citizen: Any, agency: Any
) -> None:
    code = await at_status(api, citizen, agency, DossierStatus.SUBMITTED)
    assert "withdraw" in (await dossier(api, citizen, code))["actions"]
    first = await api.post(f"/api/v1/me/dossiers/{code}/withdraw", json={"reason": "Nộp nhầm"}, headers=citizen.headers)
    again = await api.post(f"/api/v1/me/dossiers/{code}/withdraw", json={}, headers=citizen.headers)
    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == "withdrawn"
    assert [h["status"] for h in again.json()["history"]] == ["submitted", "withdrawn"]
    assert again.json()["deadline"]["clock"] == "stopped"
    # The agency cannot act on a withdrawn dossier.
    late = await event(api, agency, code, "received")
    assert late.status_code == 409 and late.json()["allowed_next"] == []

    received = await at_status(api, citizen, agency, DossierStatus.RECEIVED)
    assert "withdraw" not in (await dossier(api, citizen, received))["actions"]
    refused = await api.post(
        f"/api/v1/me/dossiers/{received}/withdraw", json={}, headers={**citizen.headers, "Accept-Language": "en"}
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "withdraw-not-allowed"
    assert "Contact the agency" in refused.json()["detail"]
    assert (await dossier(api, citizen, received))["status"] == "received"


async def test_another_citizen_cannot_withdraw(
    api: httpx.AsyncClient, citizen: Any, make_citizen: Any, agency: Any
) -> None:
    owner, other = citizen, await make_citizen(devices=0)
    code = await at_status(api, owner, agency, DossierStatus.SUBMITTED)
    answer = await api.post(f"/api/v1/me/dossiers/{code}/withdraw", json={}, headers=other.headers)
    assert answer.status_code == 404
    assert (await dossier(api, owner, code))["status"] == "submitted"


@pytest.mark.usefixtures("worker")
async def test_only_the_steps_the_procedure_marks_are_pushed(
    api: httpx.AsyncClient, emulator: httpx.AsyncClient, module_agency: Any, make_citizen: Any
) -> None:
    # Temporary absence keeps `processing` off the phone; its other steps are pushed.
    citizen = await make_citizen(devices=1, locale="en")
    agency = await module_agency(["TEMPORARY_ABSENCE"])
    code = str((await submitted(api, citizen, "TEMPORARY_ABSENCE"))["code"])
    await move(api, agency, code, "TEMPORARY_ABSENCE", "received", "processing", "approved")
    # `processing` owes no notification at all: once the three settle, nothing else can leave.
    settled = await settled_notifications(citizen.id, 3)
    assert sorted(n.data["status"] for n in settled) == ["approved", "received", "submitted"]
    assert sent_once_each(settled)
    statuses = sorted(m["data"]["status"] for m in await pushes_for(emulator, citizen.device_tokens[0], 0))
    assert statuses == ["approved", "received", "submitted"]
    inbox = (await api.get("/api/v1/me/notifications", headers=citizen.headers)).json()["items"]
    assert sorted(n["data"]["status"] for n in inbox) == ["approved", "received", "submitted"]
