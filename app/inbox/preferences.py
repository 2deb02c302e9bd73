"""Which categories a citizen wants pushed, and their quiet hours."""

from __future__ import annotations

from beanie import PydanticObjectId

from app.errors import FieldProblem, Text, invalid_input
from app.inbox import store
from app.inbox.schemas import PreferencesIn, PreferencesOut, QuietHoursIO
from models.common import utcnow
from models.preferences import NotificationPreferences, QuietHours, parse_clock
from notifications.templates import CATEGORIES, MUTABLE_CATEGORIES

TIMEZONE = "Asia/Ho_Chi_Minh"
ALWAYS_ON = [c for c in CATEGORIES if c not in MUTABLE_CATEGORIES]


def _out(preferences: NotificationPreferences | None) -> PreferencesOut:
    muted = set(preferences.muted) if preferences else set()
    quiet = preferences.quiet_hours if preferences else None
    return PreferencesOut(
        categories={c: c not in muted for c in MUTABLE_CATEGORIES},
        quiet_hours=QuietHoursIO(start=quiet.start, end=quiet.end) if quiet else None,
        timezone=TIMEZONE,
        always_on=ALWAYS_ON,
    )


async def get_preferences(citizen_id: PydanticObjectId) -> PreferencesOut:
    return _out(await store.preferences_of(citizen_id))


def _check(data: PreferencesIn) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    for name in data.categories:
        if name in ALWAYS_ON:
            problems.append(
                FieldProblem(
                    f"categories.{name}",
                    Text(
                        "Loại thông báo '{name}' luôn được gửi và không thể tắt. Hãy bỏ nó khỏi yêu cầu.",
                        "Notifications of category '{name}' are always sent and cannot be turned off. "
                        "Leave it out of the request.",
                    ),
                    {"name": name},
                )
            )
        elif name not in MUTABLE_CATEGORIES:
            problems.append(
                FieldProblem(
                    f"categories.{name}",
                    Text(
                        "Không có loại thông báo '{name}'. Các loại có thể bật/tắt: {known}.",
                        "There is no notification category '{name}'. Categories you can turn on or off: {known}.",
                    ),
                    {"name": name, "known": ", ".join(MUTABLE_CATEGORIES)},
                )
            )
    if data.quiet_hours is not None:
        for field in ("start", "end"):
            try:
                parse_clock(getattr(data.quiet_hours, field))
            except ValueError:
                problems.append(
                    FieldProblem(
                        f"quiet_hours.{field}",
                        Text(
                            "Giờ phải có dạng HH:MM (00:00 đến 23:59, giờ Việt Nam), ví dụ 22:00.",
                            "The time must be HH:MM (00:00 to 23:59, Vietnam time), e.g. 22:00.",
                        ),
                    )
                )
        if not problems and data.quiet_hours.start == data.quiet_hours.end:
            problems.append(
                FieldProblem(
                    "quiet_hours.end",
                    Text(
                        "Giờ kết thúc phải khác giờ bắt đầu. Để không nhận thông báo của một loại, hãy tắt loại đó.",
                        "The end must differ from the start. To receive no pushes of a category, turn it off.",
                    ),
                )
            )
    return problems


async def put_preferences(citizen_id: PydanticObjectId, data: PreferencesIn) -> PreferencesOut:
    """Replace the citizen's preferences; nothing is stored when any part is wrong."""
    problems = _check(data)
    if problems:
        raise invalid_input(problems)
    muted = sorted(name for name, on in data.categories.items() if not on)
    quiet = QuietHours(start=data.quiet_hours.start, end=data.quiet_hours.end) if data.quiet_hours else None
    await store.put_preferences(
        citizen_id, {"muted": muted, "quiet_hours": quiet.model_dump() if quiet else None, "updated_at": utcnow()}
    )
    return await get_preferences(citizen_id)
