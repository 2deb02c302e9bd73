"""Delivery: retried until the receiver takes it, stopped by 410, signed by both secrets during
a rotation, replayed once per request however many race, parked after a day (by the clock),
and never sent to an internal address unless the operator allows it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import msgspec
import pytest

from tests.integration.push.helpers import wait_for
from tests.integration.webhooks.helpers import BASE, deliveries, pending_delivery, settled, subscribe, verified
from tests.integration.webhooks.receiver import Receiver
from tests.support import remember_secrets

pytestmark = pytest.mark.usefixtures("worker")


async def ping(api: httpx.AsyncClient, agency: Any, subscription_id: str) -> dict[str, Any]:
    answer = await api.post(f"{BASE}/{subscription_id}/ping", headers=agency.headers)
    assert answer.status_code == 202, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_failures_and_timeouts_are_retried_until_the_receiver_takes_it(
    api: httpx.AsyncClient, make_agency: Any, receiver: Receiver
) -> None:
    agency = await make_agency(["TEMPORARY_ABSENCE"])
    sub = await subscribe(api, agency, receiver.url("/flaky", "500", "slow", "ok"))
    sent = await ping(api, agency, sub["id"])
    [log] = await settled(api, agency, sub["id"], 1)
    assert log["id"] == sent["id"] and log["state"] == "delivered"
    assert [(a["status_code"], a["error"]) for a in log["attempts"]] == [(500, None), (None, "timeout"), (200, None)]
    # The same event each time: one id, one body, each copy signed.
    copies = receiver.at("/flaky")
    assert len(copies) == 3 and len({c.headers["webhook-id"] for c in copies}) == 1
    assert {c.body for c in copies} == {log["body"].encode()}
    assert all(verified(sub["secret"], c)["type"] == "webhook.ping" for c in copies)


async def test_410_gone_disables_the_subscription(api: httpx.AsyncClient, make_agency: Any, receiver: Receiver) -> None:
    agency = await make_agency(["TEMPORARY_ABSENCE"])
    sub = await subscribe(api, agency, receiver.url("/gone", "410"))
    await ping(api, agency, sub["id"])
    [log] = await settled(api, agency, sub["id"], 1)
    assert log["state"] == "parked" and log["parked_reason"] == "gone" and log["attempt_count"] == 1
    shown = (await api.get(f"{BASE}/{sub['id']}", headers=agency.headers)).json()
    assert shown["enabled"] is False and shown["disabled_reason"] == "gone"
    again = await api.post(f"{BASE}/{sub['id']}/ping", headers={**agency.headers, "Accept-Language": "en"})
    assert again.status_code == 409 and again.json()["code"] == "subscription-disabled"
    assert len(receiver.at("/gone")) == 1


async def test_during_a_rotation_both_secrets_sign(
    api: httpx.AsyncClient, make_agency: Any, receiver: Receiver
) -> None:
    agency = await make_agency(["TEMPORARY_ABSENCE"])
    sub = await subscribe(api, agency, receiver.url("/rotating"))
    rotated = await api.post(f"{BASE}/{sub['id']}/secret/rotate", headers=agency.headers)
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    remember_secrets(new_secret)
    assert new_secret != sub["secret"] and new_secret.startswith("whsec_")
    await ping(api, agency, sub["id"])
    await settled(api, agency, sub["id"], 1)
    [copy] = receiver.at("/rotating")
    assert len(copy.headers["webhook-signature"].split(" ")) == 2
    assert verified(sub["secret"], copy) == verified(new_secret, copy)
    shown = (await api.get(f"{BASE}/{sub['id']}", headers=agency.headers)).json()
    assert shown["previous_secret_valid_until"] == rotated.json()["previous_secret_valid_until"]


async def test_concurrent_replays_deliver_once_each(
    api: httpx.AsyncClient, make_agency: Any, receiver: Receiver
) -> None:
    agency = await make_agency(["TEMPORARY_ABSENCE"])
    sub = await subscribe(api, agency, receiver.url("/replays"))
    for _ in range(3):
        await ping(api, agency, sub["id"])
    first = await settled(api, agency, sub["id"], 3)
    replays = [
        api.post(f"{BASE}/{sub['id']}/deliveries/{d['id']}/replay", headers=agency.headers)
        for d in first
        for _ in range(5)
    ]
    answers = await asyncio.gather(*replays)
    assert {a.status_code for a in answers} == {202}

    async def replayed() -> list[dict[str, Any]] | None:
        found = await deliveries(api, agency, sub["id"])
        done = all(d["state"] == "delivered" and d["replays"] == 1 and d["attempt_count"] == 2 for d in found)
        return found if done else None

    await wait_for(replayed, "each delivery replayed once")
    ids = [c.headers["webhook-id"] for c in receiver.at("/replays")]
    assert sorted(ids.count(i) for i in set(ids)) == [2, 2, 2]


async def test_retries_stop_after_a_day_and_the_delivery_is_parked(
    api: httpx.AsyncClient, make_agency: Any, receiver: Receiver
) -> None:
    from app.config import get_settings
    from app.webhooks import delivery

    agency = await make_agency(["TEMPORARY_ABSENCE"])
    sub = await subscribe(api, agency, receiver.url("/down", "500"))
    delivery_id, start = await pending_delivery(sub["id"], agency.code, retry_until_hours=24)
    # The production schedule (the suite's is shortened): the next try after 23:59:55 would
    # fall beyond the day.
    settings = msgspec.structs.replace(get_settings(), webhook_retry_base_seconds=10.0)
    async with delivery.make_client(settings) as client:
        early = await delivery.attempt(delivery_id, client, settings, now=start + timedelta(hours=1))
        last_call = start + timedelta(hours=24, seconds=-5)
        late = await delivery.attempt(delivery_id, client, settings, now=last_call)
        after = await delivery.attempt(delivery_id, client, settings, now=start + timedelta(hours=25))
    assert early.kind == "retry" and late.kind == "parked" and after.kind == "skipped"
    [log] = await deliveries(api, agency, sub["id"])
    assert log["state"] == "parked" and log["parked_reason"] == "retries-exhausted"
    assert [a["status_code"] for a in log["attempts"]] == [500, 500]


async def test_an_internal_address_is_refused_at_send_time_unless_allowed(
    api: httpx.AsyncClient, make_agency: Any, receiver: Receiver
) -> None:
    """The address is checked again before each attempt: a subscription saved while allowed (or a
    name that now resolves inward) is not called once the operator's allowance is off."""
    from app.config import get_settings
    from app.webhooks import delivery

    agency = await make_agency(["TEMPORARY_ABSENCE"])
    sub = await subscribe(api, agency, receiver.url("/internal"))
    delivery_id, start = await pending_delivery(sub["id"], agency.code, retry_until_hours=24)
    strict = msgspec.structs.replace(get_settings(), webhook_allow_private_addresses=False)
    async with delivery.make_client(strict) as client:
        outcome = await delivery.attempt(delivery_id, client, strict, now=start)
    assert outcome.kind == "parked"
    [log] = await deliveries(api, agency, sub["id"])
    assert log["parked_reason"] == "address-refused" and log["attempts"][0]["error"] == "address-not-public"
    assert receiver.at("/internal") == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:192.168.0.1]/hook",
        "ftp://example.org/hook",
        "http://user:pw@127.0.0.1/hook",
    ],
)
async def test_subscribing_an_internal_address_is_refused_unless_allowed(url: str, api: httpx.AsyncClient) -> None:
    from app.config import get_settings
    from app.errors import AppError
    from app.webhooks.schemas import SubscriptionIn
    from app.webhooks.service import create

    strict = msgspec.structs.replace(get_settings(), webhook_allow_private_addresses=False)
    with pytest.raises(AppError) as refused:
        await create("AGX", SubscriptionIn(url=url, event_types=["dossier.submitted"]), strict)
    assert refused.value.status == 422 and refused.value.errors[0].field == "url"


async def test_hostile_subscriptions_are_refused_with_what_to_fix(api: httpx.AsyncClient, make_agency: Any) -> None:
    agency = await make_agency(["TEMPORARY_ABSENCE"])
    headers = {**agency.headers, "Accept-Language": "en"}
    for body in (
        {"url": "https://example.org/hook", "event_types": ["dossier.exploded"]},
        {"url": "javascript:alert(1)", "event_types": ["dossier.submitted"]},
        {"url": "https://example.org/hook", "event_types": []},
    ):
        answer = await api.post(BASE, json=body, headers=headers)
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
    unknown = await api.post(f"{BASE}/not-an-id/deliveries/also-not/replay", headers=headers)
    assert unknown.status_code == 404
