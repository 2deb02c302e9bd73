"""Typed settings, read once from the environment."""

from __future__ import annotations

import os
from functools import lru_cache

import msgspec


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    # The document store. None means "the embedded local server" (SecantusDB), which the
    # dev stack and the test suite start themselves and hand over through MONGODB_URL.
    mongodb_url: str | None = None
    mongodb_db: str = "cwallet"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # arq queue name: tests give each run its own so parallel runs never share jobs.
    queue_name: str = "cwallet:queue"

    fcm_project_id: str = "cwallet-local"
    fcm_credentials: str | None = None
    fcm_endpoint: str | None = None

    jwt_secret: str = "dev-only-insecure-secret-change-me-0123456789"
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    agency_token_minutes: int = 60
    staff_token_minutes: int = 30

    environment: str = "development"
    log_level: str = "INFO"
    # Max items a list endpoint returns in one page, whatever `limit` asks for.
    page_limit_max: int = 100

    notification_max_attempts: int = 8


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    raw: dict[str, object] = {}
    for field in msgspec.structs.fields(Settings):
        value = _env(field.name.upper())
        if value is not None:
            raw[field.name] = value
    # Environment values are strings; msgspec converts "15" to 15 with strict=False.
    return msgspec.convert(raw, Settings, strict=False)
