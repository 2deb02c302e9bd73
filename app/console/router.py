"""The console (decision 0027): server-rendered pages for people, under /console, in the same
app as the API and calling the same services.

Around every console route: CSRF (Litestar's double-submit token, on every form and every
htmx request), then the cookie session that sets `scope["user"]` (app/console/session.py).
Pages allow scripts and styles from this origin only; every answer is `no-store`
(app/security_headers.py) except the static files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import ResponseHeader
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    TooManyRequestsException,
    ValidationException,
)
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.security.jwt import JWTAuth, Token
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from app.config import Settings
from app.console import session
from app.console.admin import AdminConsoleController
from app.console.clerk import ClerkController
from app.console.pages import is_fragment, page, problem, see_other
from app.console.signing_in import SignInController
from app.console.support import SupportDeskController
from app.console.texts import Words, language
from app.console.webhooks import AgencyWebhooksController
from app.errors import AppError, invalid_input
from app.security import Principal

HERE = Path(__file__).parent
CSRF_COOKIE = "cw_csrf"
# The console's own pages: scripts and styles from this origin only, no framing, forms post here.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


class FormCSRFMiddleware(CSRFMiddleware):
    """Litestar's double-submit check, except that a token sent as a file (a multipart part
    with a filename) is a wrong token (403), not a TypeError (500)."""

    def _csrf_tokens_match(self, request_csrf_token: Any, cookie_csrf_token: str) -> bool:
        return isinstance(request_csrf_token, str) and super()._csrf_tokens_match(request_csrf_token, cookie_csrf_token)


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine)


def _error_page(request: Request[Any, Any, Any], status: int, heading: str, **context: Any) -> Response[Any]:
    if is_fragment(request):
        # htmx asked for a piece of a page: the problem takes that piece's place.
        shown = context.get("problem") or {"title": heading, "detail": "", "fields": []}
        return page(request, "problem.html", status, problem=shown)
    return page(request, "error.html", status, heading=heading, **context)


def _app_error(request: Request[Any, Any, Any], exc: AppError) -> Response[Any]:
    shown = problem(exc, language(request))
    answer = _error_page(request, exc.status, shown["title"], problem=shown)
    answer.headers.update(exc.headers or {})  # e.g. Retry-After with a 429
    return answer


def _invalid(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    words = Words(language(request))
    shown = problem(invalid_input([]), language(request))
    return _error_page(request, 400, shown["title"], message=words.csrf if "csrf" in str(exc.detail) else None)


def _undecodable(request: Request[Any, Any, Any], _: UnicodeDecodeError) -> Response[Any]:
    # A form field that is not UTF-8 (Litestar's multipart parser decodes every text part).
    return _error_page(request, 400, problem(invalid_input([]), language(request))["title"])


def _signed_out(request: Request[Any, Any, Any], _: NotAuthorizedException) -> Response[Any]:
    # No session, or it ended by itself: back to the sign-in page, which says so.
    had_cookie = session.COOKIE in request.cookies
    target = "/console/sign-in?ended=1" if had_cookie else "/console/sign-in"
    if is_fragment(request):
        # htmx would swap the sign-in page into a corner of the page: it loads it whole instead.
        return Response(content=b"", status_code=200, headers={"HX-Redirect": target})
    return see_other(target)


def _forbidden(request: Request[Any, Any, Any], exc: PermissionDeniedException) -> Response[Any]:
    words = Words(language(request))
    if "CSRF" in str(exc.detail):
        return _error_page(request, 403, words.csrf)
    if not isinstance(request.scope.get("user"), Principal):
        return _signed_out(request, NotAuthorizedException())
    return _error_page(request, 403, words.forbidden)


def _too_many(request: Request[Any, Any, Any], exc: TooManyRequestsException) -> Response[Any]:
    answer = _error_page(request, 429, Words(language(request)).too_many)
    if exc.headers and "retry-after" in {k.lower() for k in exc.headers}:
        answer.headers.update(exc.headers)
    return answer


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    return _error_page(request, exc.status_code, Words(language(request))("http_error", status=exc.status_code))


def _not_found(request: Request[Any, Any, Any], _: NotFoundException) -> Response[Any]:
    return _error_page(request, 404, Words(language(request)).not_found)


def console_router(settings: Settings, jwt_auth: JWTAuth[Principal, Token]) -> Router:
    csrf = CSRFConfig(
        secret=settings.jwt_secret,
        cookie_name=CSRF_COOKIE,
        cookie_path=session.PATH,
        cookie_httponly=True,  # the token reaches forms and htmx through the page, not through JavaScript
        cookie_samesite="strict",
        cookie_secure=settings.environment == "production",
    )
    static = create_static_files_router(
        path="/console/static", directories=[HERE / "static"], include_in_schema=False, name="console-static"
    )
    return Router(
        path="/",
        route_handlers=[
            SignInController,
            SupportDeskController,
            ClerkController,
            AgencyWebhooksController,
            AdminConsoleController,
            static,
        ],
        middleware=[DefineMiddleware(FormCSRFMiddleware, config=csrf), session.ConsoleAuth(jwt_auth)],
        exception_handlers={
            AppError: _app_error,
            ValidationException: _invalid,
            UnicodeDecodeError: _undecodable,
            NotAuthorizedException: _signed_out,
            PermissionDeniedException: _forbidden,
            NotFoundException: _not_found,
            TooManyRequestsException: _too_many,
            HTTPException: _http_error,
        },
        response_headers=[ResponseHeader(name="Content-Security-Policy", value=CSP)],
        include_in_schema=False,
    )
