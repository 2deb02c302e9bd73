"""The console in a real browser (headless Chromium, Playwright): what the support desk and a
clerk do, with the keyboard and by the labels a screen reader reads out. The pages are served
by a real API process over HTTP (the `callback_api` fixture), the data made through the API."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from beanie import PydanticObjectId
from playwright.async_api import BrowserContext, Page, expect

from app.statistics.rollup import run_rollup
from devtools.devstack import ManagedProcess
from models.common import utcnow
from models.support import AssistedSession
from tests.integration.console.conftest import screenshot
from tests.integration.console.helpers import Person, new_clerk, new_staff
from tests.integration.dossiers.flows import PDF, move, submitted
from tests.integration.dossiers.test_worklist import set_due
from tests.integration.push.helpers import wait_for
from tests.integration.support.test_support_desk import consent_code, issue_licence
from tests.integration.webhooks.helpers import BASE, settled, subscribe
from tests.integration.webhooks.receiver import Receiver

SERVICE = "TEMPORARY_ABSENCE"  # free, no papers to attach


async def sign_in(page: Page, base: str, person: Person, shot: str | None = None) -> None:
    """With the keyboard alone: the username has the focus, Tab goes on, Enter sends."""
    await page.goto(f"{base}{person.sign_in_path}?lang=en")
    if shot:
        await screenshot(page, shot)
    await expect(page.get_by_label("Username")).to_be_focused()
    await page.keyboard.type(person.username)
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Password")).to_be_focused()
    await page.keyboard.type(person.password)
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("6-digit one-time code")).to_be_focused()
    await page.keyboard.type(person.code())
    await page.keyboard.press("Enter")


async def test_the_support_desk_looks_up_and_helps_under_consent(
    context: BrowserContext, callback_api: ManagedProcess, api: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    base = callback_api.url or ""
    staff, citizen = await new_staff(), await make_citizen(devices=0)
    await issue_licence(api, await make_agency(["DL_RENEWAL"]), citizen)
    page = await context.new_page()
    await sign_in(page, base, staff, shot="sign-in")
    await expect(page).to_have_url(f"{base}/console/support")
    await expect(page.get_by_text(f"Signed in as {staff.username}")).to_be_visible()
    await page.keyboard.press("Tab")  # the first stop: a way past the header
    await expect(page.get_by_role("link", name="Skip to the main content")).to_be_focused()

    lookup = page.locator("section", has=page.get_by_role("heading", name="Look a citizen up"))
    await lookup.get_by_label("National ID number (12 digits)").fill(citizen.national_id)
    await lookup.get_by_label("Reason (required; the citizen sees it)").fill("Helping with a licence renewal")
    await lookup.get_by_role("button", name="Look up").click()
    answer = page.locator("#lookup-answer")  # swapped in by htmx, the page stays
    await expect(answer).to_contain_text("*" * 9 + citizen.national_id[-3:])
    await expect(answer).to_contain_text("T*** T*** B***")
    await expect(answer).not_to_contain_text(citizen.national_id)
    await screenshot(page, "support-lookup")

    code = await consent_code(api, citizen, ["view_wallet", "submit_dossier"])
    opening = page.locator("section", has=page.get_by_role("heading", name="Open an assisted session"))
    await opening.get_by_label("National ID number (12 digits)").fill(citizen.national_id)
    await opening.get_by_label("The citizen's 6-digit consent code").fill(code)
    await opening.get_by_label("Reason (required; the citizen sees it)").fill("Helping with a licence renewal")
    await opening.get_by_label("Reason (required; the citizen sees it)").press("Enter")
    await expect(page.locator("#wallet")).to_contain_text("790123456789")  # the full wallet, unmasked
    timer = page.get_by_role("timer")
    await expect(timer).to_have_text(re.compile(r"^1[45]:\d\d$"))
    shown = await timer.text_content()
    await expect(timer).not_to_have_text(shown or "", timeout=5000)  # it counts down
    await screenshot(page, "assisted-session")

    # A dossier filed for the citizen with its paper uploaded from the desk's computer.
    await page.get_by_label("Choose the procedure").select_option(label="Temporary residence registration")
    await page.get_by_label("Temporary address").fill("12 Nguyễn Trãi, Thanh Xuân, Hà Nội")
    await page.get_by_label("Staying from").fill("2026-12-01")
    await page.get_by_label("Length of stay (months, at most 24)").fill("12")
    await page.get_by_label("Reason for the stay").fill("Đi làm")
    await page.get_by_label(re.compile("^Upload a file")).set_input_files(
        files=[{"name": "lease.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    await page.get_by_role("button", name="File the dossier").click()
    await expect(page.get_by_role("status")).to_have_text(re.compile(r"Dossier \S+ was filed for the citizen"))
    filed = (await api.get("/api/v1/me/dossiers", headers=citizen.headers)).json()["items"]
    assert [a["name"] for a in filed[0]["attachments"]] == ["proof_of_residence"]

    await page.get_by_role("button", name="End the session").click()
    await expect(page.get_by_role("status")).to_have_text(re.compile("The assisted session has ended"))

    # A session that runs out with the page open: at zero the wallet leaves the screen by itself.
    code = await consent_code(api, citizen, ["view_wallet"])
    await opening.get_by_label("National ID number (12 digits)").fill(citizen.national_id)
    await opening.get_by_label("The citizen's 6-digit consent code").fill(code)
    await opening.get_by_label("Reason (required; the citizen sees it)").fill("Helping with a licence renewal")
    await opening.get_by_role("button", name="Open the session").click()
    await expect(page.locator("#wallet")).to_be_visible()
    session_id = page.url.rsplit("/", 1)[1]
    await AssistedSession.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(session_id)}, {"$set": {"expires_at": utcnow() + timedelta(seconds=1)}}
    )
    await page.reload()
    await expect(page).to_have_url(f"{base}/console/support?ended=1", timeout=10_000)
    await expect(page.locator("#wallet")).to_have_count(0)


async def test_a_clerk_works_the_worklist_moves_a_dossier_and_asks_for_a_supplement(
    context: BrowserContext, callback_api: ManagedProcess, api: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    base = callback_api.url or ""
    agency = await make_agency([SERVICE])
    citizen = await make_citizen(devices=0)
    late, fresh, _submitted_only = [(await submitted(api, citizen, SERVICE))["code"] for _ in range(3)]
    for code in (late, fresh):
        await move(api, agency, code, SERVICE, "received")
    await set_due(late, utcnow() - timedelta(days=2))
    await set_due(fresh, utcnow() + timedelta(days=20))
    clerk = await new_clerk(agency.code, role="head")
    page = await context.new_page()
    await sign_in(page, base, clerk)
    await expect(page).to_have_url(f"{base}/console/agency/dossiers")

    rows = page.locator("table.worklist tbody tr")
    await expect(rows).to_have_count(3)
    await expect(rows.first).to_contain_text(late)  # the nearest deadline first
    await expect(rows.first).to_have_class(re.compile("dl-overdue"))
    await expect(rows.first.get_by_text("Overdue")).to_be_visible()  # the colour has words beside it
    await screenshot(page, "worklist")
    await page.get_by_label("Deadline").select_option("overdue")
    await page.get_by_role("button", name="Filter the list").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(late)

    await page.goto(f"{base}/console/agency/dossiers/{fresh}")
    await page.get_by_role("button", name="Move to: being processed").click()
    await expect(page.locator("#status")).to_have_attribute("data-status", "processing")
    await expect(page.get_by_role("status")).to_have_text("The dossier moved to 'being processed'.")

    items = page.locator("fieldset.item")
    await expect(items).to_have_count(2)
    await page.get_by_role("button", name="Add an item").click()
    await expect(items).to_have_count(3)  # the third item came from htmx
    await items.nth(0).get_by_label("Reason").fill("The photo is blurred")
    await items.nth(0).get_by_label("What the citizen should do").fill("Upload a sharp photo")
    await items.nth(2).get_by_label("Reason").fill("The destination is incomplete")
    await items.nth(2).get_by_label("What the citizen should do").fill("Give the house number")
    await page.get_by_role("button", name="Send back for supplement").click()
    await expect(page.locator("#status")).to_have_text("needs more information")
    await expect(page.locator("ul.checklist li")).to_have_count(2)
    await screenshot(page, "dossier")
    stored = (await api.get(f"/api/v1/me/dossiers/{fresh}", headers=citizen.headers)).json()
    assert [i["action"] for i in stored["supplement"]["items"]] == ["Upload a sharp photo", "Give the house number"]

    await move(api, agency, late, SERVICE, "rejected")  # resolved, and late: the second chart has a figure
    await run_rollup()
    await page.get_by_role("link", name="Performance").click()
    chart = page.get_by_role("img", name="Dossiers received and resolved, by period")
    await expect(chart).to_be_visible()
    assert await chart.locator("rect.bar.received").count() >= 1
    speed = page.get_by_role("img", name="Share resolved on time, by period")
    await expect(speed.locator("rect.bar.on-time title").last).to_contain_text("0%")
    await screenshot(page, "performance")


@pytest.mark.usefixtures("worker")
async def test_an_admin_sends_an_announcement_and_watches_its_progress(
    context: BrowserContext, callback_api: ManagedProcess, make_citizen: Any
) -> None:
    base = callback_api.url or ""
    admin, resident = await new_staff(role="admin"), await make_citizen(devices=1)
    page = await context.new_page()
    await sign_in(page, base, admin)
    await page.get_by_role("link", name="Announcements").click()
    await page.get_by_label("Title (Vietnamese)").fill("Bảo trì hệ thống")
    await page.get_by_label("Text (Vietnamese)").fill("Hệ thống tạm dừng từ 22:00 đến 23:00.")
    await page.get_by_label("Title (English)").fill("Maintenance")
    await page.get_by_label("Text (English)").fill("The system pauses from 22:00 to 23:00.")
    await page.get_by_label("Province (the first 3 digits of the ID number)").fill(resident.national_id[:3])
    await page.get_by_role("button", name="Send the announcement").click()
    newest = page.locator("ul.announcements li").first
    await expect(newest).to_contain_text("Maintenance")
    # The bar follows the sending (htmx asks again every two seconds) until it is done.
    await expect(newest.get_by_role("status")).to_contain_text("Done", timeout=30_000)
    bar = newest.locator("progress")
    assert await bar.get_attribute("value") == await bar.get_attribute("max") != "0"
    await screenshot(page, "announcements")


@pytest.mark.usefixtures("worker")
async def test_the_head_finds_why_the_agency_system_heard_nothing_and_sends_it_again(
    context: BrowserContext, callback_api: ManagedProcess, api: httpx.AsyncClient, make_agency: Any
) -> None:
    """The agency's system answered 410 while it was being fixed: its subscription went off.
    The head of the unit finds the stopped delivery, turns the subscription on and sends it again."""
    base = callback_api.url or ""
    agency = await make_agency([SERVICE])
    receiver = Receiver()
    await receiver.start()
    try:
        sub = await subscribe(api, agency, receiver.url("/hook", "410", "ok"))
        assert (await api.post(f"{BASE}/{sub['id']}/ping", headers=agency.headers)).status_code == 202
        await settled(api, agency, sub["id"], 1)
        page = await context.new_page()
        await sign_in(page, base, await new_clerk(agency.code, role="head"))
        await page.get_by_role("link", name="Webhooks").click()
        await expect(page.get_by_role("row", name=re.compile("answered 410"))).to_be_visible()
        await expect(page.get_by_role("img", name="Latest 1: 0 received, 0 waiting, 1 stopped.")).to_be_visible()
        await page.get_by_role("link", name=sub["url"]).click()
        await expect(page.locator("tr.wd-parked")).to_contain_text("Stopped (the address answered 410)")
        # The log's outcomes drawn, the bar named by the sentence that reads them out.
        drawn = page.get_by_role("img", name="Of the 1 deliveries shown: 0 received, 0 waiting, 1 stopped.")
        await expect(drawn.locator("rect.wd-parked title")).to_have_text("Stopped: 1")
        await page.get_by_role("button", name="Turn it back on").click()
        await expect(page.get_by_role("status")).to_have_text("The subscription is on again.")
        await expect(page.locator("#subscription-state")).to_have_text("On")
        await page.get_by_role("button", name=re.compile("^Send event .* again$")).click()
        await expect(page.get_by_role("status")).to_contain_text("Queued to be sent again")
        await screenshot(page, "webhooks")

        async def heard() -> bool:
            return [r.answered for r in receiver.at("/hook")] == ["410", "ok"]

        await wait_for(heard, "the delivery sent again")
        await page.reload()
        await expect(page.locator("tr.wd-delivered")).to_contain_text("Received")
    finally:
        await receiver.stop()
