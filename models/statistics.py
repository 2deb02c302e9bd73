"""Agency performance rollups (decision 26).

Statistics are never computed from the dossiers at request time. A cron job (app/statistics/
rollup.py) keeps, for each dossier, the few facts the indicators need (`DossierFacts`), and
from them one counter document per (agency, procedure, day) and per (agency, procedure,
month). Requests read those counters only. Days are Vietnamese dates ("YYYY-MM-DD").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import pymongo
from beanie import Document
from pydantic import BaseModel, Field
from pymongo import IndexModel

from models.common import utcnow

Outcome = Literal["result", "rejected"]


class DossierFacts(Document):
    """What one dossier adds to the counters, and on which days. `_id` is the dossier's."""

    agency_code: str
    service_code: str
    # The province the citizen filed it in (`Dossier.province_code`), when known.
    province: str | None = None
    # Every day this dossier counts on: filed, resolved, paid, rated.
    days: list[str]
    received_day: str
    assisted: bool = False
    resolved_day: str | None = None
    outcome: Outcome | None = None
    on_time: bool | None = None
    # Working days from receipt to the result or refusal, time waiting for the citizen excluded.
    processing_days: int | None = None
    supplement: bool = False
    result_in_wallet: bool = False
    paid_day: str | None = None
    rating_day: str | None = None
    rating_score: int | None = None
    # The deadline of a dossier whose clock runs now (the backlog); None otherwise.
    running_due_at: datetime | None = None

    class Settings:
        name = "dossier_stats_facts"
        indexes = [
            IndexModel(
                [
                    ("agency_code", pymongo.ASCENDING),
                    ("service_code", pymongo.ASCENDING),
                    ("province", pymongo.ASCENDING),
                    ("days", pymongo.ASCENDING),
                ],
                name="facts_by_day",
            ),
            IndexModel([("running_due_at", pymongo.ASCENDING)], name="facts_running_due", sparse=True),
        ]


class Counters(BaseModel):
    """The additive indicators of one (agency, procedure, period); rates are derived on read."""

    received: int = 0
    filed_online: int = 0
    assisted: int = 0
    resolved: int = 0
    resolved_on_time: int = 0
    rejected: int = 0
    supplement: int = 0
    results_in_wallet: int = 0
    paid_online: int = 0
    rating_count: int = 0
    rating_sum: int = 0
    processing_days_total: int = 0
    # Resolved dossiers by processing time in whole working days ("3": 12): merged over any
    # period, it gives the exact percentiles of that period.
    processing_histogram: dict[str, int] = Field(default_factory=dict)


class DailyStats(Document, Counters):
    agency_code: str
    service_code: str
    province: str | None = None
    day: str

    class Settings:
        name = "dossier_stats_daily"
        indexes = [
            IndexModel(
                [
                    ("agency_code", pymongo.ASCENDING),
                    ("service_code", pymongo.ASCENDING),
                    ("province", pymongo.ASCENDING),
                    ("day", pymongo.ASCENDING),
                ],
                unique=True,
                name="daily_key",
            ),
            # The readers' scopes (an agency, a province, everyone) over a range of days. The
            # embedded store scans the collection rather than skip the key's middle field.
            IndexModel([("agency_code", pymongo.ASCENDING), ("day", pymongo.ASCENDING)], name="daily_agency_day"),
            IndexModel([("province", pymongo.ASCENDING), ("day", pymongo.ASCENDING)], name="daily_province_day"),
            IndexModel([("day", pymongo.ASCENDING)], name="daily_day"),
        ]


class MonthlyStats(Document, Counters):
    agency_code: str
    service_code: str
    province: str | None = None
    month: str  # "YYYY-MM"

    class Settings:
        name = "dossier_stats_monthly"
        indexes = [
            IndexModel(
                [
                    ("agency_code", pymongo.ASCENDING),
                    ("service_code", pymongo.ASCENDING),
                    ("province", pymongo.ASCENDING),
                    ("month", pymongo.ASCENDING),
                ],
                unique=True,
                name="monthly_key",
            ),
            IndexModel([("agency_code", pymongo.ASCENDING), ("month", pymongo.ASCENDING)], name="monthly_agency_month"),
            IndexModel([("province", pymongo.ASCENDING), ("month", pymongo.ASCENDING)], name="monthly_province_month"),
            IndexModel([("month", pymongo.ASCENDING)], name="monthly_month"),
        ]


