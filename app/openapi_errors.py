"""Every operation in the OpenAPI lists the error answers it can give, each an
`application/problem+json` body with the schema below, declared here once for all routes.

What an operation can answer follows from what its route is, read off the handler when the
app registers it: a token (401), a guard (403), path parameters (404), a body (400, 413, 415,
422), the /api/v1 rate limit (429), the store or Redis being down (503, every operation).
What cannot be read off a handler is named in the tables below: which operations may
conflict with the state they change (409), which look up what their body names (404), and
which public operations check a credential of their own (401).
tests/integration/app/test_openapi_errors.py keeps the tables pointing at real operations;
the schema-driven fuzz run (tests/integration/app/test_fuzz.py) checks that nothing answers
a status the description leaves out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from http import HTTPStatus

import msgspec
from litestar.constants import RESERVED_KWARGS
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute

from app.body_policy import expected_body

PROBLEM_MEDIA_TYPE = "application/problem+json"

# Operations ("METHOD /path/{param}") that may answer 409: the state they change has moved on
# (a status move not allowed, a second rating, a replayed callback, a concurrent update).
CONFLICTS = frozenset(
    {
        "POST /api/v1/citizens",
        "POST /api/v1/citizens/claim",
        "POST /api/v1/me/children",
        "POST /api/v1/me/children/{child_id}/claim-code",
        "POST /api/v1/me/children/{child_id}/dossiers",
        "POST /api/v1/agency/identity/claim-codes",
        "POST /api/v1/agency/credentials/rotate",
        "POST /api/v1/me/dossiers",
        "POST /api/v1/me/dossiers/{code}/withdraw",
        "POST /api/v1/me/dossiers/{code}/rating",
        "POST /api/v1/me/dossiers/{code}/supplement/answers",
        "POST /api/v1/me/dossiers/{code}/tracking-secret",
        "POST /api/v1/me/children/{child_id}/dossiers/{code}/tracking-secret",
        "POST /api/v1/support/sessions/{session_id}/dossiers",
        "POST /api/v1/agency/dossiers/{code}/events",
        "POST /api/v1/agency/documents",
        "POST /api/v1/agency/documents/{document_id}/events",
        "POST /api/v1/agency/documents/{document_id}/renewals",
        "POST /api/v1/me/documents/{document_id}/presentations",
        "POST /api/v1/payments/callback",
        "POST /api/v1/postal/shipments/{code}/updates",
        "POST /api/v1/agency/webhooks",
        "POST /api/v1/agency/webhooks/{subscription_id}/secret/rotate",
        "POST /api/v1/agency/webhooks/{subscription_id}/ping",
        "POST /api/v1/postal/letters/{letter_id}/updates",
    }
)
# Operations that look up what their body names (a citizen by national ID, a payment by its
# reference) and answer 404 when there is none.
LOOKUPS_BY_BODY = frozenset(
    {
        "POST /api/v1/support/lookups",
        "POST /api/v1/support/sessions",
        "POST /api/v1/agency/identity/eid-level",
        "POST /api/v1/agency/identity/unlock",
        "POST /api/v1/agency/identity/claim-codes",
        "POST /api/v1/agency/documents",
        "POST /api/v1/payments/callback",
        "POST /api/v1/public/tracking",
    }
)
# Public operations (no bearer token) that still answer 401: they check a credential of their
# own (a password, a client secret, a refresh token, a takeover code, a signature).
CREDENTIAL_CHECKS = frozenset(
    {
        "POST /api/v1/auth/token",
        "POST /api/v1/auth/refresh",
        "POST /api/v1/agency/token",
        "POST /api/v1/staff/token",
        "POST /api/v1/postal/token",
        "POST /api/v1/citizens/claim",
        "POST /api/v1/payments/callback",
        "GET /metrics",  # METRICS_TOKEN as a bearer token
    }
)
# Operations served only when configured: /metrics answers 404 while METRICS_TOKEN is unset.
SERVED_WHEN_CONFIGURED = frozenset({"GET /metrics"})

DESCRIPTIONS: dict[int, str] = {
    400: "The request could not be read: malformed JSON or multipart, or JSON nested too deeply (see `code`).",
    401: "No valid access token (or, where the body carries one, a wrong credential). Sign in again.",
    403: "The signed-in account may not do this.",
    404: "Nothing with this identifier exists for the caller.",
    409: "The request conflicts with the current state (see `code` and `detail`); nothing was changed.",
    413: "The body is larger than this operation accepts.",
    415: "The body is not of the media type this operation takes (the `Accept` header names it).",
    422: "Some fields are not valid; `errors` lists each with what is wrong.",
    429: "Too many requests; retry after the seconds in `Retry-After`.",
    503: "The service is unavailable for a moment (store or queue down); retry after the seconds in `Retry-After`.",
}


class FieldProblemDoc(msgspec.Struct):
    field: str
    message: str


class Problem(msgspec.Struct, kw_only=True):
    """An error answer (RFC 9457), in the caller's language. More members may follow `code`
    (e.g. `allowed_next` with a refused status move)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldProblemDoc] | msgspec.UnsetType = msgspec.UNSET


def operation_key(method: str, path_format: str) -> str:
    return f"{method} {path_format}"


def _has_parameters(handler: HTTPRouteHandler) -> bool:
    """Whether the handler takes path, query or header parameters (anything but reserved names and dependencies)."""
    names = set(handler.parsed_fn_signature.parameters) - RESERVED_KWARGS - set(handler.resolve_dependencies())
    return bool(names)


def error_statuses(route: HTTPRoute, handler: HTTPRouteHandler, method: str, public: list[re.Pattern[str]]) -> set[int]:
    key = operation_key(method, route.path_format)
    statuses = {503}
    if route.path_format.startswith("/api/v1/"):
        statuses.add(429)
    if not any(pattern.search(route.path) for pattern in public) or key in CREDENTIAL_CHECKS:
        statuses.add(401)
    if handler.resolve_guards():
        statuses.add(403)
    if route.path_parameters or key in LOOKUPS_BY_BODY or key in SERVED_WHEN_CONFIGURED:
        statuses.add(404)
    if key in CONFLICTS:
        statuses.add(409)
    if expected_body(handler) is not None:
        statuses |= {400, 413, 415, 422}
    elif _has_parameters(handler):
        statuses |= {400, 422}
    return statuses


def problem_responses(statuses: Iterable[int]) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for status in sorted(statuses)
    }


class ErrorAnswersInOpenAPI(ReceiveRoutePlugin):
    """Sets each handler's `responses` as the app registers its route. `public_paths` are the
    patterns the bearer-token middleware lets through without a token."""

    def __init__(self, public_paths: str | Iterable[str] | None) -> None:
        patterns = [public_paths] if isinstance(public_paths, str) else list(public_paths or [])
        self.public = [re.compile(pattern) for pattern in patterns]

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for handler in route.route_handlers:
            statuses = set().union(*(error_statuses(route, handler, m, self.public) for m in handler.http_methods))
            # What a handler declares itself wins over the derived answer.
            handler.responses = {**problem_responses(statuses), **(handler.responses or {})}
