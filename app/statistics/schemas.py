"""Statistics answers: flat rows, so the same table serves JSON and CSV."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

Period = Literal["day", "month", "quarter", "year"]
PERIODS: tuple[Period, ...] = ("day", "month", "quarter", "year")


class StatsRow(msgspec.Struct, kw_only=True):
    """The indicators of one period for one agency, procedure or province (whichever the
    table groups by; the others are null)."""

    period: str
    period_start: str
    period_end: str
    province: str | None = None
    agency_code: str | None = None
    service_code: str | None = None
    received: int
    filed_online: int
    assisted: int
    resolved: int
    resolved_on_time: int
    on_time_rate: float | None
    processing_days_average: float | None
    processing_days_p90: int | None
    supplement: int
    supplement_share: float | None
    rejected: int
    rejected_share: float | None
    results_in_wallet: int
    paid_online: int
    rating_count: int
    rating_average: float | None


class BacklogRow(msgspec.Struct, kw_only=True):
    """Dossiers whose clock runs and whose deadline has passed, by working days late."""

    province: str | None = None
    agency_code: str | None = None
    service_code: str | None = None
    overdue: int
    late_up_to_5: int
    late_6_to_10: int
    late_over_10: int


class StatisticsOut(msgspec.Struct, kw_only=True):
    period: Period
    from_: str = msgspec.field(name="from")
    to: str
    group_by: list[str]
    rows: list[StatsRow]
    backlog: list[BacklogRow]
    backlog_as_of: datetime | None = None


class RankingRow(msgspec.Struct, kw_only=True):
    rank: int
    agency_code: str
    resolved: int
    on_time_rate: float | None
    processing_days_average: float | None
    processing_days_p90: int | None
    rating_average: float | None
    overdue: int


class RankingOut(msgspec.Struct, kw_only=True):
    from_: str = msgspec.field(name="from")
    to: str
    rows: list[RankingRow]


class ExpectedOut(msgspec.Struct, kw_only=True):
    """When the result should come: the middle (p50) and late (p90) dates of past dossiers of
    the same procedure at the same agency, counted from receipt and moved by the time the
    dossier waited for the citizen. `basis` is "history", or "legal_due_date" when too few
    past dossiers exist (then both dates are the legal deadline)."""

    p50: datetime
    p90: datetime
    sample_size: int
    basis: Literal["history", "legal_due_date"]
