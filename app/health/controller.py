from __future__ import annotations

import asyncio

from arq import ArqRedis
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from pymongo import AsyncMongoClient


class HealthController(Controller):
    path = "/health"
    tags = ["health"]
    include_in_schema = False

    @get("/live", security=[])
    async def live(self) -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @get("/ready", security=[])
    async def ready(
        self,
        mongo_client: NamedDependency[AsyncMongoClient[dict[str, object]]],
        queue_pool: NamedDependency[ArqRedis],
    ) -> Response[dict[str, str]]:
        """The store and Redis both answer: this instance can take traffic."""
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(mongo_client.admin.command("ping"), timeout=2)
            checks["store"] = "ok"
        except Exception as exc:
            checks["store"] = f"down: {type(exc).__name__}"
        try:
            await asyncio.wait_for(queue_pool.ping(), timeout=2)
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"down: {type(exc).__name__}"
        ok = all(v == "ok" for v in checks.values())
        return Response(
            {"status": "ok" if ok else "unavailable", **checks},
            status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE,
        )
