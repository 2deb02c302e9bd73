"""How the bench is driven: options, pinning layout, wrk's command line, the steady-rate client."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench import cli
from bench.loadgen import LUA_SCRIPT, Lines, steady_rate, wrk_argv
from bench.servers import Layout, ServerOptions, server_argv, with_options


def _config(*argv: str) -> cli.Config:
    args = cli.build_parser().parse_args(list(argv))
    return cli.build_config(args, cli.build_layout(args))


def test_quick_mode_shrinks_sizes_and_runs_and_explicit_options_win() -> None:
    full, quick = _config(), _config("--quick")
    assert full.growth_sizes == (10_000, 100_000)
    assert full.push_seconds == 60 and quick.push_seconds < full.push_seconds
    assert quick.population < full.population and quick.fanout_devices < full.fanout_devices
    assert full.concurrency == (1, 16, 64)
    chosen = _config("--quick", "--sizes", "10k,1M", "--push-seconds", "30", "--population", "5k")
    assert chosen.growth_sizes == (10_000, 1_000_000)
    assert chosen.push_seconds == 30
    assert chosen.population == 5_000


def test_scenarios_run_in_the_order_that_gives_ratios_their_reference() -> None:
    assert cli.select("wallet,ceiling,raw") == ["ceiling", "raw", "wallet"]
    with pytest.raises(SystemExit, match="unknown scenario"):
        cli.select("wallet,teleport")


def test_cpus_given_on_the_command_line_make_the_layout() -> None:
    args = cli.build_parser().parse_args(["--server-cpus", "0", "--load-cpus", "1"])
    layout = cli.build_layout(args)
    assert layout.server == {0} and layout.load == {1}
    assert layout.store == {1}  # the store sits with the load generator unless told otherwise
    assert layout.describe() == {"server": "0", "load": "1", "store": "1", "emulator": "1"}
    apart = cli.build_layout(cli.build_parser().parse_args(["--store-cpus", "1", "--emulator-cpus", "0"]))
    assert apart.store == {1} and apart.fcm == {0}  # the emulator stands in for another machine


def test_the_default_layout_keeps_server_and_load_apart_when_it_can() -> None:
    layout = Layout.default()
    if len(layout.server | layout.load) > 1:
        assert not layout.server & layout.load


def test_the_server_command_lines_are_what_production_runs() -> None:
    uvicorn = server_argv(ServerOptions("uvicorn", 2, access_log=False), "app.main:create_app", 8123)
    assert uvicorn[1:4] == ["-m", "uvicorn", "--factory"]
    assert uvicorn[uvicorn.index("--workers") + 1] == "2"
    assert "--no-access-log" in uvicorn
    assert "--no-access-log" not in server_argv(ServerOptions("uvicorn", 1, access_log=True), "x:y", 1)


def test_wrk_runs_pinned_with_no_more_threads_than_connections(tmp_path: Path) -> None:
    lines = Lines.write(tmp_path / "l", [("/api/v1/me/documents", "Bearer abc", "")])
    argv = wrk_argv("http://127.0.0.1:1", lines, concurrency=1, seconds=5, threads=2, cpus="1", method="POST",
                    body=tmp_path / "b.json", idempotent=True)  # fmt: skip
    assert argv[:3] == ["taskset", "-c", "1"]
    assert argv[argv.index("-t") + 1] == "1"
    assert argv[argv.index("-s") + 1] == str(LUA_SCRIPT)
    assert argv[-4:] == [str(lines.path), "POST", str(tmp_path / "b.json"), "idem"]
    assert (tmp_path / "l").read_text() == "/api/v1/me/documents\tBearer abc\t\n"


def test_request_lines_refuse_what_would_break_the_file_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="tabs"):
        Lines.write(tmp_path / "l", [("/a\tb", None, "")])
    assert (Lines.write(tmp_path / "m", [("/a", None, "tok")]).path).read_text() == "/a\t-\ttok\n"


def test_the_steady_rate_client_sends_each_call_once_and_keeps_failures() -> None:
    seen: list[int] = []

    async def send(i: int) -> int:
        seen.append(i)
        if i == 3:
            raise OSError("connection refused")
        return 200

    sent = asyncio.run(steady_rate(send, rate=10_000, count=7))
    assert sorted(seen) == list(range(7))
    assert [s.index for s in sent] == list(range(7))
    assert [s.status for s in sent] == [200, 200, 200, 0, 200, 200, 200]


def test_calls_that_outlast_the_grace_period_end_as_failures() -> None:
    async def send(i: int) -> int:
        if i == 1:
            await asyncio.Event().wait()  # never answers
        return 200

    sent = asyncio.run(steady_rate(send, rate=10_000, count=3, grace=0.2))
    assert [(s.index, s.status) for s in sent] == [(0, 200), (1, 0), (2, 200)]


def test_store_url_options_are_appended_however_the_url_ends() -> None:
    assert with_options("mongodb://h:1/?directConnection=true", "maxPoolSize=5") == (
        "mongodb://h:1/?directConnection=true&maxPoolSize=5"
    )
    assert with_options("mongodb://h:1", "maxPoolSize=5") == "mongodb://h:1/?maxPoolSize=5"
    assert with_options("mongodb://h:1/db", "w=1") == "mongodb://h:1/db?w=1"
    assert with_options("mongodb://h:1", "") == "mongodb://h:1"


def test_store_operations_per_request_come_from_two_readings_of_top() -> None:
    from bench.system import ops_per_request

    before = {"run.documents": 100, "run.auth_sessions": 40, "other.documents": 5}
    after = {"run.documents": 1100, "run.auth_sessions": 240, "run.citizens": 3, "other.documents": 900}
    assert ops_per_request(before, after, 1000, "run") == {"documents": 1.0, "auth_sessions": 0.2, "citizens": 0.003}
