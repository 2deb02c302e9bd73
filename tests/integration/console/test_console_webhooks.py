"""The agency's webhooks in the console, over plain HTTP: the head of the unit sees a delivery
stopped by the receiver's 410, turns the subscription back on and sends the delivery again;
nobody else's subscriptions, no clerk below the head, and hostile input gets a page saying
what is wrong, never a 500."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.integration.console.helpers import Person, form_token, new_clerk, post_form, sign_in
from tests.integration.push.helpers import wait_for
from tests.integration.webhooks.helpers import BASE, deliveries, settled, subscribe
from tests.integration.webhooks.receiver import Receiver

pytestmark = pytest.mark.usefixtures("worker")
SERVICE = "TEMPORARY_ABSENCE"
PAGES = "/console/agency/webhooks"


@pytest.fixture
async def browser_like(api: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """The same app as `api`, with a cookie jar of its own, reading the console in English."""
    async with httpx.AsyncClient(
        transport=api._transport, base_url="http://cwallet.test", headers={"accept-language": "en"}
    ) as client:
        yield client


async def _stopped_by_410(
    api: httpx.AsyncClient, agency: Any, receiver: Receiver, *then: str
) -> tuple[dict[str, Any], str]:
    """A subscription whose receiver answered a ping with 410 (then takes everything): it is
    off, and the ping's delivery stopped."""
    sub = await subscribe(api, agency, receiver.url(f"/hook/{agency.code}", "410", *(then or ("ok",))))
    pinged = await api.post(f"{BASE}/{sub['id']}/ping", headers=agency.headers)
    assert pinged.status_code == 202, pinged.text
    [stopped] = await settled(api, agency, sub["id"], 1)
    assert stopped["state"] == "parked" and stopped["parked_reason"] == "gone"
    return sub, stopped["id"]


async def _head(agency: Any, client: httpx.AsyncClient) -> Person:
    head = await new_clerk(agency.code, role="head")
    assert (await sign_in(client, head)).status_code == 303
    return head


async def test_the_head_turns_a_subscription_back_on_and_sends_a_stopped_delivery_again(
    api: httpx.AsyncClient, browser_like: httpx.AsyncClient, make_agency: Any, receiver: Receiver
) -> None:
    agency = await make_agency([SERVICE])
    sub, stopped_id = await _stopped_by_410(api, agency, receiver)
    await _head(agency, browser_like)

    listed = await browser_like.get(PAGES)
    assert listed.status_code == 200 and sub["url"] in listed.text
    assert "Off: the address answered 410" in listed.text
    assert "Latest 1: 0 received, 0 waiting, 1 stopped." in listed.text  # and drawn, named by it
    log_path = f"{PAGES}/{sub['id']}"
    log = await browser_like.get(log_path)
    assert "Stopped (the address answered 410)" in log.text and f"/deliveries/{stopped_id}/replay" in log.text
    assert "Of the 1 deliveries shown: 0 received, 0 waiting, 1 stopped." in log.text

    enabled = await post_form(browser_like, log_path, f"{log_path}/enable", {})
    assert enabled.status_code == 303 and enabled.headers["location"].endswith("?done=enabled")
    assert (await api.get(f"{BASE}/{sub['id']}", headers=agency.headers)).json()["enabled"] is True
    replayed = await post_form(browser_like, log_path, f"{log_path}/deliveries/{stopped_id}/replay", {})
    assert replayed.status_code == 303
    shown = await browser_like.get(replayed.headers["location"])
    assert "Queued to be sent again" in shown.text

    async def delivered() -> bool:
        [again] = await deliveries(api, agency, sub["id"])
        return bool(again["state"] == "delivered")

    await wait_for(delivered, "the delivery sent again")
    assert [r.answered for r in receiver.at(f"/hook/{agency.code}")] == ["410", "ok"]
    after = await browser_like.get(log_path)
    assert "Of the 1 deliveries shown: 1 received, 0 waiting, 0 stopped." in after.text


