"""Indexes for tests: written in-process (no interpreter start), built once per session and copied per test.

A test that only reads an index shares the session's; a test that writes copies it first (`copy_index`), so no test
sees another's writes.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

STREAM = "pages"
HASH_MODEL = (
    "test-hash-embedder"  # destination_vectors.embedding.embedder.TEST_HASH_EMBEDDER: deterministic, no model load
)


def write_in_process(
    config: Mapping[str, Any],
    records: Sequence[Mapping[str, Any]],
    mode: str = "overwrite",
    stream: str = STREAM,
    embedder: Any = None,
) -> None:
    """One sync through `DestinationVectors.write` in this process, ending with the stream's final STATE.

    `embedder`: an already loaded model (the session's) used instead of loading the config's again."""
    from unittest import mock

    from destination_vectors import destination
    from testkit.messages import catalog, record, state

    messages = [record(dict(r), stream) for r in records] + [state(stream)]
    patch = mock.patch.object(destination, "load_embedder", lambda _config: embedder) if embedder else nullcontext()
    with patch:
        out = list(destination.DestinationVectors().write(dict(config), catalog([stream], mode), messages))
    assert any(m.type.name == "STATE" for m in out), "an in-process sync committed nothing"


def copy_index(config: Mapping[str, Any], folder: Path) -> dict[str, Any]:
    """A private copy of the index (and its ledger, which lives beside it by default) under `folder`."""
    from destination_vectors.config import DestinationConfig

    parsed = DestinationConfig.model_validate(dict(config))
    source = parsed.local_folder
    assert source is not None and not parsed.ledger_path, "copy_index copies local indexes with their default ledger"
    target = folder / "lancedb"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.lock"))
    return {**config, "lancedb_uri": str(target)}


def sample_site_records() -> list[dict[str, Any]]:
    """The sample wiki's pages as the source emits them."""
    from testkit.confluence_stand_in import load_site
    from testkit.paths import SAMPLE_SITE
    from testkit.records import site_records

    return site_records(load_site(SAMPLE_SITE))
