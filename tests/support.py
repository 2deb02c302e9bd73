"""Helpers shared by the integration tests (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from typing import Any

import httpx

# What the tests handed to the system that must never appear in a log, and the log files of
# the run; tests/conftest.py scans them at the end of the session.
SEEN_SECRETS: set[str] = set()
LOG_FILES: list[Path] = []


def remember_secrets(*values: str | None) -> None:
    SEEN_SECRETS.update(v for v in values if v and len(v) >= 6)


def find_leaks(paths: list[Path], secrets: set[str]) -> list[str]:
    """(file, kind) of each secret found in a log file; the secret itself is not repeated."""
    leaks = []
    for path in paths:
        if not path.exists():
            continue
        text = path.read_text(errors="replace")
        for secret in secrets:
            if secret in text:
                kind = "national-id" if secret.isdigit() and len(secret) == 12 else "secret/token/phone"
                leaks.append(f"{path.name}: {kind}")
    return leaks


def new_national_id() -> str:
    """A valid ID number for the default date of birth below (1990): a random real province
    code, a man born in the 20th century (digit 0), year 90, then six random digits."""
    from app.citizens.identity import PROVINCE_CODES

    return random.choice(sorted(PROVINCE_CODES)) + "090" + f"{random.randrange(10**6):06d}"


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
    # Valid forms of the other procedures (papers to attach are listed by the catalogue).
    "CITIZEN_ID_CARD": {"reason": "expired", "full_name": "Trần Thị Bình", "date_of_birth": "1990-03-04"},
    "TEMPORARY_RESIDENCE": {
        "temporary_address": "12 Nguyễn Trãi, Thanh Xuân, Hà Nội",
        "from_date": "2026-12-01",
        "months": 12,
        "reason": "Đi làm",
    },
    "TEMPORARY_ABSENCE": {
        "destination_address": "45 Lê Lợi, Huế",
        "from_date": "2026-12-01",
        "until_date": "2027-03-01",
        "reason": "Công tác",
    },
    "PASSPORT": {"reason": "Du lịch"},
    "VEHICLE_REGISTRATION": {
        "plate_number": "29A-123.45",
        "vehicle_type": "car",
        "frame_number": "RL4BT9F32N5012345",
        "engine_number": "2NR1234567",
        "reason": "damaged",
    },
    "BIRTH_REGISTRATION": {
        "child_full_name": "Trần An",
        "child_date_of_birth": "2026-11-01",
        "place_of_birth": "Bệnh viện Từ Dũ",
    },
    "DEATH_REGISTRATION": {
        "deceased_full_name": "Trần Văn Cả",
        "deceased_national_id": "001040000001",
        "date_of_death": "2026-11-15",
        "place_of_death": "Bệnh viện Bạch Mai",
        "relationship": "Con",
    },
    "MARITAL_STATUS_CERT": {
        "full_name": "Trần Thị Bình",
        "date_of_birth": "1990-03-04",
        "current_status": "single",
        "purpose": "Kết hôn",
    },
    "SECURITY_ORDER_BUSINESS": {
        "business_name": "Khách sạn Biển Xanh",
        "business_registration_number": "4201234567",
        "business_line": "hotel",
        "business_address": "10 Trần Phú, Nha Trang",
        "legal_representative": "Trần Thị Bình",
    },
    "LAND_USE_CHANGE": {
        "certificate_serial": "CS 123456",
        "parcel_number": "125",
        "map_sheet_number": "18",
        "change_type": "address",
        "new_value": "Số 7 ngõ 15 Hoàng Hoa Thám, Ba Đình, Hà Nội",
    },
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


async def settled_notifications(
    citizen_id: str, at_least: int, deadline_seconds: float = 30.0, outbox_of: str | None = None
) -> list[Any]:
    """The citizen's notifications, once at least `at_least` exist, none is still pending and
    every notice in the outboxes of the citizen's dossiers and wallet documents has its
    notification (`outbox_of`: the documents' owner when they are someone else's, e.g. a
    child's, copied to a parent; the child's own is made after the copies).

    Past that point no further push can leave for them (the worker sends only pending
    notifications, and each records its per-device results), so a test can assert "exactly
    these, each sent once" on the store instead of sleeping for something that must not come.
    """
    import asyncio
    import time

    from bson import ObjectId

    from models.dossier import Dossier
    from models.notification import Notification
    from models.wallet import WalletDocument
    from models.webhook import AGENCY_EVENT

    owner = ObjectId(citizen_id)
    documents_owner = ObjectId(outbox_of or citizen_id)
    end = time.monotonic() + deadline_seconds
    while True:
        found = await Notification.find({"citizen_id": owner}).sort("_id").to_list()
        notices = {
            entry["key"]
            for model in (Dossier, WalletDocument)
            for raw in await model.get_pymongo_collection().find({"citizen_id": documents_owner}).to_list()
            for entry in raw.get("outbox") or []
            if entry["kind"] != AGENCY_EVENT
        }
        made = await Notification.get_pymongo_collection().distinct("key", {"key": {"$in": sorted(notices)}})
        owed = notices - set(made)
        if len(found) >= at_least and all(n.state != "pending" for n in found) and not owed:
            return found
        if time.monotonic() > end:
            states = [(n.kind, n.state) for n in found]
            raise AssertionError(f"{at_least} settled notification(s) not within {deadline_seconds:.0f} s: {states}")
        await asyncio.sleep(0.1)


def sent_once_each(notifications: list[Any]) -> bool:
    """Every device of every notification got its push exactly once."""
    return all(
        n.state == "sent" and n.deliveries and all(d.state == "sent" and d.attempts == 1 for d in n.deliveries)
        for n in notifications
    )
