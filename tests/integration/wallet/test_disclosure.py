"""Every field of a document can be disclosed in a presentation, and the verifier reads it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.integration.wallet.helpers import LICENCE, issued, present, verify

pytestmark = pytest.mark.usefixtures("worker")


def _same(name: str, claim: Any, shown: Any) -> bool:
    """A claim equals what the wallet shows (the issue instant compared as an instant)."""
    if name == "issued_at":
        return datetime.fromisoformat(claim) == datetime.fromisoformat(shown)
    return bool(claim == shown)


async def test_every_top_level_field_and_every_fields_key_can_be_disclosed(
    api: httpx.AsyncClient, make_citizen: Any, make_issuer: Any
) -> None:
    citizen = await make_citizen(devices=0)
    agency = await make_issuer(["driver_licence"])
    document = await issued(api, agency, citizen)
    shown = (await api.get(f"/api/v1/me/documents/{document['id']}", headers=citizen.headers)).json()
    # The contract's Document: {id, type, number, issuer, issued_at, valid_from, valid_until, status, fields}.
    top_level = ["id", "type", "number", "issuer", "issued_at", "valid_from", "valid_until", "status", "fields"]
    assert set(top_level) <= set(shown)
    expected: dict[str, Any] = {name: shown[name] for name in top_level}
    for key, value in LICENCE["fields"].items():
        expected[key] = value
        expected[f"fields.{key}"] = value

    for name, value in expected.items():
        made = await present(api, citizen, document["id"], [name])
        assert list(made["disclosed"]) == [name]
        assert _same(name, made["disclosed"][name], value), (name, made["disclosed"][name], value)
        checked = await verify(api, made["token"])
        assert checked.status_code == 200, checked.text
        assert list(checked.json()["claims"]) == [name]
        assert _same(name, checked.json()["claims"][name], value)

    assert expected["valid_until"] == "2036-01-10"
    # All at once, too: one presentation naming everything.
    everything = await present(api, citizen, document["id"], list(expected))
    assert set(everything["disclosed"]) == set(expected)


async def test_a_document_without_an_end_date_discloses_valid_until_as_null(
    api: httpx.AsyncClient, make_citizen: Any, make_issuer: Any
) -> None:
    citizen = await make_citizen(devices=0)
    agency = await make_issuer(["driver_licence"])
    document = await issued(api, agency, citizen, valid_until=None)
    made = await present(api, citizen, document["id"], ["valid_until", "valid_from"])
    assert made["disclosed"] == {"valid_until": None, "valid_from": "2026-01-10"}


async def test_a_name_the_document_lacks_is_refused_naming_what_can_be_chosen(
    api: httpx.AsyncClient, make_citizen: Any, make_issuer: Any
) -> None:
    citizen = await make_citizen(devices=0)
    agency = await make_issuer(["driver_licence"])
    document = await issued(api, agency, citizen)
    refused = await api.post(
        f"/api/v1/me/documents/{document['id']}/presentations",
        json={"disclose": ["blood_type"]},
        headers={**citizen.headers, "Accept-Language": "en"},
    )
    assert refused.status_code == 422
    message = refused.json()["errors"][0]["message"]
    assert "blood_type" in message
    assert "valid_until" in message and "classes" in message
