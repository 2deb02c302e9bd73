"""The audit trail records who did what with a citizen's data, and proves it was not edited."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

import httpx
from beanie import PydanticObjectId

from app.audit.service import seal, verify
from models.audit import AccessRecord
from tests.support import submit_residence


async def run_verify(stack_env: dict[str, str]) -> tuple[int, dict[str, Any]]:
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app.cli", "audit", "verify"],
        env={**os.environ, **stack_env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, json.loads(done.stdout)


async def test_a_citizens_own_changes_are_recorded_with_field_names_only(
    api: httpx.AsyncClient, make_citizen: Any
) -> None:
    citizen = await make_citizen(devices=1)
    records = await AccessRecord.find({"citizen_id": PydanticObjectId(citizen.id), "actor_kind": "citizen"}).to_list()
    devices = [r for r in records if r.action == "POST /api/v1/me/devices"]
    assert len(devices) == 1
    assert devices[0].changed_fields == ["locale", "platform", "token"]
    assert devices[0].result == "ok" and devices[0].client == "citizen-app"
    stored = json.dumps([r.model_dump(mode="json") for r in records])
    assert citizen.device_tokens[0] not in stored
    # The citizen's own actions are not shown back to them as "access by others".
    assert (await api.get("/api/v1/me/access-log", headers=citizen.headers)).json()["items"] == []


async def test_agency_reads_show_in_the_citizens_access_log(
    api: httpx.AsyncClient, make_citizen: Any, make_agency: Any
) -> None:
    citizen, other = await make_citizen(devices=0), await make_citizen(devices=0)
    agency = await make_agency(["RESIDENCE_REGISTRATION"])
    code = await submit_residence(api, citizen)
    await api.get("/api/v1/agency/dossiers", headers=agency.headers)
    log = (await api.get("/api/v1/me/access-log", headers=citizen.headers)).json()["items"]
    reads = [e for e in log if e["action"] == "dossier.read" and e["target"] == code]
    assert reads and reads[0]["actor_kind"] == "agency" and reads[0]["actor"] == agency.code
    assert (await api.get("/api/v1/me/access-log", headers=other.headers)).json()["items"] == []


async def test_verify_proves_the_chain_and_names_the_first_edited_record(
    api: httpx.AsyncClient, make_citizen: Any, stack_env: dict[str, str]
) -> None:
    await make_citizen(devices=2)
    code, report = await run_verify(stack_env)
    assert code == 0, report
    assert report["ok"] is True and report["checked"] >= 2 and report["unsealed"] == 0

    records = AccessRecord.get_pymongo_collection()
    victim = await records.find_one({"seq": {"$ne": None}}, sort=[("seq", -1)], skip=1)
    assert victim is not None
    await records.update_one({"_id": victim["_id"]}, {"$set": {"reason": "nothing to see here"}})
    try:
        code, report = await run_verify(stack_env)
        assert code == 1
        assert report["ok"] is False
        assert report["first_broken_id"] == str(victim["_id"])
        assert report["first_broken_seq"] == victim["seq"]
        assert "edited" in report["problem"]
    finally:
        await records.update_one({"_id": victim["_id"]}, {"$set": {"reason": victim.get("reason")}})
    code, report = await run_verify(stack_env)
    assert code == 0, report


async def test_a_deleted_record_breaks_the_chain_where_it_was(make_citizen: Any) -> None:
    await make_citizen(devices=3)
    while await seal():
        pass
    records = AccessRecord.get_pymongo_collection()
    victim = await records.find_one({"seq": {"$ne": None}}, sort=[("seq", -1)], skip=1)
    assert victim is not None
    await records.delete_one({"_id": victim["_id"]})
    try:
        report = await verify()
        assert report.ok is False
        assert report.first_broken_seq == victim["seq"] + 1
        assert report.problem is not None and "missing" in report.problem
    finally:
        await records.insert_one(victim)
    assert (await verify()).ok


async def test_concurrent_sealers_never_fork_the_chain(make_citizen: Any) -> None:
    await asyncio.gather(*(make_citizen(devices=1) for _ in range(4)))
    await asyncio.gather(seal(batch=5), seal(batch=5), seal(batch=5))
    while await seal():
        pass
    report = await verify()
    assert report.ok, report
    assert report.unsealed == 0
