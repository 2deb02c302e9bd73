"""FCM v1 send requests over an HTTP/1.1 keep-alive pool (notifications/fcm_h1.py), with
firebase-admin's messages, credentials and error mapping (FCM_TRANSPORT=direct, decision 0025).

firebase-admin sends each message through httpx over HTTP/2; in a broadcast that stack was
56 % of the worker's CPU (httpx, httpcore, h2, hpack, anyio: decision 16) and capped a worker
near 1,100 messages a second. This transport keeps everything of firebase-admin but the wire:

- the message: `messaging.Message` built and validated by firebase-admin, encoded by its own
  `_MessagingService.encode_message` (MessageEncoder), sent as the same `{"message": …}` body
  (once per distinct message, the token put in per push: notifications/fcm_bodies.py);
- the credential: the App's google-auth credential, refreshed (in a thread) when it is not
  valid, and once more after a 401, as firebase-admin's auth flow does;
- the headers: the messaging service's own (`X-GOOG-API-FORMAT-VERSION`, `X-FIREBASE-CLIENT`)
  and firebase-admin's metrics header;
- the errors: a non-2xx answer, or a broken connection, is handed to firebase-admin's own
  `_handle_fcm_httpx_error` as the httpx error it would have seen, so each push gets the same
  FirebaseError, and from it the same PushOutcome (notifications/fcm.py), as through
  `send_each_async`. One attempt per message: the worker owns retries.

FCM serves its v1 API over HTTP/1.1 as well as HTTP/2 (firebase-admin's own synchronous
`send_each` uses HTTP/1.1 with a pool of 100 connections); so does the local emulator.
"""

from __future__ import annotations

import asyncio
from typing import Any

import firebase_admin
import httpx
import msgspec
from firebase_admin import _http_client, exceptions, messaging
from google.auth.transport import requests as google_auth_requests

from notifications.fcm_bodies import encode_request
from notifications.fcm_h1 import BadAnswer, ClosedBeforeAnswer, CouldNotConnect, Http1Pool

# Connections kept open to the FCM endpoint; a batch of 500 waits its turn for one of them.
DEFAULT_CONNECTIONS = 64
# firebase-admin's auth flow: on a 401, refresh the token and send again, at most twice.
_REFRESH_STATUS = 401
_MAX_REFRESHES = 2

_decode_answer = msgspec.json.Decoder(dict[str, Any]).decode


