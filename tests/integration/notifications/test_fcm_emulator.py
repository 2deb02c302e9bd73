"""The real firebase-admin code path (FcmSender, LocalCredential) against the emulator
running for real on a local port, through each FCM transport (firebase-admin's own send, and
firebase-admin's messages sent directly): every outcome must be the same through both."""

import os
import select
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import firebase_admin
import httpx
import pytest
import pytest_asyncio
from firebase_admin import exceptions, messaging

from devtools.fcm_emulator import make_server
from notifications.fcm import FCM_BATCH_LIMIT, LOCAL_BEARER_TOKEN, TRANSPORTS, FcmSender
from notifications.fcm_direct import DirectTransport
from notifications.push import Push, build_message
from notifications.templates import render

PROJECT = "cwallet-it"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def emulator() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, PROJECT)
    thread = threading.Thread(target=server.run, name="fcm-emulator", daemon=True)
    thread.start()
    if not server.ready.wait(15):
        server.should_exit = True
        pytest.fail("the FCM emulator did not start")
    yield f"http://127.0.0.1:{server.port}"
    server.should_exit = True
    thread.join(15)


@pytest.fixture(autouse=True)
def clean_emulator(emulator: str) -> None:
    httpx.delete(f"{emulator}/emulator/messages").raise_for_status()


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest_asyncio.fixture
async def sender(emulator: str, transport: str) -> AsyncIterator[FcmSender]:
    fcm = FcmSender(PROJECT, None, emulator, app_name=f"it-{uuid.uuid4().hex}", transport=transport)
    yield fcm
    await fcm.aclose()


def token() -> str:
    # Shaped like a real registration token: "<instance>:<secret>".
    return f"d{uuid.uuid4().hex[:10]}:APA91b{uuid.uuid4().hex}"


def push(device: str, notification_id: str = "66f0c0ffee0000000000000a") -> Push:
    title, body = render(
        "dossier_status",
        "vi",
        {"dossier_code": "HS-2025-000042", "status": "received", "service_name": "Cấp hộ chiếu"},
    )
    data = {
        "type": "dossier_status",
        "dossier_code": "HS-2025-000042",
        "status": "received",
        "notification_id": notification_id,
    }
    return Push(token=device, title=title, body=body, data=data, collapse_id=notification_id)


def fault(emulator: str, device: str, error: str, times: int | None = None, retry_after: int | None = None) -> None:
    httpx.put(
        f"{emulator}/emulator/tokens/{device}",
        json={"error": error, "times": times, "retry_after": retry_after},
    ).raise_for_status()


def messages(emulator: str, device: str | None = None) -> list[dict[str, Any]]:
    params = {"token": device} if device else {}
    result: list[dict[str, Any]] = httpx.get(f"{emulator}/emulator/messages", params=params).json()["messages"]
    return result


