from __future__ import annotations

import json

import pytest

from destination_vectors.config import EmbeddingConfig
from destination_vectors.embedding import backends
from destination_vectors.embedding.backends import (
    EmbeddingSetupError,
    LazyEmbedder,
    Plan,
    embedder_name,
    load_embedder,
    split_name,
)
from destination_vectors.embedding.gate import choose
from destination_vectors.embedding.model import resolve_model


def test_name_carries_the_backend_and_old_rows_count_as_torch():
    assert embedder_name("org/m", "onnx-int8") == "org/m@onnx-int8"
    assert split_name("org/m@onnx") == ("org/m", "onnx")
    assert split_name("sentence-transformers/all-MiniLM-L6-v2") == ("sentence-transformers/all-MiniLM-L6-v2", "torch")
    assert split_name("/models/odd@name") == ("/models/odd@name", "torch"), "an unknown suffix is part of the name"


def test_the_model_loads_only_when_a_text_must_be_embedded():
    loads = []

    class Fake:
        dimension = 4

        def embed(self, texts):
            import numpy as np

            return np.ones((len(texts), 4), dtype="float32")

    embedder = LazyEmbedder(Plan(resolve_model(), "onnx", 4, lambda: loads.append(1) or Fake()))
    assert embedder.name.endswith("@onnx") and embedder.dimension == 4 and embedder.max_seq_length == 256
    assert embedder.embed([]).shape == (0, 4) and not loads, "nothing to embed must not load the model"
    embedder.embed(["a"])
    embedder.embed(["b"])
    assert loads == [1], "the model loads once, at the first text"


def test_cuda_without_a_gpu_provider_fails_clearly(monkeypatch):
    monkeypatch.setattr(backends, "_ort_providers", lambda: ["CPUExecutionProvider"])
    with pytest.raises(EmbeddingSetupError, match=r"cuda.*no CUDA provider.*onnxruntime-gpu"):
        load_embedder(EmbeddingConfig(backend="onnx", device="cuda"))


def test_onnx_backend_refuses_a_model_it_cannot_reproduce(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "modules.json").write_text(
        json.dumps(
            [
                {"path": "", "type": "sentence_transformers.models.Transformer"},
                {"path": "2_Dense", "type": "sentence_transformers.models.Dense"},
            ]
        )
    )
    (folder / "config.json").write_text('{"max_position_embeddings": 128}')
    with pytest.raises(EmbeddingSetupError, match="Dense"):
        load_embedder(EmbeddingConfig(model=str(folder), backend="onnx"))


def test_auto_follows_the_index_backend_for_the_same_model():
    embedder = load_embedder(EmbeddingConfig(backend="auto"), indexed="sentence-transformers/all-MiniLM-L6-v2")
    assert embedder.name == "sentence-transformers/all-MiniLM-L6-v2@torch", "an old torch index is searched with torch"
    assert not embedder.is_loaded, "choosing a backend must not load a model"


def test_auto_takes_the_fastest_backend_that_passes():
    speeds = {"torch": 22.0, "onnx": 35.0, "onnx-int8": 53.0}
    assert choose({"onnx": 0.99999, "onnx-int8": 0.995}, speeds) == "onnx-int8"
    assert choose({"onnx": 0.99999, "onnx-int8": 0.97}, speeds) == "onnx", "int8 below 0.99 must not be chosen"
    assert choose({"onnx": 0.998, "onnx-int8": 0.97}, speeds) == "torch", "fp32 below 0.9999 must not be chosen"
    assert choose({"onnx": 1.0, "onnx-int8": 1.0}, {"torch": 90.0, "onnx": 35.0, "onnx-int8": 53.0}) == "torch"
    near = {"torch": 25.0, "onnx": 24.0, "onnx-int8": 23.5}
    assert choose({"onnx": 1.0, "onnx-int8": 0.995}, near) == "onnx-int8", "gaps within 10 % are noise: ties go to int8"
    assert choose({"onnx": 1.0, "onnx-int8": 0.98}, near) == "onnx"
