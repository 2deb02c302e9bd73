"""The postal operator's parcel list reads an index that holds parcels only: a dossier
without a shipment (every online one) costs no entry there at any write (decision 0016,
2026-12-02: "what a dossier write costs")."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from app.postal.service import create_operator
from models.common import utcnow
from models.dossier import Dossier
from tests.integration.query_plans import stage_names
from tests.integration.statistics.history import insert, raw_dossier


async def _explain(query: dict[str, Any], **options: Any) -> dict[str, Any]:
    database = Dossier.get_pymongo_collection().database
    command = {"find": "dossiers", "filter": query, **options}
    explained: dict[str, Any] = await database.command("explain", command, verbosity="executionStats")
    return explained


async def test_the_parcel_list_reads_an_index_of_parcels_only(api: httpx.AsyncClient) -> None:
    now, agency = utcnow(), f"AG{uuid.uuid4().hex[:6].upper()}"
    online = [raw_dossier(agency, "PASSPORT", submitted=now, due=now, clock={}) for _ in range(3)]
    parcel = raw_dossier(
        agency, "PASSPORT", submitted=now, due=now, clock={},
        delivery={"method": "postal", "address": "Số 5 Tràng Tiền, Hà Nội", "postage_fee_vnd": 30000},
        shipment={"status": "awaiting_pickup", "created_at": now, "operator": None, "tracking_number": None,
                  "updates": []},
    )  # fmt: skip
    await insert(*online, parcel)

    creds = await create_operator(f"POST{uuid.uuid4().hex[:4].upper()}", "Bưu điện thử nghiệm")
    token = await api.post(
        "/api/v1/postal/token", json={"client_id": creds["client_id"], "client_secret": creds["client_secret"]}
    )
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    listed = await api.get("/api/v1/postal/shipments", params={"limit": 100}, headers=headers)
    assert listed.status_code == 200, listed.text
    codes = {p["dossier_code"] for p in listed.json()["items"]}
    assert parcel["code"] in codes and not codes & {d["code"] for d in online}

    # The list's query is answered from the parcel index ...
    plan = await _explain({"shipment.status": "awaiting_pickup"}, sort={"_id": 1})
    assert ("IXSCAN", "parcels") in stage_names(plan)
    # ... which holds one entry per dossier with a shipment, none for the others.
    whole = await _explain({"shipment.status": {"$gt": ""}}, hint="parcels")
    parcels = await Dossier.get_pymongo_collection().count_documents({"shipment": {"$ne": None}})
    assert whole["executionStats"]["totalKeysExamined"] == parcels
    assert parcels < await Dossier.get_pymongo_collection().count_documents({})
