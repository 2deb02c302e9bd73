"""Fees: a payment request per dossier with a fee, paid at the (local) provider, confirmed by
its signed callback over real HTTP; bad signatures, stale and replayed callbacks refused;
a procedure that takes its fee first is not processed before it."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from typing import Any

import httpx
import pytest

from app.payments.service import callback_body
from app.payments.signing import signature_header
from tests.integration.dossiers.flows import dossier, event, move, pay, pushes_for, submitted
from tests.support import sent_once_each, settled_notifications

pytestmark = pytest.mark.usefixtures("worker", "callback_api")

SERVICE = "CRIMINAL_RECORD"  # 200 000 đồng, paid before processing
FEE = 200000


async def pushed_kinds(emulator: httpx.AsyncClient, token: str, code: str, wanted: set[str]) -> list[str]:
    """The push kinds about `code` the phone has got, once `wanted` are among them (or time is up)."""
    for _ in range(150):
        messages = await pushes_for(emulator, token, 0)
        kinds = [m["data"]["type"] for m in messages if m["data"].get("dossier_code") == code]
        if wanted <= set(kinds):
            return kinds
        await asyncio.sleep(0.2)
    return kinds


async def post_callback(api: httpx.AsyncClient, body: bytes, signature: str | None) -> httpx.Response:
    headers = {"content-type": "application/json", "Accept-Language": "en"}
    if signature is not None:
        headers["X-Signature"] = signature
    return await api.post("/api/v1/payments/callback", content=body, headers=headers)


async def test_fee_first_procedure_waits_for_the_payment(
    api: httpx.AsyncClient,
    emulator: httpx.AsyncClient,
    simulator: httpx.AsyncClient,
    shared_citizen: Any,
    module_agency: Any,
) -> None:
    citizen = shared_citizen
    agency = await module_agency([SERVICE])
    code = (await submitted(api, citizen, SERVICE))["code"]
    created = await dossier(api, citizen, code)
    payment = created["payment"]
    assert (payment["state"], payment["amount_vnd"], payment["timing"]) == ("pending", FEE, "before_processing")
    assert payment["pay_url"].startswith(os.environ["PAYMENT_PROVIDER_URL"]) and "signature=" in payment["pay_url"]
    assert "pay" in created["actions"]
    ledger = (await api.get("/api/v1/me/payments", headers=citizen.headers)).json()["items"]
    assert [(p["dossier_code"], p["status"], p["lines"]) for p in ledger if p["dossier_code"] == code] == [
        (code, "pending", [{"kind": "fee", "amount_vnd": FEE}])
    ]

    # Receipt is fine; the clock starts paused because the fee is due first.
    await move(api, agency, code, SERVICE, "received")
    waiting = await dossier(api, citizen, code)
    assert waiting["deadline"]["clock"] == "paused" and waiting["deadline"]["waiting_for"] == ["payment"]
    blocked = await event(api, agency, code, "processing")
    assert blocked.status_code == 409 and blocked.json()["code"] == "payment-required"
    assert "has paid" in blocked.json()["detail"]

    # A card that fails: the citizen is told, the request stays open.
    failed = await pay(api, simulator, citizen, code, outcome="failed")
    assert failed["answer"]["status_code"] == 200, failed
    assert (await dossier(api, citizen, code))["payment"]["state"] == "pending"

    paid = await pay(api, simulator, citizen, code)
    assert paid["answer"]["status_code"] == 200, paid
    after = await dossier(api, citizen, code)
    assert after["payment"]["state"] == "paid" and after["payment"]["pay_url"] is None
    assert after["deadline"]["clock"] == "running" and "pay" not in after["actions"]
    assert (await event(api, agency, code, "processing")).status_code == 200

    ledger = (await api.get("/api/v1/me/payments", headers=citizen.headers)).json()["items"]
    mine = next(p for p in ledger if p["dossier_code"] == code)
    assert mine["status"] == "paid" and [a["outcome"] for a in mine["attempts"]] == ["failed", "paid"]

    kinds = await pushed_kinds(
        emulator, citizen.device_tokens[0], code, {"payment_requested", "payment_failed", "payment_confirmed"}
    )
    assert {"payment_requested", "payment_failed", "payment_confirmed"} <= set(kinds)

    # The provider sends the same callback again, byte for byte: refused, nothing changes.
    replay = await simulator.post(f"/simulator/callbacks/{paid['index']}/resend")
    assert replay.json()["answer"]["status_code"] == 409
    assert "callback-replayed" in replay.json()["answer"]["body"]
    again = next(
        p
        for p in (await api.get("/api/v1/me/payments", headers=citizen.headers)).json()["items"]
        if p["dossier_code"] == code
    )
    assert again["attempts"] == mine["attempts"]
    # Every notification settled (none pending, every outbox entry's made): none more can leave.
    about = [n for n in await settled_notifications(citizen.id, 1) if n.data.get("dossier_code") == code]
    assert [n.kind for n in about].count("payment_confirmed") == 1 and sent_once_each(about)
    assert (await pushed_kinds(emulator, citizen.device_tokens[0], code, set())).count("payment_confirmed") == 1


async def test_bad_signature_stale_and_replayed_callbacks_are_refused(
    api: httpx.AsyncClient, shared_citizen: Any, module_agency: Any
) -> None:
    citizen = shared_citizen
    await module_agency([SERVICE])
    code = (await submitted(api, citizen, SERVICE))["code"]
    reference = (await dossier(api, citizen, code))["payment"]["reference"]
    secret = os.environ["PAYMENT_SECRET"]
    now = int(time.time())

    def body(nonce: str, **overrides: Any) -> bytes:
        fields = {"reference": reference, "transaction_id": "TX-1", "status": "paid", "amount_vnd": FEE}
        fields.update(overrides)
        return callback_body(
            fields["reference"],
            fields["transaction_id"],
            fields["status"],
            fields["amount_vnd"],
            overrides.get("timestamp", now),
            nonce,
        )

    genuine = body("n-" + secrets.token_hex(8))
    forged = genuine.replace(b'"amount_vnd":200000', b'"amount_vnd":1')
    for raw, signature in (
        (genuine, None),
        (genuine, "sha256=" + "0" * 64),
        (genuine, signature_header("not-the-shared-secret", genuine)),
        (forged, signature_header(secret, genuine)),  # the body changed after signing
        (genuine, signature_header(secret, genuine).removeprefix("sha256=")),
    ):
        refused = await post_callback(api, raw, signature)
        assert refused.status_code == 401, refused.text
        assert refused.json()["code"] == "bad-signature"
    stale = body("n-" + secrets.token_hex(8), timestamp=now - 3600)
    answer = await post_callback(api, stale, signature_header(secret, stale))
    assert answer.status_code == 401 and answer.json()["code"] == "stale-callback"
    assert (await dossier(api, citizen, code))["payment"]["state"] == "pending"

    accepted = await post_callback(api, genuine, signature_header(secret, genuine))
    assert accepted.status_code == 200 and accepted.json() == {
        "reference": reference,
        "status": "paid",
        "duplicate": False,
    }
    replayed = await post_callback(api, genuine, signature_header(secret, genuine))
    assert replayed.status_code == 409 and replayed.json()["code"] == "callback-replayed"
    # A provider retry with a fresh nonce is answered, and changes nothing.
    retry = body("n-" + secrets.token_hex(8))
    answer = await post_callback(api, retry, signature_header(secret, retry))
    assert answer.status_code == 200 and answer.json()["duplicate"] is True
    ledger = (await api.get("/api/v1/me/payments", headers=citizen.headers)).json()["items"]
    assert [len(p["attempts"]) for p in ledger if p["dossier_code"] == code] == [1]

    wrong_amount = body("n-" + secrets.token_hex(8), amount_vnd=FEE - 1)
    answer = await post_callback(api, wrong_amount, signature_header(secret, wrong_amount))
    assert answer.status_code == 422


async def test_pay_links_are_signed(api: httpx.AsyncClient, simulator: httpx.AsyncClient, shared_citizen: Any) -> None:
    code = (await submitted(api, shared_citizen, SERVICE))["code"]
    link = (await dossier(api, shared_citizen, code))["payment"]["pay_url"]
    assert (await simulator.get(link)).status_code == 200
    tampered = link.replace(f"amount={FEE}", "amount=1")
    assert (await simulator.get(tampered)).status_code == 400


async def test_free_procedures_ask_for_nothing(api: httpx.AsyncClient, shared_citizen: Any) -> None:
    created = await submitted(api, shared_citizen, "TEMPORARY_ABSENCE")
    assert created["payment"] is None and "pay" not in created["actions"]


async def test_the_providers_first_callbacks_at_once_make_one_ledger_entry_and_one_payment(
    api: httpx.AsyncClient, shared_citizen: Any, module_agency: Any
) -> None:
    """The ledger entry is made at the provider's first callback (decision 31): eight copies
    of it at once (fresh nonces, as a provider's retries carry) on a dossier that has none
    yet make one entry, one attempt and one 'paid', and never a 5xx."""
    await module_agency([SERVICE])
    code = (await submitted(api, shared_citizen, SERVICE))["code"]
    reference = (await dossier(api, shared_citizen, code))["payment"]["reference"]
    secret = os.environ["PAYMENT_SECRET"]

    async def callback() -> httpx.Response:
        raw = callback_body(reference, "TX-AT-ONCE", "paid", FEE, int(time.time()), secrets.token_hex(8))
        return await post_callback(api, raw, signature_header(secret, raw))

    answers = await asyncio.gather(*(callback() for _ in range(8)))
    assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]
    assert sorted(a.json()["duplicate"] for a in answers) == [False] + [True] * 7
    ledger = (await api.get("/api/v1/me/payments", headers=shared_citizen.headers)).json()["items"]
    mine = [p for p in ledger if p["dossier_code"] == code]
    assert [(p["status"], len(p["attempts"])) for p in mine] == [("paid", 1)]
    assert (await dossier(api, shared_citizen, code))["payment"]["state"] == "paid"
