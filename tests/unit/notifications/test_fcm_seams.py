"""The firebase-admin internals FcmSender relies on. If one of these fails after an upgrade,
FCM_ENDPOINT or the no-built-in-retry policy silently stopped working: fix notifications/fcm.py.
"""

import inspect
import uuid
from collections.abc import Iterator

import firebase_admin
import pytest
from firebase_admin import _http_client, messaging
from firebase_admin._retry import HttpxRetry, HttpxRetryTransport

from notifications.fcm import (
    LOCAL_BEARER_TOKEN,
    FcmSender,
    LocalCredential,
    install_single_attempt_client,
    override_send_url,
    send_url,
)


@pytest.fixture
def app() -> Iterator[firebase_admin.App]:
    app = firebase_admin.initialize_app(
        LocalCredential(), {"projectId": "seam-project"}, name=f"seam-{uuid.uuid4().hex}"
    )
    yield app
    firebase_admin.delete_app(app)  # no event loop here, so its asyncio.run() cleanup works


def test_messaging_service_still_has_fcm_url(app: firebase_admin.App) -> None:
    service = messaging._get_messaging_service(app)
    assert service._fcm_url == "https://fcm.googleapis.com/v1/projects/seam-project/messages:send"


def test_send_each_async_still_posts_to_fcm_url() -> None:
    source = inspect.getsource(messaging._MessagingService.send_each_async)
    assert "url=self._fcm_url" in source
    assert "self._async_client.request" in source


def test_override_send_url(app: firebase_admin.App) -> None:
    url = send_url("http://127.0.0.1:8787/", "seam-project")
    assert url == "http://127.0.0.1:8787/v1/projects/seam-project/messages:send"
    override_send_url(app, url)
    assert messaging._get_messaging_service(app)._fcm_url == url


def test_single_attempt_client_replaces_the_retrying_one(app: firebase_admin.App) -> None:
    service = messaging._get_messaging_service(app)
    original = service._async_client
    assert isinstance(original, _http_client.HttpxAsyncClient)
    assert "retry_config" in inspect.signature(_http_client.HttpxAsyncClient).parameters
    # The default really does retry 500/503, which is why we replace it.
    assert _http_client.DEFAULT_HTTPX_RETRY_CONFIG.retries_left > 0
    assert 503 in (_http_client.DEFAULT_HTTPX_RETRY_CONFIG.status_forcelist or [])

    client = install_single_attempt_client(app, 5.0)
    assert service._async_client is client is not original
    transports = list(client.async_client._mounts.values())
    assert transports
    assert all(isinstance(t, HttpxRetryTransport) for t in transports)
    retry: HttpxRetry = transports[0]._retry
    assert retry.retries_left == 0
    # Calling it again (a second sender on the same app) keeps the same client.
    assert install_single_attempt_client(app, 5.0) is client


def test_max_retries_zero_means_one_attempt() -> None:
    retry = HttpxRetry(max_retries=0).copy()
    assert not retry.is_exhausted()
    retry.increment(request=None)  # type: ignore[arg-type]
    assert retry.is_exhausted()


def test_local_credential_never_needs_google() -> None:
    credential = LocalCredential().get_credential()
    assert credential.valid
    assert credential.token == LOCAL_BEARER_TOKEN
    credential.refresh(None)  # would raise or hit the network for a real credential
    assert credential.valid
    assert credential.token == LOCAL_BEARER_TOKEN
    headers: dict[str, str] = {}
    credential.before_request(None, "POST", "http://x", headers)
    assert headers["authorization"] == f"Bearer {LOCAL_BEARER_TOKEN}"


def test_sender_configures_its_app() -> None:
    sender = FcmSender("seam-project", None, "http://127.0.0.1:9", app_name=f"s-{uuid.uuid4()}")
    try:
        service = messaging._get_messaging_service(sender.app)
        assert service._fcm_url == "http://127.0.0.1:9/v1/projects/seam-project/messages:send"
        assert service._async_client.async_client._mounts
        assert isinstance(sender.app.credential, LocalCredential)
        assert sender.app.project_id == "seam-project"
    finally:
        firebase_admin.delete_app(sender.app)


def test_sender_reuses_an_existing_app_of_the_same_project() -> None:
    name = f"s-{uuid.uuid4()}"
    first = FcmSender("seam-project", None, None, app_name=name)
    try:
        second = FcmSender("seam-project", None, None, app_name=name)
        assert second.app is first.app
        with pytest.raises(ValueError, match="another project"):
            FcmSender("other-project", None, None, app_name=name)
    finally:
        firebase_admin.delete_app(first.app)


def test_the_direct_transport_finds_what_it_borrows(app: firebase_admin.App) -> None:
    """FCM_TRANSPORT=direct sends firebase-admin's own body, headers and bearer, and reads its
    errors through firebase-admin's own mapping."""
    from notifications.fcm_direct import DirectTransport

    service = messaging._get_messaging_service(app)
    assert set(service._fcm_headers) == {"X-GOOG-API-FORMAT-VERSION", "X-FIREBASE-CLIENT"}
    assert "x-goog-api-client" in _http_client.METRICS_HEADERS
    direct = DirectTransport(app, "http://127.0.0.1:9/v1/projects/seam-project/messages:send", 1.0)
    headers = direct._headers_now()
    assert headers["authorization"] == f"Bearer {LOCAL_BEARER_TOKEN}"
    assert headers["X-FIREBASE-CLIENT"].startswith("fire-admin-python/")
    message = messaging.Message(token="t", data={"k": "v"})
    assert service.encode_message(message) == {"token": "t", "data": {"k": "v"}}
    error = direct._status_error(
        404,
        {},
        b'{"error": {"status": "NOT_FOUND", "details": [{"@type": '
        b'"type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}}',
    )
    assert isinstance(error, messaging.UnregisteredError)
