import pytest

from destination_vectors.search import visibility_filter


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

    from destination_vectors.search import visibility_filter

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
    from destination_vectors.search import Searcher, SearchError
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
