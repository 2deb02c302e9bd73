"""Papers: PDF, JPEG or PNG by their content (never their name), within the size cap, stored
in GridFS, reachable only by their owner and the agency handling the dossier."""

from __future__ import annotations

from typing import Any

import httpx

from app.config import get_settings
from models.dossier import Dossier
from tests.integration.dossiers.flows import JPEG, PDF, PNG, submit, submitted, upload

SERVICE = "SECURITY_ORDER_BUSINESS"  # three required uploads
PAPERS = ("business_registration_certificate", "fire_safety_documents", "personal_history_declaration")


async def test_accepted_types_are_recognised_by_content(api: httpx.AsyncClient, shared_citizen: Any) -> None:
    for content, name, expected in (
        (PDF, "giay-phep.PDF", "application/pdf"),
        (JPEG, "anh.jpg", "image/jpeg"),
        (PNG, "no-extension", "image/png"),
        # The name lies the other way round: content decides.
        (PNG + b"x", "scan.pdf", "image/png"),
    ):
        answer = await upload(api, shared_citizen, content, name)
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert body["content_type"] == expected and body["size"] == len(content)
        fetched = await api.get(f"/api/v1/me/attachments/{body['id']}", headers=shared_citizen.headers)
        assert fetched.status_code == 200 and fetched.content == content
        assert fetched.headers["content-type"].startswith(expected)


async def test_a_file_named_pdf_that_is_not_a_pdf_is_refused(api: httpx.AsyncClient, shared_citizen: Any) -> None:
    for content in (b"MZ\x90\x00 this is a windows program", b"<html><script>alert(1)</script></html>", b"%PD"):
        answer = await api.post(
            "/api/v1/me/attachments",
            files={"data": ("giay-bao-tu.pdf", content, "application/pdf")},
            headers={**shared_citizen.headers, "Accept-Language": "en"},
        )
        assert answer.status_code == 415, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["code"] == "unsupported-file-type"
        assert "PDF, JPEG or PNG" in answer.json()["detail"]
    empty = await upload(api, shared_citizen, b"", "empty.pdf")
    assert empty.status_code == 422 and empty.json()["code"] == "empty-file"


async def test_a_file_over_the_cap_is_refused(api: httpx.AsyncClient, shared_citizen: Any) -> None:
    cap = get_settings().attachment_max_bytes
    too_big = await upload(api, shared_citizen, PDF + b"0" * (cap - len(PDF) + 1), "big.pdf")
    assert too_big.status_code == 413 and too_big.json()["code"] == "file-too-large"
    just_fits = await upload(api, shared_citizen, PDF + b"1" * (cap - len(PDF)), "fits.pdf")
    assert just_fits.status_code == 201 and just_fits.json()["size"] == cap


async def test_the_same_file_twice_is_stored_once(api: httpx.AsyncClient, shared_citizen: Any) -> None:
    first = await upload(api, shared_citizen, PDF + b"same", "a.pdf")
    second = await upload(api, shared_citizen, PDF + b"same", "b.pdf")
    assert first.json()["id"] == second.json()["id"]


async def test_papers_are_checked_on_submission(
    api: httpx.AsyncClient, shared_citizen: Any, make_citizen: Any, module_agency: Any
) -> None:
    await module_agency([SERVICE])
    citizen = shared_citizen
    ids = [(await upload(api, citizen, PDF + name.encode())).json()["id"] for name in PAPERS]
    stranger = await make_citizen(devices=0)
    theirs = (await upload(api, stranger, PDF + b"someone else's")).json()["id"]

    missing = await submit(api, citizen, SERVICE, attachments=[{"name": PAPERS[0], "upload_id": ids[0]}])
    assert missing.status_code == 422
    assert sorted(e["field"] for e in missing.json()["errors"]) == [f"attachments.{p}" for p in sorted(PAPERS[1:])]

    wrong = await submit(
        api,
        citizen,
        SERVICE,
        attachments=[
            {"name": PAPERS[0], "upload_id": theirs},
            {"name": PAPERS[1], "upload_id": ids[1], "document_id": ids[1]},
            {"name": PAPERS[2], "upload_id": ids[2]},
            {"name": "selfie", "upload_id": ids[2]},
        ],
    )
    assert wrong.status_code == 422
    fields = sorted(e["field"] for e in wrong.json()["errors"])
    assert fields == ["attachments[0]", "attachments[1]", "attachments[3].name"]
    # Another citizen's upload reads like one that does not exist.
    assert "No such upload" in wrong.json()["errors"][0]["message"]
    assert await Dossier.find({"citizen_id": _oid(citizen.id), "service_code": SERVICE}).count() == 0
    assert (await api.get(f"/api/v1/me/attachments/{theirs}", headers=citizen.headers)).status_code == 404

    ok = await submitted(
        api, citizen, SERVICE, attachments=[{"name": n, "upload_id": i} for n, i in zip(PAPERS, ids, strict=True)]
    )
    assert [(a["name"], a["source"], a["content_type"]) for a in ok["attachments"]] == [
        (n, "upload", "application/pdf") for n in PAPERS
    ]


async def test_a_wallet_document_stands_in_for_a_paper_only_where_the_procedure_says(
    api: httpx.AsyncClient, shared_citizen: Any, module_agency: Any
) -> None:
    citizen = shared_citizen
    csgt = await module_agency(["DL_RENEWAL"])
    issued = await api.post(
        "/api/v1/agency/documents",
        json={
            "event_id": f"lic-{citizen.id}",
            "national_id": citizen.national_id,
            "type": "driver_licence",
            "number": "790123456789",
            "valid_from": "2016-01-01",
            "valid_until": "2036-01-01",
            "fields": {"classes": ["B2"]},
        },
        headers=csgt.headers,
    )
    licence = issued.json()["id"]
    fits = await submitted(
        api, citizen, "DL_RENEWAL", attachments=[{"name": "current_licence", "document_id": licence}]
    )
    assert fits["attachments"][0] | {"added_at": None} == {
        "name": "current_licence",
        "source": "wallet",
        "document_id": licence,
        "document_type": "driver_licence",
        "upload_id": None,
        "content_type": None,
        "size": None,
        "added_at": None,
    }
    scan = (await upload(api, citizen, PDF + b"licence scan")).json()["id"]
    upload_refused = await submit(
        api, citizen, "DL_RENEWAL", attachments=[{"name": "current_licence", "upload_id": scan}]
    )
    assert upload_refused.status_code == 422 and "wallet" in upload_refused.json()["errors"][0]["message"]
    wrong_type = await submit(
        api, citizen, "DL_RENEWAL", attachments=[{"name": "health_certificate", "document_id": licence}]
    )
    assert wrong_type.status_code == 422 and "health_record" in wrong_type.json()["errors"][0]["message"]


def _oid(value: str) -> Any:
    from beanie import PydanticObjectId

    return PydanticObjectId(value)
