"""components.py is generated from source_confluence/component_parts/ by scripts/bundle_components.py (`make install`
writes it; it is not committed): the generated file must be what the parts give now, the parts must stay small and bundleable, and nothing at run time may import
the parts (the connector is the one generated file, as the manifest-only image and the Connector Builder load it)."""

import difflib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scripts import bundle_components
from scripts.bundle_components import BundleError, check_names, dependency_order, read_part

REPO_ROOT = Path(__file__).resolve().parents[2]
MAX_PART_LINES = 400


def test_generated_components_py_is_what_the_parts_bundle_into() -> None:
    committed = bundle_components.TARGET.read_text()
    bundled = bundle_components.render()
    diff = "\n".join(
        list(difflib.unified_diff(committed.splitlines(), bundled.splitlines(), "generated", "bundled", n=1))[:30]
    )
    assert committed == bundled, (
        "source_confluence/components.py differs from what source_confluence/component_parts/ bundle into: "
        f"run `python -m scripts.bundle_components` (make components).\n{diff}"
    )


def test_check_mode_passes_on_the_generated_file() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scripts.bundle_components", "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"`bundle_components --check` failed: {result.stderr}"


def test_every_part_is_a_small_module() -> None:
    parts = sorted(bundle_components.PARTS_DIR.glob("*.py"))
    assert len(parts) > 5, f"expected the components split into parts, found {[p.name for p in parts]}"
    too_long = {p.name: n for p in parts if (n := len(p.read_text().splitlines())) > MAX_PART_LINES}
    assert not too_long, f"parts over {MAX_PART_LINES} lines (split them by responsibility): {too_long}"


def test_nothing_at_run_time_imports_the_parts() -> None:
    """The source runs the generated components.py; loading the parts too would make a second SYNC_STATS, PEOPLE,
    PAGE_TREE and SHARED_ACCESS that the manifest's components never see."""
    script = textwrap.dedent(
        """
        import sys
        import source_confluence.run
        from source_confluence import components, source
        source.register_components()
        assert sys.modules[source.COMPONENTS_MODULE] is components, "the manifest's module is not components.py"
        parts = sorted(name for name in sys.modules if name.startswith("source_confluence.component_parts"))
        print(",".join(parts))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"importing the source failed: {result.stderr}"
    assert result.stdout.strip() == "", f"importing the source loaded component parts: {result.stdout.strip()}"


def test_each_singleton_is_defined_once_in_the_bundle() -> None:
    text = bundle_components.TARGET.read_text()
    for name in ("SYNC_STATS", "PEOPLE", "PAGE_TREE", "SHARED_ACCESS"):
        assert text.count(f"\n{name} = ") == 1, f"{name} must be assigned exactly once in components.py"


def _part(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return path


def test_a_part_splits_into_hoisted_imports_dependencies_and_body(tmp_path: Path) -> None:
    part = read_part(
        _part(
            tmp_path,
            "people",
            '''
            """Names."""

            import re
            from typing import Any

            from source_confluence.component_parts.common import logger

            NAMES: dict[str, Any] = {}


            def pattern() -> re.Pattern[str]:
                return re.compile("x")
            ''',
        )
    )
    assert part.docstring == "Names."
    assert part.depends_on == {"common"}
    assert part.plain_imports == {("re", None)}
    assert part.from_imports == {("typing", "Any", None)}
    assert part.defines == {"NAMES", "pattern"}
    assert "import" not in part.body and part.body.startswith("NAMES"), f"imports left in the body: {part.body!r}"


@pytest.mark.parametrize(
    ("source", "complaint"),
    [
        ("from .common import logger\n", "relative import"),
        ("import source_confluence.component_parts.common\n", "not `import"),
        ("from source_confluence.component_parts.common import logger as log\n", "another name"),
        ("from source_confluence.source import SourceConfluence\n", "cannot carry"),
        ("from __future__ import annotations\n", "__future__"),
        ("def f():\n    from source_confluence.component_parts.common import logger\n", "at the top"),
    ],
    ids=["relative", "plain-import", "alias", "outside-parts", "future", "nested"],
)
def test_what_would_break_in_one_module_is_refused(tmp_path: Path, source: str, complaint: str) -> None:
    with pytest.raises(BundleError, match=complaint):
        read_part(_part(tmp_path, "bad", source))


def test_parts_come_after_what_they_import_and_cycles_are_refused(tmp_path: Path) -> None:
    top = "from source_confluence.component_parts.{} import X\n"
    parts = {
        "records": read_part(_part(tmp_path, "records", top.format("stats") + top.format("common"))),
        "stats": read_part(_part(tmp_path, "stats", top.format("common"))),
        "common": read_part(_part(tmp_path, "common", "X = 1\n")),
    }
    assert [part.name for part in dependency_order(parts)] == ["common", "stats", "records"]
    parts["common"] = read_part(_part(tmp_path, "common", top.format("records")))
    with pytest.raises(BundleError, match="circular"):
        dependency_order(parts)


def test_a_name_defined_by_two_parts_is_refused(tmp_path: Path) -> None:
    first = read_part(_part(tmp_path, "stats", "SYNC_STATS = 1\n"))
    second = read_part(_part(tmp_path, "records", "SYNC_STATS = 2\n"))
    with pytest.raises(BundleError, match="SYNC_STATS is defined in both stats.py and records.py"):
        check_names([first, second])
