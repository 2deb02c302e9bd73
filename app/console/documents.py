"""The result document's form, drawn from its type's fields (models/document_types.py): the
clerk fills in what the wallet will hold; the wallet's own check (app/wallet/service.py)
judges it, as it judges an agency system's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar.datastructures import FormMultiDict

from models.document_types import DocumentType


@dataclass(frozen=True)
class Input:
    name: str
    kind: str  # text, date, number, select, multi
    required: bool
    choices: list[str] = field(default_factory=list)


def _resolved(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    options = [o for o in prop.get("anyOf", []) if o.get("type") != "null"]
    chosen = options[0] if options else prop
    ref = chosen.get("$ref")
    return {**defs[ref.rsplit("/", 1)[1]], **{k: v for k, v in chosen.items() if k != "$ref"}} if ref else chosen


def inputs_of(document_type: DocumentType) -> list[Input]:
    schema = document_type.fields.model_json_schema()
    defs, required = schema.get("$defs", {}), set(schema.get("required", []))
    found = []
    for name, raw in schema.get("properties", {}).items():
        prop = _resolved(raw, defs)
        if prop.get("type") == "array":
            items = _resolved(prop.get("items", {}), defs)
            found.append(Input(name, "multi", name in required, [str(c) for c in items.get("enum", [])]))
        elif "enum" in prop:
            found.append(Input(name, "select", name in required, [str(c) for c in prop["enum"]]))
        elif prop.get("format") == "date":
            found.append(Input(name, "date", name in required))
        elif prop.get("type") in ("integer", "number"):
            found.append(Input(name, "number", name in required))
        else:
            found.append(Input(name, "text", name in required))
    return found


def document_from(form: FormMultiDict, document_type: DocumentType) -> dict[str, Any]:
    """The `DocumentIn` body from the form's `doc_*` fields; empty optional fields left out."""
    values: dict[str, Any] = {}
    for spec in inputs_of(document_type):
        key = f"doc_field_{spec.name}"
        if spec.kind == "multi":
            chosen = [str(v) for v in form.getall(key) if str(v).strip()]
            if chosen:
                values[spec.name] = chosen
            continue
        raw = str(form.get(key) or "").strip()
        if raw:
            values[spec.name] = int(raw) if spec.kind == "number" and raw.lstrip("-").isdigit() else raw
    document: dict[str, Any] = {
        "type": document_type.code,
        "number": str(form.get("doc_number") or "").strip(),
        "valid_from": str(form.get("doc_valid_from") or "").strip(),
        "fields": values,
    }
    if until := str(form.get("doc_valid_until") or "").strip():
        document["valid_until"] = until
    return document
