"""Papers filed from the console within an assisted session: uploaded on the citizen's behalf
through the citizen's own upload checks, or picked from their wallet; audited as the staff
member; a refused filing keeps nothing; hostile multipart bodies get a 4xx page."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.dossiers.upload_store import BUCKET
from models.citizen import Citizen
from models.dossier import Dossier
from tests.integration.console.helpers import form_token, new_staff, post_form, sign_in
from tests.integration.dossiers.flows import PDF
from tests.integration.support.test_support_desk import consent_code, issue_licence
from tests.support import FORMS

RESIDENCE = "TEMPORARY_RESIDENCE"  # one required paper, upload only: the proof of residence
PAPER = "paper_proof_of_residence"


@pytest.fixture
async def browser_like(api: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=api._transport, base_url="http://cwallet.test") as client:
        yield client


async def _session(api: httpx.AsyncClient, client: httpx.AsyncClient, citizen: Any, scopes: list[str]) -> str:
    """A staff member signed in on `client`, in an assisted session with the citizen: its page's path."""
    person = await new_staff()
    assert (await sign_in(client, person)).status_code == 303
    client.headers["x-test-staff"] = person.username  # for the assertions below, not the app
    opened = await post_form(
        client, "/console/support", "/console/support/sessions",
        {"national_id": citizen.national_id, "code": await consent_code(api, citizen, scopes),
         "reason": "Nộp hồ sơ tại quầy"},
    )  # fmt: skip
    assert opened.status_code == 303, opened.text
    return str(opened.headers["location"])


def _fields(service: str) -> dict[str, str]:
    return {f"f_{name}": str(value) for name, value in FORMS[service].items()} | {"service_code": service}


async def _uploads_of(citizen: Any) -> int:
    owner = await Citizen.find_one({"national_id": citizen.national_id})
    assert owner is not None
    files = Dossier.get_pymongo_collection().database[f"{BUCKET}.files"]
    return int(await files.count_documents({"metadata.citizen_id": owner.id}))


async def _file(
    client: httpx.AsyncClient, session_page: str, data: dict[str, str], files: Any = None
) -> httpx.Response:
    token = await form_token(client, session_page)
    return await client.post(f"{session_page}/dossiers", data={**data, "_csrf_token": token}, files=files)


async def test_the_desk_uploads_a_required_paper_for_the_citizen_and_a_refused_filing_keeps_nothing(
    api: httpx.AsyncClient, browser_like: httpx.AsyncClient, make_citizen: Any
) -> None:
    citizen = await make_citizen(devices=0)
    session_page = await _session(api, browser_like, citizen, ["submit_dossier"])
    form = await browser_like.get(f"{session_page}/form", params={"service": RESIDENCE, "lang": "en"})
    assert 'enctype="multipart/form-data"' in form.text and f'name="{PAPER}"' in form.text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form.text)
    assert key is not None
    fields = {**_fields(RESIDENCE), "idempotency_key": key.group(1)}

    missing = await _file(browser_like, session_page, fields, files={"unrelated": ("a.txt", b"x")})
    assert missing.status_code == 422 and "The required paper 'Proof of lawful residence" in html.unescape(missing.text)
    not_pdf = await _file(browser_like, session_page, fields, files={PAPER: ("lease.pdf", b"MZ\x90\x00 not a pdf")})
    assert not_pdf.status_code == 415
    assert "Proof of lawful residence" in html.unescape(not_pdf.text) and "PDF, JPEG or PNG" in not_pdf.text
    # A good file with the form half filled: refused, and the file it brought is not kept.
    half = {k: v for k, v in fields.items() if k != "f_months"}
    refused = await _file(browser_like, session_page, half, files={PAPER: ("lease.pdf", PDF, "application/pdf")})
    assert refused.status_code == 422 and "months" in refused.text
    assert await _uploads_of(citizen) == 0

    filed = await _file(browser_like, session_page, fields, files={PAPER: ("lease.pdf", PDF, "application/pdf")})
    assert filed.status_code == 303, filed.text
    code = filed.headers["location"].split("filed=")[1]
    dossier = (await api.get(f"/api/v1/me/dossiers/{code}", headers=citizen.headers)).json()
    [paper] = dossier["attachments"]
    assert (paper["name"], paper["source"]) == ("proof_of_residence", "upload")
    assert paper["content_type"] == "application/pdf"
    kept = await api.get(f"/api/v1/me/attachments/{paper['upload_id']}", headers=citizen.headers)
    assert kept.status_code == 200 and kept.content == PDF
    assert await _uploads_of(citizen) == 1

    staff = browser_like.headers["x-test-staff"]
    log = (await api.get("/api/v1/me/access-log", headers=citizen.headers)).json()["items"]
    done = {(e["action"], e["target"]): e["actor"] for e in log if e["action"].endswith(".assisted")}
    assert done == {("dossier.submit.assisted", code): staff, ("attachment.upload.assisted", paper["upload_id"]): staff}


