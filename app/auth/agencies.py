"""Agency client secrets: rotation with an overlap window."""

from __future__ import annotations

import secrets
from datetime import timedelta

from app.auth.schemas import RotatedSecretOut
from app.errors import AppError, Text, not_found
from app.security import hash_password
from models.agency import Agency
from models.common import utcnow

ROTATION_RACE = AppError(
    409,
    "concurrent-rotation",
    Text("Khoá bí mật vừa được đổi", "Secret changed meanwhile"),
    Text(
        "Một yêu cầu khác vừa đổi khoá bí mật của cơ quan. Hãy dùng khoá mới nhất bạn nhận được, hoặc đổi lại.",
        "Another request rotated the agency's secret meanwhile. Use the newest secret you received, or rotate again.",
    ),
)


async def rotate_secret(code: str, overlap_hours: int) -> RotatedSecretOut:
    """A new secret; the current one keeps working for `overlap_hours`, then stops.

    A secret older than the current one stops at once: only one previous secret is kept.
    """
    agency = await Agency.find_one(Agency.code == code)
    if agency is None:
        raise not_found(Text("cơ quan", "agency"))
    new_secret = secrets.token_urlsafe(32)
    valid_until = utcnow() + timedelta(hours=overlap_hours)
    # Compare-and-set on the current hash: two racing rotations cannot both demote it.
    result = await Agency.get_pymongo_collection().update_one(
        {"_id": agency.id, "client_secret_hash": agency.client_secret_hash},
        {
            "$set": {
                "client_secret_hash": hash_password(new_secret),
                "previous_secret_hash": agency.client_secret_hash,
                "previous_secret_expires_at": valid_until,
            }
        },
    )
    if result.modified_count != 1:
        raise ROTATION_RACE
    return RotatedSecretOut(
        client_id=agency.client_id, client_secret=new_secret, previous_secret_valid_until=valid_until
    )
