"""The console over plain HTTP: its sessions and forms are hard to hijack, nothing personal is
cached, it adds no way around the API's rules (an agency's scope, the audit trail, the
citizen's notices)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from app.console import session
from models.agency import Staff
from models.support import SupportLookup
from tests.integration.console.helpers import Person, form_token, new_clerk, new_staff, post_form, sign_in
from tests.integration.dossiers.flows import PDF, move, submitted, upload
from tests.integration.support.test_support_desk import consent_code, issue_licence
from tests.support import FORMS, remember_secrets

DEADLINE_SECONDS = 30.0


@pytest.fixture
async def browser_like(api: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """The same app as `api`, with a cookie jar of its own (a browser, not an API client)."""
    async with httpx.AsyncClient(transport=api._transport, base_url="http://cwallet.test") as client:
        yield client


def _cookie_header(response: httpx.Response, name: str) -> str:
    found = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert found, f"no {name} cookie set"
    return found[-1].lower()


async def test_sessions_are_strict_cookies_that_end_and_pages_are_never_cached(browser_like: httpx.AsyncClient) -> None:
    form = await browser_like.get("/console/sign-in")
    assert form.status_code == 200 and "text/html" in form.headers["content-type"]
    assert form.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in form.headers["content-security-policy"]
    csrf = _cookie_header(form, "cw_csrf")
    assert "httponly" in csrf and "samesite=strict" in csrf and "path=/console" in csrf

    person = await new_staff()
    wrong = await sign_in(browser_like, person, otp="000000")
    assert wrong.status_code == 401 and "session" not in wrong.headers.get("set-cookie", "")
    assert "cw_console" not in wrong.headers.get("set-cookie", "")

    signed_in = await sign_in(browser_like, person)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/console/support"
    cookie = _cookie_header(signed_in, "cw_console")
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console" in cookie
    assert "max-age=1800" in cookie and "secure" not in cookie  # ENVIRONMENT=test: plain http
    production = session.cookie(SimpleNamespace(environment="production"), "x", 60)  # type: ignore[arg-type]
    assert production.secure and production.httponly and production.samesite == "strict"

    desk = await browser_like.get("/console/support")
    assert desk.status_code == 200 and person.username in desk.text and "<bound method" not in desk.text
    assert desk.headers["cache-control"] == "no-store"
    stolen = browser_like.cookies.get("cw_console")

    out = await post_form(browser_like, "/console/support", "/console/sign-out", {})
    assert out.status_code == 303
    # The old cookie, replayed after signing out, opens nothing: the session is gone on the server.
    async with httpx.AsyncClient(transport=browser_like._transport, base_url="http://cwallet.test") as thief:
        thief.cookies.set("cw_console", stolen or "", domain="cwallet.test", path="/console")
        replay = await thief.get("/console/support")
    assert replay.status_code == 303 and replay.headers["location"].startswith("/console/sign-in")
    # An htmx request of an ended session is told to load the sign-in page whole.
    lookup_again = await browser_like.get("/console/support", headers={"HX-Request": "true"})
    assert lookup_again.headers["hx-redirect"] == "/console/sign-in"


async def test_every_form_needs_its_csrf_token(browser_like: httpx.AsyncClient, make_citizen: Any) -> None:
    person = await new_staff()
    no_token = await browser_like.post(
        "/console/sign-in", data={"username": person.username, "password": person.password, "otp": person.code()}
    )
    assert no_token.status_code == 403 and "text/html" in no_token.headers["content-type"]
    assert (await sign_in(browser_like, person)).status_code == 303

    citizen = await make_citizen(devices=0)
    lookup = {"national_id": citizen.national_id, "reason": "Giúp gia hạn bằng lái"}
    refused = await browser_like.post("/console/support/lookups", data=lookup)
    forged = await browser_like.post("/console/support/lookups", data={**lookup, "_csrf_token": "0" * 128})
    assert refused.status_code == forged.status_code == 403
    assert await SupportLookup.find({"staff_username": person.username}).count() == 0

    accepted = await post_form(browser_like, "/console/support", "/console/support/lookups", lookup)
    assert accepted.status_code == 200, accepted.text
    assert f"*********{citizen.national_id[-3:]}" in accepted.text and citizen.national_id not in accepted.text
    assert await SupportLookup.find({"staff_username": person.username}).count() == 1


@pytest.mark.usefixtures("worker")
async def test_each_look_inside_an_assisted_session_is_pushed_to_the_citizen(
    api: httpx.AsyncClient,
    browser_like: httpx.AsyncClient,
    emulator: httpx.AsyncClient,
    make_citizen: Any,
    make_agency: Any,
) -> None:
    person, citizen = await new_staff(), await make_citizen(devices=1, locale="en")
    await issue_licence(api, await make_agency(["DL_RENEWAL"]), citizen)
    assert (await sign_in(browser_like, person)).status_code == 303
    code = await consent_code(api, citizen, ["view_wallet"])
    opened = await post_form(
        browser_like, "/console/support", "/console/support/sessions",
        {"national_id": citizen.national_id, "code": code, "reason": "Helping with a licence renewal"},
    )  # fmt: skip
    assert opened.status_code == 303, opened.text
    first = await browser_like.get(opened.headers["location"])
    assert first.status_code == 200 and "790123456789" in first.text and 'role="timer"' in first.text
    assert (await browser_like.get(opened.headers["location"])).status_code == 200

    # The opening, then each of the two looks: three notices, each naming who and why.
    loop = asyncio.get_running_loop()
    deadline, pushes = loop.time() + DEADLINE_SECONDS, []
    while loop.time() < deadline:
        messages = (await emulator.get("/emulator/messages", params={"token": citizen.device_tokens[0]})).json()
        pushes = [m for m in messages["messages"] if m["data"].get("type") == "support_lookup"]
        if len(pushes) >= 3:
            break
        await asyncio.sleep(0.1)
    assert len(pushes) == 3
    assert all(person.username in p["body"] and "licence renewal" in p["body"] for p in pushes)

    session_id = opened.headers["location"].rsplit("/", 1)[1]
    ended = await post_form(browser_like, opened.headers["location"], f"/console/support/sessions/{session_id}/end", {})
    assert ended.status_code == 303
    after = await browser_like.get(opened.headers["location"])
    assert after.status_code == 303 and after.headers["location"] == "/console/support?ended=1"


async def test_a_clerk_sees_only_their_agency_and_is_named_in_the_audit_trail(
    api: httpx.AsyncClient, browser_like: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    service = "TEMPORARY_ABSENCE"
    first = await make_agency([service])
    citizen = await make_citizen(devices=0)
    theirs = (await submitted(api, citizen, service))["code"]
    second = await make_agency([service])  # registered last: it receives the next dossiers
    ours = (await submitted(api, citizen, service))["code"]
    clerk = await new_clerk(second.code)
    assert (await sign_in(browser_like, clerk)).status_code == 303

    worklist = await browser_like.get("/console/agency/dossiers")
    assert worklist.status_code == 200 and ours in worklist.text and theirs not in worklist.text
    by_citizen = await browser_like.get("/console/agency/dossiers", params={"national_id": citizen.national_id})
    by_code = await browser_like.get("/console/agency/dossiers", params={"code": theirs})

    def listed(page: httpx.Response) -> set[str]:
        return set(re.findall(r'href="/console/agency/dossiers/([^"?/]+)"', page.text))

    assert listed(by_citizen) == {ours} and listed(by_code) == set()
    other = await browser_like.get(f"/console/agency/dossiers/{theirs}")
    assert other.status_code == 404 and theirs not in other.text
    mine = await browser_like.get(f"/console/agency/dossiers/{ours}")
    assert mine.status_code == 200 and citizen.national_id in mine.text
    assert "<bound method" not in worklist.text + mine.text  # every word of the page is a word

    moved = await post_form(browser_like, f"/console/agency/dossiers/{ours}", f"/console/agency/dossiers/{ours}/moves",
                            {"status": "received", "event_id": f"console-{uuid.uuid4().hex}"})  # fmt: skip
    assert moved.status_code == 303, moved.text
    log = (await api.get("/api/v1/me/access-log", headers=citizen.headers)).json()["items"]
    by_clerk = {e["action"] for e in log if e["actor"] == f"{second.code}/{clerk.username}"}
    assert {"dossier.read", "dossier.status.received"} <= by_clerk
    assert not [e for e in log if e["target"] == theirs and e["actor"].endswith(clerk.username)]
    # A clerk's pages are not the support desk's, and the reverse.
    assert (await browser_like.get("/console/support")).status_code == 403
    assert first.code != second.code and re.search(
        r"received", (await browser_like.get(f"/console/agency/dossiers/{ours}")).text
    )


async def test_a_csrf_token_works_only_with_its_own_cookie(
    browser_like: httpx.AsyncClient, api: httpx.AsyncClient
) -> None:
    person = await new_staff()
    assert (await sign_in(browser_like, person)).status_code == 303
    async with httpx.AsyncClient(transport=api._transport, base_url="http://cwallet.test") as attacker:
        token = await form_token(attacker, "/console/sign-in")  # valid, but for the attacker's own cookie
    answer = await browser_like.post("/console/sign-out", data={"_csrf_token": token})
    assert answer.status_code == 403
    assert (await browser_like.get("/console/support")).status_code == 200  # still signed in


async def test_the_desk_files_a_dossier_for_the_citizen_within_the_session(
    api: httpx.AsyncClient, browser_like: httpx.AsyncClient, make_citizen: Any
) -> None:
    person, citizen = await new_staff(), await make_citizen(devices=0)
    assert (await sign_in(browser_like, person)).status_code == 303
    code = await consent_code(api, citizen, ["submit_dossier"])
    opened = await post_form(
        browser_like, "/console/support", "/console/support/sessions",
        {"national_id": citizen.national_id, "code": code, "reason": "Khai báo tạm vắng tại quầy"},
    )  # fmt: skip
    session_page = opened.headers["location"]
    shown = await browser_like.get(session_page)
    assert shown.status_code == 200 and 'id="wallet"' not in shown.text  # no view_wallet: no wallet
    fields = await browser_like.get(f"{session_page}/form", params={"service": "TEMPORARY_ABSENCE"})
    assert fields.status_code == 200 and 'name="f_destination_address"' in fields.text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', fields.text)
    assert key is not None
    form = {f"f_{name}": str(value) for name, value in FORMS["TEMPORARY_ABSENCE"].items()}
    body = {**form, "service_code": "TEMPORARY_ABSENCE", "idempotency_key": key.group(1)}
    first = await post_form(browser_like, session_page, f"{session_page}/dossiers", body)
    again = await post_form(browser_like, session_page, f"{session_page}/dossiers", body)  # a double click
    assert first.status_code == again.status_code == 303, first.text
    assert first.headers["location"] == again.headers["location"]
    filed = first.headers["location"].split("filed=")[1]

    mine = (await api.get("/api/v1/me/dossiers", headers=citizen.headers)).json()["items"]
    assert [d["code"] for d in mine] == [filed]
    log = (await api.get("/api/v1/me/access-log", headers=citizen.headers)).json()["items"]
    assisted = [e for e in log if e["action"] == "dossier.submit.assisted"]
    assert [(e["target"], e["actor"]) for e in assisted] == [(filed, person.username)]


async def test_a_clerk_issues_the_result_document_into_the_wallet(
    api: httpx.AsyncClient, browser_like: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    service = "BIRTH_REGISTRATION"  # free; its result is a birth certificate in the wallet
    agency, citizen = await make_agency([service]), await make_citizen(devices=0)
    code = (await submitted(api, citizen, service))["code"]
    await move(api, agency, code, service, "received", "processing", "approved")
    clerk = await new_clerk(agency.code)
    assert (await sign_in(browser_like, clerk)).status_code == 303
    page = f"/console/agency/dossiers/{code}"
    shown = await browser_like.get(page)
    assert 'name="doc_field_place_of_birth"' in shown.text and 'name="doc_field_sex"' in shown.text

    document = {
        "doc_number": "KS-2026-0042",
        "doc_valid_from": "2026-11-20",
        "doc_field_sex": "female",
        "doc_field_place_of_birth": "Bệnh viện Từ Dũ",
        "doc_field_registration_office": "UBND phường Bến Nghé",
    }
    wrong = await post_form(browser_like, page, f"{page}/moves", {**document, "status": "result_ready",
                                                                  "doc_field_sex": "unknown"})  # fmt: skip
    shown_problem = re.search(r'<div class="problem" role="alert".*?</div>', wrong.text, flags=re.DOTALL)
    assert wrong.status_code == 422 and shown_problem and "sex" in shown_problem.group(0)  # the wallet's own check
    issued = await post_form(browser_like, page, f"{page}/moves", {**document, "status": "result_ready"})
    assert issued.status_code == 303, issued.text
    wallet = (await api.get("/api/v1/me/documents", headers=citizen.headers)).json()["items"]
    assert [(d["type"], d["number"]) for d in wallet] == [("birth_certificate", "KS-2026-0042")]
    assert (await browser_like.get(page)).text.count("result_ready") >= 1


async def test_an_admin_makes_and_disables_clerks_and_rotates_an_agency_secret(
    api: httpx.AsyncClient, browser_like: httpx.AsyncClient, make_agency: Any
) -> None:
    agency = await make_agency(["TEMPORARY_ABSENCE"])
    desk, admin = await new_staff(), await new_staff(role="admin")
    assert (await sign_in(browser_like, desk)).status_code == 303
    assert (await browser_like.get("/console/admin/accounts")).status_code == 403  # support staff: not theirs
    await post_form(browser_like, "/console/support", "/console/sign-out", {})
    assert (await sign_in(browser_like, admin)).status_code == 303

    username = f"clerk.{uuid.uuid4().hex[:6]}"
    made = await post_form(browser_like, "/console/admin/accounts", "/console/admin/clerks",
                           {"agency_code": agency.code, "username": username, "role": "clerk"})  # fmt: skip
    assert made.status_code == 200, made.text
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', made.text)
    password = re.search(r"<dt>[^<]+</dt><dd><code>([^<]+)</code>", made.text)
    assert secret and password
    remember_secrets(secret.group(1), password.group(1))
    clerk = Person(username, password.group(1), secret.group(1), "clerk", agency.code)
    async with httpx.AsyncClient(transport=api._transport, base_url="http://cwallet.test") as clerks_browser:
        assert (await sign_in(clerks_browser, clerk)).status_code == 303
        assert (await clerks_browser.get("/console/agency/dossiers")).status_code == 200
        off = await post_form(browser_like, "/console/admin/accounts", f"/console/admin/clerks/{username}/disable", {})
        assert off.status_code == 303
        # Disabled: the clerk's open session ends at its next request.
        after = await clerks_browser.get("/console/agency/dossiers")
        assert after.status_code == 303 and after.headers["location"].startswith("/console/sign-in")

    staff_name = f"desk.{uuid.uuid4().hex[:6]}"
    form = {"username": staff_name, "role": "support", "office": "Bưu điện Hà Đông"}
    made = await post_form(browser_like, "/console/admin/accounts", "/console/admin/staff", form)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', made.text)
    password = re.search(r"<dd><code>([^<]+)</code>", made.text)
    assert made.status_code == 200 and secret and password
    remember_secrets(secret.group(1), password.group(1))
    again = await post_form(browser_like, "/console/admin/accounts", "/console/admin/staff", form)
    assert again.status_code == 409 and staff_name in again.text
    stored = await Staff.find_one(Staff.username == staff_name)
    assert stored is not None and stored.office == "Bưu điện Hà Đông"  # what citizens are told
    async with httpx.AsyncClient(transport=api._transport, base_url="http://cwallet.test") as desk_browser:
        new_desk = Person(staff_name, password.group(1), secret.group(1), "staff")
        assert (await sign_in(desk_browser, new_desk)).status_code == 303

    rotated = await post_form(
        browser_like, "/console/admin/accounts", f"/console/admin/agencies/{agency.code}/rotate", {}
    )
    new_secret = re.search(r'id="client-secret">([^<]+)<', rotated.text)
    assert rotated.status_code == 200 and new_secret
    remember_secrets(new_secret.group(1))
    for secret_now in (new_secret.group(1), agency.client_secret):  # the old one works for the overlap
        token = await api.post(
            "/api/v1/agency/token", json={"client_id": agency.client_id, "client_secret": secret_now}
        )
        assert token.status_code == 200, token.text


async def test_hostile_input_gets_a_page_that_says_what_is_wrong_never_a_500(
    browser_like: httpx.AsyncClient, make_agency: Any
) -> None:
    clerk = await new_clerk((await make_agency(["TEMPORARY_ABSENCE"])).code)
    assert (await sign_in(browser_like, clerk)).status_code == 303
    for path in (
        "/console/agency/dossiers?cursor=%00%ff",
        "/console/agency/dossiers?status=done&deadline=soon",
        "/console/agency/dossiers/" + "x" * 3000,
        "/console/support",  # the desk is for support staff
        "/console/agency/performance",  # a clerk, not a head
        "/console/support/sessions/not-an-id",
    ):
        answer = await browser_like.get(path)
        assert 400 <= answer.status_code < 500, (path, answer.status_code)
        assert "text/html" in answer.headers["content-type"], path
    bad = await browser_like.get("/console/agency/dossiers?deadline=soon")
    assert "soon" in bad.text  # the problem, in words, on the page
    token = await form_token(browser_like, "/console/agency/dossiers")
    code = "HS-NOT-A-DOSSIER"
    for form in ({"status": "nonsense"}, {"status": "received", "note": "x" * 10_000}, {"kind": "x" * 99}):
        answer = await browser_like.post(f"/console/agency/dossiers/{code}/moves", data={**form, "_csrf_token": token})
        assert 400 <= answer.status_code < 500, (form, answer.status_code)


async def test_failed_console_sign_ins_are_throttled_as_the_apis_are(api: httpx.AsyncClient, make_agency: Any) -> None:
    from app.config import get_settings
    from tests.integration.identity.helpers import client_from

    clerk = await new_clerk((await make_agency(["TEMPORARY_ABSENCE"])).code)
    for _ in range(get_settings().failed_sign_ins_per_account_hour):
        async with client_from(api) as client:  # each from its own address: the account's window counts
            assert (await sign_in(client, clerk, password="not the password", otp="000000")).status_code == 401
    async with client_from(api) as client:
        refused = await sign_in(client, clerk)  # even the right password waits
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert "text/html" in refused.headers["content-type"] and "cw_console" not in refused.headers.get("set-cookie", "")


async def test_a_dossiers_pdf_is_previewed_in_a_frame_of_the_console_only(
    api: httpx.AsyncClient, browser_like: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    service = "TEMPORARY_RESIDENCE"  # one paper to upload: the proof of residence
    agency, citizen = await make_agency([service]), await make_citizen(devices=0)
    uploaded = (await upload(api, citizen, PDF, "proof.pdf")).json()["id"]
    code = (
        await submitted(api, citizen, service, attachments=[{"name": "proof_of_residence", "upload_id": uploaded}])
    )["code"]
    clerk = await new_clerk(agency.code)
    assert (await sign_in(browser_like, clerk)).status_code == 303
    url = f"/console/agency/dossiers/{code}/attachments/{uploaded}"
    page = await browser_like.get(f"/console/agency/dossiers/{code}")
    assert f'<iframe src="{url}"' in page.text
    paper = await browser_like.get(url)
    assert paper.status_code == 200 and paper.content == PDF
    assert (
        paper.headers["x-frame-options"] == "SAMEORIGIN"
        and "frame-ancestors 'self'" in paper.headers["content-security-policy"]
    )
    assert paper.headers["cache-control"] == "no-store"
    # Everywhere else framing stays forbidden.
    assert page.headers["x-frame-options"] == "DENY"
    log = (await api.get("/api/v1/me/access-log", headers=citizen.headers)).json()["items"]
    assert {"dossier.read", "attachment.read"} <= {e["action"] for e in log if e["actor"].endswith(clerk.username)}
