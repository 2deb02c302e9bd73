"""Staff need a second factor (TOTP); agencies rotate secrets with an overlap window."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pyotp

from app.cli import rotate_agency_secret
from tests.integration.identity.helpers import bearer, new_staff, staff_token


async def test_staff_get_a_token_only_with_password_and_a_fresh_code(api: httpx.AsyncClient) -> None:
    member = await new_staff("support")
    no_code = await api.post(
        "/api/v1/staff/token",
        json={"username": member.username, "password": member.password},
        headers={"Accept-Language": "en"},
    )
    assert no_code.status_code == 401 and no_code.json()["code"] == "otp-required"
    assert "authenticator" in no_code.json()["detail"]
    wrong_code = await api.post("/api/v1/staff/token", json=member.login_body(otp="000000"))
    wrong_password = await api.post("/api/v1/staff/token", json={**member.login_body(), "password": "not the password"})
    assert wrong_code.status_code == wrong_password.status_code == 401
    assert wrong_code.json() == wrong_password.json()
    old_code = pyotp.TOTP(member.totp_secret).at(time.time() - 120)
    assert (await api.post("/api/v1/staff/token", json=member.login_body(otp=old_code))).status_code == 401

    code = pyotp.TOTP(member.totp_secret).now()
    first = await api.post("/api/v1/staff/token", json=member.login_body(otp=code))
    assert first.status_code == 200, first.text
    me = await api.get("/api/v1/staff/me", headers=bearer(first.json()["access_token"]))
    assert me.json() == {
        "username": member.username,
        "role": "support",
        "totp_enrolled": True,
        "created_at": me.json()["created_at"],
    }
    # The same code again (someone looking over the shoulder) gets nothing.
    replay = await api.post("/api/v1/staff/token", json=member.login_body(otp=code))
    assert replay.status_code == 401


async def test_admin_routes_are_for_admins(api: httpx.AsyncClient) -> None:
    admin, support = await new_staff("admin"), await new_staff("support")
    listed = await api.get("/api/v1/admin/staff", headers=await staff_token(api, admin))
    assert listed.status_code == 200
    names = {s["username"]: s for s in listed.json()["items"]}
    assert names[support.username]["role"] == "support" and names[support.username]["totp_enrolled"] is True
    assert (await api.get("/api/v1/admin/staff", headers=await staff_token(api, support))).status_code == 403


async def test_cli_staff_create_prints_a_totp_provisioning_uri(
    api: httpx.AsyncClient, stack_env: dict[str, str]
) -> None:
    username = f"cli.admin.{os.getpid()}.{time.time_ns() % 10**6}"
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app.cli", "staff", "create", "--username", username, "--role", "admin"],
        env={**os.environ, **stack_env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert {"username", "password", "role", "totp_secret", "totp_uri"} <= set(printed)
    uri = urlparse(printed["totp_uri"])
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert parse_qs(uri.query)["secret"] == [printed["totp_secret"]]
    token = await api.post(
        "/api/v1/staff/token",
        json={
            "username": username,
            "password": printed["password"],
            "otp": pyotp.parse_uri(printed["totp_uri"]).now(),
        },
    )
    assert token.status_code == 200, token.text


async def test_a_rotated_agency_secret_overlaps_then_the_old_one_stops(
    api: httpx.AsyncClient, make_agency: Any
) -> None:
    agency = await make_agency(["CRIMINAL_RECORD"])
    rotated = await api.post("/api/v1/agency/credentials/rotate", headers=agency.headers)
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["client_secret"]
    assert rotated.json()["client_id"] == agency.client_id and new_secret != agency.client_secret

    async def token_with(secret: str) -> int:
        answer = await api.post("/api/v1/agency/token", json={"client_id": agency.client_id, "client_secret": secret})
        return answer.status_code

    # Inside the overlap window both work, so every server of the agency can switch over.
    assert await token_with(agency.client_secret) == 200
    assert await token_with(new_secret) == 200
    # A rotation with no overlap (a leaked secret) ends the previous one at once, and the one
    # before that is long gone.
    newest = await rotate_agency_secret(agency.code, overlap_hours=0)
    assert await token_with(new_secret) == 401
    assert await token_with(agency.client_secret) == 401
    assert await token_with(newest["client_secret"]) == 200


async def test_agency_scope_is_granted_through_the_cli(api: httpx.AsyncClient, stack_env: dict[str, str]) -> None:
    code = f"CAX{time.time_ns() % 10**6}"
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app.cli", "agency", "create", "--code", code, "--name", "Công an phường",
         "--service", "TEMPORARY_ABSENCE", "--scope", "verify_identity"],
        env={**os.environ, **stack_env}, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    creds = json.loads(done.stdout)
    token = await api.post(
        "/api/v1/agency/token", json={"client_id": creds["client_id"], "client_secret": creds["client_secret"]}
    )
    unknown = await api.post(
        "/api/v1/agency/identity/eid-level",
        json={"national_id": "001090000002", "level": 2},
        headers=bearer(token.json()["access_token"]),
    )
    assert unknown.status_code == 404  # past the scope check: it just knows no such citizen


async def test_the_store_keeps_no_totp_secret_in_clear_and_old_records_are_sealed_at_sign_in(
    api: httpx.AsyncClient,
) -> None:
    from models.agency import Staff

    member = await new_staff("support")
    stored = await Staff.get_pymongo_collection().find_one({"username": member.username})
    assert stored is not None and stored.get("totp_secret_sealed")
    assert member.totp_secret not in json.dumps(stored, default=str)

    # A record from before sealing: the secret in clear. It still signs in, and is sealed then.
    old = await new_staff("support")
    await Staff.get_pymongo_collection().update_one(
        {"username": old.username}, {"$set": {"totp_secret": old.totp_secret}, "$unset": {"totp_secret_sealed": ""}}
    )
    assert (await api.post("/api/v1/staff/token", json=old.login_body())).status_code == 200
    migrated = await Staff.get_pymongo_collection().find_one({"username": old.username})
    assert migrated is not None and "totp_secret" not in migrated and migrated.get("totp_secret_sealed")
    assert old.totp_secret not in json.dumps(migrated, default=str)

    # Sealed under another SECRETS_KEY: the code cannot be checked, and the answer says what to do.
    await Staff.get_pymongo_collection().update_one(
        {"username": member.username}, {"$set": {"totp_secret_sealed": "0123456789abcdef.bm90LXNlYWxlZC1oZXJl"}}
    )
    refused = await api.post("/api/v1/staff/token", json=member.login_body(), headers={"Accept-Language": "en"})
    assert refused.status_code == 403 and refused.json()["code"] == "otp-not-set-up"
    assert "cwallet staff create" in refused.json()["detail"]
