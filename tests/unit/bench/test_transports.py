"""The fan-out's side-by-side FCM transports: the option, and the figures made of the rounds."""

from __future__ import annotations

import pytest

from bench import cli
from bench.scenarios_transports import Run, _figures


def test_the_transports_are_named_on_the_command_line_and_unknown_ones_refused() -> None:
    args = cli.build_parser().parse_args(["--fcm-transports", "firebase-admin, direct", "--fanout-rounds", "4"])
    config = cli.build_config(args, cli.build_layout(args))
    assert (config.fcm_transports, config.fanout_rounds) == (("firebase-admin", "direct"), 4)
    args = cli.build_parser().parse_args([])
    assert cli.build_config(args, cli.build_layout(args)).fcm_transports == ()
    args = cli.build_parser().parse_args(["--fcm-transports", "h3"])
    with pytest.raises(SystemExit, match="unknown FCM transport"):
        cli.build_config(args, cli.build_layout(args))


def _run(transport: str, sent: int, cpu_seconds: float) -> Run:
    return Run(transport, sent, 0, 10.0, cpu_seconds, {"worker": cpu_seconds / 10.0})


def test_messages_per_worker_core_are_medians_of_the_rounds_with_each_rounds_ratio() -> None:
    # Interleaved as the scenario runs them: a round is one announcement per transport.
    runs = [
        _run("firebase-admin", 10_000, 10.0),
        _run("direct", 10_000, 4.0),
        _run("firebase-admin", 10_000, 12.5),
        _run("direct", 10_000, 5.0),
        _run("firebase-admin", 10_000, 20.0),
        _run("direct", 10_000, 4.0),
    ]
    admin, direct = _figures(runs, ("firebase-admin", "direct"), 10_000)
    assert (admin.rate, admin.unit, admin.count) == (800.0, "msg/core-s", 30_000)
    assert direct.rate == 2_500.0
    assert direct.ratios == {"vs_firebase-admin": 2_500.0 / 800.0}
    assert direct.extra["vs_firebase-admin_by_round"] == [2.5, 2.5, 5.0]
    assert admin.ratios == {}
