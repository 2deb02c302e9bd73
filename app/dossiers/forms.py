"""Checking a dossier's form against what its procedure asks for."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.errors import FieldProblem, Text
from models.catalogue import FormField, Service

_TYPE_NAMES = {
    "string": Text("chuỗi ký tự", "text"),
    "date": Text("ngày dạng YYYY-MM-DD", "a date as YYYY-MM-DD"),
    "integer": Text("số nguyên", "a whole number"),
    "boolean": Text("true hoặc false", "true or false"),
}


def _value_ok(spec: FormField, value: Any) -> bool:
    if spec.type == "string":
        return (
            isinstance(value, str)
            and bool(value.strip())
            and (spec.max_length is None or len(value) <= spec.max_length)
        )
    if spec.type == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if spec.type == "boolean":
        return isinstance(value, bool)
    if isinstance(value, str):
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
        return True
    return False


def field_problem(spec: FormField, value: Any, path: str) -> FieldProblem | None:
    """What is wrong with one value of a form field (a corrected field in a supplement)."""
    problems = form_problems_for([spec], {spec.name: value})
    if not problems:
        return None
    return FieldProblem(path, problems[0].message, problems[0].params)


def form_problems(service: Service, form: dict[str, Any]) -> list[FieldProblem]:
    return form_problems_for(service.form_fields, form)


def form_problems_for(fields: list[FormField], form: dict[str, Any]) -> list[FieldProblem]:
    """Every problem at once, so the citizen can fix the whole form in one go."""
    problems: list[FieldProblem] = []
    specs = {spec.name: spec for spec in fields}
    for name in form:
        if name not in specs:
            problems.append(
                FieldProblem(
                    f"form.{name}",
                    Text(
                        "Thủ tục này không có trường '{name}'. Các trường: {known}.",
                        "This service has no field '{name}'. Its fields are: {known}.",
                    ),
                    {"name": name, "known": ", ".join(specs) or "-"},
                )
            )
    for spec in fields:
        value = form.get(spec.name)
        if value is None:
            if spec.required:
                problems.append(
                    FieldProblem(
                        f"form.{spec.name}",
                        Text("Hãy điền '{label}'.", "Fill in '{label}'."),
                        {"label": Text(spec.label.vi, spec.label.en)},
                    )
                )
            continue
        if spec.choices is not None and _value_ok(spec, value) and value not in spec.choices:
            problems.append(
                FieldProblem(
                    f"form.{spec.name}",
                    Text("'{label}' phải là một trong: {choices}.", "'{label}' must be one of: {choices}."),
                    {"label": Text(spec.label.vi, spec.label.en), "choices": ", ".join(spec.choices)},
                )
            )
            continue
        if not _value_ok(spec, value):
            limit = f" (≤ {spec.max_length})" if spec.max_length and spec.type == "string" else ""
            problems.append(
                FieldProblem(
                    f"form.{spec.name}",
                    Text("'{label}' phải là {kind}{limit}.", "'{label}' must be {kind}{limit}."),
                    {"label": Text(spec.label.vi, spec.label.en), "kind": _TYPE_NAMES[spec.type], "limit": limit},
                )
            )
    return problems
