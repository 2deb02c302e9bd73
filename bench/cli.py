"""`python -m bench`: run the scenarios, print the table, write bench/results/latest.json."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from app.config import running_dev_stack
from bench import (
    scenarios_growth,
    scenarios_http,
    scenarios_lanes,
    scenarios_peer,
    scenarios_push,
    scenarios_transports,
    system,
)
from bench.context import Config, Context
from bench.scenarios_statistics import statistics as statistics_scenario
from bench.servers import Layout, ServerOptions, Stack, require_tools
from bench.stats import Figure, add_ratios, format_table, parse_size, parse_sizes
from bench.variants import VARIANTS
from devtools.devstack import DEFAULT_REDIS_URL, LOCAL_DIR, DevStackError, redis_answers
from notifications.fcm import TRANSPORTS

RESULTS = Path(__file__).parent / "results"
# Named here, not imported: bench.worker_variants imports the worker's settings module.
WORKER_SETTINGS = {
    "default": "workers.settings.WorkerSettings",
    "slow-poll": "bench.worker_variants.SlowPollWorkerSettings",
    # Only for push-during-announcement, which starts the announcements' process beside it.
    "announcements-apart": "bench.worker_variants.WithoutAnnouncementLaneWorkerSettings",
}
Scenario = Callable[[Context], list[Figure]]
SCENARIOS: dict[str, Scenario] = {
    "ceiling": scenarios_http.ceiling,
    "raw": scenarios_http.raw_read,
    "wallet": scenarios_http.wallet_read,
    "peer": scenarios_peer.peer_comparison,
    "submit": scenarios_http.dossier_submit,
    "push": scenarios_push.status_to_push,
    "fanout": scenarios_transports.fan_out,
    "push-during-announcement": scenarios_lanes.push_during_announcement,
    "growth": scenarios_growth.growth,
    "statistics": statistics_scenario,
}
# (full, --quick)
DEFAULTS: dict[str, tuple[Any, Any]] = {
    "seconds": (10, 3),
    "warmup": (3, 1),
    "population": ("10k", "2k"),
    "push_seconds": (60.0, 5.0),
    "fanout_devices": ("100k", "5k"),
    "queue_messages": ("5k", "1k"),
    "sizes": ("10k,100k", "1k,5k"),
    "statistics_sizes": ("10k,100k", "2k"),
}


def _cpus(text: str) -> frozenset[int]:
    return frozenset(int(part) for part in text.split(",") if part.strip())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks of the Citizen Wallet API, its store, its push pipeline and its growth. "
        "Prints a table and writes bench/results/latest.json.",
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated, from: {', '.join(SCENARIOS)} (default: all)",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes and short runs (about 3 minutes)")
    parser.add_argument("--seconds", type=int, help="length of one wrk measurement (10; quick 3)")
    parser.add_argument("--warmup", type=int, help="wrk seconds before measuring a fresh server (3; quick 1)")
    parser.add_argument("--population", help="citizens seeded for the request scenarios (10k; quick 2k)")
    parser.add_argument("--sample", type=int, default=2000, help="of them, citizens whose tokens wrk rotates over")
    parser.add_argument("--concurrency", default="1,16,64", help="connections for ceiling, raw and wallet reads")
    parser.add_argument(
        "--peer-apis",
        default="",
        help="API variants measured beside the default in the peer scenario, e.g. no-metrics,bare-layers",
    )
    parser.add_argument("--peer-concurrency", default="16,64", help="connections for the peer scenario")
    parser.add_argument("--peer-rounds", type=int, default=0, help="interleaved rounds per concurrency (3; quick 2)")
    parser.add_argument("--submit-concurrency", type=int, default=16)
    parser.add_argument("--push-rate", type=float, default=50.0, help="agency events a second")
    parser.add_argument("--push-seconds", type=float, help="how long the events run (60; quick 5)")
    parser.add_argument("--fanout-devices", help="devices of the announcement (100k; quick 5k)")
    parser.add_argument(
        "--lane-rounds",
        type=int,
        default=0,
        help="push-during-announcement: rounds of a quiet interval, events alone and events during (3; quick 2)",
    )
    parser.add_argument(
        "--fcm-transports",
        default="",
        help=(
            "fanout: FCM_TRANSPORT values measured side by side, e.g. firebase-admin,direct (ratios to the"
            " first); direct@/path/to/checkout runs that checkout's worker code"
        ),
    )
    parser.add_argument("--fanout-rounds", type=int, default=0, help="fanout: interleaved rounds (2 quick, 3 full)")
    parser.add_argument("--queue-messages", help="notifications drained by one worker (5k; quick 1k)")
    parser.add_argument("--sizes", help="growth sizes, e.g. 10k,100k,1M (10k,100k; quick 1k,5k)")
    parser.add_argument("--growth-concurrency", type=int, default=16)
    parser.add_argument(
        "--statistics-sizes",
        help="dossiers of the statistics scenario, grown in one store (10k,100k; quick 2k); add 1M for the "
        "target's row (about an hour on the embedded store)",
    )
    parser.add_argument(
        "--growth-plans",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="explain and time the growth queries at each size (the worklist's takes minutes at 1M here)",
    )
    parser.add_argument("--server", choices=["uvicorn", "granian"], default="uvicorn")
    parser.add_argument("--workers", type=int, default=1, help="ASGI server worker processes")
    parser.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="the ASGI server's own access log (off, as the Dockerfile runs it)",
    )
    parser.add_argument("--server-cpus", type=_cpus, help="CPUs of the API and worker (default: the first half)")
    parser.add_argument("--load-cpus", type=_cpus, help="CPUs of the load generator (default: the second half)")
    parser.add_argument("--store-cpus", type=_cpus, help="CPUs of the store (default: as load)")
    parser.add_argument(
        "--emulator-cpus",
        type=_cpus,
        help="CPUs of the FCM emulator, which stands in for Google's servers (default: as the store)",
    )
    parser.add_argument("--wrk-threads", type=int, help="wrk threads (default: one per load CPU)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="record the server with py-spy during each wrk run (uv pip install py-spy)",
    )
    parser.add_argument(
        "--api-variant",
        choices=sorted(VARIANTS),
        default="default",
        help="the API with a proposed change (bench/variants.py)",
    )
    parser.add_argument(
        "--worker-variant",
        choices=sorted(WORKER_SETTINGS),
        default="default",
        help="the arq worker with a proposed setting (bench/worker_variants.py)",
    )
    parser.add_argument(
        "--mongo-options", default="", help="URL options for the API and worker's store client, e.g. maxPoolSize=20"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--keep", action="store_true", help="keep the working directory (store data, logs)")
    return parser


def _default(args: argparse.Namespace, name: str) -> Any:
    value = getattr(args, name)
    return value if value is not None else DEFAULTS[name][1 if args.quick else 0]


def build_config(args: argparse.Namespace, layout: Layout) -> Config:
    return Config(
        quick=args.quick,
        seconds=int(_default(args, "seconds")),
        warmup=int(_default(args, "warmup")),
        population=parse_size(str(_default(args, "population"))),
        sample=args.sample,
        concurrency=tuple(parse_sizes(args.concurrency)),
        submit_concurrency=args.submit_concurrency,
        push_rate=args.push_rate,
        push_seconds=float(_default(args, "push_seconds")),
        push_grace=10.0 if args.quick else 30.0,
        fanout_devices=parse_size(str(_default(args, "fanout_devices"))),
        queue_messages=parse_size(str(_default(args, "queue_messages"))),
        growth_sizes=tuple(parse_sizes(str(_default(args, "sizes")))),
        growth_concurrency=args.growth_concurrency,
        growth_plans=args.growth_plans,
        statistics_sizes=tuple(parse_sizes(str(_default(args, "statistics_sizes")))),
        server=ServerOptions(args.server, args.workers, args.access_log),
        wrk_threads=args.wrk_threads or len(layout.load),
        profile=args.profile,
        api_variant=args.api_variant,
        worker_settings=WORKER_SETTINGS[args.worker_variant],
        peer_apis=_variants(args.peer_apis),
        peer_concurrency=tuple(parse_sizes(args.peer_concurrency)),
        peer_rounds=args.peer_rounds,
        lane_rounds=args.lane_rounds,
        fcm_transports=_transports(args.fcm_transports),
        fanout_rounds=args.fanout_rounds,
    )


def _transports(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    # "direct@/path/to/checkout": that transport, with the worker code of another checkout.
    unknown = [n for n in names if n.partition("@")[0] not in TRANSPORTS]
    if unknown:
        raise SystemExit(f"unknown FCM transport(s): {', '.join(unknown)}; choose from {', '.join(TRANSPORTS)}")
    return names


def _variants(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown API variant(s): {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    return names


def build_layout(args: argparse.Namespace) -> Layout:
    default = Layout.default()
    load = args.load_cpus or default.load
    return Layout(
        server=args.server_cpus or default.server, load=load, store=args.store_cpus or load, emulator=args.emulator_cpus
    )


def select(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    return [n for n in SCENARIOS if n in names]  # always in the order that gives ratios their references


class _Interrupted(BaseException):
    """Ctrl-C or SIGTERM: unwinds to the clean-up that stops every process started."""


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # Our own handler, so asyncio.run leaves SIGINT alone: its handler only cancels the
    # running task, which an insert in flight can outlive.
    raise _Interrupted(signum)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    names = select(args.scenarios)
    layout = build_layout(args)
    config = build_config(args, layout)
    # REDIS_URL, else the Redis of a running `make run` (.local/stack.env), else the default.
    redis_url = os.environ.get("REDIS_URL") or running_dev_stack().get("REDIS_URL", DEFAULT_REDIS_URL)
    try:
        require_tools()
    except DevStackError as exc:
        _say(f"error: {exc}")
        return 2
    if not redis_answers(redis_url):
        _say(f"error: Redis does not answer at {redis_url}: run `make bench`, which starts one.")
        return 2
    machine, versions = system.machine(), system.versions()
    _say(
        f"Machine: {machine['nproc']} CPUs ({machine['cpu_model']}), {machine['ram_gb']} GB RAM. Pinned with taskset: "
        f"API and worker on CPU {layout.describe()['server']}, load generator on CPU {layout.describe()['load']}, "
        f"store on CPU {layout.describe()['store']}, FCM emulator on CPU {layout.describe()['emulator']}."
    )
    _say(f"Server: {config.server.describe()}; scenarios: {', '.join(names)}{' (quick)' if config.quick else ''}")
    workdir = LOCAL_DIR / "bench" / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    workdir.mkdir(parents=True, exist_ok=True)
    stack = Stack(workdir, layout, redis_url, mongo_options=args.mongo_options)
    ctx = Context(config, stack, workdir, _say)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    system.self_pin(set(layout.load))  # the bench's own polling and checks stay off the server's CPUs
    figures: list[Figure] = []
    failures: dict[str, str] = {}
    started = datetime.now(UTC)
    t0 = time.monotonic()
    try:
        for name in names:
            t_scenario = time.monotonic()
            try:
                figures += SCENARIOS[name](ctx)
            except Exception as exc:  # one scenario's failure is reported; the others still run
                failures[name] = f"{type(exc).__name__}: {exc}"
                _say(f"scenario {name} failed: {failures[name]}\n{traceback.format_exc(limit=4)}")
            _say(f"  ({name}: {time.monotonic() - t_scenario:.0f} s)")
    except (KeyboardInterrupt, _Interrupted):
        failures["interrupted"] = "stopped by a signal"
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        stack.close()
        if failures or args.keep:
            _say(f"Logs and store data kept in {_shown(workdir)}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    add_ratios(figures)
    context = {
        "machine": machine,
        "versions": versions,
        "layout": layout.describe(),
        "config": {**config.describe(), "mongo_options": args.mongo_options},
    }
    for figure in figures:
        figure.settings = {**context["config"], **figure.settings, "layout": context["layout"]}
    print(format_table(figures))
    print(f"\n{len(figures)} figures in {time.monotonic() - t0:.0f} s; written to {_shown(args.out)}")
    if failures:
        print("failed: " + "; ".join(f"{k}: {v}" for k, v in failures.items()))
    write_results(args.out, started, figures, failures, context, argv)
    return 1 if failures else 0


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def write_results(
    out: Path,
    started: datetime,
    figures: list[Figure],
    failures: dict[str, str],
    context: dict[str, Any],
    argv: Sequence[str] | None,
) -> None:
    document = {
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "command": "python -m bench " + " ".join(sys.argv[1:] if argv is None else argv),
        **context,
        "figures": [{**f.as_json(), "machine": context["machine"], "versions": context["versions"]} for f in figures],
        "failures": failures,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")
