"""Every kind of change queues its push in the request that made it, not through the sweeper.

No controller flushes an outbox any more: the service that writes one notes it, and one
middleware (app/inbox/flushing.py) turns it into a notification and a queued job before the
answer leaves. The proof, for each kind of change: as soon as the answer is in, the
notification of the changed document's outbox entry exists. The sweeper cannot have done
that, since it only takes over entries older than SWEEP_GRACE_SECONDS (10 s) and OUTBOX_SETTLE
(60 s); then the push reaches the phone (the FCM emulator).
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import httpx
import pytest
from bson import ObjectId

from app.config import get_settings
from app.postal.service import create_operator
from models.dossier import Dossier
from models.notification import Notification
from models.support import SupportLookup
from models.wallet import WalletDocument
from tests.integration.dossiers.flows import confirm_payment, event, move, pushes_for, submitted

pytestmark = pytest.mark.usefixtures("worker")

FREE = "BIRTH_REGISTRATION"  # no fee, a result by post or online
LICENCE = {"type": "driver_licence", "number": "790123456789", "valid_from": "2026-01-10",
           "valid_until": "2036-01-10", "fields": {"classes": ["B2"]}}  # fmt: skip
NOTE = "Ảnh giấy khai sinh bị mờ; hãy chụp lại rõ nét."


async def flushed_in_the_request(
    emulator: httpx.AsyncClient, citizen: Any, model: Any, document: dict[str, Any], kind: str
) -> None:
    """Right after the answer: the notification of the document's entry made; then its push arrives."""
    assert get_settings().sweep_grace_seconds >= 10  # the sweeper leaves entries this young alone
    raw = await model.get_pymongo_collection().find_one(document)
    keys = [entry["key"] for entry in (raw or {}).get("outbox") or [] if entry["kind"] == kind]
    assert keys, f"{kind}: no outbox entry in {raw and raw.get('outbox')}"
    made = await Notification.get_pymongo_collection().find_one(
        {"citizen_id": ObjectId(citizen.id), "kind": kind, "key": {"$in": keys}}, sort=[("_id", -1)]
    )
    assert made is not None, kind
    messages = await pushes_for(emulator, citizen.device_tokens[0], 1)
    for _ in range(3):  # a citizen's earlier pushes may be listed first: look for this one
        if any(m["data"].get("notification_id") == str(made["_id"]) for m in messages):
            return
        messages = await pushes_for(emulator, citizen.device_tokens[0], len(messages) + 1)
    pytest.fail(f"{kind}: no push for notification {made['_id']}")


@pytest.fixture
def citizen(shared_citizen: Any) -> Any:
    return shared_citizen


async def test_dossier_changes(
    api: httpx.AsyncClient, emulator: httpx.AsyncClient, citizen: Any, module_agency: Any
) -> None:
    agency = await module_agency([FREE])
    code = (await submitted(api, citizen, FREE))["code"]
    await flushed_in_the_request(emulator, citizen, Dossier, {"code": code}, "dossier_status")

    withdrawn = await api.post(f"/api/v1/me/dossiers/{code}/withdraw", json={}, headers=citizen.headers)
    assert withdrawn.status_code == 200, withdrawn.text
    await flushed_in_the_request(emulator, citizen, Dossier, {"code": code}, "dossier_status")

    other = (await submitted(api, citizen, FREE))["code"]
    answer = await event(api, agency, other, "received")
    assert answer.status_code == 200, answer.text
    await flushed_in_the_request(emulator, citizen, Dossier, {"code": other}, "dossier_status")

    assert (await event(api, agency, other, "supplement_required", note=NOTE)).status_code == 200
    answered = await api.post(
        f"/api/v1/me/dossiers/{other}/supplement/answers",
        json={"item_id": "1", "text": "Đã chụp lại."},
        headers=citizen.headers,
    )
    assert answered.status_code == 200 and answered.json()["status"] == "processing", answered.text
    await flushed_in_the_request(emulator, citizen, Dossier, {"code": other}, "dossier_status")