def attempts(emulator: str, device: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = httpx.get(f"{emulator}/emulator/attempts", params={"token": device}).json()[
        "attempts"
    ]
    return result


@pytest.mark.asyncio
async def test_push_arrives_with_texts_data_collapse_keys_and_bearer(sender: FcmSender, emulator: str) -> None:
    device = token()
    sent = push(device)
    [outcome] = await sender.send([sent])
    assert outcome.kind == "sent"
    assert outcome.token == device
    [kept] = messages(emulator, device)
    assert outcome.message_name == kept["name"]
    assert kept["name"].startswith(f"projects/{PROJECT}/messages/")
    assert kept["title"] == "Hồ sơ HS-2025-000042 đã được tiếp nhận"
    assert kept["body"] == "Cơ quan đã tiếp nhận hồ sơ Cấp hộ chiếu của bạn."
    assert kept["data"] == sent.data
    assert kept["message"]["android"]["collapse_key"] == sent.collapse_id
    assert kept["message"]["apns"]["headers"]["apns-collapse-id"] == sent.collapse_id
    assert kept["headers"]["authorization"] == f"Bearer {LOCAL_BEARER_TOKEN}"
    assert kept["headers"]["x-firebase-client"].startswith("fire-admin-python/")


@pytest.mark.asyncio
async def test_unregistered_token_does_not_spoil_the_batch(sender: FcmSender, emulator: str) -> None:
    dead, alive = token(), token()
    fault(emulator, dead, "UNREGISTERED")
    outcomes = await sender.send([push(dead), push(alive)])
    assert [(o.token, o.kind) for o in outcomes] == [(dead, "unregistered"), (alive, "sent")]
    assert outcomes[0].error_code == "UNREGISTERED"
    assert messages(emulator, dead) == []
    assert len(messages(emulator, alive)) == 1


@pytest.mark.asyncio
async def test_quota_exceeded_is_retryable_after_the_header(sender: FcmSender, emulator: str) -> None:
    device = token()
    fault(emulator, device, "QUOTA_EXCEEDED", retry_after=2)
    [outcome] = await sender.send([push(device)])
    assert (outcome.kind, outcome.error_code, outcome.retry_after_seconds) == ("retryable", "QUOTA_EXCEEDED", 2)


@pytest.mark.asyncio
@pytest.mark.parametrize(("error", "http_status"), [("UNAVAILABLE", 503), ("INTERNAL", 500)])
async def test_server_errors_are_retryable_and_tried_once(
    sender: FcmSender, emulator: str, error: str, http_status: int
) -> None:
    device = token()
    fault(emulator, device, error)
    [outcome] = await sender.send([push(device)])
    assert (outcome.kind, outcome.error_code) == ("retryable", error)
    assert outcome.retry_after_seconds is None
    # firebase-admin's own 500/503 retries are off: the worker owns retrying.
    tries = attempts(emulator, device)
    assert [a["http_status"] for a in tries] == [http_status]


@pytest.mark.asyncio
async def test_invalid_argument_means_invalid_token(sender: FcmSender, emulator: str) -> None:
    device = token()
    fault(emulator, device, "INVALID_ARGUMENT")
    [outcome] = await sender.send([push(device)])
    assert (outcome.kind, outcome.error_code) == ("invalid_token", "INVALID_ARGUMENT")


@pytest.mark.asyncio
async def test_fault_once_then_success(sender: FcmSender, emulator: str) -> None:
    device = token()
    fault(emulator, device, "UNAVAILABLE", times=1)
    [first] = await sender.send([push(device)])
    [second] = await sender.send([push(device)])
    assert (first.kind, second.kind) == ("retryable", "sent")
    assert [a["outcome"] for a in attempts(emulator, device)] == ["rejected", "accepted"]
    assert len(messages(emulator, device)) == 1


@pytest.mark.asyncio
async def test_bad_push_fails_alone_and_keeps_order(sender: FcmSender, emulator: str) -> None:
    good1, bad, good2 = token(), token(), token()
    broken = Push(bad, "T", "B", {"count": 3}, "n1")  # type: ignore[dict-item]
    outcomes = await sender.send([push(good1), broken, push(good2)])
    assert [o.kind for o in outcomes] == ["sent", "failed", "sent"]
    assert outcomes[1].error_code == "INVALID_MESSAGE"
    assert attempts(emulator, bad) == []


@pytest.mark.asyncio
async def test_pushes_go_in_batches_and_keep_their_order(emulator: str, transport: str) -> None:
    # Small batches: the chunking is the same at FCM's 500, only slower against a local server.
    devices = [token() for _ in range(23)]
    fault(emulator, devices[17], "UNREGISTERED")
    name = f"it-{uuid.uuid4().hex}"
    async with FcmSender(PROJECT, None, emulator, app_name=name, batch_size=5, transport=transport) as fcm:
        outcomes = await fcm.send([push(d) for d in devices])
    assert [o.token for o in outcomes] == devices
    kinds = [o.kind for o in outcomes]
    assert kinds.count("sent") == len(devices) - 1
    assert kinds[17] == "unregistered"
    assert len(messages(emulator)) == len(devices) - 1


def test_batch_size_is_bounded_by_fcm() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        FcmSender(PROJECT, None, None, app_name=f"it-{uuid.uuid4().hex}", batch_size=FCM_BATCH_LIMIT + 1)


@pytest.mark.asyncio
async def test_unreachable_endpoint_is_retryable(transport: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on that port now.
    url, name = f"http://127.0.0.1:{port}", f"it-{uuid.uuid4().hex}"
    async with FcmSender(PROJECT, None, url, app_name=name, transport=transport) as fcm:
        [outcome] = await fcm.send([push(token())])
    assert (outcome.kind, outcome.error_code) == ("retryable", "UNAVAILABLE")


@pytest.mark.asyncio
async def test_aclose_deletes_the_app(emulator: str, transport: str) -> None:
    name = f"it-{uuid.uuid4().hex}"
    fcm = FcmSender(PROJECT, None, emulator, app_name=name, transport=transport)
    await fcm.send([push(token())])
    await fcm.aclose()
    await fcm.aclose()  # twice is fine
    with pytest.raises(ValueError):
        firebase_admin.get_app(name)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("error", "exc_type"),
    [
        ("UNREGISTERED", messaging.UnregisteredError),
        ("QUOTA_EXCEEDED", messaging.QuotaExceededError),
        ("UNAVAILABLE", exceptions.UnavailableError),
        ("INTERNAL", exceptions.InternalError),
        ("INVALID_ARGUMENT", exceptions.InvalidArgumentError),
        ("SENDER_ID_MISMATCH", messaging.SenderIdMismatchError),
    ],
)
async def test_firebase_admin_reads_our_errors_as_fcm_errors(
    sender: FcmSender, emulator: str, error: str, exc_type: type[Exception]
) -> None:
    device = token()
    fault(emulator, device, error)
    message = build_message(push(device))
    if sender.transport == "direct":
        direct = DirectTransport(sender.app, sender.url, 10.0)
        try:
            [response] = await direct.send_each([message])
        finally:
            await direct.aclose()
    else:
        [response] = (await messaging.send_each_async([message], app=sender.app)).responses
    assert not response.success
    assert type(response.exception) is exc_type


def post_raw(
    emulator: str, body: object, headers: dict[str, str] | None = None, project: str = PROJECT
) -> httpx.Response:
    return httpx.post(
        f"{emulator}/v1/projects/{project}/messages:send",
        json=body,
        headers={"Authorization": "Bearer anything"} if headers is None else headers,
    )


def test_data_value_not_a_string_is_400(emulator: str) -> None:
    body = {"message": {"token": "t", "data": {"count": 1}}}
    response = post_raw(emulator, body)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    assert error["message"] == "Invalid value at 'message.data[0].value' (TYPE_STRING), 1"
    assert {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "INVALID_ARGUMENT"} in error[
        "details"
    ]
    violations = error["details"][1]["fieldViolations"]
    assert violations[0]["field"] == "message.data[0].value"


def test_missing_bearer_is_401(emulator: str) -> None:
    response = post_raw(emulator, {"message": {"token": "t"}}, headers={})
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": 401,
            "message": "Request is missing required authentication credential. Expected OAuth "
            "2 access token, login cookie or other valid authentication credential.",
            "status": "UNAUTHENTICATED",
        }
    }