async def test_only_the_head_of_the_agency_sees_and_acts_on_its_subscriptions(
    api: httpx.AsyncClient, browser_like: httpx.AsyncClient, make_agency: Any, receiver: Receiver
) -> None:
    agency, other = await make_agency([SERVICE]), await make_agency([SERVICE])
    sub, stopped_id = await _stopped_by_410(api, agency, receiver)
    log_path = f"{PAGES}/{sub['id']}"

    clerk = await new_clerk(agency.code)  # a clerk, not the head
    assert (await sign_in(browser_like, clerk)).status_code == 303
    assert (await browser_like.get(PAGES)).status_code == 403
    assert (await browser_like.get(log_path)).status_code == 403
    browser_like.cookies.clear()

    await _head(other, browser_like)
    assert sub["url"] not in (await browser_like.get(PAGES)).text
    token = await form_token(browser_like, PAGES)
    for path in (f"{log_path}/enable", f"{log_path}/deliveries/{stopped_id}/replay", f"{log_path}/ping"):
        refused = await browser_like.post(path, data={"_csrf_token": token})
        assert refused.status_code == 404, (path, refused.status_code)
    assert (await browser_like.get(log_path)).status_code == 404
    still = await api.get(f"{BASE}/{sub['id']}", headers=agency.headers)
    assert still.json()["enabled"] is False and [d["state"] for d in await deliveries(api, agency, sub["id"])] == [
        "parked"
    ]


async def test_hostile_input_on_the_webhook_pages_gets_a_page_never_a_500(
    api: httpx.AsyncClient, browser_like: httpx.AsyncClient, make_agency: Any, receiver: Receiver
) -> None:
    agency = await make_agency([SERVICE])
    sub, _ = await _stopped_by_410(api, agency, receiver)
    await _head(agency, browser_like)
    log_path = f"{PAGES}/{sub['id']}"
    for path in (f"{PAGES}/not-an-id", f"{PAGES}/{'f' * 3000}", f"{log_path}?cursor=%00%ff", f"{log_path}?cursor=zz"):
        answer = await browser_like.get(path)
        assert 400 <= answer.status_code < 500, (path, answer.status_code)
        assert "text/html" in answer.headers["content-type"], path
    # An unknown state filter shows every delivery rather than failing.
    assert (await browser_like.get(f"{log_path}?state=exploded")).status_code == 200
    token = await form_token(browser_like, log_path)
    for delivery_id in ("not-an-id", "0" * 24, "x" * 500):
        path = f"{log_path}/deliveries/{delivery_id}/replay"
        answer = await browser_like.post(path, data={"_csrf_token": token})
        assert 400 <= answer.status_code < 500, (delivery_id, answer.status_code)
    # Every form needs its token.
    for path in (f"{log_path}/enable", f"{log_path}/ping"):
        assert (await browser_like.post(path, data={})).status_code == 403
    assert (await api.get(f"{BASE}/{sub['id']}", headers=agency.headers)).json()["enabled"] is False


async def test_eight_send_again_clicks_at_once_send_the_delivery_once(
    api: httpx.AsyncClient, browser_like: httpx.AsyncClient, make_agency: Any, receiver: Receiver
) -> None:
    """A head who clicks "Send again" eight times (or eight heads at once): sent again once. The
    receiver fails that one attempt, so the delivery stays pending (a delivered one may be
    sent again on purpose) until its retry gets through."""
    agency = await make_agency([SERVICE])
    sub, stopped_id = await _stopped_by_410(api, agency, receiver, "500", "ok")
    await _head(agency, browser_like)
    log_path = f"{PAGES}/{sub['id']}"
    assert (await post_form(browser_like, log_path, f"{log_path}/enable", {})).status_code == 303
    token = await form_token(browser_like, log_path)
    clicks = await asyncio.gather(
        *(
            browser_like.post(f"{log_path}/deliveries/{stopped_id}/replay", data={"_csrf_token": token})
            for _ in range(8)
        )
    )
    assert {c.status_code for c in clicks} == {303}

    async def delivered() -> dict[str, Any] | None:
        [again] = await deliveries(api, agency, sub["id"])
        return again if again["state"] == "delivered" else None

    again = await wait_for(delivered, "the delivery sent again")
    assert again["replays"] == 1 and again["attempt_count"] == 3
    assert [r.answered for r in receiver.at(f"/hook/{agency.code}")] == ["410", "500", "ok"]
