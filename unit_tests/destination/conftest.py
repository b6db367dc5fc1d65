from __future__ import annotations

from pathlib import Path

import pytest

from destination_vectors.config import DestinationConfig
from destination_vectors.embedding.embedder import TEST_HASH_EMBEDDER


@pytest.fixture
def config(tmp_path: Path) -> DestinationConfig:
    """A destination config writing under tmp_path, embedding with the fast deterministic test embedder."""
    return DestinationConfig.model_validate(
        {"lancedb_uri": str(tmp_path / "lancedb"), "embedding": {"model": TEST_HASH_EMBEDDER}}
    )
