"""The catalogue file: the procedures the issue names, complete in both languages, checked
before anything is loaded; and the test forms stay valid against it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from app.dossiers.forms import form_problems
from models.catalogue import CATALOGUE_FILE, parse_catalogue, read_catalogue
from models.document_types import REGISTRY
from models.dossier_status import DossierStatus
from tests.support import FORMS

NAMED = {
    "CITIZEN_ID_CARD",
    "RESIDENCE_REGISTRATION",
    "TEMPORARY_ABSENCE",
    "PASSPORT",
    "DL_RENEWAL",
    "VEHICLE_REGISTRATION",
    "CRIMINAL_RECORD",
    "BIRTH_REGISTRATION",
    "DEATH_REGISTRATION",
    "MARITAL_STATUS_CERT",
    "SECURITY_ORDER_BUSINESS",
    "LAND_USE_CHANGE",
}


def raw() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    return loaded


def test_the_procedures_the_articles_name_are_there_and_complete() -> None:
    services = read_catalogue()
    assert len(services) >= 12
    assert {s.code for s in services} >= NAMED
    result_types = {s.result_document_type for s in services if s.result_document_type}
    for s in services:
        assert s.name.vi != s.name.en and s.agency_name is not None and s.agency_name.vi
        assert s.processing_days >= 1 and s.fee_vnd >= 0 and s.delivery_methods
        assert set(s.steps) == {status.value for status in DossierStatus}
        for step in s.steps.values():
            assert step.text.vi and step.text.en and step.text.vi != step.text.en
        for field in s.form_fields:
            assert field.label.vi and field.label.en
            if field.prefill:
                source, _, path = field.prefill.partition(".")
                assert source == "profile" or (source.startswith("wallet:") and path), field.prefill
        for paper in s.attachments:
            assert paper.upload or paper.wallet_types, paper.name
            assert set(paper.wallet_types) <= set(REGISTRY) | result_types
        assert s.postage_fee_vnd > 0 if "postal" in s.delivery_methods else s.postage_fee_vnd == 0


def test_a_procedure_can_keep_a_step_off_the_phone() -> None:
    by_code = {s.code: s for s in read_catalogue()}
    assert not by_code["TEMPORARY_ABSENCE"].notifies(DossierStatus.PROCESSING)
    assert by_code["DL_RENEWAL"].notifies(DossierStatus.PROCESSING)
    assert by_code["PASSPORT"].step("result_ready").text.en.startswith("Your passport")  # type: ignore[union-attr]


@pytest.mark.parametrize("code", sorted(FORMS))
def test_the_test_forms_are_valid(code: str) -> None:
    service = next(s for s in read_catalogue() if s.code == code)
    assert form_problems(service, FORMS[code]) == []  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "breakage",
    [
        lambda c: c.update(format=1),
        lambda c: c["services"].append(dict(c["services"][0])),
        lambda c: c["services"][0].update(agency_code="NOBODY"),
        lambda c: c["services"][0].update(surprise=True),
        lambda c: c["default_steps"].pop("approved"),
        lambda c: c["services"][0].update(processing_days=0),
    ],
)
def test_a_broken_file_is_refused_whole(breakage: Any) -> None:
    catalogue = raw()
    breakage(catalogue)
    with pytest.raises(ValidationError):
        parse_catalogue(catalogue)


def test_the_file_is_versioned() -> None:
    version, services = parse_catalogue(raw())
    assert version == raw()["version"] and all(s.catalogue_version == version for s in services)
