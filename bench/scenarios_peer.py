"""The wallet read, ours beside the peer's (FastAPI + pydantic + Motor, bench/peer.py) and
the bare-driver read (bench/apps.py), measured in interleaved rounds on one store.

This machine is shared: absolute rates drift by tens of percent within minutes. So the
servers run side by side, one wrk measurement each in turn, round after round, and only
ratios between measurements of the same rounds are reported (`compare` below): rate,
server CPU per request, store CPU per request and RSS, each as the median over the rounds.

`--peer-apis` adds API variants (bench/variants.py) to the rounds, which is how the cost of
each per-request layer (metrics, request log, audit, throttle) is measured.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bench.context import Context, http_raw
from bench.servers import PEER_TARGET, RAW_READ_TARGET
from bench.stats import Figure
from bench.variants import VARIANTS
from devtools.devstack import DevStackError, ManagedProcess

ROUNDS = (2, 3)  # (--quick, full): rounds per concurrency


@dataclass(frozen=True)
class Contender:
    name: str  # as the figures are labelled: "api", "api:<variant>", "peer", "raw read"
    target: str
    path: str  # the wallet's path on this server, {cid} for the citizen's id


def contenders(variants: Sequence[str]) -> list[Contender]:
    wallet = "/api/v1/me/documents"
    named = [Contender("api", VARIANTS["default"], wallet)]
    named += [Contender(f"api:{v}", VARIANTS[v], wallet) for v in variants if v != "default"]
    return [
        *named,
        Contender("peer", PEER_TARGET, wallet),
        Contender("raw read", RAW_READ_TARGET, "/raw/documents/{cid}"),
    ]


def peer_comparison(ctx: Context) -> list[Figure]:
    population = ctx.population()
    rounds = ctx.config.peer_rounds or ROUNDS[0 if ctx.config.quick else 1]
    chosen = contenders(ctx.config.peer_apis)
    ctx.progress(
        f"Wallet read, interleaved: {', '.join(c.name for c in chosen)}; {rounds} rounds at c="
        f"{', '.join(map(str, ctx.config.peer_concurrency))} ..."
    )
    servers: dict[str, ManagedProcess] = {}
    try:
        for c in chosen:
            ready = "/raw/documents/" + "0" * 24 if "{cid}" in c.path else "/health/live"
            servers[c.name] = ctx.stack.start_server(_slug(c.name), c.target, ctx.config.server, ready)
        _check_same_answer(ctx, servers, population.tokens[0])
        lines = {
            c.name: ctx.lines(
                _slug(c.name),
                [
                    (c.path.format(cid=cid), None if "{cid}" in c.path else f"Bearer {token}", "")
                    for cid, token in zip(population.ids, population.tokens, strict=True)
                ],
            )
            for c in chosen
        }
        for c in chosen:
            ctx.warm_up(servers[c.name].url or "", lines[c.name])
        figures: list[Figure] = []
        for concurrency in ctx.config.peer_concurrency:
            for r in range(rounds):
                # Each round starts with a different contender, so none always follows the same one.
                order = chosen[r % len(chosen) :] + chosen[: r % len(chosen)]
                for c in order:
                    server = servers[c.name]
                    if c.name.startswith("api"):
                        _sign_in_everyone(server.url or "", population.tokens)
                    figure = ctx.measure(
                        f"wallet {c.name}",
                        server,
                        server.url or "",
                        lines[c.name],
                        concurrency,
                        others=ctx.store_group(),
                    )
                    figure.extra.update({"round": r, "contender": c.name, "citizens": population.size})
                    figures.append(figure)
        for summary in compare(figures, reference="peer"):
            ctx.progress(summary)
        return figures
    finally:
        for server in servers.values():
            ctx.stack.stop(server)


def _sign_in_everyone(url: str, tokens: Sequence[str]) -> None:
    """One request per token just before each measurement of the API: each citizen's session
    is then remembered by the API process (decision 17), as it is for anyone active in the
    last 30 s. Otherwise a slow round on a busy machine rotates through the tokens slower
    than the memory lasts, and measures a session read per request that the stateless peer
    never makes (`store_ops_per_request` shows what was read)."""

    def one(token: str) -> int:
        return http_raw("GET", f"{url}/api/v1/me/documents", headers={"Authorization": f"Bearer {token}"})[0]

    with ThreadPoolExecutor(max_workers=8) as pool:
        refused = [status for status in pool.map(one, tokens) if status != 200]
    if refused:
        raise DevStackError(f"{len(refused)} wallet reads failed before the measurement: {refused[:5]}")


def _slug(name: str) -> str:
    return "wallet-" + name.replace(":", "-").replace(" ", "-")


def _check_same_answer(ctx: Context, servers: dict[str, ManagedProcess], token: str) -> None:
    """The API and the peer must give the same bytes, or the comparison measures two jobs."""
    headers = {"Authorization": f"Bearer {token}"}
    answers = {
        name: http_raw("GET", f"{server.url}/api/v1/me/documents", headers=headers)
        for name, server in servers.items()
        if name != "raw read"
    }
    reference = answers["peer"]
    for name, answer in answers.items():
        if answer != reference or answer[0] != 200:
            raise DevStackError(f"{name} answered {answer!r}, the peer {reference!r}: not the same wallet read")


@dataclass(frozen=True)
class Summary:
    contender: str
    concurrency: int | str
    rate: float
    server_cpu_ms: float | None
    store_cpu_ms: float | None
    rss_mb: float | None
    rounds: int


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def summarize(figures: Sequence[Figure]) -> list[Summary]:
    """Per contender and concurrency: the median over the rounds of each figure."""
    groups: dict[tuple[str, int | str], list[Figure]] = {}
    for f in figures:
        groups.setdefault((str(f.extra.get("contender", f.scenario)), f.concurrency), []).append(f)
    out = []
    for (name, concurrency), group in groups.items():
        per_request = [f.extra.get("cpu_ms_per_request", {}) for f in group]
        out.append(
            Summary(
                contender=name,
                concurrency=concurrency,
                rate=_median([f.rate for f in group]) or 0.0,
                server_cpu_ms=_median([p.get("server") for p in per_request]),
                store_cpu_ms=_median([p.get("store") for p in per_request]),
                rss_mb=_median([f.rss_mb for f in group]),
                rounds=len(group),
            )
        )
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def compare(figures: Sequence[Figure], reference: str = "peer") -> list[str]:
    """Lines of the ratio table: each contender against `reference` at the same concurrency
    (rate, server CPU per request, store CPU per request, RSS), and against the bare-driver
    read (rate). Ratios of medians of interleaved rounds: the only figures that hold here."""
    summaries = summarize(figures)
    by_key = {(s.contender, s.concurrency): s for s in summaries}
    lines = [
        "wallet read, interleaved rounds (ratios in-run; absolute figures are a shared machine's):",
        f"  {'contender':<28} {'c':>3} {'req/s':>7} {'srv ms/req':>10} {'store ms/req':>12} {'RSS MB':>7} "
        f"{'rate÷' + reference:>11} {'cpu÷' + reference:>10} {'store÷' + reference:>12} {'rss÷' + reference:>10} "
        f"{'rate÷raw':>9}",
    ]
    for s in sorted(summaries, key=lambda s: (str(s.concurrency), s.contender)):
        ref = by_key.get((reference, s.concurrency))
        raw = by_key.get(("raw read", s.concurrency))
        cells = [
            _ratio(s.rate, ref.rate if ref else None),
            _ratio(s.server_cpu_ms, ref.server_cpu_ms if ref else None),
            _ratio(s.store_cpu_ms, ref.store_cpu_ms if ref else None),
            _ratio(s.rss_mb, ref.rss_mb if ref else None),
            _ratio(s.rate, raw.rate if raw else None),
        ]
        shown = [f"{v:.2f}" if v is not None else "-" for v in cells]
        lines.append(
            f"  {s.contender:<28} {s.concurrency!s:>3} {s.rate:>7.0f} {_f(s.server_cpu_ms):>10} "
            f"{_f(s.store_cpu_ms):>12} {_f(s.rss_mb, 0):>7} {shown[0]:>11} {shown[1]:>10} {shown[2]:>12} "
            f"{shown[3]:>10} {shown[4]:>9}"
        )
    return lines


def _f(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
