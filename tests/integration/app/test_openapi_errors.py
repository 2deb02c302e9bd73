"""The served OpenAPI tells clients what can go wrong on each operation, as problem+json."""

from __future__ import annotations

from typing import Any

import httpx

from app.openapi_errors import (
    CONFLICTS,
    CREDENTIAL_CHECKS,
    LOOKUPS_BY_BODY,
    PROBLEM_MEDIA_TYPE,
    SERVED_WHEN_CONFIGURED,
)


async def operations(api: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    description = (await api.get("/schema/openapi.json")).json()
    return {
        f"{method.upper()} {path}": operation
        for path, item in description["paths"].items()
        for method, operation in item.items()
    }


def errors_of(operation: dict[str, Any]) -> set[int]:
    return {int(status) for status in operation["responses"] if int(status) >= 400}


async def test_every_error_answer_is_declared_as_problem_json(api: httpx.AsyncClient) -> None:
    described = await operations(api)
    for key, operation in described.items():
        assert 503 in errors_of(operation), key
        for status in errors_of(operation):
            content = operation["responses"][str(status)]["content"]
            assert list(content) == [PROBLEM_MEDIA_TYPE], (key, status)
            assert content[PROBLEM_MEDIA_TYPE]["schema"] == {"$ref": "#/components/schemas/Problem"}
    schema = (await api.get("/schema/openapi.json")).json()["components"]["schemas"]["Problem"]
    assert set(schema["required"]) == {"type", "title", "status", "detail", "code"}
    assert "errors" in schema["properties"]


async def test_each_operation_lists_what_applies_to_it(api: httpx.AsyncClient) -> None:
    described = await operations(api)
    # Guarded, with a path parameter and a body, may conflict, rate-limited.
    assert errors_of(described["POST /api/v1/agency/dossiers/{code}/events"]) == {
        400, 401, 403, 404, 409, 413, 415, 422, 429, 503,
    }  # fmt: skip
    # Signed in, no parameter, no body.
    assert errors_of(described["GET /api/v1/me"]) == {401, 403, 429, 503}
    # Public and unguarded: no 401/403; a body.
    assert errors_of(described["POST /api/v1/citizens"]) == {400, 409, 413, 415, 422, 429, 503}
    # Public, a query parameter (`q`, the catalogue search): no 401/403, a bad value is 400/422.
    assert errors_of(described["GET /api/v1/services"]) == {400, 422, 429, 503}
    # Outside /api/v1: not rate-limited.
    assert errors_of(described["GET /.well-known/jwks.json"]) == {503}
    # A sign-in checks a credential without a bearer token.
    assert 401 in errors_of(described["POST /api/v1/auth/token"])


async def test_the_tables_name_real_operations(api: httpx.AsyncClient) -> None:
    """The hand-kept tables of app/openapi_errors.py cannot drift from the routes unnoticed."""
    described = await operations(api)
    for table in (CONFLICTS, CREDENTIAL_CHECKS, LOOKUPS_BY_BODY, SERVED_WHEN_CONFIGURED):
        assert table <= set(described), sorted(table - set(described))
    for key in CONFLICTS:
        assert 409 in errors_of(described[key]), key
