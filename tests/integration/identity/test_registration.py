"""Registration: real ID numbers, one phone form, strong passwords; nothing half-stored."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import httpx

from app.citizens.identity import national_id_for
from models.citizen import Citizen
from tests.integration.identity.helpers import random_id_for, years_ago
from tests.support import new_national_id, new_phone


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "national_id": new_national_id(),
        "full_name": "Lê Thị Hoa",
        "date_of_birth": "1990-07-01",
        "phone": new_phone(),
        "password": "a long enough password",
        **overrides,
    }


async def refused_fields(api: httpx.AsyncClient, data: dict[str, Any]) -> dict[str, str]:
    answer = await api.post("/api/v1/citizens", json=data, headers={"Accept-Language": "en"})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert await Citizen.find_one(Citizen.national_id == data["national_id"]) is None
    return {e["field"]: e["message"] for e in answer.json()["errors"]}


async def test_id_number_must_carry_a_real_province_and_the_birth_year(api: httpx.AsyncClient) -> None:
    wrong_province = await refused_fields(api, body(national_id="003090123456"))
    assert "province code" in wrong_province["national_id"]
    wrong_year = await refused_fields(api, body(national_id="001085123456"))
    assert "year of birth" in wrong_year["national_id"]
    wrong_century = await refused_fields(api, body(national_id="001290123456"))
    assert "century" in wrong_century["national_id"]
    # Đà Nẵng (048), a woman born in 1990 (digit 1), matching the body's date of birth.
    woman_1990 = national_id_for(date(1990, 7, 1), province="048", female=True, serial=random.randrange(10**6))
    assert woman_1990[:6] == "048190"
    assert (await api.post("/api/v1/citizens", json=body(national_id=woman_1990))).status_code == 201


async def test_phone_is_stored_in_one_form_and_both_forms_sign_in(api: httpx.AsyncClient) -> None:
    local = new_phone()
    data = body(phone=local)
    assert (await api.post("/api/v1/citizens", json=data)).status_code == 201
    stored = await Citizen.find_one(Citizen.national_id == data["national_id"])
    assert stored is not None and stored.phone == "+84" + local[1:]
    for username in (local, "+84" + local[1:], data["national_id"]):
        login = await api.post("/api/v1/auth/token", json={"username": username, "password": data["password"]})
        assert login.status_code == 200, username
    # The same number written the other way is a duplicate.
    again = await api.post("/api/v1/citizens", json=body(phone="+84" + local[1:]))
    assert again.status_code == 409


async def test_duplicate_id_or_phone_is_409_without_saying_which(api: httpx.AsyncClient) -> None:
    first = body()
    assert (await api.post("/api/v1/citizens", json=first)).status_code == 201
    same_id = await api.post("/api/v1/citizens", json=body(national_id=first["national_id"]))
    same_phone = await api.post("/api/v1/citizens", json=body(phone=first["phone"]))
    assert same_id.status_code == same_phone.status_code == 409
    assert same_id.json() == same_phone.json()
    assert first["national_id"] not in same_id.text and first["phone"] not in same_phone.text


async def test_weak_passwords_are_refused_with_what_to_do(api: httpx.AsyncClient) -> None:
    for weak in ("short pass", "qwerty123456", "Password1234", "iloveyou123456", "matkhau123456"):
        problems = await refused_fields(api, body(password=weak))
        assert list(problems) == ["password"], weak
    own_id = body()
    own_id["password"] = f"my number {own_id['national_id']}"
    assert "ID number" in (await refused_fields(api, own_id))["password"]
    common = await refused_fields(api, body(password="qwertyuiopasdf"))
    assert "breaches" in common["password"]


async def test_the_password_is_stored_as_argon2id(api: httpx.AsyncClient) -> None:
    data = body()
    assert (await api.post("/api/v1/citizens", json=data)).status_code == 201
    stored = await Citizen.find_one(Citizen.national_id == data["national_id"])
    assert stored is not None and stored.password_hash is not None
    assert stored.password_hash.startswith("$argon2id$") and data["password"] not in stored.password_hash


async def test_under_14_cannot_register_and_is_told_a_parent_adds_them(api: httpx.AsyncClient) -> None:
    born = years_ago(13)
    problems = await refused_fields(api, body(national_id=random_id_for(born), date_of_birth=born.isoformat()))
    assert list(problems) == ["date_of_birth"] and "parent" in problems["date_of_birth"]
    born14 = years_ago(14, days=-1)
    fourteen = body(national_id=random_id_for(born14), date_of_birth=born14.isoformat())
    assert (await api.post("/api/v1/citizens", json=fourteen)).status_code == 201
