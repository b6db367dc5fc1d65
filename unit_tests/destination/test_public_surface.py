"""The public Python surface: importable from `destination_vectors` itself, the same objects as where they live, and
loaded lazily so that `import destination_vectors` (what spec and check pay for) stays cheap."""

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import destination_vectors

SURFACE = {
    "DestinationConfig": "destination_vectors.config",
    "Searcher": "destination_vectors.read.search",
    "SearchError": "destination_vectors.read.search",
    "Hit": "destination_vectors.read.search",
    "Mode": "destination_vectors.read.search",
    "Visibility": "destination_vectors.read.search",
    "PageHit": "destination_vectors.read.grouping",
    "Snippet": "destination_vectors.read.grouping",
    "Origin": "destination_vectors.read.grouping",
    "GroupBy": "destination_vectors.read.grouping",
    "Principal": "destination_vectors.read.access",
}


def test_every_public_name_is_the_object_of_its_home_module():
    assert sorted(destination_vectors.__all__) == sorted(SURFACE), "the public surface changed: update this test"
    for name, home in SURFACE.items():
        got = getattr(destination_vectors, name)
        assert got is getattr(importlib.import_module(home), name), f"destination_vectors.{name} is not {home}.{name}"
    assert set(SURFACE) <= set(dir(destination_vectors)), "dir() must list the public names"


def test_type_checkers_see_the_same_names():
    """The TYPE_CHECKING imports (what editors and mypy read) name each public name at its home module."""
    tree = ast.parse(Path(destination_vectors.__file__).read_text())
    seen = {
        alias.name: node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("destination_vectors.")
        for alias in node.names
    }
    assert seen == SURFACE, f"the TYPE_CHECKING imports differ from the public surface: {seen}"


def test_the_readme_example_imports_work():
    from destination_vectors import DestinationConfig, Principal, Searcher

    config = DestinationConfig(lancedb_uri="./data/lancedb")
    assert config.lancedb_uri == "./data/lancedb"
    assert Principal(account_id="a", groups=("g",)).groups == ("g",)
    assert callable(Searcher.from_config)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        destination_vectors.Nope  # noqa: B018
    with pytest.raises(ImportError):
        exec("from destination_vectors import Nope")


def test_importing_the_package_loads_no_search_model_or_table_code():
    probe = (
        "import sys, destination_vectors\n"
        "heavy = [m for m in ('destination_vectors.read.search', 'destination_vectors.config', 'lancedb', 'lance', "
        "'numpy', 'pyarrow', 'torch', 'pydantic') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "", f"`import destination_vectors` loaded {done.stdout.strip()}: keep it lazy"
