"""`python -m scripts.bundle_components` (`make components`): write source_confluence/components.py from the parts.

Airbyte's manifest-only route (the `source-declarative-manifest` image, the Connector Builder) loads ONE
components.py, so the code kept in small modules under source_confluence/component_parts/ is bundled into it: each
part's top-level imports are hoisted into one block (imports between parts dropped, since the bundle is one
namespace), and the bodies follow in dependency order. ruff (the project's pinned version) sorts the imports and
formats the result, so the same parts always give the same file. `--check` only compares, for CI.
"""

import argparse
import ast
import difflib
import heapq
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "source_confluence.component_parts"
PARTS_DIR = ROOT / "source_confluence" / "component_parts"
TARGET = ROOT / "source_confluence" / "components.py"
COMMAND = "python -m scripts.bundle_components"
READING_ORDER = "common gateway oauth config stats http paging people access_rule access_fetch restriction_lists tree_reconcile dc_permissions access_reader access_fields memberships records content check".split()
"""Order among parts that do not depend on each other (a part not listed comes after these, by name)."""


class BundleError(Exception):
    """A part cannot go into one self-contained module as written; the message names the part and the fix."""


@dataclass
class Part:
    """One module of component_parts: its external imports, the parts it imports from, and its code."""

    name: str
    docstring: str
    body: str
    depends_on: set[str] = field(default_factory=set)
    plain_imports: set[tuple[str, str | None]] = field(default_factory=set)
    from_imports: set[tuple[str, str, str | None]] = field(default_factory=set)
    defines: set[str] = field(default_factory=set)


def read_part(path: Path) -> Part:
    """Split a part into its docstring, imports and body; refuse what would break once it is bundled."""
    source = path.read_text()
    tree = ast.parse(source, filename=str(path))
    name = path.stem
    docstring = ast.get_docstring(tree, clean=True) or ""
    dropped: list[tuple[int, int]] = []
    part = Part(name=name, docstring=docstring, body="")
    if docstring:
        first = tree.body[0]
        dropped.append((first.lineno, first.end_lineno or first.lineno))
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            dropped.append((node.lineno, node.end_lineno or node.lineno))
            _take_import(part, node)
        else:
            part.defines |= _top_level_names(node)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom) and node not in tree.body and _names_project(node):
            raise BundleError(f"{name}.py line {node.lineno}: import parts at the top of the module, not inside code")
    lines = source.splitlines()
    for start, end in dropped:
        lines[start - 1 : end] = [""] * (end - start + 1)
    part.body = "\n".join(lines).strip("\n")
    return part


def _names_project(node: ast.Import | ast.ImportFrom) -> bool:
    modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
    return node.level > 0 or any(module.split(".")[0] == "source_confluence" for module in modules)


def _take_import(part: Part, node: ast.Import | ast.ImportFrom) -> None:
    where = f"{part.name}.py line {node.lineno}"
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.split(".")[0] == "source_confluence":
                raise BundleError(f"{where}: write `from {PACKAGE}.<part> import <name>`, not `import {alias.name}`")
            part.plain_imports.add((alias.name, alias.asname))
        return
    module = node.module or ""
    if node.level:
        raise BundleError(f"{where}: relative import; write `from {PACKAGE}.<part> import <name>`")
    if module == "__future__":
        raise BundleError(f"{where}: no __future__ imports (the CDK exec()s components.py; see the package docstring)")
    if module.startswith(PACKAGE + "."):
        renamed = [alias.name for alias in node.names if alias.asname]
        if renamed:
            raise BundleError(f"{where}: {renamed} imported under another name; in one module a name is one thing")
        part.depends_on.add(module.removeprefix(PACKAGE + "."))
        return
    if module.split(".")[0] == "source_confluence":
        raise BundleError(f"{where}: imports {module}, which components.py cannot carry; move it into a part")
    for alias in node.names:
        part.from_imports.add((module, alias.name, alias.asname))


def _top_level_names(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    return {n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name)}


def dependency_order(parts: dict[str, Part]) -> list[Part]:
    """Parts after the parts they import from; among free parts, READING_ORDER, then by name."""
    for part in parts.values():
        unknown = sorted(part.depends_on - parts.keys())
        if unknown:
            raise BundleError(f"{part.name}.py imports {unknown} from {PACKAGE}, which has no such part")

    def rank(name: str) -> tuple[int, str]:
        return (READING_ORDER.index(name) if name in READING_ORDER else len(READING_ORDER), name)

    waiting = {name: set(part.depends_on) for name, part in parts.items()}
    ready = [rank(name) for name, needs in waiting.items() if not needs]
    heapq.heapify(ready)
    ordered: list[Part] = []
    while ready:
        _, name = heapq.heappop(ready)
        ordered.append(parts[name])
        del waiting[name]
        for other, needs in waiting.items():
            if name in needs:
                needs.discard(name)
                if not needs:
                    heapq.heappush(ready, rank(other))
    if waiting:
        raise BundleError(f"circular imports between parts: {sorted(waiting)}")
    return ordered


