"""Request scenarios measured with wrk: the ceiling, the raw store read, the wallet read
and the dossier submission."""

from __future__ import annotations

import json
from typing import Any

import redis
from pymongo.asynchronous.database import AsyncDatabase

from bench import seed
from bench.context import Context, http_json
from bench.servers import CEILING_TARGET, RAW_READ_TARGET
from bench.stats import Figure
from devtools.devstack import DevStackError

SUBMIT_SERVICE = "RESIDENCE_REGISTRATION"


def ceiling(ctx: Context) -> list[Figure]:
    ctx.progress("Ceiling: a bare Litestar hello-world under the same server and load generator ...")
    server = ctx.stack.start_server("ceiling", CEILING_TARGET, ctx.config.server, "/hello")
    with ctx.stack.running(server):
        lines = ctx.lines("ceiling", [("/hello", None, "")])
        ctx.warm_up(server.url or "", lines)
        return [ctx.measure("ceiling", server, server.url or "", lines, c) for c in ctx.config.concurrency]


def raw_read(ctx: Context) -> list[Figure]:
    population = ctx.population()
    ctx.progress("Raw store read: the wallet's indexed read through PyMongo alone ...")
    server = ctx.stack.start_server("raw-read", RAW_READ_TARGET, ctx.config.server, "/raw/documents/" + "0" * 24)
    with ctx.stack.running(server):
        url = server.url or ""
        status, body = http_json("GET", f"{url}/raw/documents/{population.ids[0]}")
        if status != 200 or len(body["items"]) != seed.Shape().documents:
            raise DevStackError(f"the raw read answered {status} with {body!r}: the seeding is not what it should be")
        lines = ctx.lines("raw", [(f"/raw/documents/{cid}", None, "") for cid in population.ids])
        ctx.warm_up(url, lines)
        store = ctx.store_group()
        return [ctx.measure("raw read", server, url, lines, c, others=store) for c in ctx.config.concurrency]


def wallet_read(ctx: Context) -> list[Figure]:
    population = ctx.population()
    ctx.progress("Wallet read: GET /api/v1/me/documents for random citizens ...")
    server = ctx.stack.start_server("api-wallet", ctx.config.api_target, ctx.config.server, "/health/live")
    with ctx.stack.running(server):
        url = server.url or ""
        check_wallet(url, population.tokens[0])
        lines = ctx.lines("wallet", [("/api/v1/me/documents", f"Bearer {t}", "") for t in population.tokens])
        ctx.warm_up(url, lines)
        figures = []
        for c in ctx.config.concurrency:
            figure = ctx.measure("wallet read", server, url, lines, c, others=ctx.store_group())
            figure.extra.update({"citizens": population.size, "rotating_tokens": len(population.tokens)})
            figures.append(figure)
        return figures


def check_wallet(url: str, token: str) -> None:
    status, body = http_json("GET", f"{url}/api/v1/me/documents", headers={"Authorization": f"Bearer {token}"})
    if status != 200 or len(body["items"]) != seed.Shape().documents:
        raise DevStackError(f"the wallet answered {status} with {body!r}: not a seeded citizen's wallet")


def dossier_submit(ctx: Context) -> list[Figure]:
    population = ctx.population()
    c = ctx.config.submit_concurrency
    ctx.progress(f"Dossier submission with Idempotency-Key at concurrency {c} (no worker: jobs wait in the queue) ...")
    ctx.stack.start_emulator()  # the API refuses to start in production without a push endpoint
    server = ctx.stack.start_server("api-submit", ctx.config.api_target, ctx.config.server, "/health/live")
    with ctx.stack.running(server):
        url = server.url or ""
        form = {"new_address": "5 Trần Phú, Nha Trang, Khánh Hòa"}
        payload = {"service_code": SUBMIT_SERVICE, "form": form, "delivery": {"method": "online"}}
        auth = {"Authorization": f"Bearer {population.tokens[0]}", "Idempotency-Key": "bench-check-0001"}
        first = http_json("POST", f"{url}/api/v1/me/dossiers", payload, auth)
        again = http_json("POST", f"{url}/api/v1/me/dossiers", payload, auth)
        if first[0] != 201 or again[0] != 201 or first[1]["code"] != again[1]["code"]:
            raise DevStackError(f"a submission and its retry answered {first} and {again}")
        body_file = ctx.workdir / "dossier.json"
        body_file.write_text(_json(payload))
        lines = ctx.lines("submit", [("/api/v1/me/dossiers", f"Bearer {t}", "") for t in population.tokens])
        before = _count(ctx, "dossiers")
        figure = ctx.measure(
            "dossier submit",
            server,
            url,
            lines,
            c,
            others=ctx.store_group(),
            method="POST",
            body=body_file,
            idempotent=True,
        )
        created = _count(ctx, "dossiers") - before
        figure.extra.update({"dossiers_created": created, "service": SUBMIT_SERVICE})
        # wrk stops counting with up to `c` requests still in flight, and those create too.
        if not figure.count - figure.errors <= created <= figure.count + c:
            figure.note = (figure.note + " " if figure.note else "") + (
                f"{created} dossiers created for {figure.count - figure.errors} successful requests"
            )
        _drop_pushes(ctx)
        return [figure]


def _count(ctx: Context, collection: str) -> int:
    async def work(database: AsyncDatabase[dict[str, Any]]) -> int:
        return await database[collection].estimated_document_count()

    return ctx.db(work)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _drop_pushes(ctx: Context) -> None:
    """Forget the pushes the submissions owe (no worker ran): their queued jobs, and the
    pending notifications and outbox entries a later worker's sweeper would otherwise send
    in the middle of another scenario. All of it belongs to this run's database and queue."""

    async def work(database: AsyncDatabase[dict[str, Any]]) -> None:
        await database["notifications"].delete_many({"state": "pending"})
        await database["dossiers"].update_many({"outbox.0": {"$exists": True}}, {"$set": {"outbox": []}})

    ctx.db(work)
    client: redis.Redis = redis.Redis.from_url(ctx.stack.redis_url)
    with client:
        queue = ctx.stack.queue_name
        job_ids = [bytes(j).decode() for j in client.zrange(queue, 0, -1)]  # type: ignore[union-attr]
        for first in range(0, len(job_ids), 1_000):
            client.delete(*[f"arq:job:{j}" for j in job_ids[first : first + 1_000]])
        client.delete(queue)
