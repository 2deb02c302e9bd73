"""A child under 14 has no phone: what the child's dossiers and wallet owe them in pushes goes
to the parents who manage the child, each once, and the child's access log says so."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from bson import ObjectId

from models.audit import AccessRecord
from models.citizen import Citizen
from tests.integration.identity.helpers import bearer, years_ago
from tests.integration.identity.test_guardians import RESIDENCE, add_child, issue_birth_certificate
from tests.integration.push.helpers import messages, received, wait_for
from tests.support import new_phone, sent_once_each, settled_notifications


async def test_a_childs_dossier_and_papers_reach_the_parents_phone_marked_as_the_childs(
    api: httpx.AsyncClient,
    make_citizen: Callable[..., Awaitable[Any]],
    make_agency: Callable[..., Awaitable[Any]],
    emulator: httpx.AsyncClient,
    worker: Any,
) -> None:
    parent = await make_citizen(devices=1, locale="en", eid_level=2)
    other_adult = await make_citizen(devices=1)
    [parent_phone] = parent.device_tokens
    child = await add_child(api, parent, years_ago(6))
    agency = await make_agency(["RESIDENCE_REGISTRATION"])

    base = f"/api/v1/me/children/{child['id']}"
    submitted = await api.post(
        f"{base}/dossiers", json=RESIDENCE, headers={**parent.headers, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert submitted.status_code == 201, submitted.text
    code = submitted.json()["code"]
    [first] = await received(emulator, parent_phone)
    assert first["title"] == f"Your child · Dossier {code} submitted"
    assert first["data"]["child_id"] == child["id"] and first["data"]["dossier_code"] == code

    # The agency's event, sent twice (a retry): one more push, not two.
    event = {"event_id": f"{code}-received", "status": "received"}
    for _ in range(2):
        moved = await api.post(f"/api/v1/agency/dossiers/{code}/events", json=event, headers=agency.headers)
        assert moved.status_code == 200, moved.text
    pushed = await received(emulator, parent_phone, count=2)
    assert pushed[1]["data"] == {**pushed[1]["data"], "child_id": child["id"], "status": "received"}

    # A paper issued into the child's wallet, too.
    await issue_birth_certificate(api, await make_agency(["BIRTH_REGISTRATION"]), child)
    third = (await received(emulator, parent_phone, count=3))[2]
    assert third["data"]["type"] == "document_issued" and third["data"]["child_id"] == child["id"]
    # The parent's three copies settled (each of the child's outbox entries made): no fourth can leave.
    copies = await settled_notifications(parent.id, 3, outbox_of=child["id"])
    assert len(copies) == 3 and sent_once_each(copies)
    assert len(await messages(emulator, parent_phone)) == 3

    # The parent's own inbox holds the copies, in the reader's language; the child's stays the child's.
    inbox = (await api.get("/api/v1/me/notifications", headers=parent.headers)).json()["items"]
    assert len(inbox) == 3 and all(n["data"]["child_id"] == child["id"] for n in inbox)
    vietnamese = await api.get("/api/v1/me/notifications", headers={**parent.headers, "Accept-Language": "vi"})
    assert vietnamese.json()["items"][-1]["title"] == f"Con bạn · Đã nộp hồ sơ {code}"
    # Nobody else: another adult's phone got nothing.
    assert await messages(emulator, other_adult.device_tokens[0]) == []

    async def copies_logged() -> list[tuple[str, str]] | None:
        records = await AccessRecord.find(
            {"citizen_id": ObjectId(child["id"]), "action": "notification.copy"}
        ).to_list()
        found = [(r.actor_kind, r.actor_id) for r in records]
        return found if len(found) >= 3 else None

    logged = await wait_for(copies_logged, "three copies in the child's access log")
    assert logged == [("guardian", parent.id)] * 3


async def test_a_parent_stops_getting_copies_once_the_child_has_taken_the_account_over(
    api: httpx.AsyncClient,
    make_citizen: Callable[..., Awaitable[Any]],
    make_agency: Callable[..., Awaitable[Any]],
) -> None:
    """The dossier was made while the child had a guardian; the child's next notice after the
    takeover is the child's alone (the parents are read when the notice is made, not when the
    dossier was)."""
    parent = await make_citizen(devices=0, eid_level=2)
    child = await add_child(api, parent, years_ago(13, days=-300))
    agency = await make_agency(["RESIDENCE_REGISTRATION"])
    submitted = await api.post(
        f"/api/v1/me/children/{child['id']}/dossiers",
        json=RESIDENCE,
        headers={**parent.headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert submitted.status_code == 201, submitted.text
    code = submitted.json()["code"]
    # A 2xx means the notice and its copies are in the inboxes (decision 0023).
    before = (await api.get("/api/v1/me/notifications", headers=parent.headers)).json()["items"]
    assert [n["data"]["dossier_code"] for n in before] == [code]

    await Citizen.get_pymongo_collection().update_one(
        {"_id": ObjectId(child["id"])}, {"$set": {"date_of_birth": years_ago(14).isoformat()}}
    )
    claim = await api.post(f"/api/v1/me/children/{child['id']}/claim-code", headers=parent.headers)
    assert claim.status_code == 201, claim.text
    phone, password = new_phone(), "my own long passphrase"
    claimed = await api.post(
        "/api/v1/citizens/claim",
        json={"national_id": child["national_id"], "claim_code": claim.json()["claim_code"], "phone": phone,
              "password": password},
    )  # fmt: skip
    assert claimed.status_code == 201, claimed.text

    event = {"event_id": f"{code}-received", "status": "received"}
    moved = await api.post(f"/api/v1/agency/dossiers/{code}/events", json=event, headers=agency.headers)
    assert moved.status_code == 200, moved.text
    login = await api.post("/api/v1/auth/token", json={"username": phone, "password": password})
    own = (await api.get("/api/v1/me/notifications", headers=bearer(login.json()["access_token"]))).json()["items"]
    assert [n["data"].get("status") for n in own][:1] == ["received"]
    after = (await api.get("/api/v1/me/notifications", headers=parent.headers)).json()["items"]
    assert [n["id"] for n in after] == [n["id"] for n in before]
