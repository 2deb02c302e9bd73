"""Security headers on every answer, personal answers never cached, and /metrics only for the
holder of METRICS_TOKEN (not served at all where it is unset)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from devtools.devstack import ManagedProcess
from tests.conftest import METRICS_TOKEN
from tests.integration.hardening.conftest import client_at

BASELINE = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def assert_security_headers(answer: httpx.Response, *, personal: bool) -> None:
    for name, value in BASELINE.items():
        assert answer.headers.get(name) == value, (answer.request.url.path, name)
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert "strict-transport-security" not in answer.headers  # ENVIRONMENT=test; production adds it
    if personal:
        assert answer.headers["cache-control"] == "no-store", answer.request.url.path


async def test_every_answer_has_the_security_headers_and_personal_ones_are_not_stored(
    api: httpx.AsyncClient, make_citizen: Callable[..., Awaitable[Any]]
) -> None:
    citizen = await make_citizen(devices=0)
    wallet = await api.get("/api/v1/me/documents", headers=citizen.headers)
    assert wallet.status_code == 200
    assert_security_headers(wallet, personal=True)
    sign_in = await api.post("/api/v1/auth/token", json={"username": citizen.national_id, "password": citizen.password})
    assert_security_headers(sign_in, personal=True)  # tokens
    for error in (
        await api.get("/api/v1/me/documents"),  # 401
        await api.get("/api/v1/no-such-route"),  # 404
        await api.post("/api/v1/citizens", content=b"{not json", headers={"content-type": "application/json"}),
    ):
        assert error.status_code >= 400
        assert_security_headers(error, personal=True)
    catalogue = await api.get("/api/v1/services")
    assert catalogue.status_code == 200
    assert_security_headers(catalogue, personal=False)
    assert "no-store" not in catalogue.headers.get("cache-control", "")


async def test_metrics_need_the_scrapers_token(api: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer not-the-token"}, {"Authorization": METRICS_TOKEN}):
        refused = await api.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "metrics-credential-needed"
        assert "cwallet_" not in refused.text
    scraped = await api.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert scraped.status_code == 200
    assert "cwallet_push_queue_depth" in scraped.text


async def test_metrics_are_not_served_where_no_token_is_set(strict_api: ManagedProcess) -> None:
    async with client_at(strict_api.url or "") as client:
        for headers in ({}, {"Authorization": f"Bearer {METRICS_TOKEN}"}, {"Authorization": "Bearer x"}):
            answer = await client.get("/metrics", headers=headers)
            assert answer.status_code == 404
            assert answer.json()["code"] == "metrics-not-enabled"
