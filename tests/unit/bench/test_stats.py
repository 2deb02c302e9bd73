"""The bench's pure logic: sizes, percentiles, wrk's result line, plans, ratios, the table."""

from __future__ import annotations

import json

import pytest

from bench.stats import (
    WRK_MARKER,
    Figure,
    add_ratios,
    format_table,
    human_size,
    latency_figure,
    parse_h2load,
    parse_size,
    parse_sizes,
    parse_wrk,
    percentile,
    plan_summary,
    progress_marks,
    summarize_profile,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [("10k", 10_000), ("100K", 100_000), ("1M", 1_000_000), ("2500", 2500), ("1.5k", 1500), (" 2m ", 2_000_000)],
)
def test_sizes_read_as_people_write_them(text: str, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "ten", "10g", "0", "-5", "1.5"])
def test_a_size_that_is_not_one_says_so(text: str) -> None:
    with pytest.raises(ValueError, match="size"):
        parse_size(text)


def test_size_lists_come_sorted_without_repeats_and_print_back() -> None:
    sizes = parse_sizes("100k,10k,1M,10k")
    assert sizes == [10_000, 100_000, 1_000_000]
    assert [human_size(s) for s in sizes] == ["10k", "100k", "1M"]
    assert human_size(2500) == "2500"


def test_percentiles_interpolate_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0) == 1
    assert percentile(values, 100) == 100
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile([7.0], 99) == 7
    assert percentile([3.0, 1.0, 2.0], 50) == 2  # order of the input does not matter
    with pytest.raises(ValueError):
        percentile([], 50)


def test_progress_is_printed_about_every_tenth() -> None:
    assert progress_marks(100) == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert progress_marks(3) == [1, 2, 3]
    assert progress_marks(0) == []


def _wrk_line(status_errors: int = 0, timeouts: int = 0) -> str:
    raw = {
        "requests": 5000,
        "duration_us": 10_000_000,
        "bytes": 123,
        "errors": {"connect": 0, "read": 0, "write": 0, "status": status_errors, "timeout": timeouts},
        "latency_us": {
            "50": 1500,
            "75": 2000,
            "90": 2500,
            "95": 3000,
            "99": 8000,
            "99.9": 12000,
            "mean": 1700.5,
            "max": 20000,
        },
    }
    return "Running 10s test @ http://127.0.0.1:1234\n" + WRK_MARKER + json.dumps(raw) + "\n"


def test_the_wrk_result_line_becomes_rates_and_milliseconds() -> None:
    result = parse_wrk(_wrk_line(status_errors=3, timeouts=2))
    assert result.rate == 500
    assert result.latency_ms["50"] == 1.5
    assert result.latency_ms["99"] == 8.0
    assert result.non_2xx == 3
    assert result.errors == 5


def test_wrk_output_without_our_line_is_an_error() -> None:
    with pytest.raises(ValueError, match="done"):
        parse_wrk("Running 10s test\n  Latency 1ms\n")


# The shape SecantusDB (and mongod) give for the wallet's read: an index scan under a sort.
EXPLAINED = {
    "queryPlanner": {
        "winningPlan": {
            "stage": "SORT",
            "inputStage": {
                "stage": "FETCH",
                "inputStage": {"stage": "IXSCAN", "indexName": "citizen_id_1__id_-1", "keyPattern": {"citizen_id": 1}},
            },
        }
    },
    "executionStats": {"nReturned": 3, "totalKeysExamined": 3, "totalDocsExamined": 3},
}


def test_a_plan_summary_names_the_stages_and_the_index() -> None:
    summary = plan_summary(EXPLAINED)
    assert summary["stages"] == "SORT > FETCH > IXSCAN"
    assert summary["indexes"] == ["citizen_id_1__id_-1"]
    assert summary["uses_index"] is True
    assert (summary["keys_examined"], summary["docs_examined"], summary["returned"]) == (3, 3, 3)


def test_a_collection_scan_is_not_index_use() -> None:
    summary = plan_summary({"queryPlanner": {"winningPlan": {"stage": "SORT", "inputStage": {"stage": "COLLSCAN"}}}})
    assert summary["uses_index"] is False
    assert summary["indexes"] == []


