"""Agencies hear of their dossiers at once: each event, signed, at the endpoint they subscribed,
and nothing of another agency's."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.integration.dossiers.flows import confirm_payment, move, submitted
from tests.integration.push.helpers import wait_for
from tests.integration.webhooks.helpers import BASE, subscribe, verified
from tests.integration.webhooks.receiver import Receiver

pytestmark = pytest.mark.usefixtures("worker")

FREE = "TEMPORARY_ABSENCE"  # no fee, no result document
PAID = "CRIMINAL_RECORD"  # 200 000 đồng, paid before processing


async def test_each_dossier_event_reaches_its_agency_signed_and_no_other(
    api: httpx.AsyncClient, make_agency: Any, make_citizen: Any, receiver: Receiver
) -> None:
    agency = await make_agency([FREE, PAID])
    bystander = await make_agency(["PASSPORT"])
    mine = await subscribe(api, agency, receiver.url("/agency"))
    theirs = await subscribe(api, bystander, receiver.url("/bystander"))
    assert "secret" not in (await api.get(f"{BASE}/{mine['id']}", headers=agency.headers)).json()
    citizen = await make_citizen(devices=0, eid_level=2)

    kept = (await submitted(api, citizen, FREE))["code"]
    await move(api, agency, kept, FREE, "received", "processing", "supplement_required")
    answered = await api.post(
        f"/api/v1/me/dossiers/{kept}/supplement/answers", json={"item_id": "1", "text": "Đã gửi lại."},
        headers=citizen.headers,
    )  # fmt: skip
    assert answered.status_code == 200, answered.text
    await move(api, agency, kept, FREE, "approved", "result_ready", "completed")
    rated = await api.post(f"/api/v1/me/dossiers/{kept}/rating", json={"score": 5}, headers=citizen.headers)
    assert rated.status_code == 201, rated.text
    withdrawn = (await submitted(api, citizen, FREE))["code"]
    gone = await api.post(f"/api/v1/me/dossiers/{withdrawn}/withdraw", json={}, headers=citizen.headers)
    assert gone.status_code == 200, gone.text
    paid = (await submitted(api, citizen, PAID))["code"]
    await confirm_payment(api, citizen, paid)

    expected = {
        (kept, "dossier.submitted"),
        (kept, "dossier.supplement_answered"),
        (kept, "dossier.rated"),
        (withdrawn, "dossier.submitted"),
        (withdrawn, "dossier.withdrawn"),
        (paid, "dossier.submitted"),
        (paid, "dossier.fee_paid"),
    }

    async def all_heard() -> list[dict[str, Any]] | None:
        payloads = [verified(mine["secret"], r) for r in receiver.at("/agency")]
        return payloads if {(p["data"]["dossier_code"], p["type"]) for p in payloads} >= expected else None

    payloads = await wait_for(all_heard, "every event of the agency's dossiers")
    by_type = {(p["data"]["dossier_code"], p["type"]): p for p in payloads}
    assert by_type[(kept, "dossier.supplement_answered")]["data"]["status"] == "processing"
    assert by_type[(kept, "dossier.rated")]["data"]["score"] == "5"
    assert by_type[(withdrawn, "dossier.withdrawn")]["data"]["status"] == "withdrawn"
    assert by_type[(paid, "dossier.fee_paid")]["data"]["amount_vnd"] == "200000"
    # Each event names the dossier's revision after its change, so a receiver that gets them
    # out of order (a retry, a replay) can tell which is the later one.
    revision = {key: int(p["data"]["revision"]) for key, p in by_type.items()}
    assert revision[(kept, "dossier.submitted")] == 0
    assert revision[(kept, "dossier.submitted")] < revision[(kept, "dossier.supplement_answered")]
    assert revision[(kept, "dossier.supplement_answered")] < revision[(kept, "dossier.rated")]
    assert revision[(withdrawn, "dossier.submitted")] < revision[(withdrawn, "dossier.withdrawn")]
    assert revision[(paid, "dossier.submitted")] < revision[(paid, "dossier.fee_paid")]
    for received in receiver.at("/agency"):
        # Codes and statuses only: the citizen's identity never leaves in a webhook.
        assert citizen.national_id.encode() not in received.body and citizen.phone.encode() not in received.body
        assert received.headers["webhook-id"] == verified(mine["secret"], received)["id"]
    # The other agency heard nothing, and cannot see, change or ping this subscription.
    assert receiver.at("/bystander") == []
    for method, path in (
        ("GET", f"{BASE}/{mine['id']}"),
        ("PATCH", f"{BASE}/{mine['id']}"),
        ("DELETE", f"{BASE}/{mine['id']}"),
        ("POST", f"{BASE}/{mine['id']}/ping"),
        ("GET", f"{BASE}/{mine['id']}/deliveries"),
    ):
        answer = await api.request(method, path, headers=bystander.headers, json={} if method == "PATCH" else None)
        assert answer.status_code == 404, (method, path, answer.text)
    listed = (await api.get(BASE, headers=bystander.headers)).json()
    assert [s["id"] for s in listed] == [theirs["id"]]


async def test_a_slow_receiver_holds_neither_the_answer_nor_another_agency(
    api: httpx.AsyncClient, make_agency: Any, receiver: Receiver
) -> None:
    agency, other = await make_agency([FREE]), await make_agency(["PASSPORT"])
    slow = await subscribe(api, agency, receiver.url("/slow", "slow"))
    quick = await subscribe(api, other, receiver.url("/quick"))
    # Many pings to the slow one at once: each answer is 202 (queued), none waits for the receiver.
    answers = await asyncio.gather(
        *(api.post(f"{BASE}/{slow['id']}/ping", headers=agency.headers) for _ in range(8))
    )  # fmt: skip
    assert {a.status_code for a in answers} == {202}
    pinged = await api.post(f"{BASE}/{quick['id']}/ping", headers=other.headers)
    assert pinged.status_code == 202

    async def quick_heard() -> bool:
        return bool(receiver.at("/quick"))

    # The quick receiver is served while the slow one's deliveries time out and wait their retry.
    await wait_for(quick_heard, "the quick subscription's ping")
    await api.patch(f"{BASE}/{slow['id']}", json={"enabled": False}, headers=agency.headers)


async def test_the_issuer_hears_that_its_document_passed_a_check_but_not_whose(
    api: httpx.AsyncClient, make_agency: Any, make_citizen: Any, receiver: Receiver
) -> None:
    from tests.integration.wallet.helpers import issued, present, verify

    issuer = await make_agency(["DL_RENEWAL"])
    sub = await subscribe(api, issuer, receiver.url("/issuer"), ("presentation.verified",))
    citizen = await make_citizen(devices=0)
    document = await issued(api, issuer, citizen)
    shown = await present(api, citizen, document["id"], ["classes"])
    checked = await verify(api, shown["token"], verifier="Cửa hàng cho thuê xe Bến Thành")
    assert checked.status_code == 200, checked.text

    async def heard() -> list[Any] | None:
        return receiver.at("/issuer") or None

    [copy] = await wait_for(heard, "the issuer's presentation.verified event")
    payload = verified(sub["secret"], copy)
    assert payload["type"] == "presentation.verified"
    assert payload["data"] == {
        "document_type": "driver_licence",
        "verifier": "Cửa hàng cho thuê xe Bến Thành",
        "result": "ok",
    }
    for private in (document["id"], document["number"], citizen.national_id, shown["id"]):
        assert private.encode() not in copy.body


async def test_racing_changes_of_one_dossier_tell_the_agency_each_under_a_revision_of_its_own(
    api: httpx.AsyncClient, make_agency: Any, make_citizen: Any, receiver: Receiver
) -> None:
    """Six copies of the provider's callback and six copies of the citizen's supplement answer,
    all at once, on one dossier (both apply in either order): each change is told once, and
    its events' revisions differ, so a receiver can still tell which came last."""
    import os
    import secrets
    import time

    from app.payments.service import callback_body
    from app.payments.signing import signature_header

    agency = await make_agency([PAID])
    sub = await subscribe(api, agency, receiver.url(f"/race/{agency.code}"))
    citizen = await make_citizen(devices=0, eid_level=2)
    code = (await submitted(api, citizen, PAID))["code"]
    await move(api, agency, code, PAID, "received", "supplement_required")  # allowed before the fee is paid
    payment = (await api.get(f"/api/v1/me/dossiers/{code}", headers=citizen.headers)).json()["payment"]
    body = callback_body(payment["reference"], f"TX-{secrets.token_hex(4)}", "paid", payment["amount_vnd"],
                         int(time.time()), secrets.token_hex(8))  # fmt: skip
    signed = {"content-type": "application/json", "X-Signature": signature_header(os.environ["PAYMENT_SECRET"], body)}
    answer = {"item_id": "1", "text": "Đã bổ sung."}
    answers = await asyncio.gather(
        *(api.post("/api/v1/payments/callback", content=body, headers=signed) for _ in range(6)),
        *(api.post(f"/api/v1/me/dossiers/{code}/supplement/answers", json=answer, headers=citizen.headers)
          for _ in range(6)),
    )  # fmt: skip
    assert all(a.status_code < 500 for a in answers), [a.status_code for a in answers]
    expected = ["dossier.fee_paid", "dossier.submitted", "dossier.supplement_answered"]

    async def all_heard() -> list[dict[str, Any]] | None:
        payloads = [verified(sub["secret"], r) for r in receiver.at(f"/race/{agency.code}")]
        return payloads if {p["type"] for p in payloads} >= set(expected) else None

    payloads = await wait_for(all_heard, "every event of the raced dossier")
    assert sorted(p["type"] for p in payloads) == expected  # each told once
    revisions = [int(p["data"]["revision"]) for p in payloads]
    assert len(set(revisions)) == len(revisions), payloads
