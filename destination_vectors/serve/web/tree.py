"""A space's pages as the tree Confluence shows, from each page's ancestors (ids and titles, root first).

An ancestor that is not itself a page in the listing (a folder, or a page outside the index) becomes a node without
a link of its own, titled as the page's breadcrumb names it, so its children still sit where they belong. Blog posts
have no parent: they are listed apart by the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from destination_vectors.serve.inventory import PageEntry


@dataclass
class Node:
    node_id: str
    title: str
    page: PageEntry | None = None  # None: a folder or an ancestor not in the index
    children: list[Node] = field(default_factory=list)

    def sort(self) -> None:
        self.children.sort(key=lambda node: (node.title.casefold(), node.node_id))
        for child in self.children:
            child.sort()


def page_tree(pages: Sequence[PageEntry]) -> list[Node]:
    """Roots of the tree, sorted by title at every level; every page appears exactly once."""
    nodes: dict[str, Node] = {page.page_id: Node(page.page_id, page.title, page) for page in pages}
    roots: list[Node] = []
    attached: set[str] = set()

    def parent_of(page: PageEntry) -> Node | None:
        parent: Node | None = None
        titles = page.ancestors if len(page.ancestors) == len(page.ancestor_ids) else []
        for position, ancestor_id in enumerate(page.ancestor_ids):
            node = nodes.get(ancestor_id)
            if node is None:
                title = titles[position] if titles else f"(page {ancestor_id})"
                node = nodes[ancestor_id] = Node(ancestor_id, title)
            if ancestor_id not in attached:
                attached.add(ancestor_id)
                (parent.children if parent else roots).append(node)
            parent = node
        return parent

    for page in pages:
        if page.page_id in attached:
            continue
        parent = parent_of(page)
        if page.page_id in attached:  # a page listed as its own ancestor: keep it once
            continue
        attached.add(page.page_id)
        (parent.children if parent else roots).append(nodes[page.page_id])
    holder = Node("", "", children=roots)
    holder.sort()
    return holder.children
