"""What only the wire decides, the same through each FCM transport (FCM_TRANSPORT): a refused
access token is refreshed once and the push still goes, and an answer that comes too late is
retryable, against an emulator that expects one bearer token."""

from __future__ import annotations

import datetime
import threading
import uuid
from collections.abc import Iterator

import firebase_admin
import google.auth.credentials
import google.auth.exceptions
import httpx
import pytest
from firebase_admin import credentials

from devtools.fcm_emulator import make_server
from notifications.fcm import TRANSPORTS, FcmSender
from notifications.push import Push

PROJECT = "cwallet-transports"
FRESH = "fresh-access-token"


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, PROJECT, expected_bearer=FRESH)
    thread = threading.Thread(target=server.run, name="fcm-emulator-bearer", daemon=True)
    thread.start()
    if not server.ready.wait(15):
        server.should_exit = True
        pytest.fail("the FCM emulator did not start")
    yield f"http://127.0.0.1:{server.port}"
    server.should_exit = True
    thread.join(15)


class _Rotating(google.auth.credentials.Credentials):  # type: ignore[misc,unused-ignore]
    """An access token FCM no longer takes, though not expired yet; a refresh gets a good one."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.token = "revoked-access-token"
        self.expiry = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) + datetime.timedelta(hours=1)
        self.refreshes = 0

    def refresh(self, request: object) -> None:
        self.refreshes += 1
        self.token = FRESH


class _Credential(credentials.Base):  # type: ignore[misc,unused-ignore]
    def __init__(self) -> None:
        self.google = _Rotating()

    def get_credential(self) -> google.auth.credentials.Credentials:
        return self.google


def _push() -> Push:
    token = f"tr-{uuid.uuid4().hex}"
    return Push(token=token, title="t", body="b", data={"notification_id": "n"}, collapse_id="n")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_refused_access_token_is_refreshed_once_and_the_pushes_still_go(emulator: str, transport: str) -> None:
    credential = _Credential()
    name = f"tr-{uuid.uuid4().hex}"
    firebase_admin.initialize_app(credential, {"projectId": PROJECT}, name=name)
    pushes = [_push() for _ in range(3)]
    async with FcmSender(PROJECT, None, emulator, app_name=name, transport=transport) as sender:
        outcomes = await sender.send(pushes)
        assert [o.kind for o in outcomes] == ["sent"] * 3
        assert [o.kind for o in await sender.send([_push()])] == ["sent"]
    async with httpx.AsyncClient(base_url=emulator) as control:
        accepted = (await control.get("/emulator/counts")).json()
    assert accepted["max_per_token"] == 1
    # firebase-admin refreshes once per refused request; the direct transport once per batch.
    assert 1 <= credential.google.refreshes <= len(pushes)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_answer_later_than_the_timeout_is_retryable(emulator: str, transport: str) -> None:
    credential = _Credential()
    credential.google.token = FRESH
    name = f"tr-{uuid.uuid4().hex}"
    firebase_admin.initialize_app(credential, {"projectId": PROJECT}, name=name)
    control = httpx.AsyncClient(base_url=emulator)
    (await control.put("/emulator/settings", json={"latency": 2.0})).raise_for_status()
    try:
        async with FcmSender(
            PROJECT, None, emulator, app_name=name, transport=transport, timeout_seconds=0.3
        ) as sender:
            [outcome] = await sender.send([_push()])
    finally:
        (await control.put("/emulator/settings", json={"latency": 0.0})).raise_for_status()
        await control.aclose()
    assert (outcome.kind, outcome.error_code) == ("retryable", "DEADLINE_EXCEEDED")


class _Unrefreshable(_Rotating):
    """An expired token whose refresh fails (Google unreachable, a revoked service account)."""

    def __init__(self) -> None:
        super().__init__()
        self.expiry = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(hours=1)

    def refresh(self, request: object) -> None:
        self.refreshes += 1
        raise google.auth.exceptions.RefreshError("invalid_grant: account not found")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_token_that_cannot_be_refreshed_fails_the_batch_and_keeps_the_tokens(
    emulator: str, transport: str
) -> None:
    credential = _Credential()
    credential.google = _Unrefreshable()
    name = f"tr-{uuid.uuid4().hex}"
    firebase_admin.initialize_app(credential, {"projectId": PROJECT}, name=name)
    async with FcmSender(PROJECT, None, emulator, app_name=name, transport=transport) as sender:
        outcomes = await sender.send([_push(), _push()])
    # Not the tokens' fault: nothing is pruned, and the worker records why.
    assert [(o.kind, o.error_code) for o in outcomes] == [("failed", "UNKNOWN")] * 2
