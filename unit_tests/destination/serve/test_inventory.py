"""What was synced, summarised: spaces, pages with their children counted, facets."""

from __future__ import annotations

from destination_vectors.serve.inventory import PageEntry, Summary, _count_children


def _entry(stream: str, page_id: str, space: str, **extra) -> PageEntry:
    return PageEntry(
        stream, page_id, f"title {page_id}", space, f"https://wiki/{page_id}", "2026-01-0" + page_id[-1], **extra
    )


def test_spaces_count_pages_not_children_and_children_count_on_their_page() -> None:
    entries = [
        _entry("pages", "1", "ENG", chunks=3, labels=["runbook"]),
        _entry("blog_posts", "2", "ENG", chunks=1),
        _entry("comments", "3", "ENG", chunks=1, container_url="https://wiki/1"),
        _entry("attachments", "4", "ENG", chunks=2, container_url="https://wiki/1"),
        _entry("pages", "5", "HR", chunks=1),
    ]
    _count_children(entries)
    summary = Summary(7, None, entries, {"ENG": "Engineering"})
    spaces = {space["space_key"]: space for space in summary.spaces()}
    assert spaces["ENG"] == {
        "space_key": "ENG",
        "space_name": "Engineering",
        "pages": 2,
        "chunks": 7,
        "updated_at": "2026-01-04",
    }
    assert (entries[0].comments, entries[0].attachments) == (1, 1), entries[0]
    assert [e.page_id for e in summary.pages_of("ENG")] == ["1", "2"], "children are listed as pages"
    assert summary.page("3") is None and summary.page("1") is entries[0], "a comment found as a page to search below"
    assert summary.facets() == {
        "spaces": ["ENG", "HR"],
        "streams": ["attachments", "blog_posts", "comments", "pages"],
        "labels": ["runbook"],
    }
