"""Every text that reaches a person, in both languages, renders whole: no `{placeholder}` left
unfilled, no empty title or body, no dangling part such as "at -".

Texts are found, not listed: every push template (notifications/templates.py) by walking its
table, every error and field message by walking the source of app/ for `Text("vi", "en")`
and the `AppError(...)` / `FieldProblem(...)` / helper calls that carry them with their params,
rendered through the same function the error mapper uses.
"""

from __future__ import annotations

import ast
import json
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.errors import AppError, FieldProblem, Text, render_problem
from app.inbox.outbox import _support_lookup_params
from models.catalogue import CATALOGUE_FILE
from models.dossier import OutboxEntry
from notifications.templates import FALLBACK, FOR_CHILD, KINDS, LOCALES, NEUTRAL, render

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "app").rglob("*.py")) + sorted((ROOT / "models").rglob("*.py"))
LANGUAGES = ("vi", "en")
# A part whose value was missing: "at -", "tại -", "()", "  ", " ." and the like.
DANGLING = re.compile(r"\s-\s|\s-$|\s-[.,]|\(\s*\)|\S\s{2,}\S|\s[,;:]|\s\.(?!\.)|None|null")


def incomplete(text: str) -> str | None:
    """Why a rendered text is not whole, or None."""
    if not text.strip():
        return "empty"
    if "{" in text or "}" in text:
        return "unfilled placeholder"
    if DANGLING.search(text):
        return f"dangling part: {DANGLING.search(text)!r}"
    return None


def names(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


# --- push templates -----------------------------------------------------------------------


def _push_cases() -> Iterator[tuple[str, str, str]]:
    for kind, spec in KINDS.items():
        for variant in spec.texts:
            for locale in LOCALES:
                yield kind, variant, locale


@pytest.mark.parametrize(("kind", "variant", "locale"), list(_push_cases()))
def test_every_push_text_renders_whole(kind: str, variant: str, locale: str) -> None:
    spec = KINDS[kind]
    text = spec.texts[variant][locale]
    # Every name a text uses is one its kind declares (else it could never be filled).
    assert names(text.title) | names(text.body) <= spec.params, (kind, variant, locale)
    params = {name: f"sample-{name}" for name in spec.params}
    if spec.variant_param:
        if variant == FALLBACK:
            params.pop(spec.variant_param)
        else:
            params[spec.variant_param] = variant
    for about_child in (False, True):
        title, body = render(kind, locale, params, about_child=about_child)
        assert incomplete(title) is None, (kind, variant, locale, title, incomplete(title))
        assert incomplete(body) is None, (kind, variant, locale, body, incomplete(body))
    # The Vietnamese and English texts of one variant take the same params.
    other = spec.texts[variant]["en" if locale == "vi" else "vi"]
    assert names(text.title) | names(text.body) == names(other.title) | names(other.body), (kind, variant)


def test_neutral_and_parent_texts_are_whole() -> None:
    for locale in LOCALES:
        assert incomplete(NEUTRAL[locale].title) is None and incomplete(NEUTRAL[locale].body) is None
        assert names(FOR_CHILD[locale]) == {"title"}


@pytest.mark.parametrize("office", [None, "", "  ", "Bưu điện Trung tâm 3, Hà Nội"])
@pytest.mark.parametrize("locale", LOCALES)
def test_a_lookup_push_reads_well_with_or_without_the_staff_members_office(office: str | None, locale: str) -> None:
    raw = {"_id": "x", "staff_username": "demo.support", "reason": "Gọi tổng đài hỏi về hồ sơ"}
    if office is not None:
        raw["office"] = office
    params, _ = _support_lookup_params(raw, OutboxEntry(key="k", kind="support_lookup"))
    title, body = render("support_lookup", locale, params)
    assert incomplete(title) is None and incomplete(body) is None, body
    assert "demo.support" in body
    if office and office.strip():
        assert office in body
    else:
        assert " at " not in body and " tại " not in body


# --- error and field texts in the source ---------------------------------------------------


@dataclass(frozen=True)
class Site:
    where: str
    texts: tuple[Text, ...]
    # The params the call passes, or None when they are not a literal (not checked then).
    params: frozenset[str] | None
    kind: str  # "text", "error", "field" or "helper"


def _literal_text(node: ast.AST) -> Text | None:
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "Text"
        and len(node.args) == 2
        and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args)
    ):
        vi, en = (a.value for a in node.args)  # type: ignore[attr-defined]
        return Text(vi, en)
    return None


