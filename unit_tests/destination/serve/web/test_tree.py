"""A space's pages as a tree from their ancestors, with folders and missing ancestors as unlinked nodes."""

from __future__ import annotations

from destination_vectors.serve.inventory import PageEntry
from destination_vectors.serve.web.tree import Node, page_tree


def _page(page_id: str, title: str, ancestors: list[tuple[str, str]] = ()) -> PageEntry:
    return PageEntry(
        "pages",
        page_id,
        title,
        "ENG",
        f"https://wiki/{page_id}",
        "2026-01-01",
        ancestors=[t for _, t in ancestors],
        ancestor_ids=[i for i, _ in ancestors],
    )


def _shape(nodes: list[Node]) -> list:
    return [(n.title, n.page is not None, _shape(n.children)) for n in nodes]


def test_children_sit_under_their_parents_whatever_the_order() -> None:
    pages = [
        _page("3", "Rollback", [("1", "Home"), ("2", "Deploys")]),
        _page("1", "Home"),
        _page("2", "Deploys", [("1", "Home")]),
        _page("4", "Another root"),
    ]
    assert _shape(page_tree(pages)) == [
        ("Another root", True, []),
        ("Home", True, [("Deploys", True, [("Rollback", True, [])])]),
    ]


def test_a_folder_or_missing_ancestor_is_an_unlinked_node() -> None:
    pages = [_page("5", "Quarterly plan", [("1", "Home"), ("90", "Planning folder")]), _page("1", "Home")]
    assert _shape(page_tree(pages)) == [("Home", True, [("Planning folder", False, [("Quarterly plan", True, [])])])]


def test_every_page_appears_once_even_with_inconsistent_ancestors() -> None:
    pages = [_page("1", "Loop", [("1", "Loop")]), _page("2", "B", [("1", "Loop")]), _page("7", "Odd", [("8", "")])]
    seen: list[str] = []

    def walk(nodes: list[Node]) -> None:
        for node in nodes:
            seen.append(node.node_id)
            walk(node.children)

    walk(page_tree(pages))
    assert sorted(seen) == ["1", "2", "7", "8"], seen
