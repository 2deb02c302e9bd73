"""The real FCM sender: firebase-admin's send_each_async, one outcome per push."""

from __future__ import annotations

import asyncio
import datetime
import email.utils
import logging
import re
import time
import weakref
from collections import Counter
from collections.abc import Callable, Generator, Sequence
from types import TracebackType
from typing import Any

import firebase_admin
import google.auth.credentials
import httpx
from firebase_admin import _http_client, credentials, exceptions, messaging
from firebase_admin._retry import HttpxRetry, HttpxRetryTransport
from google.auth.transport import requests as google_auth_requests

from notifications.fcm_bodies import MessageBodies
from notifications.fcm_direct import DEFAULT_CONNECTIONS, DirectTransport
from notifications.fcm_transport import CleartextTransport
from notifications.fcm_wire import FcmErrorInfo, parse_error
from notifications.push import Push, PushOutcome, build_message
from notifications.quota import FCM_BATCH_LIMIT, FcmQuota

logger = logging.getLogger(__name__)

FCM_BASE_URL = "https://fcm.googleapis.com"
LOCAL_BEARER_TOKEN = "local-fcm-token"
DEFAULT_TIMEOUT_SECONDS = 10.0
# How the send requests travel (FCM_TRANSPORT): through firebase-admin's send_each_async
# (httpx, HTTP/2), or "direct": firebase-admin's messages, credential and error mapping over an
# HTTP/1.1 keep-alive pool (notifications/fcm_direct.py). Decision 0025 says which and why.
TRANSPORTS = ("firebase-admin", "direct")

_RETRY_AFTER_SECONDS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*$")


def send_url(endpoint: str | None, project_id: str) -> str:
    """The FCM v1 send URL, on FCM itself or on the endpoint that replaces it."""
    base = (endpoint or FCM_BASE_URL).rstrip("/")
    return f"{base}/v1/projects/{project_id}/messages:send"


