"""The capacity plan's simulation: the FCM quota bounds a national announcement, and the
personal lane, served first, does not wait behind it."""

from __future__ import annotations

from bench import capacity


def test_sixty_million_phones_take_over_a_hundred_minutes_at_the_quota() -> None:
    result = capacity.simulate_announcement()
    floor_minutes = capacity.ANNOUNCED_PHONES / capacity.FCM_PER_MINUTE
    assert result["broadcast_minutes"] >= floor_minutes
    # The personal lane takes its share first: the broadcast is slower by that share only.
    share = capacity.PERSONAL_PUSHES_PER_SECOND / (capacity.FCM_PER_MINUTE / 60)
    assert result["broadcast_minutes"] <= floor_minutes / (1 - share) + 1
    assert result["worst_personal_wait_s"] == 0


def test_the_plan_grows_with_the_cpu_per_request() -> None:
    light = capacity.plan(dict(capacity.CPU_MS)).lines
    heavy = capacity.plan({name: 4 * ms for name, ms in capacity.CPU_MS.items()}).lines

    def processes(lines: list[str]) -> int:
        line = next(text for text in lines if text.startswith("API processes"))
        return int(line.split(": ")[1].split(",")[0])

    assert processes(heavy) > 3 * processes(light) - 1
