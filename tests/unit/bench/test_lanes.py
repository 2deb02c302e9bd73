"""The arithmetic of push-during-announcement and of store operations net of the crons."""

from __future__ import annotations

import pytest

from bench import cli
from bench.context import Interval
from bench.scenarios_lanes import (
    broadcast_end,
    broadcast_store_costs,
    combined,
    lane_ratio,
    round_ratios,
    split_by_window,
)
from bench.system import net_per_event


def test_the_background_of_a_quiet_interval_is_taken_off_scaled_to_the_block() -> None:
    # 20 s of events cost 300 dossier ops and 25 seal ops; 10 quiet seconds cost 5 seal ops.
    block = {"dossiers": 300.0, "audit_chain_head": 25.0}
    quiet = {"audit_chain_head": 5.0, "notifications": 2.0}
    net = net_per_event(block, quiet, block_seconds=20, quiet_seconds=10, events=50)
    assert net == {"dossiers": 6.0, "audit_chain_head": 0.3}
    # A collection only the quiet interval touched is not invented for the events.
    assert "notifications" not in net


def test_no_events_or_no_quiet_interval_leave_nothing_or_the_raw_figure() -> None:
    assert net_per_event({"dossiers": 10.0}, {}, 5, 5, 0) == {}
    assert net_per_event({"dossiers": 10.0}, {"dossiers": 3.0}, 5, 0, 5) == {"dossiers": 2.0}


def test_a_background_that_grew_shows_as_a_negative_figure_not_a_hidden_one() -> None:
    assert net_per_event({"dossier_stats": 1.0}, {"dossier_stats": 10.0}, 10, 10, 3) == {"dossier_stats": -3.0}


def test_only_events_sent_while_the_broadcast_was_sending_count_as_during() -> None:
    events = [(9.0, 9.1), (10.0, 10.2), (12.5, 12.8), (13.0, None), (15.0, 15.05)]
    latencies, outside = split_by_window(events, start=10.0, end=15.0)
    assert latencies == pytest.approx([200.0, 300.0])  # the one without a push is not a latency
    assert outside == 2
    assert split_by_window(events, start=0.0, end=None)[1] == 0


def test_the_broadcast_ends_at_its_last_sample_still_sending() -> None:
    assert broadcast_end([(1.0, 10, True), (2.0, 900, True)]) is None
    assert broadcast_end([(1.0, 10, True), (2.0, 900, True), (3.0, 1000, False)]) == 2.0
    assert broadcast_end([(1.0, 1000, False)]) == 0.0  # over before the block: nothing was during it
    assert broadcast_end([]) is None


def test_the_ratio_of_p99s_against_the_target() -> None:
    assert lane_ratio(100.0, 140.0) == (1.4, True)
    assert lane_ratio(100.0, 151.0) == (1.51, False)
    assert lane_ratio(None, 140.0) == (None, False)
    assert lane_ratio(0.0, 140.0) == (None, False)


def test_round_by_round_ratios_and_their_median() -> None:
    assert round_ratios([100.0, 200.0, 50.0], [150.0, 200.0, 100.0]) == ([1.5, 1.0, 2.0], 1.5)
    assert round_ratios([None, 100.0], [80.0, 120.0]) == ([None, 1.2], 1.2)
    assert round_ratios([], []) == ([], None)


def test_rounds_pool_into_one_interval() -> None:
    a = Interval(10.0, {"worker": 1.0, "other": 3.0}, {"dossiers": 60.0})
    b = Interval(5.0, {"worker": 0.5, "api": 0.2}, {"dossiers": 30.0, "devices": 5.0})
    pooled = combined([a, b])
    assert pooled.seconds == 15.0
    assert pooled.cpu_seconds == {"worker": 1.5, "other": 3.0, "api": 0.2}
    assert pooled.ops == {"dossiers": 90.0, "devices": 5.0}
    assert pooled.shares()["worker"] == pytest.approx(0.1)
    # A store that did not answer `top` once leaves the operations unknown, not undercounted.
    assert combined([a, Interval(5.0, {}, None)]).ops is None


def test_the_broadcasts_store_work_is_counted_per_message_from_its_own_collections() -> None:
    # 10 s; 2,000 messages; the broadcast's collections took 300 operations and 1.2 s of the store.
    ops = {"announcement_batches": 100.0, "announcement_batch_devices": 200.0, "dossiers": 900.0}
    micros = {"announcement_batches": 200_000.0, "announcement_batch_devices": 1_000_000.0, "dossiers": 5e6}
    costs = broadcast_store_costs(Interval(10.0, {}, ops, micros), sent=2000)
    assert costs == {
        "broadcast_store_ops_per_msg": 0.15,
        "broadcast_store_ms_per_msg": 0.6,
        "broadcast_store_ms_per_op": 4.0,
        "broadcast_store_in_flight": 0.12,
    }
    # Nothing sent, or a store without `top`: no figure rather than a division by zero.
    assert broadcast_store_costs(Interval(10.0, {}, ops, micros), sent=0) == {}
    assert broadcast_store_costs(Interval(10.0, {}, None), sent=10) == {}
    pooled = combined([Interval(1.0, {}, ops, micros), Interval(1.0, {}, ops, micros)])
    assert pooled.micros is not None and pooled.micros["dossiers"] == 1e7


def test_the_scenario_and_its_worker_variant_are_on_the_command_line() -> None:
    assert "push-during-announcement" in cli.SCENARIOS
    args = cli.build_parser().parse_args(["--quick", "--worker-variant", "announcements-apart", "--lane-rounds", "4"])
    config = cli.build_config(args, cli.build_layout(args))
    assert config.lane_rounds == 4
    assert config.worker_settings.endswith("WithoutAnnouncementLaneWorkerSettings")