class DirectTransport:
    """Sends firebase-admin messages to one FCM send URL; one SendResponse per message, in order."""

    def __init__(
        self, app: firebase_admin.App, url: str, timeout_seconds: float, *, connections: int = DEFAULT_CONNECTIONS
    ) -> None:
        service = messaging._get_messaging_service(app)
        headers = getattr(service, "_fcm_headers", None)
        if not isinstance(headers, dict) or not callable(getattr(service, "_handle_fcm_httpx_error", None)):
            raise RuntimeError("firebase-admin changed: _MessagingService headers or error mapping are gone")
        self._service = service
        self._encode_message = service.encode_message
        self._credential = app.credential.get_credential()
        self._headers = {**headers, **_http_client.METRICS_HEADERS, "Content-Type": "application/json"}
        self.url = url
        self._timeout_seconds = timeout_seconds
        self._connections = connections
        self._pool: Http1Pool | None = None
        self._refreshing = asyncio.Lock()
        self._auth_request = google_auth_requests.Request()

    async def send_each(self, messages: list[messaging.Message]) -> list[messaging.SendResponse]:
        # Encoded first, as send_each_async does: a message firebase-admin refuses raises here.
        return await self.send_bodies([encode_request(self._encode_message(m)) for m in messages])

    async def send_bodies(self, bodies: list[bytes]) -> list[messaging.SendResponse]:
        """Send each encoded send request (notifications/fcm_bodies.py); one SendResponse per
        body, in order."""
        pool = self._open()
        responses: list[messaging.SendResponse | None] = [None] * len(bodies)
        try:
            headers = await self._authorized()
            # A few senders that take the next body when one is answered, not a task per body:
            # the pool has `connections` connections, so more would only wait for one.
            turns = iter(range(len(bodies)))

            async def sender() -> None:
                for n in turns:
                    responses[n] = await self._send_one(pool, bodies[n], headers)

            await asyncio.gather(*(sender() for _ in range(min(self._connections, len(bodies)))))
        except Exception as error:
            # As send_each_async: anything unforeseen (a token refresh that failed, too) fails
            # the whole call, which the sender reads as every push of the batch failing.
            message = f"Unknown error while making remote service calls: {error}"
            raise exceptions.UnknownError(message, cause=error) from error
        return [r for r in responses if r is not None]

    async def _send_one(self, pool: Http1Pool, body: bytes, headers: dict[str, str]) -> messaging.SendResponse:
        refreshes = 0
        resent = False
        while True:
            try:
                answer = await pool.post(body, headers, fresh=resent)
            except (TimeoutError, OSError) as exc:
                if not resent and isinstance(exc, ClosedBeforeAnswer):
                    # A kept-alive connection the far end closed as this request went out
                    # (its idle timeout): sent once more, on a new connection. Should FCM have
                    # read it after all, the phone collapses the two (same collapse key).
                    resent = True
                    continue
                return messaging.SendResponse(None, self._service._handle_fcm_httpx_error(_as_httpx_error(exc)))
            status, content = answer.status, answer.body
            if status == _REFRESH_STATUS and refreshes < _MAX_REFRESHES:
                refreshes += 1
                headers = await self._authorized(refused=headers)
                continue
            if 200 <= status < 300:
                try:
                    return messaging.SendResponse(_decode_answer(content), None)
                except msgspec.DecodeError as exc:
                    error = exceptions.UnknownError(f"FCM answered {status} with a body that is not JSON", cause=exc)
                    return messaging.SendResponse(None, error)
            return messaging.SendResponse(None, self._status_error(status, answer.headers, content))

    def _status_error(self, status: int, headers: list[tuple[str, str]], content: bytes) -> exceptions.FirebaseError:
        """firebase-admin's FirebaseError for this answer, with it as `http_response`."""
        request = httpx.Request("POST", self.url)
        response = httpx.Response(status, headers=headers, content=content, request=request)
        error = httpx.HTTPStatusError(f"FCM answered {status}", request=request, response=response)
        mapped: exceptions.FirebaseError = self._service._handle_fcm_httpx_error(error)
        return mapped

    async def _authorized(self, refused: dict[str, str] | None = None) -> dict[str, str]:
        """The request headers with a valid bearer token, refreshed (off the event loop) when
        it is not valid or FCM `refused` it: the requests of a batch refused together share
        one refresh."""
        headers = self._headers_now()
        if self._needs_refresh(headers, refused):
            async with self._refreshing:
                headers = self._headers_now()
                if self._needs_refresh(headers, refused):
                    await asyncio.to_thread(self._credential.refresh, self._auth_request)
                    headers = self._headers_now()
        return headers

    def _headers_now(self) -> dict[str, str]:
        headers = dict(self._headers)
        self._credential.apply(headers)  # "authorization: Bearer …" (and a quota project)
        return headers

    def _needs_refresh(self, headers: dict[str, str], refused: dict[str, str] | None) -> bool:
        if not self._credential.valid:
            return True
        return refused is not None and refused.get("authorization") == headers.get("authorization")

    def _open(self) -> Http1Pool:
        if self._pool is None:
            self._pool = Http1Pool(self.url, limit=self._connections, timeout_seconds=self._timeout_seconds)
        return self._pool

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None


def _as_httpx_error(exc: BaseException) -> httpx.HTTPError:
    """The httpx error firebase-admin's mapping expects for what broke: a timeout becomes
    DEADLINE_EXCEEDED, a refused connection UNAVAILABLE, a broken one a transport error
    (retryable either way, notifications/fcm.py)."""
    message = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, TimeoutError):
        return httpx.ReadTimeout(message)
    if isinstance(exc, CouldNotConnect):
        return httpx.ConnectError(message)
    if isinstance(exc, ClosedBeforeAnswer | BadAnswer):
        return httpx.RemoteProtocolError(message)
    return httpx.ReadError(message)
