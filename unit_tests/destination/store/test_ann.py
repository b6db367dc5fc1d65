"""The approximate vector index: built only past the threshold, refused when its recall is low, filters still apply."""

from __future__ import annotations

from pathlib import Path

import lancedb
import numpy as np
import pyarrow as pa
from airbyte_cdk.models import Type

from destination_vectors.config import DestinationConfig
from destination_vectors.destination import DestinationVectors
from destination_vectors.read.search import Searcher, visibility_filter
from destination_vectors.store.ann import VectorIndexConfig, ensure_vector_index, vector_index_name
from destination_vectors.store.table import housekeeping_due
from testkit.messages import catalog, page, record, state

DIM = 32


def _clustered_table(folder: Path, rows: int = 3000) -> lancedb.table.Table:
    """Unit vectors around 40 centres (embeddings cluster like this; uniform noise would not)."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(40, DIM))
    vectors = centres[rng.integers(0, 40, rows)] + rng.normal(scale=0.3, size=(rows, DIM))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    data = pa.table(
        {
            "chunk_id": [f"c{i}" for i in range(rows)],
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), DIM),
        }
    )
    return lancedb.connect(str(folder)).create_table("chunks", data=data)


def test_index_is_built_only_past_the_threshold_and_kept_when_recall_holds(tmp_path: Path):
    table = _clustered_table(tmp_path)
    below = ensure_vector_index(table, VectorIndexConfig(min_rows=3001))
    assert below.action == "flat" and vector_index_name(table) is None, f"built below the threshold: {below}"
    config = VectorIndexConfig(min_rows=3000, num_partitions=4, nprobes=4, sample_queries=20)
    built = ensure_vector_index(table, config)
    assert built.action == "built", f"not built at the threshold: {built}"
    assert built.recall is not None and built.recall >= 0.98, f"kept an index with recall {built.recall}"
    assert vector_index_name(table) is not None, "the decision says built but the table has no vector index"
    again = ensure_vector_index(table, config)
    assert again.action == "kept", f"a second housekeeping rebuilt the index: {again}"


def test_low_recall_index_is_refused_and_search_stays_flat(tmp_path: Path, caplog):
    table = _clustered_table(tmp_path)
    absurd = VectorIndexConfig(
        min_rows=100, kind="IVF_PQ", num_partitions=64, nprobes=1, refine_factor=1, num_sub_vectors=2, sample_queries=20
    )
    decision = ensure_vector_index(table, absurd)
    assert decision.action == "refused", f"an index built with absurd settings was kept: {decision}"
    assert decision.recall is not None and decision.recall < 0.98, decision
    assert vector_index_name(table) is None, "a refused index is still on the table"
    assert "refused" in caplog.text and "recall@10" in caplog.text, f"no reason logged: {caplog.text!r}"


def test_filters_apply_before_ranking_with_an_index(tmp_path: Path):
    config = DestinationConfig.model_validate(
        {
            "lancedb_uri": str(tmp_path / "lancedb"),
            "embedding": {"model": "test-hash-embedder"},
            "vector_index": {"min_rows": 300, "num_partitions": 2, "nprobes": 2, "sample_queries": 10},
        }
    )
    words = ["deploy", "rollback", "vpn", "invoice", "holiday", "laptop", "backup", "release"]
    pages = [
        page(
            str(i),
            f"Page {i}",
            f"<p>{words[i % 8]} {words[(i * 3) % 8]} notes {i}</p>",
            space="~bob" if i % 3 else "ENG",
        )
        for i in range(360)
    ]
    out = list(DestinationVectors().write(config.model_dump(), catalog(), iter([record(p) for p in pages] + [state()])))
    assert any(m.type == Type.STATE for m in out), "the sync committed nothing"
    searcher = Searcher.from_config(config)
    table = searcher._store.open_live()
    assert vector_index_name(table) is not None, "housekeeping built no index past min_rows"
    hits = searcher.search("rollback deploy notes", k=20, mode="vector", visibility="public")
    assert len(hits) == 20, f"the prefiltered indexed search returned {len(hits)} of 20 public hits"
    assert {hit.visibility for hit in hits} == {"public"}, "an internal chunk passed the filter with an index"
    assert {hit.space_key for hit in searcher.search("rollback", k=10, visibility="internal")} == {"~bob"}
    indexed = {column for index in table.list_indices() for column in index.columns}
    assert {"visibility", "stream", "space_key", "readers", "labels", "ancestor_ids"} <= indexed, (
        f"housekeeping left filter columns without a scalar index: {sorted(indexed)}"
    )
    plan = table.search([0.0] * table.schema.field("vector").type.list_size).where(
        visibility_filter(visibility="public"), prefilter=True
    )
    assert "ScalarIndexQuery" in plan.explain_plan(True), "the visibility prefilter does not use its index"
    store = searcher._store
    assert housekeeping_due(store.snapshot(), config.vector_index) is None, "a finished housekeeping is reported due"
    table.drop_index("visibility_idx")
    due = housekeeping_due(store.snapshot(), config.vector_index)
    assert due is not None and "visibility" in due, f"a missing filter index is not reported due: {due!r}"