class StatsView(Document):
    """The counters of a whole span read as one document (app/statistics/views.py, decision
    26's addendum): for one view of the keys (by province; by agency; by agency
    and procedure; by all three) and one key, either the days of a month (`grain: day`,
    `span: YYYY-MM`, `slots: {"01": counters, ...}`) or the months of a year (`grain:
    month`, `span: YYYY`, `slots: {"01": ...}`). A view leaves out the key fields it sums
    over. Readers fetch one document per key and span instead of one per key and day."""

    view: Literal["province", "agency", "procedure", "all"]
    grain: Literal["day", "month"]
    span: str
    agency_code: str | None = None
    service_code: str | None = None
    province: str | None = None
    slots: dict[str, dict[str, Any]] = Field(default_factory=dict)

    class Settings:
        name = "dossier_stats_views"
        indexes = [
            IndexModel(
                [
                    ("view", pymongo.ASCENDING),
                    ("grain", pymongo.ASCENDING),
                    ("agency_code", pymongo.ASCENDING),
                    ("service_code", pymongo.ASCENDING),
                    ("province", pymongo.ASCENDING),
                    ("span", pymongo.ASCENDING),
                ],
                unique=True,
                name="views_key",
            ),
            # The readers' scopes (everyone, an agency, a province) over a range of spans, in
            # span order: equality fields first, the range and sort on the last.
            IndexModel(
                [("view", pymongo.ASCENDING), ("grain", pymongo.ASCENDING), ("span", pymongo.ASCENDING)],
                name="views_span",
            ),
            IndexModel(
                [
                    ("view", pymongo.ASCENDING),
                    ("grain", pymongo.ASCENDING),
                    ("agency_code", pymongo.ASCENDING),
                    ("span", pymongo.ASCENDING),
                ],
                name="views_agency_span",
            ),
            IndexModel(
                [
                    ("view", pymongo.ASCENDING),
                    ("grain", pymongo.ASCENDING),
                    ("province", pymongo.ASCENDING),
                    ("span", pymongo.ASCENDING),
                ],
                name="views_province_span",
            ),
        ]


class RecentProcessing(Document):
    """Processing times of one procedure at one agency over the recent window: what a
    citizen's expected date is drawn from (one read per dossier view)."""

    agency_code: str
    service_code: str
    window_days: int
    # The Vietnamese day the window ends on; a window computed on an earlier day is refreshed.
    computed_for: str
    processing_histogram: dict[str, int] = Field(default_factory=dict)

    class Settings:
        name = "dossier_stats_recent"
        indexes = [
            IndexModel(
                [("agency_code", pymongo.ASCENDING), ("service_code", pymongo.ASCENDING)],
                unique=True,
                name="recent_key",
            ),
            IndexModel([("computed_for", pymongo.ASCENDING)], name="recent_computed_for"),
        ]


class Backlog(Document):
    """Running dossiers past their deadline now, by how late (working days)."""

    agency_code: str
    service_code: str
    province: str | None = None
    overdue: int = 0
    late_up_to_5: int = 0
    late_6_to_10: int = 0
    late_over_10: int = 0
    as_of: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "dossier_stats_backlog"
        indexes = [
            IndexModel(
                [
                    ("agency_code", pymongo.ASCENDING),
                    ("service_code", pymongo.ASCENDING),
                    ("province", pymongo.ASCENDING),
                ],
                unique=True,
                name="backlog_key",
            )
        ]


class ExpectedLateNotice(Document):
    """One per dossier whose expected date moved past its deadline and whose citizen was told."""

    dossier_code: str
    at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "expected_late_notices"
        indexes = [IndexModel([("dossier_code", pymongo.ASCENDING)], unique=True)]
