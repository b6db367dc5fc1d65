from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from destination_vectors.embedding.model import resolve_model
from destination_vectors.embedding.pooling import PoolingSpec, UnsupportedModelError, pool, read_pooling

TRANSFORMER = {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}
POOLING = {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}


def _folder(tmp_path: Path, modules: list[dict], pooling: dict | None = None) -> Path:
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "modules.json").write_text(json.dumps(modules))
    config = {"word_embedding_dimension": 4, "pooling_mode_mean_tokens": True, **(pooling or {})}
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps(config))
    return tmp_path


def test_default_model_is_mean_pooled_and_normalised():
    assert read_pooling(resolve_model().path) == PoolingSpec(mode="mean", normalize=True, dimension=384)


def test_a_dense_module_is_refused_with_the_reason(tmp_path):
    dense = {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}
    with pytest.raises(UnsupportedModelError, match=r"Dense.*not supported.*backend torch"):
        read_pooling(_folder(tmp_path, [TRANSFORMER, POOLING, dense]))


def test_two_pooling_modes_at_once_are_refused(tmp_path):
    folder = _folder(tmp_path, [TRANSFORMER, POOLING], {"pooling_mode_max_tokens": True})
    with pytest.raises(UnsupportedModelError, match="exactly one"):
        read_pooling(folder)


def test_a_folder_without_modules_json_is_refused(tmp_path):
    with pytest.raises(UnsupportedModelError, match="modules.json"):
        read_pooling(tmp_path)


def test_cls_pooling_without_normalize(tmp_path):
    folder = _folder(
        tmp_path, [TRANSFORMER, POOLING], {"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}
    )
    assert read_pooling(folder) == PoolingSpec(mode="cls", normalize=False, dimension=4)


def test_mean_pooling_ignores_padding_and_normalises():
    tokens = np.array([[[1.0, 0.0], [3.0, 0.0], [100.0, 100.0]]], dtype=np.float32)
    mask = np.array([[1, 1, 0]])
    raw = pool(tokens, mask, PoolingSpec("mean", normalize=False, dimension=2))
    assert np.allclose(raw, [[2.0, 0.0]]), "the padded token must not count"
    unit = pool(tokens, mask, PoolingSpec("mean", normalize=True, dimension=2))
    assert np.allclose(unit, [[1.0, 0.0]])
    assert np.allclose(pool(tokens, mask, PoolingSpec("max", False, 2)), [[3.0, 0.0]])
    assert np.allclose(pool(tokens, mask, PoolingSpec("cls", False, 2)), [[1.0, 0.0]])
