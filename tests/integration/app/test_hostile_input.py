"""Bodies an attacker (or a broken client) sends: nested too deep, too large, of the wrong type,
or multipart without its file. Each gets a 4xx problem+json that says what to do; none a 5xx,
and nothing is stored."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from app.body_policy import MAX_JSON_DEPTH
from app.config import get_settings
from models.citizen import Citizen, Device
from tests.integration.app.test_bad_input import assert_problem
from tests.support import new_national_id, new_phone

JSON = {"content-type": "application/json"}


def nested_arrays(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def nested_objects(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def registration(**overrides: Any) -> dict[str, Any]:
    return {
        "national_id": new_national_id(),
        "full_name": "Lê Văn Hùng",
        "date_of_birth": "1990-01-01",
        "phone": new_phone(),
        "password": "a long enough password",
        **overrides,
    }


async def files_of(citizen_id: str) -> int:
    from beanie import PydanticObjectId

    files = Device.get_pymongo_collection().database["attachments.files"]
    return int(await files.count_documents({"metadata.citizen_id": PydanticObjectId(citizen_id)}))


@pytest.mark.parametrize("body", [nested_arrays(1000), nested_objects(1000), b"[" * 100_000])
async def test_json_nested_too_deep_is_400_on_a_route_without_sign_in(api: httpx.AsyncClient, body: bytes) -> None:
    answer = await api.post("/api/v1/citizens", content=body, headers={**JSON, "Accept-Language": "en"})
    problem = assert_problem(answer, 400, "json-too-deep")
    assert str(MAX_JSON_DEPTH) in problem["detail"] and "/schema" in problem["detail"]
    vietnamese = await api.post("/api/v1/citizens", content=body, headers=JSON)
    assert "lồng" in assert_problem(vietnamese, 400, "json-too-deep")["detail"]


async def test_deep_bodies_at_once_on_sign_in_and_citizen_routes(api: httpx.AsyncClient, make_citizen: Any) -> None:
    """The sign-in throttle and the audit trail parse bodies too: the depth is refused before
    either, on every route, many at a time."""
    citizen = await make_citizen(devices=0)
    deep = nested_objects(2000)
    answers = await asyncio.gather(
        *(api.post("/api/v1/auth/token", content=deep, headers=JSON) for _ in range(10)),
        *(api.post("/api/v1/agency/token", content=deep, headers=JSON) for _ in range(10)),
        *(api.post("/api/v1/me/devices", content=deep, headers={**JSON, **citizen.headers}) for _ in range(10)),
        *(api.post("/api/v1/me/lock", content=deep, headers={**JSON, **citizen.headers}) for _ in range(10)),
    )
    for answer in answers:
        assert_problem(answer, 400, "json-too-deep")
    assert await Device.find(Device.citizen_id == _oid(citizen.id)).count() == 0
    assert (await api.get("/api/v1/me", headers=citizen.headers)).status_code == 200  # not locked


async def test_utf16_json_is_refused_before_any_decoder_guesses_its_encoding(api: httpx.AsyncClient) -> None:
    # The standard library's decoder (the sign-in throttle's) reads UTF-16; the byte-wise depth
    # count does not (an escaped quote shifts what it takes for strings): refused as not UTF-8.
    deep = ('{"username": "\\"", "password": ' + "[" * 1000 + "]" * 1000 + "}").encode("utf-16-le")
    answer = await api.post("/api/v1/auth/token", content=deep, headers=JSON)
    assert_problem(answer, 400, "malformed-json")


async def test_nesting_up_to_the_limit_and_brackets_in_strings_are_fine(api: httpx.AsyncClient) -> None:
    # Brackets inside a string nest nothing: a password may be made of them.
    body = registration(password="[{" * 200 + '\\"]')
    created = await api.post("/api/v1/citizens", json=body)
    assert created.status_code == 201, created.text
    # As deep as allowed: the answer is about the fields, not the depth.
    at_limit = b'{"national_id":' + nested_arrays(MAX_JSON_DEPTH - 1) + b"}"
    assert_problem(await api.post("/api/v1/citizens", content=at_limit, headers=JSON), 422, "invalid-input")


async def test_body_too_large_is_413_and_nothing_is_stored(api: httpx.AsyncClient) -> None:
    cap = get_settings().request_max_body_bytes
    body = registration(full_name="A" * (cap + 1))
    answer = await api.post("/api/v1/citizens", json=body, headers={"Accept-Language": "en"})
    problem = assert_problem(answer, 413, "body-too-large")
    assert "Send less data" in problem["detail"]
    assert await Citizen.find_one(Citizen.national_id == body["national_id"]) is None


async def test_wrong_content_type_is_415_with_what_to_send(api: httpx.AsyncClient) -> None:
    body = registration()
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        answer = await api.post(
            "/api/v1/citizens",
            content=httpx.Request("POST", "/", json=body).content,
            headers={"content-type": content_type, "Accept-Language": "en"},
        )
        problem = assert_problem(answer, 415, "unsupported-media-type")
        assert answer.headers["accept"] == "application/json"
        assert "application/json" in problem["detail"]
    assert await Citizen.find_one(Citizen.national_id == body["national_id"]) is None


async def test_multipart_without_its_parts_on_a_route_without_sign_in(api: httpx.AsyncClient) -> None:
    """A form (with or without the fields) sent where JSON is expected."""
    for files in ({"note": (None, "hello")}, {"national_id": (None, new_national_id())}):
        answer = await api.post("/api/v1/citizens", files=files)
        assert_problem(answer, 415, "unsupported-media-type")
    empty = await api.post("/api/v1/citizens", content=b"", headers={"content-type": "multipart/form-data; boundary=x"})
    assert_problem(empty, 415, "unsupported-media-type")


@pytest.mark.parametrize(
    ("request_kwargs", "status", "code"),
    [
        ({"files": {"note": (None, "no file here")}}, 422, "invalid-input"),
        ({"files": {"data": (None, "text, not a file")}}, 422, "invalid-input"),
        ({"files": [("data", ("a.pdf", b"%PDF-1.4 a")), ("data", ("b.pdf", b"%PDF-1.4 b"))]}, 422, "invalid-input"),
        ({"content": b"", "headers": {"content-type": "multipart/form-data; boundary=xyz"}}, 422, "invalid-input"),
        ({"content": b"--xyz\r\nbroken", "headers": {"content-type": "multipart/form-data; boundary=xyz"}}, 400,
         "malformed-multipart"),
        ({"content": b'--xyz\r\nContent-Disposition: form-data; name="note"\r\n\r\n\xff\xfe\r\n--xyz--\r\n',
          "headers": {"content-type": "multipart/form-data; boundary=xyz"}}, 400, "malformed-multipart"),
        ({"json": {"data": "JVBERi0xLjQ="}}, 415, "unsupported-media-type"),
    ],
)  # fmt: skip
async def test_upload_without_its_file_part_is_refused(
    api: httpx.AsyncClient, make_citizen: Any, request_kwargs: dict[str, Any], status: int, code: str
) -> None:
    citizen = await make_citizen(devices=0)
    headers = {**citizen.headers, "Accept-Language": "en", **request_kwargs.pop("headers", {})}
    answer = await api.post("/api/v1/me/attachments", headers=headers, **request_kwargs)
    problem = assert_problem(answer, status, code)
    if status == 422:
        assert [e["field"] for e in problem["errors"]] == ["data"]
        assert problem["errors"][0]["message"] in ("This field is required.", "Send exactly one file here.")
    else:
        assert "'data'" in problem["detail"]
    assert await files_of(citizen.id) == 0


async def test_uploads_have_their_own_larger_cap(api: httpx.AsyncClient, make_citizen: Any) -> None:
    """An upload above the JSON cap but within the attachment cap is taken; a body above the
    upload route's own cap is refused before it is read."""
    citizen = await make_citizen(devices=0)
    settings = get_settings()
    scan = b"%PDF-1.4\n" + uuid.uuid4().bytes * ((settings.request_max_body_bytes * 2) // 16)
    assert settings.request_max_body_bytes < len(scan) < settings.attachment_max_bytes
    taken = await api.post("/api/v1/me/attachments", files={"data": ("scan.pdf", scan)}, headers=citizen.headers)
    assert taken.status_code == 201, taken.text
    from app.dossiers.controller import UPLOAD_BODY_LIMIT

    huge = b"%PDF-1.4\n" + bytes(UPLOAD_BODY_LIMIT)
    refused = await api.post("/api/v1/me/attachments", files={"data": ("huge.pdf", huge)}, headers=citizen.headers)
    assert_problem(refused, 413, "body-too-large")
    assert await files_of(citizen.id) == 1


def _oid(value: str) -> Any:
    from beanie import PydanticObjectId

    return PydanticObjectId(value)
