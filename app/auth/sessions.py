"""A citizen's signed-in devices: list them, sign one out, sign out everywhere."""

from __future__ import annotations

from beanie import PydanticObjectId
from bson.errors import InvalidId

from app.auth import store
from app.auth.schemas import SessionOut
from app.auth.service import revoke_session
from app.errors import Text, not_found

SESSION = Text("phiên đăng nhập", "session")


async def list_sessions(citizen_id: PydanticObjectId, current_session_id: str | None) -> list[SessionOut]:
    found = await store.live_sessions(citizen_id)
    return [
        SessionOut(
            id=str(s.id),
            created_at=s.created_at,
            last_used_at=s.last_used_at,
            expires_at=s.expires_at,
            user_agent=s.user_agent,
            current=str(s.id) == current_session_id,
        )
        for s in found
    ]


async def sign_out_session(citizen_id: PydanticObjectId, session_id: str) -> None:
    try:
        oid = PydanticObjectId(session_id)
    except (InvalidId, TypeError):
        raise not_found(SESSION) from None
    # The owner is in the query: another citizen's session answers exactly like an unknown one.
    session = await store.live_session_of(citizen_id, oid)
    if session is None:
        raise not_found(SESSION)
    await revoke_session(oid, "signed-out-remotely")
