"""Agency clients: registering one for procedures (and places), and secret rotation with an
overlap window."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.auth import store
from app.auth.schemas import RotatedSecretOut
from app.catalogue.routing import Routing, routing_of
from app.errors import AppError, Text, not_found
from app.security import hash_password
from models.agency import Agency, AgencyScope
from models.catalogue import Service
from models.common import utcnow
from models.provinces import PROVINCES, label

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
    agency = await store.agency_by_code(code)
    if agency is None:
        raise not_found(Text("cơ quan", "agency"))
    new_secret = secrets.token_urlsafe(32)
    valid_until = utcnow() + timedelta(hours=overlap_hours)
    # Compare-and-set on the current hash: two racing rotations cannot both demote it.
    rotated = await store.update_agency(
        agency.code,
        {"client_secret_hash": agency.client_secret_hash},
        {
            "$set": {
                "client_secret_hash": hash_password(new_secret),
                "previous_secret_hash": agency.client_secret_hash,
                "previous_secret_expires_at": valid_until,
            }
        },
    )
    if not rotated:
        raise ROTATION_RACE
    return RotatedSecretOut(
        client_id=agency.client_id, client_secret=new_secret, previous_secret_valid_until=valid_until
    )


# --- registering an agency for procedures -----------------------------------------------------


class RegistrationRefused(Exception):
    """An agency that could not take effect as asked; nothing was stored."""


async def _document_types_for(services: list[Service]) -> list[str]:
    return sorted({s.result_document_type for s in services if s.result_document_type})


def _taken_over(before: Routing, provinces: Sequence[str]) -> list[str]:
    """Who received the new dossiers of these places until now."""
    if not provinces:
        return [before.nationwide.agency_code] if before.nationwide else []
    previous = {before.by_province[p].agency_code if p in before.by_province else None for p in provinces}
    if None in previous and before.nationwide is not None:
        previous.add(before.nationwide.agency_code)
    return sorted(code for code in previous if code is not None)


async def register(
    code: str,
    name: str,
    service_codes: Sequence[str],
    document_types: Sequence[str],
    scopes: Sequence[AgencyScope] = (),
    provinces: Sequence[str] = (),
) -> dict[str, Any]:
    """Create an agency client that receives its procedures' new dossiers: from `provinces`,
    or, with none, from every province without an agency of its own (taking that over from
    the procedure's previous nationwide agency, which keeps the dossiers it has). Prints its
    secret once. Refused, with nothing stored, when it could not take effect as asked."""
    unknown_places = sorted(set(provinces) - set(PROVINCES))
    if unknown_places:
        known = ", ".join(label(p) for p in PROVINCES)
        raise RegistrationRefused(f"unknown province code(s): {', '.join(unknown_places)}; the codes are: {known}")
    services = await store.services(list(service_codes))
    unknown = sorted(set(service_codes) - {s.code for s in services})
    if unknown:
        raise RegistrationRefused(
            f"unknown service code(s): {', '.join(unknown)} (load the catalogue with `cwallet seed-demo` or "
            "`cwallet catalogue load`; GET /api/v1/services lists the codes)"
        )
    closed = sorted(s.code for s in services if not s.active)
    if closed:
        raise RegistrationRefused(f"closed service(s), no longer in the catalogue: {', '.join(closed)}")
    before = {s: await routing_of(s) for s in service_codes}
    client_id = f"{code.lower()}-{secrets.token_hex(4)}"
    client_secret = secrets.token_urlsafe(32)
    agency = Agency(
        code=code,
        name=name,
        client_id=client_id,
        client_secret_hash=hash_password(client_secret),
        service_codes=list(service_codes),
        provinces=sorted(set(provinces)),
        document_types=list(document_types) or await _document_types_for(services),
        scopes=sorted(set(scopes)),
    )
    try:
        await store.insert_agency(agency)
    except DuplicateKeyError:
        raise RegistrationRefused(f"an agency with code {code} already exists") from None
    serves = [
        {
            "service_code": service,
            "provinces": sorted(set(provinces)) or "all without an agency of their own",
            "takes_over_from": _taken_over(before[service], provinces),
        }
        for service in service_codes
    ]
    return {"client_id": client_id, "client_secret": client_secret, "code": code, "serves": serves}


async def list_agencies() -> list[Agency]:
    return await store.agencies_by_code()
