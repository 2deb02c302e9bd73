"""Only app/dossiers/transitions.py changes a dossier's status.

The code is read, not run: any other module that writes a `status` field in an update of a
collection, appends a status history entry, or calls the store's move writer is named here.
Writes of other collections' own `status` (a wallet document, the payment ledger) are listed
by function, with the reason, so a new writer anywhere fails this test until someone looks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from app.dossiers import store

ROOT = Path(__file__).resolve().parents[3]
THE_WRITER = "app/dossiers/transitions.py"
# (module, function) → why its `status` write is not a dossier's.
OTHER_COLLECTIONS = {
    ("app/wallet/lifecycle.py", "apply_status_event"): "a wallet document's status",
    ("app/wallet/supersede.py", "finish_renewal"): "the renewed wallet document becomes superseded",
    ("app/payments/ledger.py", "sync_from_dossier"): "the payment ledger's status",
    ("app/payments/ledger.py", "mark_paid"): "the payment ledger's status",
    ("app/dossiers/worklist.py", "_base_filter"): "a filter of the worklist, not an update",
    ("app/postal/store.py", "move_letter"): "a registered letter's tracking status",
}
# The dossier's first history entry is written by its creation, not by a move.
FIRST_ENTRY = {("app/dossiers/service.py", "_new_dossier")}


def _sources() -> list[Path]:
    return sorted(p for folder in ("app", "workers") for p in (ROOT / folder).rglob("*.py"))


def _is_status(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == "status"


def _writes(tree: ast.AST) -> list[tuple[str, int, str]]:
    """(function, line, what) of every status write, history entry and move-writer call."""
    found: list[tuple[str, int, str]] = []

    class Visitor(ast.NodeVisitor):
        function = "<module>"

        def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
            outer, self.function = self.function, node.name
            self.generic_visit(node)
            self.function = outer

        visit_AsyncFunctionDef = visit_FunctionDef

        def visit_Assign(self, node: ast.Assign) -> None:
            for target in node.targets:
                if isinstance(target, ast.Subscript) and _is_status(target.slice):
                    found.append((self.function, node.lineno, "sets ['status']"))
            self.generic_visit(node)

        def visit_Dict(self, node: ast.Dict) -> None:
            for key, value in zip(node.keys, node.values, strict=True):
                setting = isinstance(key, ast.Constant) and key.value in ("$set", "$setOnInsert")
                if setting and isinstance(value, ast.Dict) and any(k is not None and _is_status(k) for k in value.keys):
                    found.append((self.function, node.lineno, f"{{'{getattr(key, 'value', '')}': {{'status': ...}}}}"))
            self.generic_visit(node)

        def visit_Call(self, node: ast.Call) -> None:
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("write_move", "HistoryEntry"):
                found.append((self.function, node.lineno, f"calls {name}"))
            self.generic_visit(node)

    Visitor().visit(tree)
    return found


def test_no_other_module_writes_a_dossier_status() -> None:
    offenders: list[str] = []
    excused: set[tuple[str, str]] = set()
    for path in _sources():
        module = path.relative_to(ROOT).as_posix()
        if module == THE_WRITER:
            continue
        for function, line, what in _writes(ast.parse(path.read_text(encoding="utf-8"))):
            if (module, function) in OTHER_COLLECTIONS:
                excused.add((module, function))
                continue
            if what == "calls HistoryEntry" and (module, function) in FIRST_ENTRY:
                continue
            offenders.append(f"{module}:{line} {function} {what}")
    assert offenders == [], "a dossier's status changes only in app/dossiers/transitions.py"
    # The list of other collections' writers stays true: an entry that writes nothing any more goes.
    assert excused == set(OTHER_COLLECTIONS)


def test_the_rule_is_seen_by_the_reader() -> None:
    """The reader finds what it looks for (so the test above cannot pass by reading nothing)."""
    writes = _writes(ast.parse((ROOT / THE_WRITER).read_text(encoding="utf-8")))
    assert {what for _, _, what in writes} >= {"calls write_move", "calls HistoryEntry", "sets ['status']"}
    sample = 'def f(u):\n    u["$set"]["status"] = 1\n    return {"$set": {"status": 2}}\n'
    assert [what for _, _, what in _writes(ast.parse(sample))] == ["sets ['status']", "{'$set': {'status': ...}}"]


async def test_the_store_refuses_a_status_in_a_plain_write() -> None:
    from models.dossier import Dossier

    with pytest.raises(ValueError, match="transitions"):
        await store.write(Dossier.model_construct(), {"$set": {"status": "approved"}})
