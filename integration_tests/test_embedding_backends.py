"""Embedding backends on the real model: the quality gate, a light re-pull, and never mixing backends in an index.

The ONNX files come from the export cache (exported once per machine, in a child process, as in production).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from destination_vectors.config import DestinationConfig
from destination_vectors.embedding.cache import ONNX_FILES, cache_root, ensure_export
from destination_vectors.embedding.model import resolve_model
from destination_vectors.embedding.onnx_backend import OnnxEmbedder
from destination_vectors.embedding.pooling import read_pooling
from destination_vectors.store.ledger import Ledger
from destination_vectors.store.table import ChunkStore
from testkit.confluence_stand_in import load_site
from testkit.embedding_corpus import SAMPLE_QUESTIONS, SAMPLE_SITE, fixture_chunks, sample_site_chunks
from testkit.records import catalog_file, site_records, write_messages

ROOT = Path(__file__).resolve().parents[1]
THRESHOLDS = {"onnx": 0.9999, "onnx-int8": 0.99}

# Runs one command (`write`, or `search` when a query follows) in this interpreter and reports which heavy modules it
# imported (LanceDB: only to write).
WRITE_AND_REPORT = """
import json, sys
from destination_vectors.cli import main
if len(sys.argv) > 4:
    code = main(["search", "--config", sys.argv[1], "--json", sys.argv[4]])
else:
    code = main(["write", "--config", sys.argv[1], "--catalog", sys.argv[2]])
heavy = ["torch", "sentence_transformers", "transformers", "onnxruntime", "lancedb"]
with open(sys.argv[3], "w") as out:
    json.dump({"code": code, "imported": [m for m in heavy if m in sys.modules]}, out)
"""


@pytest.fixture(scope="module")
def vectors_by_backend() -> dict[str, tuple[list[str], list[str], dict[str, np.ndarray]]]:
    from destination_vectors.embedding.torch_backend import TorchEmbedder

    info = resolve_model()
    folder = ensure_export(info.path, cache_root(), list(ONNX_FILES.values()))
    site = sample_site_chunks()
    texts = fixture_chunks() + [text for _, text in site] + list(SAMPLE_QUESTIONS)
    embedders = {"torch": TorchEmbedder(info, device="cpu")}
    for backend, name in ONNX_FILES.items():
        embedders[backend] = OnnxEmbedder(folder / name, info.path, read_pooling(info.path), info.max_seq_length)
    return texts, [title for title, _ in site], {b: e.embed(texts) for b, e in embedders.items()}


@pytest.mark.model
@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_quality_gate_every_chunk_close_to_torch(vectors_by_backend, backend):
    texts, _, vectors = vectors_by_backend
    cosine = (vectors[backend] * vectors["torch"]).sum(axis=1)
    worst = int(np.argmin(cosine))
    assert len(texts) > 150, f"the gate needs every chunk of the fixtures and the sample site, got {len(texts)}"
    assert cosine[worst] >= THRESHOLDS[backend], (
        f"{backend}: cosine to torch {cosine[worst]:.5f} < {THRESHOLDS[backend]} on chunk {texts[worst][:120]!r}"
    )


@pytest.mark.model
def test_sample_questions_rank_the_same_top_page_with_each_backend(vectors_by_backend):
    texts, titles, vectors = vectors_by_backend
    questions = list(SAMPLE_QUESTIONS)
    site_rows = slice(len(texts) - len(questions) - len(titles), len(texts) - len(questions))
    for backend, matrix in vectors.items():
        chunks, asked = matrix[site_rows], matrix[-len(questions) :]
        top = [titles[int(np.argmax(chunks @ q))] for q in asked]
        assert top == list(SAMPLE_QUESTIONS.values()), f"{backend}: top pages {top} for {questions}"


def _write(tmp: Path, messages: Path, catalog: Path, config: dict, *query: str) -> dict:
    """`write` (or, with a query, `search`) in a child process: its result, the ledger's last run, what it imported."""
    config_path = tmp / "config.json"
    config_path.write_text(json.dumps(config))
    report = tmp / "report.json"
    with messages.open("rb") as stdin:
        result = subprocess.run(
            [sys.executable, "-c", WRITE_AND_REPORT, str(config_path), str(catalog), str(report), *query],
            cwd=ROOT,
            stdin=stdin,
            capture_output=True,
            text=True,
            timeout=1800,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    assert result.returncode == 0, f"write failed: {result.stderr[-3000:]}"
    run = Ledger(DestinationConfig.model_validate(config).resolved_ledger_path).history(1)[0]
    return {**json.loads(report.read_text()), "run": run, "log": result.stdout}


@pytest.mark.model
def test_unchanged_repull_imports_no_torch_and_a_backend_switch_reembeds_everything(tmp_path):
    records = site_records(load_site(SAMPLE_SITE))
    messages, catalog = write_messages(records, tmp_path / "m.jsonl"), catalog_file(tmp_path / "catalog.json")
    config = {"lancedb_uri": str(tmp_path / "index")}  # the default backend: auto

    cold = _write(tmp_path, messages, catalog, config)
    chosen = cold["run"]["embedding_model"].rpartition("@")[2]
    assert cold["run"]["embedded"] == cold["run"]["chunks"] > 0, cold["run"]
    if chosen != "torch":  # the export and the gate run in child processes; the writer itself never needs torch
        assert "torch" not in cold["imported"], f"a cold sync with {chosen} imported {cold['imported']}"

    again = _write(tmp_path, messages, catalog, config)
    assert again["run"]["embedded"] == 0 and again["run"]["reused"] == again["run"]["chunks"], again["run"]
    assert again["imported"] == [], f"a re-pull with nothing to embed or write imported {again['imported']}"

    searched = _write(tmp_path, messages, catalog, config, "How do I roll back a deploy?")
    assert searched["code"] == 0 and "Rollback" in searched["log"], f"search failed: {searched['log'][-2000:]}"
    model_modules = {"torch", "sentence_transformers", "transformers"} if chosen == "torch" else {"onnxruntime"}
    assert set(searched["imported"]) <= model_modules, (
        f"`search` on a local index imported {searched['imported']} (LanceDB is for writes; torch only for torch)"
    )

    other = "onnx-int8" if chosen != "onnx-int8" else "onnx"
    switched = _write(tmp_path, messages, catalog, {**config, "embedding": {"backend": other}})
    run = switched["run"]
    assert run["embedded"] == run["chunks"] == cold["run"]["chunks"] and run["reused"] == 0, run
    assert "embedded again" in switched["log"], "the log must say before the sync that everything is re-embedded"
    table = ChunkStore(config["lancedb_uri"], "confluence_chunks").open_live()
    models = set(table.to_arrow().column("embedding_model").to_pylist())
    assert models == {f"sentence-transformers/all-MiniLM-L6-v2@{other}"}, f"vectors of two backends mixed: {models}"
