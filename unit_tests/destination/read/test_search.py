import pytest

from destination_vectors.read.search import visibility_filter


def test_public_filter_is_exact_and_spaces_are_quoted():
    assert visibility_filter() == "visibility = 'public'", "the default visibility must be public"
    assert visibility_filter(visibility="public") == "visibility = 'public'"
    assert visibility_filter(visibility="all") is None
    where = visibility_filter(visibility="internal", spaces=["ENG", "x'y"])
    assert where == "visibility = 'internal' AND space_key IN ('ENG', 'x''y')", where


def test_a_misspelt_filter_is_refused_not_dropped():
    with pytest.raises(TypeError, match="space"):
        visibility_filter(visibility="all", space=["ENG"])


def test_labels_filter_keeps_rows_with_any_of_the_labels(tmp_path):
    import lancedb
    import pyarrow as pa

    from destination_vectors.read.search import visibility_filter

    assert visibility_filter(visibility="all", labels=["how-to", "o'k"]) == "array_has_any(labels, ['how-to', 'o''k'])"
    rows = pa.table(
        {
            "chunk_id": ["a", "b", "c"],
            "labels": [["how-to", "vpn"], ["policy"], []],
            "vector": pa.FixedSizeListArray.from_arrays(pa.array([1.0, 0.0, 0.9, 0.1, 0.8, 0.2], pa.float32()), 2),
        }
    )
    table = lancedb.connect(str(tmp_path)).create_table("t", data=rows)
    where = visibility_filter(visibility="all", labels=["how-to", "policy"])
    found = table.search([1.0, 0.0]).where(where, prefilter=True).select(["chunk_id"]).limit(10).to_list()
    assert sorted(r["chunk_id"] for r in found) == ["a", "b"], f"label filter kept {found}"


def test_one_searcher_sees_each_commit_and_checks_the_model_per_version(config):
    from airbyte_cdk.models import Type

    from destination_vectors.destination import DestinationVectors
    from destination_vectors.read.search import Searcher, SearchError
    from testkit.messages import catalog, page, record, state

    def sync(*pages):
        messages = [record(p) for p in pages] + [state()]
        out = list(DestinationVectors().write(config.model_dump(), catalog(["pages"], "overwrite"), iter(messages)))
        assert any(m.type == Type.STATE for m in out), "the sync committed nothing"

    sync(page("1", "Rollback guide", "<p>how to roll back a release</p>"))
    searcher = Searcher.from_config(config)
    assert [h.page_id for h in searcher.search("roll back", k=5)] == ["1"]
    sync(page("2", "VPN setup", "<p>connect to the vpn from home</p>"))
    assert [h.page_id for h in searcher.search("vpn from home", k=5)] == ["2"], "a warm searcher missed a commit"

    class OtherModel:
        name, dimension, max_seq_length = "another-model", 8, 256

    stale = Searcher(searcher._store, OtherModel())
    with pytest.raises(SearchError, match="built with"):
        stale.search("vpn", mode="vector")
    assert stale.search("vpn", mode="fts"), "full-text search needs no model"


def test_below_min_rows_vectors_are_searched_in_memory_with_lances_answers(tmp_path, monkeypatch):
    """Flat search in memory (flat.py) below vector_index.min_rows, Lance's queries from there on: the same answers in
    every mode, with filters that take each full-text path (no filter, filtered after, prefiltered, and filtered after
    with too few rows kept, which falls back to the prefiltered query)."""
    import lancedb
    import numpy as np
    import pyarrow as pa

    from destination_vectors.read import full_text
    from destination_vectors.read.search import Searcher
    from destination_vectors.store.ann import VectorIndexConfig
    from destination_vectors.store.table import ChunkStore

    text_ids = full_text.text_ids
    rows, dim = 300, 8
    vectors = np.random.default_rng(5).normal(size=(rows, dim)).astype(np.float32)
    # Each text a different length, so no two rows tie on a full-text score.
    texts = [("zeta " * (1 + i % 3) if i < 200 else "") + "alpha " * (i % 4) + "w " * (i + 3) for i in range(rows)]
    data = pa.table(
        {
            "chunk_id": [f"c{i:03d}" for i in range(rows)],
            "page_id": [str(i // 3) for i in range(rows)],
            "stream": ["pages"] * rows,
            "title": [f"T{i}" for i in range(rows)],
            "text": texts,
            "visibility": ["public" if i % 10 == 0 else "internal" for i in range(rows)],
            "space_key": ["A" if i >= 150 else "B" for i in range(rows)],  # "zeta" rows mostly in B
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), dim),
        }
    )
    lancedb.connect(str(tmp_path)).create_table("chunks", data=data).create_fts_index("text")

    class Fixed:  # the query vector, whatever the words
        name, dimension, max_seq_length = "m", dim, 256

        def embed(self, texts):
            return np.random.default_rng(len(texts[0])).normal(size=(len(texts), dim)).astype(np.float32)

    store = ChunkStore(str(tmp_path), "chunks")
    memory = Searcher(store, Fixed(), VectorIndexConfig(min_rows=rows + 1))
    lance_flat = Searcher(store, Fixed(), VectorIndexConfig(min_rows=rows))
    scopes = [
        {"visibility": "all"},
        {"visibility": "internal"},
        {"visibility": "public"},
        {"visibility": "all", "spaces": ["A"]},
    ]
    for query in ("zeta", "alpha zeta", "w alpha"):
        for mode in ("hybrid", "vector", "fts"):
            for k in (1, 12, 40):
                for scope in scopes:
                    for group_by in ("chunk", "page"):
                        got = memory.search(query, k=k, mode=mode, group_by=group_by, **scope)
                        want = lance_flat.search(query, k=k, mode=mode, group_by=group_by, **scope)
                        where = f"({query}, {mode}, k={k}, {scope}, {group_by})"
                        assert [h.chunk_id for h in got] == [h.chunk_id for h in want], f"ranking differs {where}"
                        worst = max((abs(a.score - b.score) for a, b in zip(got, want, strict=True)), default=0)
                        assert worst < 1.5e-6, f"scores (rounded to 6 places) differ by {worst} {where}"
    queries = []
    monkeypatch.setattr(
        full_text,
        "text_ids",
        lambda ask, limit, where, query=None: queries.append(where) or text_ids(ask, limit, where, query),
    )
    assert len(memory.search("zeta", k=40, mode="hybrid", visibility="all", spaces=["A"])) == 40
    assert queries == [None, "space_key IN ('A')"], f"too few kept after the unfiltered query must fall back: {queries}"
    snapshot = memory._live_snapshot()
    assert snapshot.flat.nbytes == rows * dim * 4, "below min_rows the vectors must be held in memory"
    assert len(memory.search("w", k=30, mode="hybrid")) == 30, "30 public rows exist: k=30 must return 30"
    assert {h.visibility for h in memory.search("w", k=40, mode="hybrid")} == {"public"}
