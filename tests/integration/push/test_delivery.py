"""Per-device delivery through the real worker and emulator: Retry-After honoured, dead tokens
dropped without spoiling the citizen's other phones, retries bounded and ending in `failed`."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from beanie import PydanticObjectId

from tests.integration.push.helpers import attempts, messages, received, wait_for
from tests.support import submit_residence


async def _fault(emulator: httpx.AsyncClient, token: str, error: str, **extra: Any) -> None:
    answer = await emulator.put(f"/emulator/tokens/{token}", json={"error": error, **extra})
    assert answer.status_code == 200, answer.text


async def _latest_notification(citizen: Any) -> Any:
    from models.notification import Notification

    return await Notification.find_one({"citizen_id": PydanticObjectId(citizen.id)}, sort=[("_id", -1)])


async def test_no_send_to_a_device_before_its_retry_after(
    api: httpx.AsyncClient, make_citizen: Callable[..., Awaitable[Any]], emulator: httpx.AsyncClient, worker: Any
) -> None:
    citizen = await make_citizen(devices=1)
    [token] = citizen.device_tokens
    await _fault(emulator, token, "QUOTA_EXCEEDED", times=1, retry_after=2)
    await submit_residence(api, citizen)
    await received(emulator, token)
    first, second = await attempts(emulator, token)
    assert (first["http_status"], first["error_code"]) == (429, "QUOTA_EXCEEDED")
    assert second["outcome"] == "accepted"
    # Measured on the emulator's own clock: the second try came no sooner than FCM asked.
    assert second["received_at"] - first["received_at"] >= 2.0
    notification = await wait_for(lambda: _state(citizen, "sent"), "the notification recorded as sent after its retry")
    assert [(d.state, d.attempts) for d in notification.deliveries] == [("sent", 2)]


async def _state(citizen: Any, state: str) -> Any:
    found = await _latest_notification(citizen)
    return found if found is not None and found.state == state else None


async def test_an_unregistered_token_is_dropped_and_the_other_phones_still_get_theirs(
    api: httpx.AsyncClient, make_citizen: Callable[..., Awaitable[Any]], emulator: httpx.AsyncClient, worker: Any
) -> None:
    citizen = await make_citizen(devices=3)
    dead = citizen.device_tokens[1]
    await _fault(emulator, dead, "UNREGISTERED")
    await submit_residence(api, citizen)
    for token in (citizen.device_tokens[0], citizen.device_tokens[2]):
        [push] = await received(emulator, token)
        assert push["data"]["status"] == "submitted"
    notification = await wait_for(lambda: _state(citizen, "sent"), "the notification recorded as sent")
    assert sorted(d.state for d in notification.deliveries) == ["dropped", "sent", "sent"]
    from models.citizen import Device

    listed = await Device.find(Device.citizen_id == PydanticObjectId(citizen.id)).to_list()
    assert sorted(d.token for d in listed) == sorted([citizen.device_tokens[0], citizen.device_tokens[2]])
    assert len((await api.get("/api/v1/me/devices", headers=citizen.headers)).json()["items"]) == 2
    assert await messages(emulator, dead) == []
    # The next notification goes to the two phones left, and never tries the dead token again.
    await submit_residence(api, citizen)
    await received(emulator, citizen.device_tokens[0], count=2)
    assert len(await attempts(emulator, dead)) == 1


@pytest.fixture(params=["firebase-admin", "direct"])
async def sender(stack_env: dict[str, str], request: pytest.FixtureRequest) -> Any:
    from notifications.fcm import FcmSender

    name = f"t-{uuid.uuid4().hex}"
    async with FcmSender(
        stack_env["FCM_PROJECT_ID"], None, stack_env["FCM_ENDPOINT"], app_name=name, h2c=True, transport=request.param
    ) as fcm:
        yield fcm


async def test_retries_are_bounded_and_end_in_failed_with_the_reason_kept(
    api: httpx.AsyncClient, make_citizen: Callable[..., Awaitable[Any]], emulator: httpx.AsyncClient, sender: Any
) -> None:
    """The delivery step itself, run by the test as the worker would (the notification is made
    directly, so the session's worker never sees it)."""
    from app.metrics.figures import Tally
    from models.common import utcnow
    from models.notification import Notification
    from workers.delivery import RetryLater, send_notification

    citizen = await make_citizen(devices=1)
    [token] = citizen.device_tokens
    await _fault(emulator, token, "UNAVAILABLE")
    notification = Notification(
        citizen_id=PydanticObjectId(citizen.id),
        key=f"test:{uuid.uuid4().hex}",
        kind="dossier_status",
        category="dossier_updates",
        params={"dossier_code": "HS-TEST", "status": "received", "service_name_vi": "X", "service_name_en": "X"},
        # Not due for the sweeper while the test runs.
        next_attempt_at=utcnow() + timedelta(hours=1),
    )
    await notification.insert()
    tally = Tally()
    with pytest.raises(RetryLater) as later:
        await send_notification(sender, str(notification.id), max_attempts=2, tally=tally)
    assert later.value.defer > 0
    assert await send_notification(sender, str(notification.id), max_attempts=2, tally=tally) == "failed"
    stored = await Notification.get(notification.id)
    assert stored is not None and stored.state == "failed"
    assert [(d.state, d.attempts, d.error_code) for d in stored.deliveries] == [("failed", 2, "UNAVAILABLE")]
    assert tally.counts == {"retried": 1, "failed:UNAVAILABLE": 1}
    # Done is done: a late duplicate job sends nothing more.
    assert await send_notification(sender, str(notification.id), max_attempts=2, tally=tally) == "failed"
    assert len(await attempts(emulator, token)) == 2
