"""Supplement round trip: the agency says what is missing and why, item by item; the citizen
answers each item (an upload, a wallet document, a corrected field) and the dossier goes
back to processing with its deadline clock running again."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from tests.integration.dossiers.flows import PDF, dossier, event, move, pushes_for, submitted, upload

pytestmark = pytest.mark.usefixtures("worker")

SERVICE = "DEATH_REGISTRATION"  # free; needs an uploaded death notice


async def answer(api: httpx.AsyncClient, citizen: Any, code: str, **body: Any) -> httpx.Response:
    return await api.post(
        f"/api/v1/me/dossiers/{code}/supplement/answers",
        json=body,
        headers={**citizen.headers, "Accept-Language": "en"},
    )


async def issue_id_card(api: httpx.AsyncClient, module_agency: Any, citizen: Any) -> str:
    police = await module_agency(["CITIZEN_ID_CARD"])
    issued = await api.post(
        "/api/v1/agency/documents",
        json={
            "event_id": uuid.uuid4().hex,
            "national_id": citizen.national_id,
            "type": "citizen_id_card",
            "number": citizen.national_id,
            "valid_from": "2026-01-01",
            "valid_until": "2041-01-01",
            "fields": {"sex": "female", "place_of_origin": "Hà Nội", "place_of_residence": "Hà Nội"},
        },
        headers=police.headers,
    )
    assert issued.status_code == 201, issued.text
    return str(issued.json()["id"])


async def test_supplement_round_trip(
    api: httpx.AsyncClient, emulator: httpx.AsyncClient, shared_citizen: Any, module_agency: Any
) -> None:
    citizen = shared_citizen
    id_card = await issue_id_card(api, module_agency, citizen)
    agency = await module_agency([SERVICE])
    notice = (await upload(api, citizen, PDF + b"notice")).json()["id"]
    code = (await submitted(api, citizen, SERVICE, attachments=[{"name": "death_notice", "upload_id": notice}]))["code"]
    await move(api, agency, code, SERVICE, "received")
    due_before = (await dossier(api, citizen, code))["deadline"]["due_at"]

    checklist = [
        {
            "kind": "attachment",
            "target": "death_notice",
            "reason": "Giấy báo tử bị mờ, không đọc được số giấy.",
            "action": "Chụp lại giấy báo tử rõ nét và tải lên.",
        },
        {
            "kind": "field",
            "target": "date_of_death",
            "reason": "Ngày mất khác với giấy báo tử.",
            "action": "Sửa ngày mất cho đúng với giấy báo tử.",
        },
        {
            "kind": "wallet_document",
            "target": "citizen_id_card",
            "reason": "Cần xác nhận người đi khai tử.",
            "action": "Chọn thẻ căn cước trong ví.",
        },
    ]
    requested = await event(
        api, agency, code, "supplement_required", note="Hồ sơ cần bổ sung 3 mục.", checklist=checklist
    )
    assert requested.status_code == 200, requested.text

    seen = await dossier(api, citizen, code)
    assert seen["status"] == "supplement_required"
    assert seen["actions"] == ["answer_supplement"]
    assert seen["deadline"]["clock"] == "paused" and seen["deadline"]["waiting_for"] == ["supplement"]
    items = seen["supplement"]["items"]
    assert [(i["id"], i["kind"], i["reason"], i["action"]) for i in items] == [
        (str(n), c["kind"], c["reason"], c["action"]) for n, c in enumerate(checklist, start=1)
    ]
    assert "clock is paused" in seen["step"]

    # Wrong answers are refused, item by item, saying what is wrong; nothing is saved.
    not_a_date = await answer(api, citizen, code, item_id="2", value="15/11/2026")
    assert not_a_date.status_code == 422 and not_a_date.json()["errors"][0]["field"] == "value"
    text_as_upload = (await upload(api, citizen, b"plain text, not a scan", "notice.pdf")).status_code
    assert text_as_upload == 415
    no_such_item = await answer(api, citizen, code, item_id="9", value="x")
    assert no_such_item.status_code == 422 and "1, 2, 3" in no_such_item.json()["errors"][0]["message"]
    assert all(i["answered_at"] is None for i in (await dossier(api, citizen, code))["supplement"]["items"])

    clearer = (await upload(api, citizen, PDF + b"clearer scan")).json()["id"]
    first = await answer(api, citizen, code, item_id="1", upload_id=clearer)
    assert first.status_code == 200, first.text
    second = await answer(api, citizen, code, item_id="2", value="2026-11-14")
    assert second.status_code == 200 and second.json()["status"] == "supplement_required"
    assert second.json()["form"]["date_of_death"] == "2026-11-14"
    last = await answer(api, citizen, code, item_id="3", document_id=id_card)
    assert last.status_code == 200, last.text

    done = last.json()
    assert done["status"] == "processing"
    assert done["history"][-1]["status"] == "processing"
    assert done["supplement"]["completed_at"] is not None
    assert done["deadline"]["clock"] == "running" and done["deadline"]["waiting_for"] == []
    # Paused and resumed on the same day: the deadline did not move.
    assert done["deadline"]["due_at"] == due_before
    assert {a["name"] for a in done["attachments"]} == {"death_notice", "citizen_id_card"}
    assert (await answer(api, citizen, code, item_id="1", upload_id=clearer)).status_code == 409

    # The agency reads the new paper (and the read is on the citizen's record).
    got = await api.get(f"/api/v1/agency/dossiers/{code}/attachments/{clearer}", headers=agency.headers)
    assert got.status_code == 200 and got.content == PDF + b"clearer scan"
    assert got.headers["content-type"].startswith("application/pdf")
    other_agency = await module_agency(["CRIMINAL_RECORD"])
    hidden = await api.get(f"/api/v1/agency/dossiers/{code}/attachments/{clearer}", headers=other_agency.headers)
    assert hidden.status_code == 404

    # The citizen was told when the agency asked, on the phone.
    messages = await pushes_for(emulator, citizen.device_tokens[0], 1)
    mine = [m for m in messages if m["data"].get("dossier_code") == code]
    for _ in range(50):
        if any(m["data"]["status"] == "supplement_required" for m in mine):
            break
        await asyncio.sleep(0.2)
        messages = (await emulator.get("/emulator/messages", params={"token": citizen.device_tokens[0]})).json()[
            "messages"
        ]
        mine = [m for m in messages if m["data"].get("dossier_code") == code]
    assert any(m["data"]["status"] == "supplement_required" for m in mine)


async def test_a_note_alone_makes_one_item_the_citizen_answers_with_text(
    api: httpx.AsyncClient, shared_citizen: Any, module_agency: Any
) -> None:
    citizen = shared_citizen
    agency = await module_agency([SERVICE])
    notice = (await upload(api, citizen, PDF + b"n2")).json()["id"]
    code = (await submitted(api, citizen, SERVICE, attachments=[{"name": "death_notice", "upload_id": notice}]))["code"]
    await move(api, agency, code, SERVICE, "received", "processing", "supplement_required")
    item = (await dossier(api, citizen, code))["supplement"]["items"]
    assert len(item) == 1 and item[0]["kind"] == "other" and item[0]["reason"].startswith("Ảnh giấy tờ")
    empty = await answer(api, citizen, code, item_id="1")
    assert empty.status_code == 422
    replied = await answer(api, citizen, code, item_id="1", text="Tôi đã gửi ảnh rõ hơn qua bưu điện.")
    assert replied.status_code == 200 and replied.json()["status"] == "processing"
    # A second round numbers itself.
    await move(api, agency, code, SERVICE, "supplement_required")
    assert (await dossier(api, citizen, code))["supplement"]["round"] == 2


async def test_checklist_items_must_name_what_the_procedure_has(
    api: httpx.AsyncClient, shared_citizen: Any, module_agency: Any
) -> None:
    citizen = shared_citizen
    agency = await module_agency([SERVICE])
    notice = (await upload(api, citizen, PDF + b"n3")).json()["id"]
    code = (await submitted(api, citizen, SERVICE, attachments=[{"name": "death_notice", "upload_id": notice}]))["code"]
    await move(api, agency, code, SERVICE, "received")
    bad = await event(
        api,
        agency,
        code,
        "supplement_required",
        note="x",
        checklist=[{"kind": "field", "target": "favourite_colour", "reason": "r", "action": "a"}],
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "checklist[0].target"
    assert "date_of_death" in bad.json()["errors"][0]["message"]
    assert (await dossier(api, citizen, code))["status"] == "received"


async def test_answering_without_a_request_is_409(
    api: httpx.AsyncClient, shared_citizen: Any, module_agency: Any
) -> None:
    citizen = shared_citizen
    await module_agency([SERVICE])
    notice = (await upload(api, citizen, PDF + b"n4")).json()["id"]
    code = (await submitted(api, citizen, SERVICE, attachments=[{"name": "death_notice", "upload_id": notice}]))["code"]
    refused = await answer(api, citizen, code, item_id="1", text="?")
    assert refused.status_code == 409 and refused.json()["code"] == "no-supplement-requested"
