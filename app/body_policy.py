"""What a request body must be before anything reads it: the type the route takes, within the
size cap, and JSON no deeper than MAX_JSON_DEPTH.

One middleware for every route, placed before the sign-in throttle and the audit trail (both
parse the body) and before Litestar decodes it for the handler. Every JSON decoder in the
process (msgspec, the standard library) recurses once per level of nesting, so a body nested
a thousand deep raised RecursionError wherever it was first parsed and answered 500. Here the
depth is counted without recursion, on the raw bytes, and a deep body is refused with 400.

The size cap is Litestar's `request_max_body_size` (app-wide, larger on the upload route);
reading the body here through the request object enforces it (413) and leaves the bytes in
the connection state, so nothing downstream reads the network twice.
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any, Literal

from litestar.enums import RequestEncodingType, ScopeType
from litestar.handlers import HTTPRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.params import BodyKwarg
from litestar.types import ASGIApp, Receive, Scope, Send

from app.errors import MALFORMED_JSON, AppError, Text

# Far deeper than any body this API takes (a dossier form, a document's fields), far below
# where a recursive decoder gives up.
MAX_JSON_DEPTH = 32

BodyKind = Literal["json", "multipart"]

TOO_DEEP = AppError(
    400,
    "json-too-deep",
    Text("JSON lồng quá sâu", "JSON nested too deeply"),
    Text(
        "Nội dung JSON lồng nhau quá {depth} cấp. Hãy gửi dữ liệu phẳng hơn, đúng theo mô tả API tại /schema.",
        "The JSON body is nested more than {depth} levels deep. Send flatter data, shaped as the API description at "
        "/schema says.",
    ),
    params={"depth": MAX_JSON_DEPTH},
)


def unsupported_media_type(expected: BodyKind) -> AppError:
    if expected == "multipart":
        return AppError(
            415,
            "unsupported-media-type",
            Text("Sai kiểu nội dung", "Unsupported content type"),
            Text(
                "Đường dẫn này nhận tệp dạng multipart/form-data, trong trường 'data'. Hãy gửi lại tệp theo cách đó.",
                "This path takes a file as multipart/form-data, in the field 'data'. Send the file again that way.",
            ),
            headers={"Accept": "multipart/form-data"},
        )
    return AppError(
        415,
        "unsupported-media-type",
        Text("Sai kiểu nội dung", "Unsupported content type"),
        Text(
            "Đường dẫn này nhận JSON. Hãy gửi nội dung JSON mã hoá UTF-8 với Content-Type: application/json.",
            "This path takes JSON. Send a UTF-8 JSON body with Content-Type: application/json.",
        ),
        headers={"Accept": "application/json"},
    )


# A JSON string, escapes included: brackets inside strings do not nest anything.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS = frozenset(b"[]{}")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _BRACKETS)
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects more than `limit` deep; counted in loops,
    never by recursion, so any input is safe. (Malformed JSON gets an answer from the decoder.)"""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # the usual body: too few brackets to be that deep, whatever their order
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


def expected_body(handler: HTTPRouteHandler) -> BodyKind | None:
    """What the route's handler takes as its body: JSON (Litestar's default), a multipart form, or none."""
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return None
    media_type = data.kwarg_definition.media_type if isinstance(data.kwarg_definition, BodyKwarg) else None
    if media_type == RequestEncodingType.MULTI_PART:
        return "multipart"
    return "json" if media_type in (None, RequestEncodingType.JSON) else None


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def _announces_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() not in (b"", b"0")):
            return True
    return False


class RequestBodyPolicy(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        handler: Any = scope.get("route_handler")
        expected = expected_body(handler) if isinstance(handler, HTTPRouteHandler) else None
        request = scope["litestar_app"].request_class(scope, receive)
        media_type = request.content_type[0]
        if expected == "multipart":
            # Streamed to the handler as it arrives (Litestar caps its size); only the type is checked here.
            if media_type != RequestEncodingType.MULTI_PART:
                raise unsupported_media_type("multipart")
        elif expected == "json" or _announces_body(scope):
            if expected == "json" and media_type and not _is_json(media_type):
                raise unsupported_media_type("json")  # no content type at all is taken as JSON
            body = await request.body()  # 413 above the route's cap; kept for everyone downstream
            if body and not media_type.startswith("multipart/"):
                if b"\x00" in body:
                    # UTF-16/32 (which the standard library's decoder accepts, and this count
                    # would misread): never valid UTF-8 JSON.
                    raise MALFORMED_JSON
                if json_depth_exceeds(body):
                    raise TOO_DEEP
        await next_app(scope, receive, send)
