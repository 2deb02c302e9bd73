"""What one dossier contributes to the statistics, and the arithmetic of histograms.

Pure functions of a stored dossier (a raw document, as the rollup job reads it), so they can
be checked case by case. The definitions (decision 26):

- received: on the Vietnamese day the dossier was filed (the portal received it for the agency);
  `assisted` when a support desk filed it, otherwise filed online by the citizen;
- resolved: on the day the agency gave a result (`result_ready`) or a refusal (`rejected`);
  on time when that moment is not after the deadline (which already moved by the days the
  dossier waited for the citizen);
- processing time: working days from receipt to resolution, less the working days it waited
  for the citizen; a dossier refused before receipt took 0;
- paid online: on the day the payment was confirmed; rated: on the day of the rating.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from models.dossier_status import DossierStatus
from models.working_days import OFFICE_OPENS, VIETNAM, HolidayCalendar, calendar, local, working_days_between

RESOLVING = (DossierStatus.RESULT_READY.value, DossierStatus.REJECTED.value)


def day_of(moment: datetime) -> str:
    return local(moment).date().isoformat()


def elapsed_working_days(start: datetime, end: datetime, cal: HolidayCalendar | None = None) -> int:
    """Working days after the start up to and including the end's date. A start on a day
    without office hours counts from the next working day, as the legal clock does: received
    on Saturday and settled on Monday took 0 days, settled on Tuesday took 1."""
    cal = cal or calendar()
    first, last = local(start).date(), local(end).date()
    while not cal.is_working_day(first) and first < last:
        first += timedelta(days=1)
    return working_days_between(datetime.combine(first, OFFICE_OPENS, VIETNAM), end, cal)


def facts_of(raw: Mapping[str, Any], cal: HolidayCalendar | None = None) -> dict[str, Any]:
    """The facts document of one dossier (without its `_id`)."""
    clock = raw.get("clock") or {}
    history = raw.get("history") or []
    resolution = next((h for h in history if h.get("status") in RESOLVING), None)
    facts: dict[str, Any] = {
        "agency_code": raw["agency_code"],
        "service_code": raw["service_code"],
        "province": raw.get("province_code"),
        "received_day": day_of(raw["submitted_at"]),
        "assisted": bool(raw.get("assisted_by")),
        "resolved_day": None,
        "outcome": None,
        "on_time": None,
        "processing_days": None,
        "supplement": any(h.get("status") == DossierStatus.SUPPLEMENT_REQUIRED.value for h in history),
        "result_in_wallet": raw.get("result_document_id") is not None,
        "paid_day": None,
        "rating_day": None,
        "rating_score": None,
        "running_due_at": raw.get("due_at") if clock.get("state") == "running" else None,
    }
    if resolution is not None:
        resolved_at: datetime = resolution["at"]
        received_at: datetime | None = clock.get("received_at")
        facts["resolved_day"] = day_of(resolved_at)
        facts["outcome"] = "result" if resolution["status"] == DossierStatus.RESULT_READY.value else "rejected"
        if received_at is None:
            # Refused at the counter, before the clock started.
            facts["processing_days"], facts["on_time"] = 0, True
        else:
            waited = int(clock.get("paused_working_days") or 0)
            facts["processing_days"] = max(0, elapsed_working_days(received_at, resolved_at, cal) - waited)
            facts["on_time"] = _aware(resolved_at) <= _aware(raw["due_at"])
    payment = raw.get("payment") or {}
    if payment.get("paid_at") is not None:
        facts["paid_day"] = day_of(payment["paid_at"])
    rating = raw.get("rating") or {}
    if rating.get("at") is not None:
        facts["rating_day"], facts["rating_score"] = day_of(rating["at"]), int(rating["score"])
    days = {facts["received_day"], facts["resolved_day"], facts["paid_day"], facts["rating_day"]}
    facts["days"] = sorted(d for d in days if d is not None)
    return facts


def _aware(moment: datetime) -> datetime:
    return local(moment)


# --- counters -----------------------------------------------------------------------------

COUNTER_FIELDS = (
    "received",
    "filed_online",
    "assisted",
    "resolved",
    "resolved_on_time",
    "rejected",
    "supplement",
    "results_in_wallet",
    "paid_online",
    "rating_count",
    "rating_sum",
    "processing_days_total",
)


def empty_counters() -> dict[str, Any]:
    return {**dict.fromkeys(COUNTER_FIELDS, 0), "processing_histogram": {}}


def counters_for_day(facts: Iterable[Mapping[str, Any]], day: str) -> dict[str, Any]:
    """The counters of one day from the facts of the dossiers that count on that day."""
    out = empty_counters()
    histogram: dict[str, int] = out["processing_histogram"]
    for f in facts:
        if f["received_day"] == day:
            out["received"] += 1
            out["assisted" if f["assisted"] else "filed_online"] += 1
        if f.get("resolved_day") == day:
            out["resolved"] += 1
            out["resolved_on_time"] += bool(f["on_time"])
            out["rejected"] += f["outcome"] == "rejected"
            out["supplement"] += bool(f["supplement"])
            out["results_in_wallet"] += bool(f["result_in_wallet"])
            days = int(f["processing_days"])
            out["processing_days_total"] += days
            histogram[str(days)] = histogram.get(str(days), 0) + 1
        if f.get("paid_day") == day:
            out["paid_online"] += 1
        if f.get("rating_day") == day:
            out["rating_count"] += 1
            out["rating_sum"] += int(f["rating_score"])
    return out


def add_counters(total: dict[str, Any], more: Mapping[str, Any]) -> dict[str, Any]:
    for name in COUNTER_FIELDS:
        total[name] += int(more.get(name) or 0)
    merge_histogram(total["processing_histogram"], more.get("processing_histogram") or {})
    return total


def merge_histogram(into: dict[str, int], more: Mapping[str, int]) -> dict[str, int]:
    for days, count in more.items():
        into[days] = into.get(days, 0) + int(count)
    return into


def quantile(histogram: Mapping[str, int], q: float, at_least: int = 0) -> int | None:
    """Nearest-rank quantile of a histogram of whole days, over the values >= `at_least`:
    the smallest value with at least ceil(q * n) values at or below it. None when empty."""
    values = sorted((int(days), count) for days, count in histogram.items() if int(days) >= at_least and count > 0)
    n = sum(count for _, count in values)
    if n == 0:
        return None
    rank = max(1, math.ceil(q * n))
    seen = 0
    for days, count in values:
        seen += count
        if seen >= rank:
            return days
    return values[-1][0]


def histogram_size(histogram: Mapping[str, int], at_least: int = 0) -> int:
    return sum(int(count) for days, count in histogram.items() if int(days) >= at_least)


def month_of(day: str) -> str:
    return day[:7]


def days_of_month(month: str) -> list[str]:
    first = date.fromisoformat(f"{month}-01")
    days: list[str] = []
    current = first
    while current.month == first.month:
        days.append(current.isoformat())
        current += timedelta(days=1)
    return days
