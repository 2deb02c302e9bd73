"""Charts drawn on the server as inline SVG: no chart library, no script, readable by screen
readers (a title, a description, and the table beside the chart carries the same figures)."""

from __future__ import annotations

from collections.abc import Sequence
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


def over_time(rows: Sequence[StatsRow], rng: Range) -> list[Point]:
    """One point per period of the range, the periods without a dossier at zero: a chart over
    time shows the quiet months too (the statistics table lists only periods with figures)."""
    by_period = {r.period: r for r in rows}
    points: list[Point] = []
    day = rng.first
    while day <= rng.last and len(points) < 400:
        label, _, last = bucket_of(rng.period, day)
        row = by_period.get(label)
        points.append(Point(label, row.received, row.resolved, row.on_time_rate) if row else Point(label, 0, 0, None))
        day = last + timedelta(days=1)
    return points


def performance_chart(rows: Sequence[Point], words: Words) -> str:
    """Dossiers received and resolved per period, side by side; the on-time rate above each pair."""
    if not rows or not any(r.received or r.resolved for r in rows):
        return ""
    peak = max(max(r.received, r.resolved) for r in rows) or 1
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT - 8) / len(rows)
    bar = max(min(slot / 3, 28), 2)
    label_every = -(-len(rows) // 12)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%"'
        ' aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(words.chart_title)}</title>',
        f'<desc id="chart-desc">{escape(words.received_count)} / {escape(words.resolved_count)}</desc>',
        f'<line class="axis" x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - BOTTOM}"/>',
        f'<text class="tick" x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end">{peak}</text>',
        f'<text class="tick" x="{LEFT - 6}" y="{HEIGHT - BOTTOM}" text-anchor="end">0</text>',
    ]
    for n, row in enumerate(rows):
        x = LEFT + n * slot + (slot - 2 * bar) / 2
        for k, (value, css) in enumerate(((row.received, "received"), (row.resolved, "resolved"))):
            h = plot_h * value / peak
            parts.append(
                f'<rect class="bar {css}" x="{x + k * bar:.1f}" y="{HEIGHT - BOTTOM - h:.1f}" width="{bar - 1:.1f}"'
                f' height="{h:.1f}"><title>{escape(row.period)}: {value}</title></rect>'
            )
        centre = x + bar
        if n % label_every == 0:  # at most about twelve labels: they must not overlap
            parts.append(
                f'<text class="tick" x="{centre:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
                f"{escape(row.period)}</text>"
            )
        if row.on_time_rate is not None:
            parts.append(
                f'<text class="rate" x="{centre:.1f}" y="{TOP + 12}" text-anchor="middle">'
                f"{round(row.on_time_rate * 100)}%</text>"
            )
    parts.append(
        f'<g class="legend"><rect class="bar received" x="{LEFT}" y="{HEIGHT - 14}" width="10" height="10"/>'
        f'<text x="{LEFT + 14}" y="{HEIGHT - 5}">{escape(words.received_count)}</text>'
        f'<rect class="bar resolved" x="{LEFT + 140}" y="{HEIGHT - 14}" width="10" height="10"/>'
        f'<text x="{LEFT + 154}" y="{HEIGHT - 5}">{escape(words.resolved_count)}</text></g>'
    )
    parts.append("</svg>")
    return "".join(parts)
