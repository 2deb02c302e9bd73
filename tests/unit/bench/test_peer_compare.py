"""The peer comparison reports medians over interleaved rounds and their ratios to the peer."""

from __future__ import annotations

from bench.scenarios_peer import compare, summarize
from bench.stats import Figure


def _figure(contender: str, rate: float, server_ms: float, store_ms: float, rss: float) -> Figure:
    figure = Figure(scenario=f"wallet {contender}", concurrency=16, rate=rate, rss_mb=rss)
    figure.extra = {"contender": contender, "cpu_ms_per_request": {"server": server_ms, "store": store_ms}}
    return figure


def test_medians_of_the_rounds_and_ratios_to_the_peer() -> None:
    figures = [
        _figure("api", 100, 1.0, 2.0, 90),
        _figure("api", 300, 3.0, 2.0, 90),
        _figure("api", 150, 1.5, 2.0, 90),  # the median round: 150 req/s, 1.5 ms
        _figure("peer", 100, 3.0, 4.0, 60),
        _figure("raw read", 200, 0.5, 2.0, 50),
    ]
    api = next(s for s in summarize(figures) if s.contender == "api")
    assert (api.rate, api.server_cpu_ms, api.rounds) == (150, 1.5, 3)
    line = next(text for text in compare(figures) if text.strip().startswith("api"))
    # rate ÷ peer, cpu ÷ peer, store ÷ peer, rss ÷ peer, rate ÷ raw
    assert line.split()[-5:] == ["1.50", "0.50", "0.50", "1.50", "0.75"]
