from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from app.citizens import service
from app.citizens.schemas import CitizenIn, CitizenOut, DeviceIn, DeviceOut, ProfileOut
from app.security import PrincipalRequest, citizen_only


class CitizenController(Controller):
    path = "/api/v1"
    tags = ["citizens"]

    @post("/citizens", status_code=HTTP_201_CREATED, security=[])
    async def register(self, data: JSONBody[CitizenIn]) -> CitizenOut:
        """Create a citizen account (e-ID level 1)."""
        return await service.register(data)

    @get("/me", guards=[citizen_only])
    async def me(self, request: PrincipalRequest) -> ProfileOut:
        """The signed-in citizen's profile."""
        return await service.profile(request.user.object_id)

    @post("/me/devices", status_code=HTTP_201_CREATED, guards=[citizen_only])
    async def add_device(self, request: PrincipalRequest, data: JSONBody[DeviceIn]) -> DeviceOut:
        """Register this phone for push; a token already registered moves to this citizen."""
        return await service.register_device(request.user.object_id, data)

    @get("/me/devices", guards=[citizen_only])
    async def devices(self, request: PrincipalRequest) -> dict[str, list[DeviceOut]]:
        """The citizen's phones registered for push."""
        return {"items": await service.list_devices(request.user.object_id)}

    @delete("/me/devices/{device_id:str}", status_code=HTTP_204_NO_CONTENT, guards=[citizen_only])
    async def remove_device(self, request: PrincipalRequest, device_id: FromPath[str]) -> None:
        """Stop push to one phone."""
        await service.remove_device(request.user.object_id, device_id)
