"""A submission writes its dossier once, with its idempotency record and outbox in the same
insert (and nothing more to it), reads nothing it already knows, and every look-up it makes uses an index on the
store it runs on (explain(): never a collection scan). A retry still answers the first
dossier, even once its procedure is closed (decision 0016, 2026-12-02)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from bson import ObjectId

from app.catalogue.service import load_catalogue
from models.catalogue import CATALOGUE_FILE
from models.dossier import Dossier
from tests.integration.command_log import Command
from tests.integration.query_plans import stage_names
from tests.support import FORMS

SERVICE = "RESIDENCE_REGISTRATION"


def _body(service_code: str = SERVICE, **form: Any) -> dict[str, Any]:
    return {"service_code": service_code, "form": {**FORMS[service_code], **form}, "delivery": {"method": "online"}}


async def _post(api: httpx.AsyncClient, citizen: Any, body: dict[str, Any], key: str) -> httpx.Response:
    return await api.post("/api/v1/me/dossiers", json=body, headers={**citizen.headers, "Idempotency-Key": key})


async def _scans(collection: str, query: dict[str, Any]) -> list[str]:
    """The stages of the store's plan for `query` on `collection`."""
    database = Dossier.get_pymongo_collection().database
    explained = await database.command("explain", {"find": collection, "filter": query}, verbosity="queryPlanner")
    return [stage for stage, _ in stage_names(explained)]


async def test_a_submission_inserts_its_dossier_once_and_every_lookup_uses_an_index(
    api: httpx.AsyncClient, shared_citizen: Any, store_commands: list[Command]
) -> None:
    key = uuid.uuid4().hex
    first = await _post(api, shared_citizen, _body(), key)
    assert first.status_code == 201, first.text
    on_dossiers = [name for name, collection, _ in store_commands if collection == "dossiers"]
    # One insert carries the dossier, its idempotency record and its outbox, which stays as the
    # record of what the submission told (decision 0032); the dossier is never written again
    # nor read back.
    assert on_dossiers == ["insert"], store_commands

    again = await _post(api, shared_citizen, _body(), key)
    assert again.status_code == 201 and again.json() == first.json()
    keyed = {"citizen_id": ObjectId(shared_citizen.id), "idempotency_key": key}
    assert await Dossier.get_pymongo_collection().count_documents(keyed) == 1

    looked_up = [(collection, q) for name, collection, filters in store_commands if name != "insert" for q in filters]
    assert ("dossiers", keyed) in looked_up  # the retry's
    for collection, query in looked_up:
        stages = await _scans(collection, query)
        assert "COLLSCAN" not in stages, (collection, query, stages)


async def test_a_submission_reads_routing_and_subscriptions_from_memory_and_writes_no_ledger_entry(
    api: httpx.AsyncClient, shared_citizen: Any, store_commands: list[Command]
) -> None:
    """Who serves the procedure and which webhooks the agency has are remembered by the API
    process (forgotten on any write to them); the fee's ledger entry waits for the provider's
    callback, while the citizen's list of payments shows the request at once."""
    warm = await _post(api, shared_citizen, _body(), uuid.uuid4().hex)
    assert warm.status_code == 201, warm.text
    store_commands.clear()
    answer = await _post(api, shared_citizen, _body(), uuid.uuid4().hex)
    assert answer.status_code == 201, answer.text
    assert answer.json()["payment"]["state"] == "pending"
    touched = {collection for _, collection, _ in store_commands}
    assert touched.isdisjoint({"agencies", "webhook_subscriptions", "payments"}), store_commands
    listed = (await api.get("/api/v1/me/payments", headers=shared_citizen.headers)).json()["items"]
    mine = [p for p in listed if p["dossier_code"] == answer.json()["code"]]
    assert [(p["status"], p["amount_vnd"]) for p in mine] == [("pending", answer.json()["payment"]["amount_vnd"])]


async def test_a_retry_answers_the_first_dossier_after_its_procedure_closed(
    api: httpx.AsyncClient, shared_citizen: Any, tmp_path: Path
) -> None:
    key = uuid.uuid4().hex
    first = await _post(api, shared_citizen, _body(), key)
    assert first.status_code == 201, first.text
    trimmed = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    trimmed["services"] = [s for s in trimmed["services"] if s["code"] != SERVICE]
    path = tmp_path / "services.json"
    path.write_text(json.dumps(trimmed, ensure_ascii=False), encoding="utf-8")
    try:
        await load_catalogue(path)
        retried = await _post(api, shared_citizen, _body(), key)
        assert retried.status_code == 201, retried.text
        assert retried.json() == first.json()
        # Another body under the same key is told so, though that body would be refused anyway.
        other = await _post(api, shared_citizen, _body(new_address="1 Lê Lợi, Huế"), key)
        assert other.status_code == 422 and other.json()["code"] == "idempotency-key-reused"
        fresh = await _post(api, shared_citizen, _body(), uuid.uuid4().hex)
        assert fresh.status_code == 422 and fresh.json()["code"] == "unknown-service"
    finally:
        assert await load_catalogue() >= 12