async def test_a_filing_sent_many_times_at_once_files_one_dossier_and_keeps_one_copy_of_its_paper(
    api: httpx.AsyncClient, browser_like: httpx.AsyncClient, make_citizen: Any
) -> None:
    citizen = await make_citizen(devices=0)
    session_page = await _session(api, browser_like, citizen, ["submit_dossier"])
    form = await browser_like.get(f"{session_page}/form", params={"service": RESIDENCE})
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form.text)
    assert key is not None
    body = {
        **_fields(RESIDENCE),
        "idempotency_key": key.group(1),
        "_csrf_token": await form_token(browser_like, session_page),
    }
    answers = await asyncio.gather(
        *(browser_like.post(f"{session_page}/dossiers", data=body, files={PAPER: ("lease.pdf", PDF)}) for _ in range(4))
    )
    assert [a.status_code for a in answers] == [303] * 4, [a.text[-400:] for a in answers if a.status_code != 303]
    assert len({a.headers["location"] for a in answers}) == 1
    assert len((await api.get("/api/v1/me/dossiers", headers=citizen.headers)).json()["items"]) == 1
    assert await _uploads_of(citizen) == 1


async def test_the_desk_picks_a_paper_from_the_wallet_when_the_session_shows_it(
    api: httpx.AsyncClient, browser_like: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    citizen = await make_citizen(devices=0)
    await issue_licence(api, await make_agency(["DL_RENEWAL"]), citizen)
    licence = (await api.get("/api/v1/me/documents", headers=citizen.headers)).json()["items"][0]["id"]
    session_page = await _session(api, browser_like, citizen, ["view_wallet", "submit_dossier"])
    form = await browser_like.get(f"{session_page}/form", params={"service": "DL_RENEWAL"})
    assert 'name="doc_current_licence"' in form.text and f'<option value="{licence}">' in form.text
    filed = await _file(browser_like, session_page, {**_fields("DL_RENEWAL"), "doc_current_licence": licence})
    assert filed.status_code == 303, filed.text
    code = filed.headers["location"].split("filed=")[1]
    dossier = (await api.get(f"/api/v1/me/dossiers/{code}", headers=citizen.headers)).json()
    assert [(a["name"], a["source"], a["document_id"]) for a in dossier["attachments"]] == [
        ("current_licence", "wallet", licence)
    ]


async def test_hostile_multipart_filings_get_a_page_never_a_500_and_store_nothing(
    api: httpx.AsyncClient, browser_like: httpx.AsyncClient, make_citizen: Any
) -> None:
    citizen = await make_citizen(devices=0)
    session_page = await _session(api, browser_like, citizen, ["submit_dossier"])
    path, fields = f"{session_page}/dossiers", _fields(RESIDENCE)
    token = await form_token(browser_like, session_page)
    shaped: list[tuple[dict[str, str], Any]] = [
        ({}, {"unrelated": ("a.bin", b"x")}),  # no file part for the required paper
        ({}, {PAPER: ("empty.pdf", b"")}),  # an empty file
        ({PAPER: "not a file"}, {"unrelated": ("a.bin", b"x")}),  # text where a file belongs
        ({}, {"doc_proof_of_residence": ("id.txt", b"abc"), "service_code": ("s.txt", b"x")}),  # files for text
        ({"doc_proof_of_residence": "not-an-id"}, {"unrelated": ("a.bin", b"x")}),  # a wallet paper it cannot take
        ({"f_months": "many"}, {PAPER: ("scan.pdf", PDF)}),  # a good file, a bad field
    ]
    for data, files in shaped:
        answer = await browser_like.post(path, data={**fields, **data, "_csrf_token": token}, files=files)
        assert 400 <= answer.status_code < 500, (data, files, answer.status_code)
        assert "text/html" in answer.headers["content-type"]
    boundary = "cwallet-hostile"
    raw_bodies = [
        ("multipart/form-data", b"--x\r\n"),  # no boundary named
        (f"multipart/form-data; boundary={boundary}", f"--{boundary}\r\nContent-Dispo".encode()),  # cut short
        (
            f"multipart/form-data; boundary={boundary}",  # the CSRF token sent as a file
            f'--{boundary}\r\nContent-Disposition: form-data; name="_csrf_token"; filename="t"\r\n\r\n{token}\r\n'
            f"--{boundary}--\r\n".encode(),
        ),
        (
            f"multipart/form-data; boundary={boundary}",  # a text field that is not UTF-8
            f'--{boundary}\r\nContent-Disposition: form-data; name="_csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="service_code"\r\n\r\n'.encode()
            + b"\xff\xfe\r\n"
            + f"--{boundary}--\r\n".encode(),
        ),
    ]
    for content_type, body in raw_bodies:
        answer = await browser_like.post(path, content=body, headers={"content-type": content_type})
        assert 400 <= answer.status_code < 500, (body[:80], answer.status_code)
    # A session whose consent does not cover filing takes no file either.
    viewing = await post_form(
        browser_like, "/console/support", "/console/support/sessions",
        {"national_id": citizen.national_id, "code": await consent_code(api, citizen, ["view_wallet"]),
         "reason": "Xem ví"},
    )  # fmt: skip
    refused = await browser_like.post(
        f"{viewing.headers['location']}/dossiers", data={**fields, "_csrf_token": token}, files={PAPER: ("s.pdf", PDF)}
    )
    assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    assert await _uploads_of(citizen) == 0
