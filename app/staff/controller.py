from __future__ import annotations

from litestar import Controller, get

from app.pagination import Page
from app.security import PrincipalRequest, admin_only, staff_only
from app.staff import service
from app.staff.schemas import StaffOut


class StaffController(Controller):
    path = "/api/v1/staff"
    tags = ["staff"]
    guards = [staff_only]

    @get("/me")
    async def me(self, request: PrincipalRequest) -> StaffOut:
        """The signed-in staff member's account."""
        return await service.me(request.user.object_id)


class AdminController(Controller):
    path = "/api/v1/admin"
    tags = ["admin"]
    guards = [admin_only]

    @get("/staff")
    async def staff(self) -> Page[StaffOut]:
        """Every staff account and whether its second factor is set up (admins only)."""
        return Page(items=await service.list_staff())
