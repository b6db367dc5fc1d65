"""Fixtures shared by the whole suite, so that expensive things happen once per test session:
- `embedder`: the default embedding model, loaded once (searches in-process reuse it);
- `sample_hash_index`: the sample wiki indexed once with the test embedder; read it, or `copy_index` it to write.
Their code lives in `testkit/`; this file only gives it session scope.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from testkit.indexes import HASH_MODEL, sample_site_records, write_in_process


@pytest.fixture(scope="session")
def embedder():
    """The default model (packaged all-MiniLM-L6-v2, backend auto), loaded once for every test that embeds."""
    from destination_vectors.config import EmbeddingConfig
    from destination_vectors.vectors import load_embedder

    return load_embedder(EmbeddingConfig())


@pytest.fixture(scope="session")
def sample_hash_index(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The sample wiki, written once for real (LanceDB + DuckDB) with the test embedder. Do not write to it: copy it
    with `testkit.indexes.copy_index`. `config_path` is the destination config file naming it."""
    root = tmp_path_factory.mktemp("sample-hash-index")
    config = {"lancedb_uri": str(root / "lancedb"), "embedding": {"model": HASH_MODEL}}
    write_in_process(config, sample_site_records())
    path: Path = root / "destination.json"
    path.write_text(json.dumps(config))
    return {**config, "config_path": str(path)}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with slow or real-model tests run first (each file's tests stay together, in their order): on two
    xdist workers the long files then overlap each other, and the many short unit tests fill the end, instead of one
    long file running alone after everything else."""
    heavy = {item.path for item in items if item.get_closest_marker("slow") or item.get_closest_marker("model")}
    items.sort(key=lambda item: item.path not in heavy)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start building the PyAirbyte venv in the background when its test is selected and the venv is not current.
    Under pytest-xdist every worker collects every test, but only one runs the PyAirbyte test: there the test builds
    the venv itself (the other worker keeps running tests meanwhile), so no worker builds for nothing."""
    import os

    from testkit import pyairbyte_venv

    if os.environ.get("PYTEST_XDIST_WORKER") or session.config.option.collectonly:
        return
    wanted = any(item.nodeid.startswith("integration_tests/test_pyairbyte.py") for item in session.items)
    if wanted and os.environ.get(pyairbyte_venv.SKIP_ENV) != "1" and not pyairbyte_venv.is_current():
        pyairbyte_venv.BackgroundBuild.start()