def test_wrong_project_is_404(emulator: str) -> None:
    response = post_raw(emulator, {"message": {"token": "t"}}, project="someone-else")
    assert response.status_code == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"


def test_control_api(emulator: str) -> None:
    device = token()
    assert httpx.get(f"{emulator}/emulator/health").status_code == 200
    bad = httpx.put(f"{emulator}/emulator/tokens/{device}", json={"error": "TEAPOT"})
    assert bad.status_code == 400
    fault(emulator, device, "INTERNAL")
    assert post_raw(emulator, {"message": {"token": device}}).status_code == 500
    assert httpx.delete(f"{emulator}/emulator/tokens/{device}").status_code == 204
    assert post_raw(emulator, {"message": {"token": device}}).status_code == 200
    tries = attempts(emulator, device)
    assert [(a["outcome"], a["error_code"]) for a in tries] == [("rejected", "INTERNAL"), ("accepted", None)]
    assert all(isinstance(a["received_at"], float) for a in tries)
    assert httpx.delete(f"{emulator}/emulator/messages").status_code == 204
    assert messages(emulator) == []
    assert attempts(emulator, device) == []


def test_command_line_entry_point() -> None:
    argv = [sys.executable, "-m", "devtools.fcm_emulator", "--port", "0", "--project-id", "cli-project"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        try:
            assert proc.stdout is not None
            readable, _, _ = select.select([proc.stdout], [], [], 30)
            assert readable, "the emulator printed nothing within 30 s"
            line = proc.stdout.readline().strip()
            assert line.startswith("fcm-emulator listening on http://127.0.0.1:"), line
            url = line.rsplit(" ", 1)[1]
            assert httpx.get(f"{url}/emulator/health").json()["project_id"] == "cli-project"
            ok = post_raw(url, {"message": {"token": "t"}}, project="cli-project")
            assert ok.status_code == 200
        finally:
            proc.terminate()
            proc.wait(10)