class _StaticTokenCredentials(google.auth.credentials.Credentials):  # type: ignore[misc,unused-ignore]
    """A Google credential with a fixed bearer token: refreshing never calls Google."""

    def __init__(self, token: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._static_token = token
        self.refresh(None)

    def refresh(self, request: object) -> None:
        self.token = self._static_token
        # google-auth compares expiry with a naive UTC datetime.
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        self.expiry = now + datetime.timedelta(days=3650)


class LocalCredential(credentials.Base):  # type: ignore[misc,unused-ignore]
    """Local mode (no FCM_CREDENTIALS): a static bearer token, no Google token fetch."""

    def __init__(self, token: str = LOCAL_BEARER_TOKEN) -> None:
        self._credential = _StaticTokenCredentials(token)

    def get_credential(self) -> google.auth.credentials.Credentials:
        return self._credential


class FcmSender:
    """Sends pushes through firebase-admin and says, per push, what came of it.

    One sender owns one named firebase_admin App; `aclose()` deletes that App. With a
    `quota`, each send_each_async call first reserves its messages from the project-wide
    quota (and waits its turn). `h2c` sends to an http:// endpoint over HTTP/2 with prior
    knowledge, as to FCM itself (which speaks HTTP/2 over TLS), when the endpoint speaks it,
    and over HTTP/1.1 when it does not; `h2c=False` speaks HTTP/1.1 only. `transport="direct"`
    sends the same messages over HTTP/1.1 with `connections` kept open (h2c does not apply).
    """

    def __init__(
        self,
        project_id: str,
        credentials_path: str | None,
        endpoint: str | None,
        app_name: str = "cwallet",
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        batch_size: int = FCM_BATCH_LIMIT,
        quota: FcmQuota | None = None,
        h2c: bool = True,
        max_concurrent_calls: int | None = None,
        transport: str = "firebase-admin",
        connections: int = DEFAULT_CONNECTIONS,
    ) -> None:
        if not 1 <= batch_size <= FCM_BATCH_LIMIT:
            raise ValueError(f"batch_size must be between 1 and {FCM_BATCH_LIMIT}")
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {TRANSPORTS}")
        self.transport = transport
        self.project_id = project_id
        # Pushes sent concurrently in one send_each_async call.
        self.batch_size = batch_size
        self.quota = quota
        # send_each_async calls in flight at once in this process (None: no limit). A bulk
        # sender keeps it small: thousands of concurrent streams on one connection cost more
        # CPU per message than they gain, and would stretch one batch past its job timeout.
        self._calls = asyncio.Semaphore(max_concurrent_calls) if max_concurrent_calls else None
        self.url = send_url(endpoint, project_id)
        self._app = _get_or_init_app(app_name, project_id, credentials_path, timeout_seconds)
        self._client = install_single_attempt_client(
            self._app, timeout_seconds, h2c=h2c and self.url.startswith("http://")
        )
        if endpoint:
            override_send_url(self._app, self.url)
        self._direct: DirectTransport | None = None
        self._bodies: MessageBodies | None = None
        if transport == "direct":
            self._direct = DirectTransport(self._app, self.url, timeout_seconds, connections=connections)
            self._bodies = MessageBodies(_messaging_service(self._app).encode_message)
        self._closed = False

    @property
    def app(self) -> firebase_admin.App:
        return self._app

    async def send(self, pushes: Sequence[Push]) -> list[PushOutcome]:
        """Send each push; the outcomes come back in the order of `pushes`."""
        outcomes: list[PushOutcome | None] = [None] * len(pushes)
        # firebase-admin's message for each push, or, over the direct transport, its encoded
        # send request (notifications/fcm_bodies.py).
        prepare: Callable[[Push], Any] = self._bodies.body if self._bodies is not None else build_message
        ready: list[tuple[int, Any]] = []
        for index, push in enumerate(pushes):
            try:
                ready.append((index, prepare(push)))
            except ValueError:
                # Our own bad payload: fail this push alone, keep the token.
                outcomes[index] = PushOutcome(push.token, "failed", error_code="INVALID_MESSAGE")
        for start in range(0, len(ready), self.batch_size):
            chunk = ready[start : start + self.batch_size]
            try:
                batch = await self._send_each([m for _, m in chunk])
            except exceptions.FirebaseError as exc:
                # Raised only when something outside a single request broke.
                for index, _ in chunk:
                    outcomes[index] = outcome_from_error(pushes[index].token, exc)
                continue
            for (index, _), response in zip(chunk, batch, strict=True):
                outcomes[index] = outcome_from_response(pushes[index].token, response)
        result = [o for o in outcomes if o is not None]
        # Counts only: tokens and texts never reach the logs.
        logger.info("fcm send: %s", dict(Counter(o.kind for o in result)))
        return result

    async def _send_each(self, prepared: list[Any]) -> list[messaging.SendResponse]:
        if self._calls is None:
            return await self._reserve_and_send(prepared)
        async with self._calls:
            return await self._reserve_and_send(prepared)

    async def _reserve_and_send(self, prepared: list[Any]) -> list[messaging.SendResponse]:
        if self.quota is not None:
            await self.quota.acquire(len(prepared))
        if self._direct is not None:
            return await self._direct.send_bodies(prepared)
        batch = await messaging.send_each_async(prepared, app=self._app)
        return list(batch.responses)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._direct is not None:
            await self._direct.aclose()
        await self._client.aclose()
        try:
            registered = firebase_admin.get_app(self._app.name)
        except ValueError:
            return
        if registered is self._app:
            # delete_app closes the messaging service with asyncio.run(), which cannot run
            # inside our event loop; our client is already closed, so that call is a no-op.
            await asyncio.to_thread(firebase_admin.delete_app, self._app)

    async def __aenter__(self) -> FcmSender:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def outcome_from_response(token: str, response: messaging.SendResponse) -> PushOutcome:
    if response.success:
        return PushOutcome(token, "sent", message_name=response.message_id)
    exc = response.exception
    if exc is None:  # FCM answered 2xx without a message name
        return PushOutcome(token, "failed", error_code="UNKNOWN")
    return outcome_from_error(token, exc)


def outcome_from_error(token: str, exc: BaseException) -> PushOutcome:
    """Map a firebase-admin error for one push to what the worker should do next."""
    info = _error_info(exc)
    code = info.fcm_code or getattr(exc, "code", None) or type(exc).__name__
    if isinstance(exc, messaging.UnregisteredError):
        return PushOutcome(token, "unregistered", error_code=info.fcm_code or "UNREGISTERED")
    if isinstance(exc, exceptions.InvalidArgumentError):
        # INVALID_ARGUMENT also covers a malformed payload; FCM then names the bad field.
        # Only blame the token when no other field is named, so our bug never prunes it.
        if info.fields and not any(f.startswith("message.token") for f in info.fields):
            return PushOutcome(token, "failed", error_code=code)
        return PushOutcome(token, "invalid_token", error_code=code)
    if _is_retryable(exc):
        return PushOutcome(token, "retryable", error_code=code, retry_after_seconds=_retry_after(exc))
    return PushOutcome(token, "failed", error_code=code)


def _is_retryable(exc: BaseException) -> bool:
    if isinstance(
        exc,
        (
            exceptions.ResourceExhaustedError,  # QuotaExceededError is one
            exceptions.UnavailableError,
            exceptions.InternalError,
            exceptions.DeadlineExceededError,
        ),
    ):
        return True
    cause = getattr(exc, "cause", None)
    return isinstance(exc, httpx.TransportError) or isinstance(cause, httpx.TransportError)


def _error_info(exc: BaseException) -> FcmErrorInfo:
    response = getattr(exc, "http_response", None)
    content = getattr(response, "content", None)
    if isinstance(content, bytes | str):
        return parse_error(content)
    return FcmErrorInfo()


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "http_response", None)
    headers = getattr(response, "headers", None)
    value = headers.get("Retry-After") if headers is not None else None
    return parse_retry_after(value) if isinstance(value, str) else None