async def test_postal_update(
    api: httpx.AsyncClient, emulator: httpx.AsyncClient, citizen: Any, module_agency: Any
) -> None:
    agency = await module_agency([FREE])
    code = (await submitted(api, citizen, FREE, delivery={"method": "postal", "address": "5 Tràng Tiền, Hà Nội"}))[
        "code"
    ]
    await confirm_payment(api, citizen, code)
    await move(api, agency, code, "none", "received", "processing", "approved", "result_ready")
    creds = await create_operator(f"POST{uuid.uuid4().hex[:4].upper()}", "Bưu điện thử nghiệm")
    token = await api.post(
        "/api/v1/postal/token", json={"client_id": creds["client_id"], "client_secret": creds["client_secret"]}
    )
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    accepted = await api.post(
        f"/api/v1/postal/shipments/{code}/updates",
        json={"event_id": uuid.uuid4().hex, "status": "accepted", "tracking_number": "EB123456789VN"},
        headers=headers,
    )
    assert accepted.status_code == 200, accepted.text
    await flushed_in_the_request(emulator, citizen, Dossier, {"code": code}, "delivery_update")


async def test_payment_callback(
    api: httpx.AsyncClient, emulator: httpx.AsyncClient, citizen: Any, module_agency: Any
) -> None:
    await module_agency(["CRIMINAL_RECORD"])
    code = (await submitted(api, citizen, "CRIMINAL_RECORD"))["code"]
    await confirm_payment(api, citizen, code)
    await flushed_in_the_request(emulator, citizen, Dossier, {"code": code}, "payment_confirmed")


async def test_wallet_changes(api: httpx.AsyncClient, emulator: httpx.AsyncClient, citizen: Any) -> None:
    from app.cli import create_agency

    code = f"WL{secrets.token_hex(3).upper()}"
    creds = await create_agency(code, f"Wallet test agency {code}", [], ["driver_licence"])
    token = await api.post(
        "/api/v1/agency/token", json={"client_id": creds["client_id"], "client_secret": creds["client_secret"]}
    )
    issuer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    issued = await api.post(
        "/api/v1/agency/documents",
        json={"event_id": uuid.uuid4().hex, "national_id": citizen.national_id, **LICENCE},
        headers=issuer,
    )
    assert issued.status_code == 201, issued.text
    document_id = ObjectId(issued.json()["id"])
    await flushed_in_the_request(emulator, citizen, WalletDocument, {"_id": document_id}, "document_issued")

    suspended = await api.post(
        f"/api/v1/agency/documents/{document_id}/events",
        json={"event_id": uuid.uuid4().hex, "status": "suspended", "reason": "Đang xác minh"},
        headers=issuer,
    )
    assert suspended.status_code == 200, suspended.text
    await flushed_in_the_request(emulator, citizen, WalletDocument, {"_id": document_id}, "document_suspended")

    reinstated = await api.post(
        f"/api/v1/agency/documents/{document_id}/events",
        json={"event_id": uuid.uuid4().hex, "status": "valid", "reason": "Đã xác minh"},
        headers=issuer,
    )
    assert reinstated.status_code == 200, reinstated.text
    renewed = await api.post(
        f"/api/v1/agency/documents/{document_id}/renewals",
        json={"event_id": uuid.uuid4().hex, "valid_from": "2026-12-01", "valid_until": "2036-12-01"},
        headers=issuer,
    )
    assert renewed.status_code == 201, renewed.text
    new_id = ObjectId(renewed.json()["id"])
    await flushed_in_the_request(emulator, citizen, WalletDocument, {"_id": new_id}, "document_renewed")


async def test_support_lookup(
    api: httpx.AsyncClient, emulator: httpx.AsyncClient, citizen: Any, make_staff: Any
) -> None:
    staff = await make_staff()
    answer = await api.post(
        "/api/v1/support/lookups",
        json={"national_id": citizen.national_id, "reason": "Giúp công dân gia hạn giấy phép lái xe"},
        headers=staff.headers,
    )
    assert answer.status_code == 201, answer.text
    await flushed_in_the_request(
        emulator, citizen, SupportLookup, {"_id": ObjectId(answer.json()["id"])}, "support_lookup"
    )
