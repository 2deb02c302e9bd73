"""Citizens never miss what matters: an unread critical notice goes by SMS, then (a legal one) by
letter, each step on the citizen's timeline and in the agency's read receipts; a notice read in
time does not. The escalation runs with a clock of the test's own (`now`), never by waiting."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest
from bson import ObjectId

from app.config import get_settings
from app.escalation import service as escalation
from devtools.devstack import ManagedProcess
from notifications.sms import GSM7, SmsSender
from tests.integration.dossiers.flows import move, submitted

SERVICE = "TEMPORARY_ABSENCE"  # free, no result document; the default critical notices


@pytest.fixture
async def sender(sms_emulator: ManagedProcess) -> AsyncIterator[SmsSender]:
    settings = get_settings()
    assert settings.sms_provider_url == sms_emulator.url
    sms = SmsSender(settings.sms_provider_url or "", settings.sms_api_key, 5.0)
    try:
        yield sms
    finally:
        await sms.aclose()


@pytest.fixture
async def emulator_sms(sms_emulator: ManagedProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sms_emulator.url or "", timeout=10) as client:
        yield client


async def texts_to(emulator_sms: httpx.AsyncClient, phone: str) -> list[dict[str, Any]]:
    """What the provider took for this citizen (the store keeps the number as +84…)."""
    stored = "+84" + phone[1:]
    found: list[dict[str, Any]] = (await emulator_sms.get("/emulator/messages", params={"to": stored})).json()[
        "messages"
    ]
    return found


async def sent_back(api: httpx.AsyncClient, agency: Any, citizen: Any) -> tuple[str, dict[str, Any]]:
    """A dossier the agency sends back for supplement; its notice as the citizen's inbox shows it."""
    code = (await submitted(api, citizen, SERVICE))["code"]
    await move(api, agency, code, SERVICE, "received", "processing", "supplement_required")
    inbox = (await api.get("/api/v1/me/notifications", headers=citizen.headers)).json()["items"]
    [notice] = [
        n for n in inbox if n["data"].get("dossier_code") == code and n["data"]["status"] == "supplement_required"
    ]
    return code, notice


def at(notice: dict[str, Any], hours: float) -> datetime:
    return datetime.fromisoformat(notice["created_at"]) + timedelta(hours=hours)


async def test_the_sms_speaks_the_language_of_the_citizens_app(
    api: httpx.AsyncClient, make_agency: Any, make_citizen: Any, sender: SmsSender, emulator_sms: httpx.AsyncClient
) -> None:
    agency = await make_agency([SERVICE])
    english = await make_citizen(devices=1, locale="en")
    code, notice = await sent_back(api, agency, english)
    sent = await escalation.run(at(notice, 49), sender, get_settings(), citizen_ids=[ObjectId(english.id)])
    assert dict(sent) == {"sms_sent": 1}
    [sms] = await texts_to(emulator_sms, english.phone)
    assert sms["text"].startswith(f"Dossier {code} needs more documents") and set(sms["text"]) <= GSM7


async def test_unread_escalates_by_sms_then_letter_and_read_in_time_does_not(
    api: httpx.AsyncClient, make_agency: Any, make_citizen: Any, sender: SmsSender, emulator_sms: httpx.AsyncClient
) -> None:
    from app.postal.service import create_operator

    agency = await make_agency([SERVICE])
    citizen = await make_citizen(devices=0)
    unread, notice = await sent_back(api, agency, citizen)
    read, read_notice = await sent_back(api, agency, citizen)
    marked = await api.patch(
        f"/api/v1/me/notifications/{read_notice['id']}", json={"read": True}, headers=citizen.headers
    )
    assert marked.status_code == 200, marked.text
    settings, mine = get_settings(), [ObjectId(citizen.id)]

    async def run(hours: float) -> dict[str, int]:
        return dict(await escalation.run(at(notice, hours), sender, settings, citizen_ids=mine))

    assert await run(47) == {}  # the procedure gives the citizen 48 hours before an SMS
    assert await texts_to(emulator_sms, citizen.phone) == []
    assert await run(49) == {"sms_sent": 1}
    [sms] = await texts_to(emulator_sms, citizen.phone)
    assert unread in sms["text"] and len(sms["text"]) <= 160 and set(sms["text"]) <= GSM7
    assert read not in sms["text"]
    assert await run(100) == {}  # the letter is due at 120 hours
    assert await run(121) == {"letter_posted": 1}
    assert await run(500) == {}  # nothing more, ever, and nothing for the notice that was read
    assert len(await texts_to(emulator_sms, citizen.phone)) == 1

    # The citizen's timeline shows both steps.
    timeline = (await api.get("/api/v1/me/timeline", headers={**citizen.headers, "Accept-Language": "en"})).json()
    steps = [(i["kind"], i["status"]) for i in timeline["items"] if i["kind"].startswith("notice_")]
    assert steps == [("notice_letter", "posted"), ("notice_sms", "sent")]
    assert all(i["dossier_code"] == unread for i in timeline["items"] if i["kind"].startswith("notice_"))

    # The agency sees the read receipts and the escalation.
    receipts = (await api.get(f"/api/v1/agency/dossiers/{unread}/notices", headers=agency.headers)).json()
    [critical] = [r for r in receipts if r["status"] == "supplement_required"]
    assert critical["critical"] is True and critical["read_at"] is None
    assert [(s["step"], s["outcome"]) for s in critical["escalation"]] == [("sms", "sent"), ("letter", "posted")]
    receipts = (await api.get(f"/api/v1/agency/dossiers/{read}/notices", headers=agency.headers)).json()
    [was_read] = [r for r in receipts if r["status"] == "supplement_required"]
    assert was_read["read_at"] is not None and was_read["escalation"] == []

    # The post lists the letter to carry, and that read is on the citizen's record.
    creds = await create_operator(f"POST{uuid.uuid4().hex[:4].upper()}", "Bưu điện thử nghiệm")
    token = (await api.post("/api/v1/postal/token", json=creds)).json()["access_token"]
    letters = (await api.get("/api/v1/postal/letters", headers={"Authorization": f"Bearer {token}"})).json()
    mine_letters = [letter for letter in letters["items"] if letter["dossier_code"] in (unread, read)]
    assert [(letter["dossier_code"], letter["notice"]) for letter in mine_letters] == [(unread, "supplement_required")]
    access = (await api.get("/api/v1/me/access-log", headers=citizen.headers)).json()["items"]
    assert any(a["action"] == "letter.read" for a in access)
    # The post reports the letter's way as it does a parcel's; a repeated report changes nothing.
    post = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    url = f"/api/v1/postal/letters/{mine_letters[0]['id']}/updates"
    for event_id, status in (("l-1", "accepted"), ("l-2", "delivered"), ("l-2", "delivered")):
        moved = await api.post(url, json={"event_id": event_id, "status": status}, headers=post)
        assert moved.status_code == 200 and moved.json()["status"] == status, moved.text
    backwards = await api.post(url, json={"event_id": "l-3", "status": "accepted"}, headers=post)
    assert backwards.status_code == 409 and backwards.json()["code"] == "tracking-move-not-allowed"


