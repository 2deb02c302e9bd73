"""Growth: the wallet read and the agency worklist as the population grows (10k → 100k → 1M
citizens), and the query plans that show the indexes carry them.

It has a store of its own, grown in place from one size to the next; the API is started
afresh at each size.
"""

from __future__ import annotations

import time
from typing import Any

from bson import json_util
from pymongo.asynchronous.database import AsyncDatabase

from app.pagination import DEFAULT_LIMIT
from app.security import Principal
from bench import seed
from bench.apps import wallet_filter
from bench.context import Context
from bench.scenarios_http import check_wallet
from bench.servers import Stack
from bench.stats import Figure, human_size, plan_summary, ratio

WORKLIST_AGENCY_SERVICE = "RESIDENCE_REGISTRATION"
WORKLIST_STATUSES = ("submitted", "received", "processing")


def _worklist_cursor(database: AsyncDatabase[dict[str, Any]], agency: dict[str, Any]) -> Any:
    """The first page of the worklist, filtered by status, built by the endpoint's own code."""
    from app.dossiers.worklist import ORDER, worklist_queries

    principal = Principal(
        kind="agency",
        id=agency["code"],
        agency_code=agency["code"],
        service_codes=tuple(agency["service_codes"]),
        document_types=tuple(agency.get("document_types", ())),
    )
    # One procedure's part of the first page: the endpoint sends one such query per procedure.
    queries, _ = worklist_queries(principal, "submitted", WORKLIST_AGENCY_SERVICE, None, None)
    return database["dossiers"].find(queries[0]).sort(ORDER).limit(DEFAULT_LIMIT)


async def explain_all(database: AsyncDatabase[dict[str, Any]], citizen: Any, agency: dict[str, Any]) -> dict[str, Any]:
    """The plans of the reads the two endpoints make, as the services issue them."""
    session = await database["auth_sessions"].find_one({"citizen_id": citizen}, {"_id": 1})
    worklist = _worklist_cursor(database, agency)
    first_page = await _worklist_cursor(database, agency).to_list()
    queries = {
        "wallet: documents of a citizen": database["documents"]
        .find(wallet_filter(citizen))
        .sort("_id", -1)
        .limit(DEFAULT_LIMIT),
        "auth: the token's session": database["auth_sessions"].find({"_id": session["_id"] if session else None}),
        "worklist: an agency's dossiers by status": worklist,
        "worklist: the applicants": database["citizens"].find({"_id": {"$in": [d["citizen_id"] for d in first_page]}}),
    }
    plans = {}
    for name, cursor in queries.items():
        explained = await cursor.explain()
        # The query's own time beside its plan: SecantusDB 0.7.0b3 reports a COLLSCAN of every
        # document for the wallet's filter ($ne beside the indexed equality) while it reads
        # through the index; a time that stays flat as the collection grows says which is true.
        times: list[float] = []
        while len(times) < 5 and sum(times) < 1.0:  # a slow one is timed once
            t0 = time.perf_counter()
            await cursor.clone().to_list()
            times.append(time.perf_counter() - t0)
        plans[name] = {
            "summary": plan_summary(explained),
            "timed_ms": round(sum(times) / len(times) * 1000, 2),
            "winningPlan": json_util.loads(json_util.dumps(explained["queryPlanner"]["winningPlan"])),
        }
    return plans


def growth(ctx: Context) -> list[Figure]:
    sizes = ctx.config.growth_sizes
    ctx.progress(f"Growth: {', '.join(map(human_size, sizes))} citizens, grown in one store of its own ...")
    stack = Stack(ctx.workdir / "growth", ctx.stack.layout, ctx.stack.redis_url, mongo_options=ctx.stack.mongo_options)
    growth_ctx = Context(ctx.config, stack, ctx.workdir, ctx.progress)
    figures: list[Figure] = []
    try:
        services = growth_ctx.services()
        agency_code = next(s["agency_code"] for s in services if s["code"] == WORKLIST_AGENCY_SERVICE)
        # A store given with BENCH_MONGODB_URL/BENCH_MONGODB_DB may hold citizens already.
        seeded = growth_ctx.db(lambda database: database["citizens"].count_documents({}))
        for size in sizes:
            if size < seeded:
                ctx.progress(f"  {human_size(size)}: skipped, the store holds {seeded:,} citizens already")
                continue
            figures += _measure_size(growth_ctx, services, agency_code, seeded, size)
            seeded = size
    finally:
        stack.close()
    _p99_ratios(figures)
    return figures