def _dict_keys(node: ast.AST | None) -> frozenset[str] | None:
    if node is None:
        return frozenset()
    if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) for k in node.keys):
        return frozenset(str(k.value) for k in node.keys if isinstance(k, ast.Constant))
    return None


def _sites() -> Iterator[Site]:
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if (text := _literal_text(node)) is not None:
                yield Site(where, (text,), None, "text")
                continue
            func = node.func.id if isinstance(node.func, ast.Name) else None
            keywords = {k.arg: k.value for k in node.keywords}
            if func == "AppError" and len(node.args) >= 4:
                texts = tuple(t for a in node.args[2:4] if (t := _literal_text(a)) is not None)
                yield Site(where, texts, _dict_keys(keywords.get("params")), "error")
            elif func == "FieldProblem" and len(node.args) >= 2 and (text := _literal_text(node.args[1])):
                given = node.args[2] if len(node.args) > 2 else keywords.get("params")
                yield Site(where, (text,), _dict_keys(given), "field")
            elif (
                func == "_bad"
                and len(node.args) >= 3
                and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args[1:3])
            ):
                vi, en = (a.value for a in node.args[1:3])  # type: ignore[attr-defined]
                given = frozenset(k.arg for k in node.keywords if k.arg is not None)
                yield Site(where, (Text(vi, en),), given, "helper")


SITES = list(_sites())


def test_the_walk_finds_the_texts() -> None:
    # A walk that finds nothing would pass everything: it must see hundreds of texts, and the
    # one that once shipped a literal "{age}" in a title.
    assert len([s for s in SITES if s.kind == "text"]) > 200
    assert any(s.kind == "error" and any(t.en == "Not {age} yet" for t in s.texts) for s in SITES)


@pytest.mark.parametrize("site", SITES, ids=lambda s: s.where)
def test_every_error_text_renders_whole_in_both_languages(site: Site) -> None:
    for text in site.texts:
        assert text.vi.strip() and text.en.strip(), site.where
        # Both languages fill the same names, so neither shows a raw `{name}`.
        assert names(text.vi) == names(text.en), site.where
        if site.params is not None:
            missing = (names(text.vi) | names(text.en)) - site.params
            assert not missing, f"{site.where}: {sorted(missing)} never filled"
    if site.kind == "text" or site.params is None:
        # Rendered with every name it uses filled in.
        for text in site.texts:
            for language in LANGUAGES:
                rendered = text.render(language, **{n: "X" for n in names(text.vi) | names(text.en)})
                assert incomplete(rendered) is None, (site.where, rendered)
        return
    sample = {name: "X" for name in site.params}
    if site.kind == "error" and len(site.texts) == 2:
        error = AppError(409, "c", site.texts[0], site.texts[1], params=sample)
        for language in LANGUAGES:
            title, detail, _ = render_problem(error, language)
            assert incomplete(title) is None, (site.where, title)
            assert incomplete(detail) is None, (site.where, detail)
    elif site.kind in ("field", "helper"):
        error = AppError(422, "c", Text("t", "t"), Text("d", "d"), errors=[FieldProblem("f", site.texts[0], sample)])
        for language in LANGUAGES:
            [problem] = render_problem(error, language)[2]
            assert incomplete(problem["message"]) is None, (site.where, problem)


def test_the_mapper_fills_a_titles_placeholders() -> None:
    error = AppError(409, "too-young", Text("Chưa đủ {age} tuổi", "Not {age} yet"), Text("d", "d"), params={"age": 16})
    assert render_problem(error, "en")[0] == "Not 16 yet"
    assert render_problem(error, "vi")[0] == "Chưa đủ 16 tuổi"


# --- the catalogue's texts ------------------------------------------------------------------


def test_every_catalogue_text_is_whole_in_both_languages() -> None:
    raw = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    found = 0

    def walk(value: object, where: str) -> None:
        nonlocal found
        if isinstance(value, dict):
            if set(value) == {"vi", "en"}:
                found += 1
                for language in LANGUAGES:
                    assert incomplete(value[language]) is None, (where, value[language])
                return
            for key, item in value.items():
                walk(item, f"{where}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{where}[{index}]")

    walk(raw, "services.json")
    assert found > 100
