from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from app.citizens import service, verification
from app.citizens.schemas import (
    CitizenIn,
    CitizenOut,
    ClaimCodeOut,
    ClaimIn,
    DeviceIn,
    DeviceOut,
    EidLevelIn,
    IdentityCheckIn,
    IdentityStatusOut,
    LockOut,
    ProfileOut,
)
from app.config import Settings
from app.i18n import negotiate
from app.security import PrincipalRequest, agency_only, citizen_only


class CitizenController(Controller):
    path = "/api/v1"
    tags = ["citizens"]

    @post("/citizens", status_code=HTTP_201_CREATED, security=[])
    async def register(self, data: JSONBody[CitizenIn]) -> CitizenOut:
        """Create a citizen account (e-ID level 1). From age 14; younger children are added by a parent."""
        return await service.register(data)

    @post("/citizens/claim", status_code=HTTP_201_CREATED, security=[])
    async def claim(self, data: JSONBody[ClaimIn]) -> CitizenOut:
        """A child of 14 or more takes over the account a parent managed, with the one-time code the
        parent (or an identity-verifying agency) gave. The parent's access ends."""
        return await verification.claim(data)

    @get("/me", guards=[citizen_only])
    async def me(self, request: PrincipalRequest) -> ProfileOut:
        """The signed-in citizen's profile."""
        return await service.profile(request.user.object_id)

    @post("/me/lock", status_code=HTTP_200_OK, guards=[citizen_only])
    async def lock(self, request: PrincipalRequest) -> LockOut:
        """Lock this e-ID (a lost phone): every session ends at once; unlocking takes an identity check."""
        return await service.lock(request.user.object_id, negotiate(request.headers.get("accept-language")))

    @post("/me/devices", status_code=HTTP_201_CREATED, guards=[citizen_only])
    async def add_device(
        self, request: PrincipalRequest, data: JSONBody[DeviceIn], settings: NamedDependency[Settings]
    ) -> DeviceOut:
        """Register this phone for push; a token already registered moves to this citizen. Beyond
        MAX_DEVICES_PER_CITIZEN phones, the one that registered longest ago stops getting pushes."""
        return await service.register_device(request.user.object_id, data, settings.max_devices_per_citizen)

    @get("/me/devices", guards=[citizen_only])
    async def devices(self, request: PrincipalRequest) -> dict[str, list[DeviceOut]]:
        """The citizen's phones registered for push."""
        return {"items": await service.list_devices(request.user.object_id)}

    @delete("/me/devices/{device_id:str}", status_code=HTTP_204_NO_CONTENT, guards=[citizen_only])
    async def remove_device(self, request: PrincipalRequest, device_id: FromPath[str]) -> None:
        """Stop push to one phone."""
        await service.remove_device(request.user.object_id, device_id)


class AgencyIdentityController(Controller):
    """Identity checks at a counter (e.g. the ward police with the chip ID card in hand)."""

    path = "/api/v1/agency/identity"
    tags = ["agency"]
    guards = [agency_only, verification.verifies_identity]

    @post("/eid-level", status_code=HTTP_200_OK)
    async def set_eid_level(self, request: PrincipalRequest, data: JSONBody[EidLevelIn]) -> IdentityStatusOut:
        """Set a citizen's e-ID level (2 after an in-person identity check). Recorded in the citizen's access log."""
        return await verification.set_eid_level(request.user, data.national_id, data.level, data.reason)

    @post("/unlock", status_code=HTTP_200_OK)
    async def unlock(self, request: PrincipalRequest, data: JSONBody[IdentityCheckIn]) -> IdentityStatusOut:
        """Unlock a self-locked account after checking the holder's identity; they then sign in again."""
        return await verification.unlock(request.user, data.national_id, data.reason)

    @post("/claim-codes", status_code=HTTP_201_CREATED)
    async def claim_code(
        self, request: PrincipalRequest, data: JSONBody[IdentityCheckIn], settings: NamedDependency[Settings]
    ) -> ClaimCodeOut:
        """A one-time code with which a child of 14 or more takes over their account (if the parent cannot)."""
        return await verification.claim_code_from_agency(request.user, data.national_id, settings.claim_code_hours)
