"""Parents and the children under 14 they manage.

A child is a citizen with no account of their own (no phone, no password) whose record lists
the parents in `guardian_ids`. A parent reaches the child's wallet and dossiers through the
same wallet and dossier services the citizen would use, with the child's id, and every such
access is written to the child's access log. At 14 the child takes the account over
(app/citizens/verification.py), which empties `guardian_ids`: the parent's access ends.
"""

from __future__ import annotations

from datetime import date

from beanie import PydanticObjectId
from bson.errors import InvalidId
from pymongo.errors import DuplicateKeyError

from app.audit import store as audit_store
from app.citizens import store as citizen_store
from app.citizens.identity import age_on, birthday_at_age
from app.citizens.service import ALREADY_REGISTERED, OWN_ACCOUNT_AGE, person_problems, today_in_vietnam
from app.errors import AppError, FieldProblem, Text, invalid_input, not_found
from app.guardians.schemas import ChildIn, ChildOut
from models.audit import AccessRecord
from models.citizen import Citizen

CHILD = Text("trẻ do bạn quản lý", "child you manage")
ADULT_AGE = 18
REQUIRED_EID_LEVEL = 2

GUARDIAN_NOT_ELIGIBLE = AppError(
    403,
    "guardian-not-eligible",
    Text("Chưa thể thêm con", "Cannot add a child yet"),
    Text(
        "Chỉ người từ {adult} tuổi có tài khoản định danh mức {level} mới thêm được con. Hãy mang căn cước công dân "
        "gắn chíp đến công an xã/phường để nâng mức tài khoản, rồi thử lại.",
        "Only an adult ({adult}+) with e-ID level {level} can add a child. Take your chip-based ID card to the "
        "commune or ward police to upgrade your account, then try again.",
    ),
    params={"adult": ADULT_AGE, "level": REQUIRED_EID_LEVEL},
)


def child_out(child: Citizen) -> ChildOut:
    born = date.fromisoformat(child.date_of_birth)
    return ChildOut(
        id=str(child.id),
        national_id=child.national_id,
        full_name=child.full_name,
        date_of_birth=born,
        eid_level=child.eid_level,
        can_take_over_from=birthday_at_age(born, OWN_ACCOUNT_AGE),
        created_at=child.created_at,
    )


async def add_child(parent_id: PydanticObjectId, data: ChildIn) -> ChildOut:
    parent = await citizen_store.citizen(parent_id)
    if parent is None:
        raise not_found(Text("tài khoản", "account"))
    today = today_in_vietnam()
    if parent.eid_level < REQUIRED_EID_LEVEL or age_on(date.fromisoformat(parent.date_of_birth), today) < ADULT_AGE:
        raise GUARDIAN_NOT_ELIGIBLE
    problems = person_problems(data.national_id, data.full_name, data.date_of_birth)
    if not problems and age_on(data.date_of_birth, today) >= OWN_ACCOUNT_AGE:
        problems.append(
            FieldProblem(
                "date_of_birth",
                Text(
                    "Từ {age} tuổi trẻ tự đăng ký tài khoản riêng; chỉ thêm được con dưới {age} tuổi.",
                    "From {age} a child registers an account of their own; only children under {age} can be added.",
                ),
                {"age": OWN_ACCOUNT_AGE},
            )
        )
    if problems:
        raise invalid_input(problems)
    child = Citizen(
        national_id=data.national_id,
        full_name=data.full_name.strip(),
        date_of_birth=data.date_of_birth.isoformat(),
        guardian_ids=[parent_id],
    )
    try:
        await citizen_store.insert(child)
    except DuplicateKeyError:
        # Whether the child is already someone's is not this caller's to learn.
        raise ALREADY_REGISTERED from None
    await record(child, parent_id, "child.add", "account")
    return child_out(child)


async def list_children(parent_id: PydanticObjectId) -> list[ChildOut]:
    children = await citizen_store.children_of(parent_id)
    return [child_out(c) for c in children]


async def child_of(parent_id: PydanticObjectId, child_id: str) -> Citizen:
    """The child, if this parent manages them and they have not taken the account over; 404
    otherwise, exactly like an id that does not exist."""
    try:
        oid = PydanticObjectId(child_id)
    except (InvalidId, TypeError):
        raise not_found(CHILD) from None
    child = await citizen_store.child_of(parent_id, oid)
    if child is None:
        raise not_found(CHILD)
    return child


async def record(child: Citizen, parent_id: PydanticObjectId, action: str, target: str) -> None:
    """Every access by a guardian goes to the child's access log."""
    assert child.id is not None
    await audit_store.insert(
        AccessRecord(citizen_id=child.id, actor_kind="guardian", actor_id=str(parent_id), action=action, target=target)
    )
