"""Helpers of the dossier suite: submit, move, pay, wait for pushes (plain functions)."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
import uuid
from typing import Any

import httpx

from tests.support import FORMS

DEADLINE_SECONDS = 30.0
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
RESULTS: dict[str, dict[str, Any]] = {
    "BIRTH_REGISTRATION": {
        "type": "birth_certificate",
        "number": "KS-2026-0001",
        "valid_from": "2026-11-20",
        "fields": {"sex": "female", "place_of_birth": "Bệnh viện Từ Dũ", "registration_office": "UBND phường Bến Nghé"},
    },
    "DL_RENEWAL": {
        "type": "driver_licence",
        "number": "790123456789",
        "valid_from": "2026-11-22",
        "fields": {"classes": ["B2"]},
    },
    "PASSPORT": {
        "type": "passport",
        "number": "C1234567",
        "valid_from": "2026-11-22",
        "fields": {"place_of_issue": "Cục Quản lý xuất nhập cảnh"},
    },
}


async def upload(api: httpx.AsyncClient, citizen: Any, content: bytes = PDF, name: str = "scan.pdf") -> httpx.Response:
    return await api.post(
        "/api/v1/me/attachments", files={"data": (name, content, "application/octet-stream")}, headers=citizen.headers
    )


async def submit(
    api: httpx.AsyncClient,
    citizen: Any,
    service_code: str,
    *,
    form: dict[str, Any] | None = None,
    delivery: dict[str, Any] | None = None,
    attachments: list[dict[str, Any]] | None = None,
    language: str = "en",
) -> httpx.Response:
    return await api.post(
        "/api/v1/me/dossiers",
        json={
            "service_code": service_code,
            "form": FORMS[service_code] if form is None else form,
            "delivery": delivery or {"method": "online"},
            "attachments": attachments or [],
        },
        headers={**citizen.headers, "Idempotency-Key": uuid.uuid4().hex, "Accept-Language": language},
    )


async def submitted(api: httpx.AsyncClient, citizen: Any, service_code: str, **kwargs: Any) -> dict[str, Any]:
    answer = await submit(api, citizen, service_code, **kwargs)
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def event(api: httpx.AsyncClient, agency: Any, code: str, status: str, **extra: Any) -> httpx.Response:
    body = {"event_id": f"evt-{uuid.uuid4().hex}", "status": status, **extra}
    return await api.post(
        f"/api/v1/agency/dossiers/{code}/events", json=body, headers={**agency.headers, "Accept-Language": "en"}
    )


def event_extra(status: str, service_code: str) -> dict[str, Any]:
    """What an agency sends with a move: a note where one is needed, the result document."""
    if status in ("rejected", "supplement_required"):
        return {"note": "Ảnh giấy tờ bị mờ; hãy chụp lại rõ nét và gửi bổ sung."}
    if status == "result_ready" and service_code in RESULTS:
        return {"result": {"document": RESULTS[service_code]}}
    return {}


async def move(api: httpx.AsyncClient, agency: Any, code: str, service_code: str, *statuses: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for status in statuses:
        answer = await event(api, agency, code, status, **event_extra(status, service_code))
        assert answer.status_code == 200, (status, answer.text)
        body = answer.json()
    return body


async def dossier(api: httpx.AsyncClient, citizen: Any, code: str, language: str = "en") -> dict[str, Any]:
    answer = await api.get(f"/api/v1/me/dossiers/{code}", headers={**citizen.headers, "Accept-Language": language})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def pay(
    api: httpx.AsyncClient, simulator: httpx.AsyncClient, citizen: Any, code: str, outcome: str = "paid"
) -> dict[str, Any]:
    """The citizen opens the dossier's pay link at the provider and pays; the provider calls us back."""
    pay_url = (await dossier(api, citizen, code))["payment"]["pay_url"]
    opened = await simulator.get(pay_url)
    assert opened.status_code == 200, opened.text
    reference = opened.json()["reference"]
    paid = await simulator.post(f"/simulator/checkouts/{reference}/pay", json={"outcome": outcome})
    assert paid.status_code == 200, paid.text
    result: dict[str, Any] = paid.json()
    return result


async def pushes_for(emulator: httpx.AsyncClient, token: str, at_least: int) -> list[dict[str, Any]]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_SECONDS
    while True:
        messages: list[dict[str, Any]] = (await emulator.get("/emulator/messages", params={"token": token})).json()[
            "messages"
        ]
        if len(messages) >= at_least or loop.time() > deadline:
            return messages
        await asyncio.sleep(0.1)


async def confirm_payment(api: httpx.AsyncClient, citizen: Any, code: str) -> httpx.Response:
    """The provider's signed callback, as it sends it once the citizen has paid (without the simulator)."""
    from app.payments.service import callback_body
    from app.payments.signing import signature_header

    payment = (await dossier(api, citizen, code))["payment"]
    body = callback_body(payment["reference"], f"TX-{secrets.token_hex(4)}", "paid", payment["amount_vnd"],
                         int(time.time()), secrets.token_hex(8))  # fmt: skip
    signed = signature_header(os.environ["PAYMENT_SECRET"], body)
    answer = await api.post(
        "/api/v1/payments/callback", content=body, headers={"content-type": "application/json", "X-Signature": signed}
    )
    assert answer.status_code == 200, answer.text
    return answer
