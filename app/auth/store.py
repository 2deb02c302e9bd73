"""Auth's one module that touches the store (decision 0024: one per area): sessions, the
accounts people sign in with (citizens, staff, agency clients)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from app import agency_cache
from models.agency import Agency, Clerk, Staff
from models.catalogue import Service
from models.citizen import AuthSession, Citizen
from models.common import utcnow

# --- accounts -----------------------------------------------------------------------------


async def citizen_by_national_id(national_id: str) -> Citizen | None:
    return await Citizen.find_one(Citizen.national_id == national_id)


async def citizen_by_phone(phone: str) -> Citizen | None:
    return await Citizen.find_one(Citizen.phone == phone)


async def is_locked(citizen_id: PydanticObjectId) -> bool:
    return await Citizen.find_one({"_id": citizen_id, "locked_at": {"$ne": None}}) is not None


async def staff_by_username(username: str) -> Staff | None:
    return await Staff.find_one(Staff.username == username)


async def insert_staff(staff: Staff) -> None:
    """Raises DuplicateKeyError when the username is taken."""
    await staff.insert()


async def staff(staff_id: PydanticObjectId) -> Staff | None:
    return await Staff.get(staff_id)


async def all_staff() -> list[Staff]:
    return await Staff.find_all().sort("+username").to_list()


async def update_staff(staff_id: PydanticObjectId | None, condition: dict[str, Any], update: dict[str, Any]) -> bool:
    """A conditional update of one staff member; False if the condition no longer held."""
    return await update_person(Staff, staff_id, condition, update)


async def update_person(
    model: type[Staff] | type[Clerk],
    person_id: PydanticObjectId | None,
    condition: dict[str, Any],
    update: dict[str, Any],
) -> bool:
    """A conditional update of one person who signs in with a one-time code (staff, clerks)."""
    result = await model.get_pymongo_collection().update_one({"_id": person_id, **condition}, update)
    return result.modified_count == 1


async def agency_by_client_id(client_id: str) -> Agency | None:
    return await Agency.find_one(Agency.client_id == client_id)


async def agency_by_code(code: str) -> Agency | None:
    return await Agency.find_one(Agency.code == code)


# Every write to an agency below announces it (app/agency_cache.py): the API processes
# remember agencies' principals and must forget a changed one before its next request.


async def upsert_agency(code: str, fields: dict[str, Any], on_insert: dict[str, Any]) -> None:
    await Agency.get_pymongo_collection().update_one(
        {"code": code}, {"$set": fields, "$setOnInsert": on_insert}, upsert=True
    )
    await agency_cache.announce_changed([code])


async def upsert_staff(username: str, update: dict[str, Any]) -> None:
    await Staff.get_pymongo_collection().update_one({"username": username}, update, upsert=True)


async def upsert_citizen(national_id: str, fields: dict[str, Any], on_insert: dict[str, Any]) -> None:
    await Citizen.get_pymongo_collection().update_one(
        {"national_id": national_id}, {"$set": fields, "$setOnInsert": on_insert}, upsert=True
    )


async def update_agency(code: str, condition: dict[str, Any], update: dict[str, Any]) -> bool:
    """A conditional update of one agency; False if the condition no longer held."""
    result = await Agency.get_pymongo_collection().update_one({"code": code, **condition}, update)
    if result.modified_count != 1:
        return False
    await agency_cache.announce_changed([code])
    return True


async def insert_agency(agency: Agency) -> None:
    """Raises DuplicateKeyError when the code (or client id) is taken."""
    await agency.insert()
    await agency_cache.announce_changed([agency.code])


async def services(codes: list[str]) -> list[Service]:
    return await Service.find({"code": {"$in": codes}}).to_list()


# --- sessions -----------------------------------------------------------------------------


async def insert_session(session: AuthSession) -> None:
    await session.insert()


async def rotate_refresh(presented: str, new_hash: str, now: datetime, kept: int) -> dict[str, Any] | None:
    """One atomic compare-and-set on the token hash: of two racing refreshes with the same
    token only one gets the session back."""
    return await AuthSession.get_pymongo_collection().find_one_and_update(
        {"refresh_token_hash": presented, "revoked_at": None, "expires_at": {"$gt": now}},
        {
            "$set": {"refresh_token_hash": new_hash, "last_used_at": now},
            "$push": {"rotated_token_hashes": {"$each": [presented], "$slice": -kept}},
        },
        return_document=ReturnDocument.AFTER,
    )


async def revoke_reused(presented: str, now: datetime) -> dict[str, Any] | None:
    """End the session an already-rotated token belongs to; it, or None."""
    return await AuthSession.get_pymongo_collection().find_one_and_update(
        {"rotated_token_hashes": presented, "revoked_at": None},
        {"$set": {"revoked_at": now, "revoked_reason": "refresh-reuse"}},
    )


async def revoke_session(session_id: PydanticObjectId, reason: str) -> bool:
    result = await AuthSession.get_pymongo_collection().update_one(
        {"_id": session_id, "revoked_at": None}, {"$set": {"revoked_at": utcnow(), "revoked_reason": reason}}
    )
    return result.modified_count == 1


async def revoke_sessions_of(citizen_id: PydanticObjectId, reason: str) -> int:
    result = await AuthSession.get_pymongo_collection().update_many(
        {"citizen_id": citizen_id, "revoked_at": None}, {"$set": {"revoked_at": utcnow(), "revoked_reason": reason}}
    )
    return result.modified_count


async def live_sessions(citizen_id: PydanticObjectId) -> list[AuthSession]:
    return (
        await AuthSession.find({"citizen_id": citizen_id, "revoked_at": None, "expires_at": {"$gt": utcnow()}})
        .sort("-_id")
        .to_list()
    )


async def live_session_of(citizen_id: PydanticObjectId, session_id: PydanticObjectId) -> AuthSession | None:
    return await AuthSession.find_one({"_id": session_id, "citizen_id": citizen_id, "revoked_at": None})


# --- clerks: people of an agency in the console (decision 0027) ---------------------------


async def agencies_by_code() -> list[Agency]:
    return await Agency.find_all().sort("code").to_list()


async def agency_exists(agency_code: str) -> bool:
    return await Agency.find_one(Agency.code == agency_code) is not None


async def clerk_named(username: str) -> Clerk | None:
    return await Clerk.find_one(Clerk.username == username)


async def insert_clerk(clerk: Clerk) -> None:
    """Raises DuplicateKeyError when the name is taken."""
    await clerk.insert()


async def upsert_clerk(username: str, fields: dict[str, Any]) -> None:
    await Clerk.get_pymongo_collection().update_one(
        {"username": username},
        {"$set": fields, "$setOnInsert": {"username": username, "created_at": utcnow()}},
        upsert=True,
    )


async def clerks() -> list[Clerk]:
    return await Clerk.find_all().sort("+agency_code", "+username").to_list()


async def disable_clerk(username: str) -> bool:
    done = await Clerk.get_pymongo_collection().update_one(
        {"username": username, "disabled_at": None}, {"$set": {"disabled_at": utcnow()}}
    )
    return done.modified_count == 1