def test_ratios_compare_within_one_run_at_the_same_concurrency() -> None:
    figures = [
        Figure("ceiling", 16, 10_000.0, rss_mb=50.0),
        Figure("ceiling", 64, 12_000.0, rss_mb=50.0),
        Figure("raw read", 64, 1_000.0, rss_mb=55.0),
        Figure("wallet read", 64, 800.0, rss_mb=75.0),
        Figure("wallet read", 1, 100.0),  # no ceiling or raw read at 1: no ratio
        Figure("emulator ceiling h2", "1×100 streams", 4_000.0, unit="msg/s"),
        Figure("announcement", "1 worker", 1_000.0, unit="msg/s"),
    ]
    add_ratios(figures)
    wallet = figures[3]
    assert wallet.ratios["vs_raw"] == pytest.approx(0.8)
    assert wallet.ratios["vs_ceiling"] == pytest.approx(800 / 12_000)
    assert wallet.ratios["rss_vs_ceiling"] == pytest.approx(1.5)
    assert figures[4].ratios == {}
    assert figures[0].ratios == {}  # the ceiling is the reference, not compared with itself
    assert figures[6].ratios == {"vs_emulator": pytest.approx(0.25)}


def test_latency_figures_from_our_own_measurements() -> None:
    figure = latency_figure("status→push", "50/s", [10.0, 20.0, 30.0, 40.0], 2.0, errors=1)
    assert figure.rate == 2.0
    assert figure.p50_ms == 25.0
    assert figure.count == 4
    assert figure.errors == 1
    empty = latency_figure("status→push", "50/s", [], 2.0)
    assert empty.p99_ms is None


def test_the_table_has_a_line_per_figure_and_the_notes() -> None:
    figures = [Figure("ceiling", 1, 3_566.4, p50_ms=0.17, p99_ms=5.71, cpu={"server": 0.58}),
               Figure("wallet read", 64, 229.0, ratios={"vs_raw": 0.35}, note="something to know")]  # fmt: skip
    table = format_table(figures).splitlines()
    assert table[0].split()[:3] == ["scenario", "conc", "rate"]
    assert "3,566" in table[2]
    assert "server=58%" in table[2]
    assert "vs_raw=0.35" in table[3]
    assert table[-1] == "  [wallet read c=64] something to know"


def test_a_profile_summary_ranks_frames_by_own_and_total_time() -> None:
    collapsed = "\n".join(
        [
            "main (app.py:1);handler (app/wallet/service.py:10);validate (pydantic/main.py:5) 60",
            "main (app.py:1);handler (app/wallet/service.py:10);encode (msgspec.py:3) 30",
            "run (asyncio/base_events.py:1);select (selectors.py:2) 10",
            "garbage line without a count",
        ]
    )
    summary = summarize_profile(collapsed, top=2)
    assert summary["self"] == [("validate (pydantic/main.py:5)", 0.6), ("encode (msgspec.py:3)", 0.3)]
    assert summary["total"] == [("handler (app/wallet/service.py:10)", 0.9), ("main (app.py:1)", 0.9)]
    assert all("asyncio" not in frame for frame, _ in summarize_profile(collapsed)["total"])
    # Own time library by library: what a slow path spends in each package.
    by_package = summarize_profile(collapsed)["self_by_package"]
    assert by_package == [("pydantic", 0.6), ("msgspec.py", 0.3), ("selectors.py", 0.1)]
    assert summarize_profile("") == {"self": [], "total": [], "self_by_package": []}


def test_h2load_summary_and_log_become_a_result() -> None:
    stdout = (
        "starting benchmark...\n"
        "finished in 2.50s, 4000.00 req/s, 1.00MB/s\n"
        "requests: 10000 total, 10000 started, 10000 done, 9999 succeeded, 1 failed, 1 errored, 0 timeout\n"
    )
    log = "1700000000000000\t200\t1000\n1700000000000100\t200\t3000\n1700000000000200\t500\t2000\n"
    result = parse_h2load(stdout, log)
    assert result.requests == 9999
    assert result.rate == 9999 / 2.5
    assert result.non_2xx == 1
    assert result.errors == 1
    assert result.latency_ms["50"] == 2.0
    with pytest.raises(ValueError, match="h2load"):
        parse_h2load("connect: Connection refused\n")
    assert parse_h2load("finished in 900ms, 1.0 req/s\n" + stdout.splitlines()[2]).seconds == 0.9
    assert parse_h2load("finished in 220us, 0.00 req/s\n" + stdout.splitlines()[2]).seconds == 0.00022


def test_a_run_where_nothing_finished_has_no_latency_rather_than_zero() -> None:
    line = _wrk_line().replace('"requests": 5000', '"requests": 0')
    result = parse_wrk(line)
    assert result.requests == 0
    assert result.latency_ms == {}
