"""The catalogue as citizens read it, loading it (and reloading it) from its file, and the
prefill from the citizen's own profile and wallet."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx

from app.catalogue.service import load_catalogue
from models.catalogue import CATALOGUE_FILE, Service
from tests.integration.dossiers.flows import submit


async def test_the_catalogue_speaks_both_languages(api: httpx.AsyncClient) -> None:
    english = (await api.get("/api/v1/services", headers={"Accept-Language": "en"})).json()["items"]
    vietnamese = (await api.get("/api/v1/services")).json()["items"]
    assert len(english) >= 12
    version = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))["version"]
    passport_en = next(s for s in english if s["code"] == "PASSPORT")
    passport_vi = next(s for s in vietnamese if s["code"] == "PASSPORT")
    assert (passport_en["name"], passport_vi["name"]) == ("Ordinary passport issuance", "Cấp hộ chiếu phổ thông")
    assert passport_en["catalogue_version"] == version
    assert passport_en["required_eid_level"] == 2 and passport_en["delivery_methods"] == ["postal"]
    assert passport_en["postage_fee_vnd"] == 30000 and passport_en["payment_timing"] == "before_processing"
    assert [a["name"] for a in passport_en["attachments"]] == ["portrait_photo", "previous_passport"]
    assert [s["status"] for s in passport_en["steps"]][:3] == ["submitted", "received", "processing"]
    assert passport_en["steps"][6]["text"].startswith("Your passport")
    one = await api.get("/api/v1/services/MARITAL_STATUS_CERT", headers={"Accept-Language": "en"})
    assert one.json()["agency_name"] == "Commune or ward People's Committee"
    assert (await api.get("/api/v1/services/NOPE")).status_code == 404


async def test_reloading_closes_dropped_procedures_and_keeps_routing(
    api: httpx.AsyncClient, shared_citizen: Any, tmp_path: Path
) -> None:
    routed = await Service.find_one(Service.code == "TEMPORARY_RESIDENCE")
    assert routed is not None
    trimmed = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    trimmed["services"] = [s for s in trimmed["services"] if s["code"] != "TEMPORARY_RESIDENCE"]
    path = tmp_path / "services.json"
    path.write_text(json.dumps(trimmed, ensure_ascii=False), encoding="utf-8")
    try:
        await load_catalogue(path)
        codes = [s["code"] for s in (await api.get("/api/v1/services")).json()["items"]]
        assert "TEMPORARY_RESIDENCE" not in codes and "PASSPORT" in codes
        closed = await submit(api, shared_citizen, "TEMPORARY_RESIDENCE")
        assert closed.status_code == 422 and closed.json()["code"] == "unknown-service"
    finally:
        assert await load_catalogue() >= 12
    reopened = await Service.find_one(Service.code == "TEMPORARY_RESIDENCE")
    assert reopened is not None and reopened.active and reopened.agency_code == routed.agency_code


async def test_the_admin_command_loads_the_catalogue(api: httpx.AsyncClient, stack_env: dict[str, str]) -> None:
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app.cli", "catalogue", "load"],
        env={**os.environ, **stack_env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["services"] >= 12
    assert printed["version"] == json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))["version"]


async def test_prefill_uses_the_citizens_own_profile_and_wallet(
    api: httpx.AsyncClient, shared_citizen: Any, make_citizen: Any, module_agency: Any
) -> None:
    citizen = shared_citizen
    csgt = await module_agency(["DL_RENEWAL"])
    issued = await api.post(
        "/api/v1/agency/documents",
        json={
            "event_id": uuid.uuid4().hex,
            "national_id": citizen.national_id,
            "type": "driver_licence",
            "number": "790999000111",
            "valid_from": "2016-01-01",
            "valid_until": "2036-01-01",
            "fields": {"classes": ["B2"]},
        },
        headers=csgt.headers,
    )
    assert issued.status_code == 201, issued.text
    licence = await api.get("/api/v1/services/DL_RENEWAL/prefill", headers=citizen.headers)
    assert licence.status_code == 200, licence.text
    body = licence.json()
    assert body["form"] == {"current_licence_number": "790999000111"}
    assert body["sources"] == {"current_licence_number": "wallet:driver_licence"}
    assert body["attachments"] == [
        {"name": "current_licence", "document_id": issued.json()["id"], "document_type": "driver_licence"}
    ]
    assert body["missing_required"] == ["licence_class", "health_certificate_date"]

    marital = (await api.get("/api/v1/services/MARITAL_STATUS_CERT/prefill", headers=citizen.headers)).json()
    assert marital["form"] == {"full_name": "Trần Thị Bình", "date_of_birth": "1990-03-04"}

    stranger = await make_citizen(devices=0)
    theirs = (await api.get("/api/v1/services/DL_RENEWAL/prefill", headers=stranger.headers)).json()
    assert theirs["form"] == {} and theirs["attachments"] == []
    assert (await api.get("/api/v1/services/DL_RENEWAL/prefill")).status_code == 401
    assert (await api.get("/api/v1/services/DL_RENEWAL/prefill", headers=csgt.headers)).status_code == 403
    assert (await api.get("/api/v1/services/NOPE/prefill", headers=citizen.headers)).status_code == 404
