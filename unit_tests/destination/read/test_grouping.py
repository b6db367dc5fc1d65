"""Answers grouped by page: each page once, in the order of its best chunk, with at most two more snippets; comments
and attachments under their page, each passage saying where it came from."""

from __future__ import annotations

from dataclasses import dataclass

from airbyte_cdk.models import Type

from destination_vectors.destination import DestinationVectors
from destination_vectors.read.grouping import group_by_page, shown
from destination_vectors.read.search import Searcher
from testkit.messages import catalog, page, record, state


@dataclass
class FakeHit:
    page_id: str
    chunk_id: str
    score: float
    stream: str = "pages"
    title: str = "T"
    heading_path: str = ""
    breadcrumb: str = "T"
    text: str = "x"
    space_key: str = "ENG"
    visibility: str = "public"
    webui_url: str = "http://x"


def _hits(*page_ids: str) -> list[FakeHit]:
    return [FakeHit(p, f"{p}:{i}", 1.0 - i / 100) for i, p in enumerate(page_ids)]


def test_each_page_once_in_order_of_its_best_chunk():
    grouped = group_by_page(_hits("a", "a", "b", "a", "c", "b", "a", "d"), k=10)
    assert [g.page_id for g in grouped] == ["a", "b", "c", "d"], "pages must keep first-appearance order"
    assert [g.rank for g in grouped] == [1, 2, 3, 4]
    best_a = grouped[0]
    assert best_a.score == 1.0 and best_a.text == "x", "a page takes its best chunk's score and text"
    assert [s.chunk_id for s in best_a.snippets] == ["a:1", "a:3"], "at most two more snippets, best first"
    assert [s.chunk_id for s in grouped[1].snippets] == ["b:5"]


def test_shown_names_exactly_the_chunks_the_pages_show():
    pages = [("pages", p) for p in ("a", "a", "b", "a", "c", "a", "b", "d")]
    keys = [(page, page) for page in pages]
    assert shown(keys, k=2) == [[0, 1, 3], [2, 6]], "best chunk then two more per page, only the first k pages"
    hits = _hits(*(p for _, p in pages))
    subset = [hits[position] for group in shown(keys, k=2) for position in group]
    assert group_by_page(subset, k=2) == group_by_page(hits, k=2), "grouping the shown chunks alone must agree"


def test_a_page_answer_has_every_field_of_a_chunk_answer_plus_snippets():
    from dataclasses import fields

    from destination_vectors.read.grouping import PageHit
    from destination_vectors.read.search import Hit

    assert [f.name for f in fields(PageHit)] == [*(f.name for f in fields(Hit)), "snippets", "origin"]
    (grouped,) = group_by_page(_hits("a"), k=1)
    assert grouped.chunk_url == "http://x", "without a section link the page link stands in"
    assert grouped.labels == [] and grouped.container_url == "", "a column the hit lacks comes back empty"


def test_k_bounds_pages_not_chunks_and_streams_keep_pages_apart():
    hits = _hits("a", "b", "a", "c") + [FakeHit("a", "comments:a:0", 0.5, stream="comments")]
    grouped = group_by_page(hits, k=2)
    assert [g.page_id for g in grouped] == ["a", "b"], "only the first k pages"
    assert [s.chunk_id for s in grouped[0].snippets] == ["a:2"], "later chunks of a kept page still add snippets"
    both = group_by_page(hits, k=10)
    assert [(g.stream, g.page_id) for g in both][-1] == ("comments", "a"), "same id in another stream is another page"


def test_searcher_groups_a_page_with_many_matching_chunks(config):
    sections = "".join(f"<h2>Rollback step {i}</h2><p>rollback the release step {i} rollback</p>" for i in range(6))
    pages = [
        page("1", "Rollback guide", sections),
        page("2", "Release notes", "<p>the deploy went out fine and nobody asked for a rollback of it this week</p>"),
        page("3", "Lunch menu", "<p>soup and bread</p>"),
    ]
    messages = [record(p) for p in pages] + [state()]
    out = list(DestinationVectors().write(config.model_dump(), catalog(["pages"], "overwrite"), iter(messages)))
    assert any(m.type == Type.STATE for m in out), "the sync committed nothing"
    searcher = Searcher.from_config(config)
    chunks = searcher.search("rollback the release", k=3, mode="fts")
    assert [h.page_id for h in chunks] == ["1", "1", "1"], f"setup: chunk answers should crowd: {chunks}"
    grouped = searcher.search("rollback the release", k=3, mode="fts", group_by="page")
    assert [g.page_id for g in grouped] == ["1", "2"], f"grouped answers: {[g.page_id for g in grouped]}"
    assert len(grouped[0].snippets) == 2 and grouped[0].webui_url.endswith("/pages/1"), grouped[0]
    hybrid = searcher.search("rollback the release", k=2, group_by="page")
    assert len({g.page_id for g in hybrid}) == len(hybrid) == 2, "hybrid grouping repeats or misses pages"


def _child(stream: str, chunk_id: str, score: float, title: str, **extra: str) -> FakeHit:
    hit = FakeHit(chunk_id.split(":")[1], chunk_id, score, stream=stream, title=title, webui_url=f"http://x/{chunk_id}")
    for name, value in {
        "container_id": "p1",
        "container_stream": "pages",
        "container_title": "Plan",
        "container_url": "http://x/pages/p1",
        **extra,
    }.items():
        setattr(hit, name, value)
    return hit


def test_a_page_whose_body_comment_and_attachment_match_is_one_answer_with_three_passages():
    hits = [
        _child("comments", "comments:c7:0", 0.9, "Plan › comment", author_name="Ann Lee"),
        FakeHit("p1", "pages:p1:0", 0.8, title="Plan", webui_url="http://x/pages/p1"),
        FakeHit("p1", "pages:p1:1", 0.75, title="Plan", webui_url="http://x/pages/p1"),
        FakeHit("p2", "pages:p2:0", 0.7, title="Other"),
        _child("attachments", "attachments:att9:0", 0.6, "Plan › budget.xlsx"),
    ]
    grouped = group_by_page(hits, k=10)
    assert [(g.stream, g.page_id) for g in grouped] == [("pages", "p1"), ("pages", "p2")], grouped
    plan = grouped[0]
    assert (plan.title, plan.webui_url) == ("Plan", "http://x/pages/p1"), "the page's own title and link come first"
    assert plan.chunk_url == "http://x/comments:c7:0", "the best passage keeps its own link (the comment)"
    origins = [plan.origin, *(s.origin for s in plan.snippets)]
    assert [o.kind for o in origins] == ["comment", "page", "attachment"], origins
    assert origins[0].label == "comment by Ann Lee" and origins[0].author == "Ann Lee", origins[0]
    assert origins[2].label == "attachment budget.xlsx" and origins[2].attachment == "budget.xlsx", origins[2]
    assert [s.chunk_id for s in plan.snippets] == ["pages:p1:0", "attachments:att9:0"], (
        "a passage from another source goes before more of the same page"
    )
    assert plan.to_dict()["origin"]["kind"] == "comment", "the origin is a field of the JSON answer too"


def test_a_child_without_container_columns_stands_alone_as_before():
    orphan = FakeHit("c1", "comments:c1:0", 0.9, stream="comments", title="Plan › inline comment")
    (grouped,) = group_by_page([orphan], k=5)
    assert (grouped.stream, grouped.page_id) == ("comments", "c1") and grouped.origin.kind == "inline_comment"
