"""Which HTTP an http:// FCM_ENDPOINT speaks: HTTP/2 in clear when it can, HTTP/1.1 otherwise.

FCM itself speaks HTTP/2 over TLS (ALPN picks it). An http:// endpoint is a stand-in: the
local emulator speaks HTTP/2 with prior knowledge (h2c), which keeps a broadcast on one
connection (the benchmarks rely on it); a test server of one's own often speaks only
HTTP/1.1, and answers the HTTP/2 preface by closing the connection. So the first request to
an endpoint tries h2c; if the server breaks the connection before any h2c answer came back,
the request goes again over HTTP/1.1 and the endpoint is remembered as HTTP/1.1 (nothing
was delivered: the server never read a request it understood). Once an h2c answer came back,
a broken connection is what it is, an error, never a reason to switch.
"""

from __future__ import annotations

import logging

import httpx
from firebase_admin._retry import HttpxRetry, HttpxRetryTransport

logger = logging.getLogger(__name__)

# What an HTTP/1.1-only server does with the HTTP/2 preface, as the client sees it: a reset
# while writing, a close while reading, or bytes that are not HTTP/2 frames.
_NOT_HTTP2 = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


def _origin(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.host}:{url.port}"


class CleartextTransport(httpx.AsyncBaseTransport):
    """HTTP/2 with prior knowledge to an http:// endpoint that speaks it, HTTP/1.1 to one that
    does not; found out once per endpoint (origin) by this transport's first request."""

    def __init__(self, retry: HttpxRetry) -> None:
        self._h2c = HttpxRetryTransport(retry=retry, http1=False)
        self._http1 = HttpxRetryTransport(retry=retry)
        self._speaks_h2c: dict[str, bool] = {}

    def protocol(self, url: str) -> str | None:
        """'h2c', 'http/1.1' or None (not asked yet), for the endpoint of `url`."""
        known = self._speaks_h2c.get(_origin(httpx.URL(url)))
        return None if known is None else ("h2c" if known else "http/1.1")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        origin = _origin(request.url)
        known = self._speaks_h2c.get(origin)
        response: httpx.Response
        if known is False:
            response = await self._http1.handle_async_request(request)
            return response
        try:
            response = await self._h2c.handle_async_request(request)
        except _NOT_HTTP2:
            if known:
                raise
            # The request is sent again below; its body is bytes (a JSON send request).
            response = await self._http1.handle_async_request(request)
            self._speaks_h2c[origin] = False
            logger.info("fcm endpoint speaks HTTP/1.1 only: sending over HTTP/1.1")
            return response
        self._speaks_h2c[origin] = True
        return response

    async def aclose(self) -> None:
        await self._h2c.aclose()
        await self._http1.aclose()
