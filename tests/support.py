"""Helpers shared by the integration tests (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

import random
import uuid
from typing import Any

import httpx


def new_national_id() -> str:
    # Hà Nội (001), a man born in the 1990s (century digit 0, year 90), six random digits.
    return "001090" + f"{random.randrange(10**6):06d}"


def new_phone() -> str:
    return "09" + f"{random.randrange(10**8):08d}"


async def register(api: httpx.AsyncClient, **overrides: Any) -> httpx.Response:
    body = {
        "national_id": new_national_id(),
        "full_name": "Trần Thị Bình",
        "date_of_birth": "1990-03-04",
        "phone": new_phone(),
        "password": "correct horse battery staple",
        **overrides,
    }
    return await api.post("/api/v1/citizens", json=body)


FORMS: dict[str, dict[str, Any]] = {
    "DL_RENEWAL": {
        "current_licence_number": "790123456789",
        "licence_class": "B2",
        "health_certificate_date": "2026-11-01",
    },
    "CRIMINAL_RECORD": {"certificate_type": "1", "purpose": "Xin việc", "copies": 1},
    "RESIDENCE_REGISTRATION": {"new_address": "5 Trần Phú, Nha Trang"},
}


async def submit_residence(api: httpx.AsyncClient, citizen: Any, service_code: str = "RESIDENCE_REGISTRATION") -> str:
    """Submit a valid dossier for one of the services in FORMS; returns its code."""
    answer = await api.post(
        "/api/v1/me/dossiers",
        json={"service_code": service_code, "form": FORMS[service_code], "delivery": {"method": "online"}},
        headers={**citizen.headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["code"])