def check_names(ordered: list[Part]) -> None:
    """Two parts defining one top-level name would silently overwrite each other in the one module."""
    owner: dict[str, str] = {}
    for part in ordered:
        for name in sorted(part.defines):
            if name in owner:
                raise BundleError(f"{name} is defined in both {owner[name]}.py and {part.name}.py; rename one")
            owner[name] = part.name


def import_block(parts: list[Part]) -> str:
    """The external imports of every part, once each (ruff sorts them afterwards)."""
    plain = sorted({item for part in parts for item in part.plain_imports}, key=lambda item: (item[0], item[1] or ""))
    lines = [f"import {module}" + (f" as {alias}" if alias else "") for module, alias in plain]
    by_module: dict[str, set[str]] = {}
    for part in parts:
        for module, name, alias in part.from_imports:
            by_module.setdefault(module, set()).add(name + (f" as {alias}" if alias else ""))
    lines += [f"from {module} import {', '.join(sorted(names))}" for module, names in sorted(by_module.items())]
    return "\n".join(lines)


def comment(text: str) -> str:
    return "\n".join(f"# {line}".rstrip() for line in text.splitlines())


def raw_bundle() -> str:
    """The generated module before ruff sorts its imports and formats it."""
    paths = sorted(path for path in PARTS_DIR.glob("*.py") if path.name != "__init__.py")
    if not paths:
        raise BundleError(f"no parts in {PARTS_DIR}")
    parts = {path.stem: read_part(path) for path in paths}
    ordered = dependency_order(parts)
    check_names(ordered)
    overview = ast.get_docstring(ast.parse((PARTS_DIR / "__init__.py").read_text())) or ""
    files = ", ".join(f"{part.name}.py" for part in ordered)
    header = comment(
        f"GENERATED by `{COMMAND}` (`make components`) from source_confluence/component_parts/:\n"
        f"{files}.\n"
        "Do not edit this file: edit the parts, then regenerate it. A test fails while it differs from the parts."
    )
    sections = [
        f"# {'-' * 20} {part.name}.py {'-' * max(4, 93 - len(part.name))}\n{comment(part.docstring)}\n{part.body}"
        for part in ordered
    ]
    return "\n\n\n".join([f'{header}\n"""{overview}\n"""\n\n{import_block(ordered)}', *sections]) + "\n"


def ruff(*args: str, source: str) -> subprocess.CompletedProcess[str]:
    """The project's ruff on text, configured by pyproject.toml as if the text were components.py."""
    command = [sys.executable, "-m", "ruff", *args, "--stdin-filename", str(TARGET.relative_to(ROOT)), "-"]
    return subprocess.run(command, input=source, capture_output=True, text=True, cwd=ROOT, check=False)


def render() -> str:
    """components.py as the parts give it now: imports sorted and the file formatted by ruff, then checked."""
    sorted_imports = ruff("check", "--fix", "--select", "I", "--quiet", source=raw_bundle())
    if sorted_imports.returncode != 0:
        raise BundleError(f"ruff could not sort the imports:\n{sorted_imports.stdout}{sorted_imports.stderr}")
    formatted = ruff("format", "--quiet", source=sorted_imports.stdout)
    if formatted.returncode != 0:
        raise BundleError(f"ruff could not format the bundle:\n{formatted.stderr}")
    linted = ruff("check", "--output-format", "concise", "--quiet", source=formatted.stdout)
    if linted.returncode != 0:
        raise BundleError(f"the bundle does not pass `ruff check`; fix the parts:\n{linted.stdout}{linted.stderr}")
    return formatted.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say whether components.py is up to date")
    args = parser.parse_args(argv)
    try:
        bundled = render()
    except BundleError as error:
        print(f"bundle_components: {error}", file=sys.stderr)
        return 2
    current = TARGET.read_text() if TARGET.exists() else ""
    if args.check:
        if current == bundled:
            return 0
        diff = difflib.unified_diff(
            current.splitlines(), bundled.splitlines(), "components.py (on disk)", "components.py (from parts)", n=1
        )
        print("\n".join(list(diff)[:40]), file=sys.stderr)
        print(f"source_confluence/components.py is out of date with its parts: run `{COMMAND}`", file=sys.stderr)
        return 1
    if current != bundled:
        TARGET.write_text(bundled)
    print(f"{TARGET.relative_to(ROOT)}: {len(bundled.splitlines())} lines from {PARTS_DIR.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
