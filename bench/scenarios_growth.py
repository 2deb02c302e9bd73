"""Growth: the wallet read and the agency worklist as the population grows (10k → 100k → 1M
citizens), and the query plans that show the indexes carry them.

It has a store of its own, grown in place from one size to the next; the API is started
afresh at each size.
"""

from __future__ import annotations

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
    from app.dossiers.events import worklist_query

    principal = Principal(
        kind="agency",
        id=agency["code"],
        agency_code=agency["code"],
        service_codes=tuple(agency["service_codes"]),
        document_types=tuple(agency.get("document_types", ())),
    )
    query, index = worklist_query(principal, "submitted", None, None, None)
    return database["dossiers"].find(query).sort([("due_at", 1), ("_id", 1)]).hint(index).limit(DEFAULT_LIMIT)


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
        plans[name] = {
            "summary": plan_summary(explained),
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
        seeded = 0
        for size in sizes:
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
        plans = await explain_all(database, ids[len(ids) // 2], agency)
        counts = {n: await database[n].estimated_document_count() for n in ("citizens", "documents", "dossiers")}
        return tokens, {"plans": plans, "counts": counts}, counts

    tokens, evidence, counts = ctx.db(grow)
    ctx.progress(f"  {label}: {counts}; measuring the wallet and the worklist ...")
    api = ctx.stack.start_server(f"api-growth-{label}", ctx.config.api_target, ctx.config.server, "/health/live")
    c = ctx.config.growth_concurrency
    figures = []
    with ctx.stack.running(api):
        url = api.url or ""
        check_wallet(url, tokens[0])
        store = ctx.store_group()
        wallet_lines = ctx.lines(
            f"growth-wallet-{label}", [("/api/v1/me/documents", f"Bearer {t}", "") for t in tokens]
        )
        ctx.warm_up(url, wallet_lines)
        wallet = ctx.measure(f"growth wallet @{label}", api, url, wallet_lines, c, others=store)
        agency_auth = f"Bearer {seed.agency_token(agency_code, ctx.stack.jwt_secret)}"
        worklist_rows = [(f"/api/v1/agency/dossiers?status={s}", agency_auth, "") for s in WORKLIST_STATUSES]
        worklist_lines = ctx.lines(f"growth-worklist-{label}", worklist_rows)
        ctx.warm_up(url, worklist_lines)
        worklist = ctx.measure(f"growth worklist @{label}", api, url, worklist_lines, c, others=store)
    plans = evidence["plans"]
    wallet.extra = {
        "citizens": size,
        "counts": counts,
        "plans": {k: v for k, v in plans.items() if "worklist" not in k},
    }
    worklist.extra = {"citizens": size, "counts": counts, "plans": {k: v for k, v in plans.items() if "worklist" in k}}
    for name, plan in plans.items():
        summary = plan["summary"]
        ctx.progress(f"    plan [{name}]: {summary['stages']} via {summary['indexes'] or 'no index'}")
    figures += [wallet, worklist]
    return figures


def _p99_ratios(figures: list[Figure]) -> None:
    """Each size's p99 as a multiple of the smallest size's (the target is ≤ 1.5 at 1M)."""
    for kind in ("growth wallet", "growth worklist"):
        series = [f for f in figures if f.scenario.startswith(kind)]
        if not series:
            continue
        base = series[0].p99_ms
        for figure in series:
            value = ratio(figure.p99_ms, base)
            if value is not None:
                figure.ratios["p99_vs_smallest"] = value