def parse_retry_after(value: str, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delay-seconds or HTTP-date); None if bad."""
    if match := _RETRY_AFTER_SECONDS.match(value):
        return float(match.group(1))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT
        when = when.replace(tzinfo=datetime.UTC)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def _get_or_init_app(
    name: str, project_id: str, credentials_path: str | None, timeout_seconds: float
) -> firebase_admin.App:
    try:
        app = firebase_admin.get_app(name)
    except ValueError:
        credential = credentials.Certificate(credentials_path) if credentials_path else LocalCredential()
        options = {"projectId": project_id, "httpTimeout": timeout_seconds}
        return firebase_admin.initialize_app(credential, options, name=name)
    if app.project_id != project_id:
        raise ValueError(f"firebase app {name!r} exists for another project")
    return app


# --- firebase-admin private seams ---------------------------------------------------------
# firebase-admin 7.7 has no public option for the two settings below, so each reaches into
# the messaging service in one place. tests/unit/notifications/test_fcm_seams.py fails loudly
# if an upgrade renames what they touch.

_SINGLE_ATTEMPT_CLIENTS: weakref.WeakSet[Any] = weakref.WeakSet()


def _messaging_service(app: firebase_admin.App) -> Any:
    return messaging._get_messaging_service(app)


def override_send_url(app: firebase_admin.App, url: str) -> None:
    """Send to `url` instead of fcm.googleapis.com (FCM_ENDPOINT: emulator, test server)."""
    service = _messaging_service(app)
    if not isinstance(getattr(service, "_fcm_url", None), str):
        raise RuntimeError("firebase-admin changed: _MessagingService._fcm_url is gone")
    service._fcm_url = url


def install_single_attempt_client(app: firebase_admin.App, timeout_seconds: float, *, h2c: bool = False) -> Any:
    """Give the messaging service an HTTP client that tries each request exactly once.

    firebase-admin retries 500/503 up to 4 times with backoff inside send_each_async. Our
    worker already retries with backoff, counts attempts towards `failed`, and honours
    Retry-After; hidden retries would stall a whole batch inside one job and make the
    attempt count lie. So every FCM answer comes straight back to us.

    `h2c`: http:// URLs go over HTTP/2 with prior knowledge when the endpoint speaks it
    (httpx would otherwise use HTTP/1.1 there, a connection per in-flight request), and over
    HTTP/1.1 when it does not; https:// keeps ALPN.
    """
    service = _messaging_service(app)
    current = getattr(service, "_async_client", None)
    if not isinstance(current, _http_client.HttpxAsyncClient):
        raise RuntimeError("firebase-admin changed: _MessagingService._async_client is gone")
    if current in _SINGLE_ATTEMPT_CLIENTS:
        return current
    # The replaced client never opened a connection, so dropping it leaks nothing.
    credential = app.credential.get_credential()
    client = _http_client.HttpxAsyncClient(
        credential=credential, timeout=timeout_seconds, retry_config=HttpxRetry(max_retries=0)
    )
    _rebuild_httpx_client(client, credential, h2c=h2c)
    _SINGLE_ATTEMPT_CLIENTS.add(client)
    service._async_client = client
    return client


def _rebuild_httpx_client(client: Any, credential: Any, *, h2c: bool) -> None:
    """Rebuild the wrapper's httpx client: single-attempt transports, HTTP/2 with prior
    knowledge to an http:// endpoint that speaks it when `h2c` (HTTP/1.1 to one that does not,
    notifications/fcm_transport.py), and an auth flow that keeps one transport for token
    refreshes."""
    inner = client._async_client
    if not isinstance(inner, httpx.AsyncClient):
        raise RuntimeError("firebase-admin changed: HttpxAsyncClient._async_client is gone")
    single = SingleAttempt()
    client._async_client = httpx.AsyncClient(
        http2=True,
        timeout=inner.timeout,
        headers=inner.headers,
        auth=ReusedTransportAuthFlow(credential),
        mounts={
            "http://": CleartextTransport(single) if h2c else HttpxRetryTransport(retry=single),
            "https://": HttpxRetryTransport(retry=single),
        },
    )


class SingleAttempt(HttpxRetry):  # type: ignore[misc,unused-ignore]
    """No retries, and no copy of this policy for every request: firebase-admin copies it so
    that retries can count down in its history, but a policy that finds no answer retryable
    never reaches the count, so one shared instance serves every request (the copies were
    3 % of a broadcast's CPU, decision 16)."""

    def __init__(self) -> None:
        super().__init__(max_retries=0)

    def copy(self) -> SingleAttempt:
        return self

    def is_retryable_response(self, response: httpx.Response) -> bool:
        return False


class ReusedTransportAuthFlow(_http_client.GoogleAuthCredentialFlow):  # type: ignore[misc,unused-ignore]
    """firebase-admin's auth flow (bearer header, one forced refresh on a 401), except that it
    builds the google-auth transport used for refreshes once, not a new requests.Session for
    every message: that alone was a tenth of a broadcast's CPU (docs/decisions/0014)."""

    def __init__(self, credential: Any) -> None:
        super().__init__(credential)
        self._auth_request = google_auth_requests.Request()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        original = request.headers.copy()
        refreshes = 0
        while True:
            request.headers = original.copy()
            self._credential.before_request(self._auth_request, request.method, str(request.url), request.headers)
            response = yield request
            if response.status_code not in self._refresh_status_codes or refreshes >= self._max_refresh_attempts:
                return
            self._credential.refresh(self._auth_request)
            refreshes += 1
