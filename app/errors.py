"""One error base class and one mapper to problem+json (RFC 9457), in the caller's language."""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.types import ExceptionHandlersMap
from pymongo.errors import ConnectionFailure
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.i18n import Language, negotiate

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Text:
    """A message in both languages; `{name}` placeholders are filled by `render`."""

    vi: str
    en: str

    def render(self, language: Language, **params: object) -> str:
        template = self.en if language == "en" else self.vi
        return template.format(**params) if params else template


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: Text
    params: dict[str, object] = dataclass_field(default_factory=dict)


class AppError(Exception):
    """An error the caller can act on. `detail` must say what to do next."""

    def __init__(
        self,
        status: int,
        code: str,
        title: Text,
        detail: Text,
        *,
        params: dict[str, object] | None = None,
        errors: list[FieldProblem] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.params = params or {}
        self.errors = errors or []
        self.headers = headers
        self.extra = extra or {}


def problem_type(code: str) -> str:
    return f"urn:cwallet:problem:{code}"


# Frequent answers, defined once so their wording stays the same everywhere.
INVALID_INPUT_TITLE = Text("Dữ liệu không hợp lệ", "Invalid input")
INVALID_INPUT_DETAIL = Text(
    "Một số trường không hợp lệ. Hãy sửa các trường được liệt kê trong 'errors' rồi gửi lại.",
    "Some fields are not valid. Correct the fields listed in 'errors' and send the request again.",
)


def not_found(what: Text) -> AppError:
    return AppError(
        404,
        "not-found",
        Text("Không tìm thấy", "Not found"),
        Text(
            "Không tìm thấy {what}. Hãy kiểm tra lại mã hoặc đường dẫn.",
            "No {what} was found. Check the code or the link.",
        ),
        params={"what": what},
    )


def invalid_input(errors: list[FieldProblem]) -> AppError:
    return AppError(422, "invalid-input", INVALID_INPUT_TITLE, INVALID_INPUT_DETAIL, errors=errors)


def _render_param(value: object, language: Language) -> object:
    return value.render(language) if isinstance(value, Text) else value


def render_problem(exc: AppError, language: Language) -> tuple[str, str, list[dict[str, str]]]:
    """The title, detail and field messages of an error in `language`, every placeholder filled
    (the title's too: "Not {age} yet" reads "Not 16 yet")."""
    params = {k: _render_param(v, language) for k, v in exc.params.items()}
    errors = [
        {
            "field": problem.field,
            "message": problem.message.render(
                language, **{k: _render_param(v, language) for k, v in problem.params.items()}
            ),
        }
        for problem in exc.errors
    ]
    return exc.title.render(language, **params), exc.detail.render(language, **params), errors


def _to_problem(request: Request[Any, Any, Any], exc: AppError) -> Response[Any]:
    language = negotiate(request.headers.get("accept-language"))
    title, detail, errors = render_problem(exc, language)
    extra: dict[str, Any] = {"type": problem_type(exc.code), "code": exc.code, **exc.extra}
    if errors:
        extra["errors"] = errors
    return ProblemDetailsException(
        status_code=exc.status,
        title=title,
        detail=detail,
        headers=exc.headers,
        extra=extra,
    ).to_response(request)


_MISSING = re.compile(r"missing required field `(?P<name>[^`]+)`(?: - at `\$\.?(?P<path>[^`]*)`)?")
_AT_PATH = re.compile(r" - at `\$\.?(?P<path>[^`]*)`")


def _field_path(key: str, message: str) -> str:
    """Where msgspec says the problem is, as a dotted field path (`delivery.method`)."""
    if missing := _MISSING.search(message):
        prefix = missing.group("path") or ""
        return f"{prefix}.{missing.group('name')}" if prefix else missing.group("name")
    if at := _AT_PATH.search(message):
        return at.group("path").replace("[", ".").replace("]", "") or key
    return key


def _validation_problems(exc: ValidationException) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message") or "invalid")
        field_path = _field_path(str(item.get("key") or "body"), message)
        if _MISSING.search(message):
            problems.append(FieldProblem(field_path, Text("Thiếu trường bắt buộc này.", "This field is required.")))
        elif message.startswith("Unsupported type"):
            # A multipart field that should hold one file held text or several files.
            one_file = Text("Cần đúng một tệp ở trường này.", "Send exactly one file here.")
            problems.append(FieldProblem(field_path, one_file))
        else:
            detail = _AT_PATH.sub("", message)
            problems.append(
                FieldProblem(field_path, Text("Giá trị không hợp lệ: {m}", "Invalid value: {m}"), {"m": detail})
            )
    return problems


def handle_app_error(request: Request[Any, Any, Any], exc: AppError) -> Response[Any]:
    return _to_problem(request, exc)


MALFORMED_JSON = AppError(
    400,
    "malformed-json",
    Text("JSON không hợp lệ", "Malformed JSON"),
    Text(
        "Nội dung yêu cầu không phải JSON hợp lệ. Hãy gửi một đối tượng JSON mã hoá UTF-8.",
        "The request body is not valid JSON. Send a UTF-8 encoded JSON object.",
    ),
)


MALFORMED_MULTIPART = AppError(
    400,
    "malformed-multipart",
    Text("Biểu mẫu multipart không hợp lệ", "Malformed multipart form"),
    Text(
        "Không đọc được nội dung multipart/form-data. Hãy gửi lại tệp trong trường 'data' của một biểu mẫu "
        "multipart/form-data hợp lệ.",
        "The multipart/form-data body could not be read. Send the file again in the field 'data' of a valid "
        "multipart/form-data form.",
    ),
)


def handle_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    problems = _validation_problems(exc)
    if not problems:
        problems = [FieldProblem("body", Text("{m}", "{m}"), {"m": exc.detail})]
    return _to_problem(request, invalid_input(problems))


_HTTP_TEXTS: dict[int, tuple[str, Text, Text]] = {
    401: (
        "unauthenticated",
        Text("Chưa xác thực", "Not authenticated"),
        Text(
            "Thiếu hoặc sai mã truy cập, hoặc mã đã hết hạn. Hãy đăng nhập lại để lấy mã mới.",
            "The access token is missing, invalid or expired. Sign in again to get a new one.",
        ),
    ),
    403: (
        "forbidden",
        Text("Không có quyền", "Forbidden"),
        Text(
            "Tài khoản này không được phép thực hiện thao tác này.",
            "This account is not allowed to do this.",
        ),
    ),
    404: (
        "not-found",
        Text("Không tìm thấy", "Not found"),
        Text(
            "Đường dẫn không tồn tại. Hãy xem tài liệu API tại /schema.", "No such path. See the API docs at /schema."
        ),
    ),
    405: (
        "method-not-allowed",
        Text("Phương thức không được hỗ trợ", "Method not allowed"),
        Text(
            "Đường dẫn này không nhận phương thức này. Xem /schema.",
            "This path does not take this method. See /schema.",
        ),
    ),
    413: (
        "body-too-large",
        Text("Nội dung quá lớn", "Request body too large"),
        Text(
            "Nội dung yêu cầu vượt quá giới hạn của đường dẫn này. Hãy gửi ít dữ liệu hơn; tệp lớn hãy nén hoặc chia "
            "nhỏ rồi tải lên lại.",
            "The request body is larger than this path accepts. Send less data; compress or split a large file, then "
            "upload it again.",
        ),
    ),
    429: (
        "too-many-requests",
        Text("Quá nhiều yêu cầu", "Too many requests"),
        Text(
            "Bạn đã gửi quá nhiều yêu cầu. Hãy thử lại sau số giây ghi trong Retry-After.",
            "Too many requests. Try again after the number of seconds in Retry-After.",
        ),
    ),
}


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status == 400:
        # Litestar raises a bare 400 when the body cannot be decoded at all.
        multipart = request.headers.get("content-type", "").startswith("multipart/")
        return _to_problem(request, MALFORMED_MULTIPART if multipart else MALFORMED_JSON)
    code, title, detail = _HTTP_TEXTS.get(
        status,
        (
            "http-error",
            Text("Yêu cầu không thực hiện được", "Request failed"),
            Text(
                "Yêu cầu không thực hiện được. Hãy kiểm tra lại và thử lại.",
                "The request failed. Check it and try again.",
            ),
        ),
    )
    if status >= 500:
        log.error("http_error", status=status, error_type=type(exc).__name__)
    headers = dict(exc.headers or {})
    if status == 429 and "RateLimit-Reset" in headers:
        # Litestar's limiter says when the window resets; clients and proxies read Retry-After.
        headers.setdefault("Retry-After", str(max(1, int(headers["RateLimit-Reset"]))))
    return _to_problem(request, AppError(status, code, title, detail, headers=headers or None))


# How long a client should wait after a 503: a Redis restart or a store failover takes seconds.
UNAVAILABLE_RETRY_AFTER_SECONDS = 5


def service_unavailable(retry_after: int = UNAVAILABLE_RETRY_AFTER_SECONDS) -> AppError:
    return AppError(
        503,
        "service-unavailable",
        Text("Dịch vụ tạm thời gián đoạn", "Service briefly unavailable"),
        Text(
            "Dịch vụ tạm thời gián đoạn. Hãy thử lại sau {seconds} giây; gửi lại cùng yêu cầu (cùng Idempotency-Key "
            "hoặc event_id) là an toàn.",
            "The service is briefly unavailable. Try again in {seconds} seconds; sending the same request again "
            "(same Idempotency-Key or event_id) is safe.",
        ),
        params={"seconds": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


def handle_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # The store or Redis cannot be reached (down, restarting, failing over). Changes are single
    # atomic writes or idempotent steps (Idempotency-Key, event_id), so a retry is safe.
    part = "redis" if isinstance(exc, RedisConnectionError | RedisTimeoutError) else "store"
    log.warning("service_unavailable", part=part, error_type=type(exc).__name__, method=request.method)
    return _to_problem(request, service_unavailable())


def handle_undecodable(request: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[Any]:
    # Litestar's multipart parser decodes each text part as UTF-8 and lets the error out: the
    # caller's malformed form (400). Anywhere else a decoding error is ours.
    if request.headers.get("content-type", "").startswith("multipart/"):
        return _to_problem(request, MALFORMED_MULTIPART)
    return handle_unexpected(request, exc)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # Only the type and where it was raised are logged: the messages of driver errors carry
    # the offending values (a duplicate national ID, say), which must never reach the logs.
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    log.error(
        "unhandled_error",
        error_type=type(exc).__name__,
        where=f"{frame.filename}:{frame.lineno}" if frame else None,
        method=request.method,
    )
    return _to_problem(
        request,
        AppError(
            500,
            "internal-error",
            Text("Lỗi hệ thống", "Internal error"),
            Text(
                "Hệ thống gặp lỗi ngoài dự kiến. Hãy thử lại sau ít phút; gửi lại cùng Idempotency-Key là an toàn.",
                "Something went wrong on our side. Try again in a few minutes; retrying with the same Idempotency-Key "
                "is safe.",
            ),
        ),
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    AppError: handle_app_error,
    ValidationException: handle_validation,
    NotAuthorizedException: handle_http,
    PermissionDeniedException: handle_http,
    NotFoundException: handle_http,
    HTTPException: handle_http,
    # The store (pymongo: AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError, ...) or
    # Redis is out of reach: 503 with Retry-After, not 500 (decision 0020).
    ConnectionFailure: handle_unavailable,
    RedisConnectionError: handle_unavailable,
    RedisTimeoutError: handle_unavailable,
    UnicodeDecodeError: handle_undecodable,
    Exception: handle_unexpected,
}
