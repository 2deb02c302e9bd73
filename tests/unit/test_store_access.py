"""Only each area's store module touches the store (decision 0024).

The code is read, not run: a call of a PyMongo collection method, or a Beanie class or
document method (`Dossier.find_one`, `notice.insert()`), counts as a store call. None is
allowed outside the store modules: not in a service, a controller, a worker, the CLI or the
notifications package. Services and workers call the functions of a store module instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

from models import ALL_DOCUMENTS

ROOT = Path(__file__).resolve().parents[2]
# One module per area that touches the store (the dossiers area has two). app/security.py, below every area, resolves a
# token to its principal (an agency, a postal operator, a staff member, a live session) with
# its own reads: through app/auth/store.py it would import an area from under all of them.
STORE_MODULES = {
    # The store's connection, and its indexes (what no model declares any more is retired).
    "app/db.py",
    # How store modules send writes of concurrent requests together (it decides no write itself).
    "app/grouped_writes.py",
    "app/announcements/store.py",
    "app/audit/store.py",
    "app/auth/store.py",
    "app/catalogue/store.py",
    "app/citizens/store.py",
    "app/dossiers/store.py",
    # The dossiers area's second: the uploaded papers' bytes (GridFS), apart from the dossiers.
    "app/dossiers/upload_store.py",
    "app/escalation/store.py",
    "app/inbox/store.py",
    "app/payments/ledger.py",
    "app/postal/store.py",
    "app/presentations/store.py",
    "app/privacy/store.py",
    "app/security.py",
    "app/statistics/store.py",
    "app/support/store.py",
    "app/wallet/store.py",
    "app/webhooks/store.py",
}
DOCUMENTS = {document.__name__ for document in ALL_DOCUMENTS}
COLLECTION_METHODS = {
    "get_pymongo_collection",
    "get_collection",
    "find",
    "find_one",
    "find_one_and_update",
    "find_one_and_delete",
    "find_one_and_replace",
    "update_one",
    "update_many",
    "insert_one",
    "insert_many",
    "replace_one",
    "delete_one",
    "delete_many",
    "count_documents",
    "estimated_document_count",
    "aggregate",
    "distinct",
    "bulk_write",
    "create_index",
    "drop_index",
    "index_information",
}
# Beanie: class methods called on a document class; methods of a document without arguments.
DOCUMENT_CLASS_METHODS = COLLECTION_METHODS | {"get", "find_all", "find_many", "insert", "delete_all", "count"}
DOCUMENT_METHODS = {"insert", "save", "delete", "sync", "save_changes"}


def _sources() -> list[Path]:
    return sorted(p for folder in ("app", "workers", "notifications") for p in (ROOT / folder).rglob("*.py"))


def _is_store_call(node: ast.Call) -> bool:
    if not isinstance(node.func, ast.Attribute):
        return False
    name, receiver = node.func.attr, node.func.value
    if isinstance(receiver, ast.Name) and receiver.id in DOCUMENTS:
        return name in DOCUMENT_CLASS_METHODS
    if name == "find":
        # str.find("x") is not a query.
        return not (node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str))
    if name in COLLECTION_METHODS:
        return True
    return name in DOCUMENT_METHODS and not node.args


def store_calls(tree: ast.AST) -> list[int]:
    """Lines of the store calls; a chain (`Dossier.get_pymongo_collection().find_one(...)`) is one."""
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and _is_store_call(node)]
    inner = {id(call.func.value) for call in calls if isinstance(call.func, ast.Attribute)}
    return sorted(call.lineno for call in calls if id(call) not in inner)


def _outside_store_modules() -> list[str]:
    found: list[str] = []
    for path in _sources():
        module = path.relative_to(ROOT).as_posix()
        if module not in STORE_MODULES:
            found += [f"{module}:{line}" for line in store_calls(ast.parse(path.read_text(encoding="utf-8")))]
    return found


def test_only_store_modules_touch_the_store() -> None:
    assert _outside_store_modules() == [], "store calls go in the area's store module (STORE_MODULES)"


def test_every_store_module_touches_the_store() -> None:
    """The list stays true: a store module renamed or emptied leaves it."""
    for module in STORE_MODULES:
        assert store_calls(ast.parse((ROOT / module).read_text(encoding="utf-8"))), module


def test_the_reader_sees_store_calls() -> None:
    """The reader finds what it looks for (so the tests above cannot pass by reading nothing)."""
    sample = (
        "async def f(d, s):\n"
        "    await Dossier.get_pymongo_collection().update_one({}, {})\n"
        "    await Dossier.find_one({})\n"
        "    await d.insert()\n"
        "    s.find('x')\n"
        "    d.replace(year=1)\n"
    )
    assert store_calls(ast.parse(sample)) == [2, 3, 4]
    assert len(store_calls(ast.parse((ROOT / "app/dossiers/store.py").read_text(encoding="utf-8")))) >= 3
