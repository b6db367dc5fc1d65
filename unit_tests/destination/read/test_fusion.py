"""Hybrid fusion: weighted, max-normalised scores plus the breadcrumb match; each chunk once, best first."""

from __future__ import annotations

from destination_vectors.read.fusion import Weights, fuse, terms


def _row(chunk_id: str, crumb: str = "Page", **score: float) -> dict:
    return {"chunk_id": chunk_id, "crumb": crumb, **score}


def _crumb(row: dict) -> str:
    return row["crumb"]


def test_each_chunk_once_with_both_scores_combined():
    vector = [_row("a", _distance=0.2), _row("b", _distance=0.4)]
    text = [_row("b", _score=8.0), _row("c", _score=2.0)]
    fused = fuse("zzz", vector, text, _crumb, limit=10, weights=Weights(vector=0.5, text=0.5, breadcrumb=0.0))
    ids = [row["chunk_id"] for row, _ in fused]
    assert sorted(ids) == ["a", "b", "c"], f"every candidate once: {ids}"
    scores = dict((row["chunk_id"], score) for row, score in fused)
    assert ids[0] == "b", f"the chunk both sides like must lead: {scores}"
    assert abs(scores["a"] - 0.5) < 1e-9, "the best vector match gets the whole vector weight"
    assert abs(scores["b"] - (0.5 * 0.6 / 0.8 + 0.5)) < 1e-9, "scores are divided by each side's best"
    assert all(0.0 <= s <= 1.0 for s in scores.values()), scores


def test_breadcrumb_words_lift_the_child_over_a_parent_that_mentions_it():
    parent = _row("home", "IT Help Desk Home", _distance=0.30, _score=5.0)
    child = _row("vpn", "IT Help Desk Home > VPN Setup > VPN Troubleshooting", _distance=0.32, _score=4.6)
    query = "IT help desk: VPN troubleshooting"
    plain = fuse(query, [parent, child], [parent, child], _crumb, 2, Weights(breadcrumb=0.0))
    assert plain[0][0]["chunk_id"] == "home", "setup: without the breadcrumb the parent should lead"
    fused = fuse(query, [parent, child], [parent, child], _crumb, 2)
    assert [row["chunk_id"] for row, _ in fused] == ["vpn", "home"], fused


def test_limit_empty_sides_and_crude_stemming():
    vector = [_row(str(i), _distance=i / 10) for i in range(5)]
    fused = fuse("query", vector, [], _crumb, limit=3)
    assert [row["chunk_id"] for row, _ in fused] == ["0", "1", "2"], "no text hits: vector order, cut at the limit"
    assert fuse("query", [], [], _crumb, limit=3) == []
    assert terms("How do I roll back the deploys?") == terms("roll back deploy"), "stop words and plurals ignored"