def _measure_size(
    ctx: Context, services: list[dict[str, Any]], agency_code: str, seeded: int, size: int
) -> list[Figure]:
    label = human_size(size)
    sample = min(ctx.config.sample, size)
    step = max(size // sample, 1)

    async def grow(database: AsyncDatabase[dict[str, Any]]) -> tuple[list[str], dict[str, Any], dict[str, int]]:
        await seed.seed_citizens(database, seeded, size, services, seed.Shape(devices=0), progress=ctx.progress)
        ids = await seed.citizen_ids(database, range(0, size, step)[:sample])
        tokens = await seed.citizen_tokens(database, ids, ctx.stack.jwt_secret)
        agency = await database["agencies"].find_one({"code": agency_code})
        assert agency is not None
        plans = await explain_all(database, ids[len(ids) // 2], agency) if ctx.config.growth_plans else {}
        counts = {n: await database[n].estimated_document_count() for n in ("citizens", "documents", "dossiers")}
        return tokens, plans, counts

    tokens, plans, counts = ctx.db(grow)
    ctx.progress(f"  {label}: {counts}; measuring the wallet and the worklist ...")
    for name, plan in plans.items():
        summary = plan["summary"]
        where = summary["indexes"] or "no index"
        ctx.progress(f"    plan [{name}]: {summary['stages']} via {where}; the query alone: {plan['timed_ms']} ms")
    api = ctx.stack.start_server(f"api-growth-{label}", ctx.config.api_target, ctx.config.server, "/health/live")
    figures = []
    with ctx.stack.running(api):
        url = api.url or ""
        check_wallet(url, tokens[0])
        store = ctx.store_group()
        wallet_rows = [("/api/v1/me/documents", f"Bearer {t}", "") for t in tokens]
        wallet_lines = ctx.lines(f"growth-wallet-{label}", wallet_rows)
        ctx.warm_up(url, wallet_lines)
        # p99 at concurrency 1 is the request's own cost; at 16, what queueing adds to it.
        for c in sorted({1, ctx.config.growth_concurrency}):
            figures.append(ctx.measure(f"growth wallet @{label}", api, url, wallet_lines, c, others=store))
        agency_auth = f"Bearer {seed.agency_token(agency_code, ctx.stack.jwt_secret)}"
        worklist_rows = [(f"/api/v1/agency/dossiers?status={s}", agency_auth, "") for s in WORKLIST_STATUSES]
        worklist_lines = ctx.lines(f"growth-worklist-{label}", worklist_rows)
        ctx.warm_up(url, worklist_lines, concurrency=1)
        # One at a time: on the embedded store a worklist page can take longer than a run
        # with sixteen of them queued (see the plans), which would leave no figure at all.
        figures.append(ctx.measure(f"growth worklist @{label}", api, url, worklist_lines, 1, others=store))
    for figure in figures:
        wanted = "worklist" in figure.scenario
        chosen = {k: v for k, v in plans.items() if ("worklist" in k) == wanted}
        figure.extra.update({"citizens": size, "counts": counts, "plans": chosen})
        if figure.count == 0:
            figure.note = f"no request finished within {ctx.config.seconds} s"
    return figures


def _p99_ratios(figures: list[Figure]) -> None:
    """Each size's p99 as a multiple of the smallest size's at the same concurrency (the
    target: at most 1.5 at 1M)."""
    for kind in ("growth wallet", "growth worklist"):
        for concurrency in {f.concurrency for f in figures if f.scenario.startswith(kind)}:
            series = [f for f in figures if f.scenario.startswith(kind) and f.concurrency == concurrency]
            base = series[0].p99_ms
            for figure in series:
                value = ratio(figure.p99_ms, base)
                if value is not None:
                    figure.ratios["p99_vs_smallest"] = value
