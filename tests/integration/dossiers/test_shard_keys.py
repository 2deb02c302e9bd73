"""The hot reads carry their collection's shard key (app/sharding.py): captured as the app
sends them, with PyMongo's command monitoring, so a sharded cluster would send each one to
a single shard (docs/scale.md)."""

from __future__ import annotations

from typing import Any

import httpx

from app.sharding import shard_key
from tests.integration.command_log import Command
from tests.integration.dossiers.flows import submitted

SERVICE = "TEMPORARY_ABSENCE"


def _carries_its_key(find: dict[str, Any]) -> bool:
    key = shard_key(find["collection"])
    value = find["filter"].get(key) if key else None
    # An equality (a value, not an operator document): the one shard that holds it.
    return value is not None and not (isinstance(value, dict) and any(k.startswith("$") for k in value))


async def test_wallet_worklist_and_dossier_reads_name_their_shard_key(
    api: httpx.AsyncClient, shared_citizen: Any, module_agency: Any, store_commands: list[Command]
) -> None:
    agency = await module_agency([SERVICE])
    code = (await submitted(api, shared_citizen, SERVICE))["code"]
    reads = {
        "wallet": ("GET", "/api/v1/me/documents", shared_citizen.headers),
        "worklist": ("GET", "/api/v1/agency/dossiers", agency.headers),
        "worklist, a status": ("GET", "/api/v1/agency/dossiers?status=submitted&limit=1", agency.headers),
        "agency's dossier": ("GET", f"/api/v1/agency/dossiers/{code}", agency.headers),
    }
    for name, (method, path, headers) in reads.items():
        store_commands.clear()
        answer = await api.request(method, path, headers=headers)
        assert answer.status_code == 200, (name, answer.text)
        finds = [{"collection": c.collection, "filter": c.filters[0]} for c in store_commands if c.name == "find"]
        hot = [f for f in finds if f["collection"] in ("documents", "dossiers")]
        assert hot, f"{name}: no read of documents or dossiers was seen"
        assert all(_carries_its_key(f) for f in hot), (name, hot)
