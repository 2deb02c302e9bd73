"""Charts drawn on the server as inline SVG: no chart library, no script, readable by screen
readers (a title, a description, a title on each bar, and the table beside the chart carries
the same figures)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from html import escape

from app.console.texts import Words
from app.statistics.schemas import StatsRow
from app.statistics.service import Range, bucket_of

WIDTH, HEIGHT = 720, 260
LEFT, BOTTOM, TOP = 48, 36, 16


@dataclass(frozen=True)
class Point:
    period: str
    received: int
    resolved: int
    on_time_rate: float | None
    processing_days_average: float | None = None


@dataclass(frozen=True)
class Series:
    label: str
    css: str
    value: Callable[[Point], float | None]
    # A rate's 0 is news (none on time); a count's 0 in a quiet month is only noise.
    zero_is_news: bool = False


def over_time(rows: Sequence[StatsRow], rng: Range) -> list[Point]:
    """One point per period of the range, the periods without a dossier at zero: a chart over
    time shows the quiet months too (the statistics table lists only periods with figures)."""
    by_period = {r.period: r for r in rows}
    points: list[Point] = []
    day = rng.first
    while day <= rng.last and len(points) < 400:
        label, _, last = bucket_of(rng.period, day)
        row = by_period.get(label)
        points.append(
            Point(label, row.received, row.resolved, row.on_time_rate, row.processing_days_average)
            if row
            else Point(label, 0, 0, None)
        )
        day = last + timedelta(days=1)
    return points


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def bar_chart(
    chart_id: str,
    title: str,
    points: Sequence[Point],
    series: Sequence[Series],
    peak: float | None = None,
    unit: str = "",
) -> str:
    """Bars side by side per period, one colour per series; "" when no point has a value."""
    values = [[s.value(p) for s in series] for p in points]
    if not any(v is not None for row in values for v in row):
        return ""
    top = peak or max(v or 0 for row in values for v in row) or 1
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT - 8) / len(points)
    bar = max(min(slot / (len(series) + 1), 28), 2)
    label_every = -(-len(points) // 12)  # at most about twelve labels: they must not overlap
    names = " / ".join(s.label for s in series)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%"'
        f' aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(names)}</desc>',
        f'<line class="axis" x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - BOTTOM}"/>',
        f'<text class="tick" x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end">{_number(top)}{unit}</text>',
        f'<text class="tick" x="{LEFT - 6}" y="{HEIGHT - BOTTOM}" text-anchor="end">0</text>',
    ]
    for n, (point, row) in enumerate(zip(points, values, strict=True)):
        x = LEFT + n * slot + (slot - len(series) * bar) / 2
        for k, (value, s) in enumerate(zip(row, series, strict=True)):
            h = plot_h * min(value or 0, top) / top
            shown = "—" if value is None else f"{_number(value)}{unit}"
            parts.append(
                f'<rect class="bar {s.css}" x="{x + k * bar:.1f}" y="{HEIGHT - BOTTOM - h:.1f}" width="{bar - 1:.1f}"'
                f' height="{h:.1f}"><title>{escape(point.period)} · {escape(s.label)}: {shown}</title></rect>'
            )
            if value is not None and (value or s.zero_is_news) and len(points) <= 24:  # few bars: each says it
                parts.append(
                    f'<text class="value" x="{x + k * bar + bar / 2:.1f}" y="{HEIGHT - BOTTOM - h - 3:.1f}"'
                    f' text-anchor="middle">{shown}</text>'
                )
        if n % label_every == 0:
            parts.append(
                f'<text class="tick" x="{x + len(series) * bar / 2:.1f}" y="{HEIGHT - BOTTOM + 16}"'
                f' text-anchor="middle">{escape(point.period)}</text>'
            )
    legend_x = LEFT
    parts.append('<g class="legend">')
    for s in series:
        parts.append(
            f'<rect class="bar {s.css}" x="{legend_x}" y="{HEIGHT - 14}" width="10" height="10"/>'
            f'<text x="{legend_x + 14}" y="{HEIGHT - 5}">{escape(s.label)}</text>'
        )
        legend_x += 160
    parts.append("</g></svg>")
    return "".join(parts)


def performance_charts(points: Sequence[Point], words: Words) -> list[tuple[str, str]]:
    """The performance page's charts: how many came in and were resolved, and how fast."""
    if not any(p.received or p.resolved for p in points):
        return []
    volume = bar_chart(
        "chart-volume",
        words.chart_title,
        points,
        [
            Series(words.received_count, "received", lambda p: p.received),
            Series(words.resolved_count, "resolved", lambda p: p.resolved),
        ],
    )
    speed = bar_chart(
        "chart-speed",
        words.speed_title,
        points,
        [
            Series(
                words.on_time_rate,
                "on-time",
                lambda p: None if p.on_time_rate is None else p.on_time_rate * 100,
                zero_is_news=True,
            )
        ],
        peak=100,
        unit="%",
    )
    return [(title, chart) for title, chart in ((words.chart_title, volume), (words.speed_title, speed)) if chart]


# A delivery log's outcomes, in the order a reader scans them: what worked, what waits, what stopped.
OUTCOMES = (("delivered", "delivered"), ("pending", "waiting"), ("parked", "stopped"))


def outcome_bar(counts: Mapping[str, int], summary: str, words: Words) -> str:
    """One bar split by the deliveries' outcomes (the webhook log's page), its summary sentence
    as its accessible name; "" for an empty log."""
    total = sum(counts.get(state, 0) for state, _ in OUTCOMES)
    if not total:
        return ""
    parts = [
        f'<svg class="chart outcomes" role="img" viewBox="0 0 {WIDTH} 24" width="100%"'
        f' aria-label="{escape(summary)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    x = 0.0
    for state, word in OUTCOMES:
        width = WIDTH * counts.get(state, 0) / total
        if width:
            label = f"{words[word]}: {counts.get(state, 0)}"
            parts.append(
                f'<rect class="bar wd-{state}" x="{x:.1f}" y="0" width="{width:.1f}" height="24">'
                f"<title>{escape(label)}</title></rect>"
            )
        x += width
    parts.append("</svg>")
    return "".join(parts)
