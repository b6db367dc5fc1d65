"""tree_reconcile's decisions, pure (containers and restrictions given by fakes): which pages keep a path through
their containers, which fail closed, and the warning that names the cause."""

from __future__ import annotations

from source_confluence.components import TreeContainer, container_chain, reconcile

FOLDERS = {
    "F1": TreeContainer("F1", "folder", "Team", "P1", "page"),
    "F2": TreeContainer("F2", "folder", "Leads", "F1", "folder"),
    "LOOP": TreeContainer("LOOP", "folder", "Loop", "LOOP", "folder"),
}


def _read(kind: str, container_id: str) -> TreeContainer | str:
    return FOLDERS.get(container_id) or f"read {kind} {container_id}: HTTP 404"


def _restriction(refused: set[str] = frozenset()):  # type: ignore[assignment]
    asked: list[str] = []

    def restriction(container_id: str) -> str | None:
        asked.append(container_id)
        return f"HTTP 403 on {container_id}" if container_id in refused else None

    return restriction, asked


def test_containers_v1_lists_or_leaves_out_both_become_levels_of_the_path() -> None:
    parent_of = {"P1": None, "A": "F2", "B": "P1", "C": "A"}  # A: v1 lists F2; B: v1 leaves F1 out
    v2 = {"P1": (None, "page"), "A": ("F2", "folder"), "B": ("F1", "folder"), "C": ("A", "page")}
    restriction, asked = _restriction()
    warnings = reconcile(parent_of, v2, "ENG", _read, restriction)
    assert not warnings, warnings
    assert parent_of == {"P1": None, "A": "F2", "F2": "F1", "F1": "P1", "B": "F1", "C": "A"}, parent_of
    assert sorted(asked) == ["F1", "F2"], f"each container's restriction read once: {asked}"


def test_a_v1_parent_that_is_neither_the_container_nor_the_page_above_it_fails_closed() -> None:
    parent_of = {"P1": None, "P9": None, "A": "P9"}
    restriction, _ = _restriction()
    warnings = reconcile(parent_of, {"A": ("F2", "folder")}, "ENG", _read, restriction)
    assert "A" not in parent_of, "the page leaves the tree"
    assert len(warnings) == 1 and "folder F2 by REST v2 but below P9 by the v1 ancestors" in warnings[0][0], warnings


def test_an_unreadable_container_or_restriction_fails_closed_and_is_named() -> None:
    parent_of = {"P1": None, "A": "P1", "B": "P1", "D": "P1"}
    v2 = {"A": ("GONE", "folder"), "B": ("F2", "folder"), "D": ("LOOP", "folder")}
    restriction, _ = _restriction({"F1"})
    warnings = dict(reconcile(parent_of, v2, "ENG", _read, restriction))
    assert not {"A", "B", "D", "F1", "GONE", "LOOP"} & set(parent_of), f"they leave the tree: {parent_of}"
    sentences = " | ".join(warnings)
    assert "sit below folder GONE: read folder GONE: HTTP 404" in sentences, sentences
    assert "sit below folder F1, whose read restriction is unknown: HTTP 403 on F1" in sentences, sentences
    assert "sit below folder LOOP: its parents form a cycle" in sentences, sentences


def test_the_chain_stops_at_the_first_page() -> None:
    chain = container_chain("folder", "F2", _read)
    assert [c.id for c in chain] == ["F2", "F1"] and chain[-1].parent_id == "P1", chain  # type: ignore[union-attr]
