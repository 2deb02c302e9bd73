"""The console's server-drawn chart and its words."""

from __future__ import annotations

from datetime import date

from app.console.charts import over_time, performance_charts
from app.console.texts import TEXTS, Words
from app.statistics.schemas import StatsRow
from app.statistics.service import Range


def _row(period: str, received: int, resolved: int) -> StatsRow:
    zeros = dict.fromkeys(
        ("filed_online", "assisted", "supplement", "rejected", "results_in_wallet", "paid_online", "rating_count"), 0
    )
    return StatsRow(
        period=period, period_start="", period_end="", received=received, resolved=resolved,
        resolved_on_time=resolved, on_time_rate=1.0 if resolved else None, processing_days_average=None,
        processing_days_p90=None, supplement_share=None, rejected_share=None, rating_average=None, **zeros,
    )  # fmt: skip


def test_every_month_of_the_range_is_a_point_and_quiet_months_are_zero() -> None:
    points = over_time([_row("2026-03", 4, 2)], Range("month", date(2026, 1, 1), date(2026, 4, 15)))
    assert [(p.period, p.received, p.resolved) for p in points] == [
        ("2026-01", 0, 0), ("2026-02", 0, 0), ("2026-03", 4, 2), ("2026-04", 0, 0)
    ]  # fmt: skip


def test_the_charts_are_labelled_svg_and_nothing_without_figures() -> None:
    words = Words("vi")
    points = over_time([_row("2026-03", 4, 2)], Range("month", date(2026, 3, 1), date(2026, 3, 31)))
    (_, volume), (speed_title, speed) = performance_charts(points, words)
    assert speed_title == words.speed_title
    assert volume.startswith("<svg") and 'role="img"' in volume and words.chart_title in volume
    assert volume.count('class="bar received"') == 2  # one bar and the legend's swatch
    assert "2026-03 · " + words.on_time_rate + ": 100%" in speed  # each bar says its figure
    quiet = over_time([], Range("month", date(2026, 3, 1), date(2026, 3, 31)))
    assert performance_charts(quiet, words) == []


def test_every_text_has_both_languages_and_fills_its_placeholders() -> None:
    for key, text in TEXTS.items():
        assert text.vi.strip() and text.en.strip(), key
        assert set(_names(text.vi)) == set(_names(text.en)), key


def _names(template: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def test_no_text_is_hidden_by_a_method_of_the_words() -> None:
    """`t.status` in a template must be the word, not a method that happens to share its name."""
    assert not [key for key in TEXTS if hasattr(Words, key)]
