"""The destination's tree shows its two flows, and its imports follow them (docs/CONTRACTS.md, "destination_vectors/").

`write/` (a sync) and `read/` (a question) never import each other; `text/`, `embedding/` and `store/` are what both
build on, so they import neither flow nor the entry points on top; `serve/` (the front ends over the index) reads it
and never imports the write path. Every import counts, the lazy ones inside
functions included, so a new feature cannot slip a dependency in sideways.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "destination_vectors"
FLOWS = ("write", "read")
FOUNDATIONS = ("text", "embedding", "store")
ENTRY_POINTS = ("cli", "destination", "serve", "attachment_report", "history_report", "search_report", "__main__")
# what each part may not import (by the first name under destination_vectors)
FORBIDDEN = {
    "write": {"read", *ENTRY_POINTS},
    "read": {"write", *ENTRY_POINTS},
    **{name: {*FLOWS, *ENTRY_POINTS} for name in FOUNDATIONS},
    "serve": {"write", *(set(ENTRY_POINTS) - {"serve"})},  # front ends over the index only read it
}


def _part(path: Path, root: Path) -> str:
    """The first name under destination_vectors/ (package or top-level module) a file belongs to."""
    first = path.relative_to(root).parts[0]
    return first.removesuffix(".py")


def _imported(tree: ast.Module, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module) for every import of the project's own modules in one file, relative ones resolved."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            if target == "destination_vectors":  # `from destination_vectors import write` names a part
                found += [(node.lineno, f"destination_vectors.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name.split(".")[0] == "destination_vectors"]


def layout_violations(root: Path = PACKAGE) -> list[str]:
    problems = []
    for path in sorted(root.rglob("*.py")):
        part = _part(path, root)
        forbidden = FORBIDDEN.get(part, set())
        relative = path.relative_to(root.parent)
        module = ".".join(relative.with_suffix("").parts).removesuffix(".__init__")
        tree = ast.parse(path.read_text(), filename=str(path))
        for line, target in _imported(tree, module, path.name == "__init__.py"):
            parts = target.split(".")
            if len(parts) > 1 and parts[1] in forbidden:
                problems.append(f"{relative}:{line} imports {target}: {part}/ may not import {parts[1]}")
    return problems


def test_the_tree_has_one_package_per_flow():
    for name in (*FLOWS, *FOUNDATIONS, "serve"):
        assert (PACKAGE / name / "__init__.py").is_file(), f"destination_vectors/{name}/ is missing"
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    on_top = {f"{name}.py" for name in ENTRY_POINTS if name != "serve"} | {"__init__.py", "config.py"}
    on_top |= {"spec_order.py", "failpoints.py"}
    assert set(loose) <= on_top, (
        f"modules outside the flow packages: {sorted(set(loose) - on_top)}; put each in text/, embedding/, store/, "
        "write/ or read/ (docs/CONTRACTS.md says which), or name it here if it is an entry point or shared config"
    )


def test_imports_follow_the_flow():
    problems = layout_violations()
    assert not problems, "imports that break the layout (docs/CONTRACTS.md):\n" + "\n".join(problems)


def test_the_check_finds_a_forbidden_import(tmp_path: Path):
    """The rule itself catches each kind of break, lazy imports in functions and relative imports included."""
    root = tmp_path / "destination_vectors"
    for package in (*FLOWS, *FOUNDATIONS):
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
    (root / "read" / "search.py").write_text("def f():\n    from destination_vectors.write.sync import SyncWriter\n")
    (root / "write" / "sync.py").write_text("from ..read import search\n")
    (root / "store" / "table.py").write_text("import destination_vectors.cli\nfrom destination_vectors import write\n")
    (root / "text" / "chunks.py").write_text("from destination_vectors.store.row import COLUMNS\n")  # allowed
    problems = layout_violations(root)
    assert problems == [
        "destination_vectors/read/search.py:2 imports destination_vectors.write.sync: read/ may not import write",
        "destination_vectors/store/table.py:1 imports destination_vectors.cli: store/ may not import cli",
        "destination_vectors/store/table.py:2 imports destination_vectors.write: store/ may not import write",
        "destination_vectors/write/sync.py:1 imports destination_vectors.read: write/ may not import read",
    ], problems


def _map_entries() -> dict[str, str]:
    """docs/CONTRACTS.md's destination map, one text per part: `text/`, `embedding/`, `store/`, `write/`, `read/`, and
    the entry points and shared modules ("On top")."""
    contracts = (PACKAGE.parent / "docs" / "CONTRACTS.md").read_text(encoding="utf-8")
    section = contracts.split("- `destination_vectors/`:", 1)[1].split("\n- `", 1)[0]
    entries = {}
    for bullet in re.split(r"\n  - ", section)[1:]:
        name = re.match(r"`(\w+)/`|On top", bullet)
        if name:  # other bullets state rules (the import rule, the public surface)
            entries[name.group(1) or "top"] = bullet
    assert set(entries) == {*FLOWS, *FOUNDATIONS, "top"}, f"the destination map's bullets: {sorted(entries)}"
    return entries


def test_the_contracts_map_names_every_module_in_its_package():
    """A module added to a flow is described where a reader of docs/CONTRACTS.md looks for it."""
    entries = _map_entries()
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        part = relative.parts[0] if len(relative.parts) > 1 else "top"
        part = "top" if part == "serve" else part
        if part not in entries:
            missing.append(f"{relative} (no bullet for {part}/)")
            continue
        named = f"`{relative.parts[1]}/`" if len(relative.parts) > 2 else f"`{path.name}`"  # a subpackage as a whole
        if path.name != "__init__.py" and named not in entries[part]:
            missing.append(str(relative))
    assert not missing, f"modules docs/CONTRACTS.md's destination map does not name in their package: {missing}"
