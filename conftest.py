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
    from destination_vectors.embedding.embedder import load_embedder

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
    """Order files (each file's tests stay together, in their order) for the xdist workers: slow files that need no
    real model first (the venv builds, kill points, secrets: the model's one-time export runs meanwhile, see
    `pytest_configure`), then files that embed with the real model, then the many short tests, which fill the end
    instead of one long file running alone after everything else. The Makefile passes `--no-loadscope-reorder`, without
    which xdist ignores this order and starts the files with the most tests first."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    model = {item.path for item in items if item.get_closest_marker("model")}
    items.sort(key=lambda item: 0 if item.path in slow - model else 1 if item.path in model else 2)


def pytest_configure(config: pytest.Config) -> None:
    """On a machine whose ONNX cache is empty, the xdist controller exports the default model and runs its quality
    gate in the background as the session starts (a few minutes of CPU, once), while the workers run the tests that
    need no real model; the first test that does waits on the export's file lock instead of doing it itself."""
    import os
    import subprocess
    import sys

    if os.environ.get("PYTEST_XDIST_WORKER") or not getattr(config.option, "numprocesses", None):
        return
    if config.option.collectonly or "not model" in (config.option.markexpr or ""):
        return
    warm = (
        "from destination_vectors.config import EmbeddingConfig\n"
        "from destination_vectors.embedding.embedder import load_embedder\n"
        "load_embedder(EmbeddingConfig()).embed(['warm'])\n"
    )
    config.stash[_WARMUP] = subprocess.Popen(
        [sys.executable, "-c", warm],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, so a stuck export can be stopped with its child
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    """Let a warm-up still exporting finish (killing it would leave a half-written export folder behind); only a stuck
    one is stopped, with its exporter child. It is best effort: a test that needed the model did the export itself."""
    import os
    import signal
    import subprocess

    process = config.stash.get(_WARMUP, None)
    if process is None:
        return
    try:
        process.wait(timeout=900)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


_WARMUP = pytest.StashKey["subprocess.Popen[bytes]"]()