async def test_provider_failures_are_retried_and_recorded_and_texts_are_rate_limited(
    api: httpx.AsyncClient, make_agency: Any, make_citizen: Any, sender: SmsSender, emulator_sms: httpx.AsyncClient
) -> None:
    from models.sms import SmsMessage

    agency = await make_agency([SERVICE])
    citizen = await make_citizen(devices=0)
    _, first = await sent_back(api, agency, citizen)
    _, second = await sent_back(api, agency, citizen)
    # One text a day for this run, and the provider down for the next two sends.
    settings = msgspec.structs.replace(get_settings(), sms_per_citizen_day=1)
    failing = await emulator_sms.post("/emulator/failures", json={"count": 2, "status": 503})
    assert failing.status_code == 200
    mine = [ObjectId(citizen.id)]
    late = max(at(first, 49), at(second, 49))

    outcomes: dict[str, int] = {}
    for minutes in (0, 6, 20):  # a failed send is retried after 5 minutes
        for outcome, count in (await escalation.run(late + timedelta(minutes=minutes), sender, settings,
                                                    citizen_ids=mine)).items():  # fmt: skip
            outcomes[outcome] = outcomes.get(outcome, 0) + count
    assert outcomes == {"sms_retry": 2, "sms_sent": 1, "rate_limited": 1}, outcomes
    assert len(await texts_to(emulator_sms, citizen.phone)) == 1
    # Both notices met the outage; one got through on its retry, the other then met the daily cap.
    logged = await SmsMessage.find({"citizen_id": ObjectId(citizen.id)}).to_list()
    assert sorted(([a.ok for a in m.attempts], m.state) for m in logged) == [
        ([False], "failed"),
        ([False, True], "sent"),
    ]
    assert {m.phone_tail for m in logged} == {citizen.phone[-3:]}


async def test_runners_racing_on_one_notice_send_one_sms(
    api: httpx.AsyncClient, make_agency: Any, make_citizen: Any, sender: SmsSender, emulator_sms: httpx.AsyncClient
) -> None:
    agency = await make_agency([SERVICE])
    citizen = await make_citizen(devices=0)
    _, notice = await sent_back(api, agency, citizen)
    settings, mine = get_settings(), [ObjectId(citizen.id)]
    runs = await asyncio.gather(
        *(escalation.run(at(notice, 49), sender, settings, citizen_ids=mine) for _ in range(6))
    )  # fmt: skip
    assert sum(r.get("sms_sent", 0) for r in runs) == 1
    assert len(await texts_to(emulator_sms, citizen.phone)) == 1


async def test_a_closed_account_gets_no_sms(
    api: httpx.AsyncClient, make_agency: Any, make_citizen: Any, sender: SmsSender, emulator_sms: httpx.AsyncClient
) -> None:
    """The agency sends a kept dossier back after its citizen closed the account: the critical
    notice's SMS step finds no phone (the number was freed at closing), and no text leaves."""
    agency = await make_agency([SERVICE])
    citizen = await make_citizen(devices=0)
    code = (await submitted(api, citizen, SERVICE))["code"]
    await move(api, agency, code, SERVICE, "received", "processing")
    closed = await api.post("/api/v1/me/deletion", json={"password": citizen.password}, headers=citizen.headers)
    assert closed.status_code == 200, closed.text
    await move(api, agency, code, SERVICE, "supplement_required")
    receipts = (await api.get(f"/api/v1/agency/dossiers/{code}/notices", headers=agency.headers)).json()
    [critical] = [r for r in receipts if r["status"] == "supplement_required"]
    later = datetime.fromisoformat(critical["created_at"]) + timedelta(hours=49)
    ran = await escalation.run(later, sender, get_settings(), citizen_ids=[ObjectId(citizen.id)])
    assert dict(ran) == {"no_phone": 1}
    assert await texts_to(emulator_sms, citizen.phone) == []
    receipts = (await api.get(f"/api/v1/agency/dossiers/{code}/notices", headers=agency.headers)).json()
    [critical] = [r for r in receipts if r["status"] == "supplement_required"]
    assert [(s["step"], s["outcome"]) for s in critical["escalation"]] == [("sms", "no_phone")]
