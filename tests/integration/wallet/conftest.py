"""Wallet fixtures: agencies allowed given document types, and a queue pool for the cron's service."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest


@dataclass
class Issuer:
    code: str
    access_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@pytest.fixture
def make_issuer(api: httpx.AsyncClient) -> Callable[..., Awaitable[Issuer]]:
    """An agency allowed to issue exactly the given document types (no services needed)."""

    async def make(document_types: list[str]) -> Issuer:
        from app.cli import create_agency

        code = f"WL{secrets.token_hex(3).upper()}"
        creds = await create_agency(code, f"Wallet test agency {code}", [], document_types)
        token = await api.post(
            "/api/v1/agency/token", json={"client_id": creds["client_id"], "client_secret": creds["client_secret"]}
        )
        assert token.status_code == 200, token.text
        return Issuer(code, token.json()["access_token"])

    return make


@pytest.fixture
async def queue_pool(api: httpx.AsyncClient) -> AsyncIterator[Any]:
    """A queue pool of our own, for calling the cron's service function in the test."""
    from app.config import get_settings
    from app.queue import open_pool

    pool = await open_pool(get_settings())
    try:
        yield pool
    finally:
        await pool.aclose()
