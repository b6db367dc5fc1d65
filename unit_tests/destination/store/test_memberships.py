"""The memberships table: generations in step with the chunk table's versions, one commit per write, orphans dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from destination_vectors.store.memberships import (
    Generation,
    Member,
    MembershipTable,
    email_key,
    generation_for,
)
from destination_vectors.store.table import ChunkStore


@pytest.fixture
def table(tmp_path: Path) -> MembershipTable:
    return MembershipTable(ChunkStore(str(tmp_path / "lancedb"), "chunks"))


ANN = Member("ann", ("eng", "hr"), "Ann@Example.com", "Ann A")
BO = Member("bo", ("eng",), None, "Bo B")


def groups_at(table: MembershipTable, chunk_version: int, user: str) -> list[str] | None:
    dataset = table.dataset()
    generation = generation_for(table.generations(dataset), chunk_version)
    if generation is None:
        return None
    rows = table.lookup(dataset, generation, "user_id", user)
    return sorted(g for row in rows for g in row["groups"])


def test_a_generation_applies_from_its_chunk_version_only(table: MembershipTable) -> None:
    assert table.dataset() is None, "no table before the first write"
    first = table.replace([ANN, BO], valid_from=1, live_version=None)
    assert first == Generation(1, 1, 2)
    assert groups_at(table, 0, "ann") is None, "a chunk version before the first generation has no memberships"
    assert groups_at(table, 1, "ann") == ["eng", "hr"]
    table.replace([Member("ann", ("eng",))], valid_from=3, live_version=2)
    assert groups_at(table, 2, "ann") == ["eng", "hr"], "the old chunk version keeps the groups it was written with"
    assert groups_at(table, 3, "ann") == ["eng"], "someone who left hr loses it from the new commit on"
    assert groups_at(table, 3, "bo") == [], "someone no longer listed has no groups"
    assert table.replace([], valid_from=4, live_version=3) == Generation(3, 4, 0)
    assert groups_at(table, 4, "ann") == [], "a pass that listed nobody is a generation too: every group is gone"


def test_each_write_is_one_commit_and_keeps_a_few_generations(table: MembershipTable) -> None:
    for version in range(1, 7):
        table.replace([Member("ann", (f"g{version}",))], valid_from=version, live_version=version - 1)
    dataset = table.dataset()
    assert dataset.version == 6, "one commit per write"
    assert [g.number for g in table.generations(dataset)] == [4, 5, 6], "the newest three generations are kept"
    table.cleanup()
    assert len(table.dataset().versions()) == 1, "cleanup leaves the newest version only"


def test_a_generation_whose_commit_never_landed_is_dropped(table: MembershipTable) -> None:
    table.replace([ANN], valid_from=1, live_version=None)
    table.replace([Member("ann", ("leaked",))], valid_from=2, live_version=1)  # the chunk commit then failed
    assert table.drop_orphans(live_version=1) == 1
    assert groups_at(table, 2, "ann") == ["eng", "hr"], "a later commit (version 2) must not read the orphan"
    assert table.drop_orphans(live_version=1) == 0, "nothing to drop: no second commit"
    table.replace([Member("ann", ("ops",))], valid_from=2, live_version=1)
    assert groups_at(table, 2, "ann") == ["ops"]


def test_restamp_moves_a_generation_to_the_version_its_commit_made(table: MembershipTable) -> None:
    generation = table.replace([ANN], valid_from=5, live_version=4)
    table.restamp(generation, 7)
    assert groups_at(table, 6, "ann") is None and groups_at(table, 7, "ann") == ["eng", "hr"]


def test_emails_are_looked_up_without_case(table: MembershipTable) -> None:
    table.replace([ANN, BO], valid_from=1, live_version=None)
    dataset = table.dataset()
    generation = generation_for(table.generations(dataset), 1)
    assert table.has_emails(dataset, generation)
    rows = table.lookup(dataset, generation, "email_key", email_key("  ann@EXAMPLE.com "))
    assert [row["user_id"] for row in rows] == ["ann"] and rows[0]["email"] == "Ann@Example.com"
    table.replace([BO], valid_from=2, live_version=1)
    dataset = table.dataset()
    assert not table.has_emails(dataset, generation_for(table.generations(dataset), 2)), "bo has no e-mail"


def test_quotes_in_ids_are_values_never_sql(table: MembershipTable) -> None:
    table.replace([Member("o'brien", ("it's",))], valid_from=1, live_version=None)
    assert groups_at(table, 1, "o'brien") == ["it's"]
    assert groups_at(table, 1, "x' OR true OR 'x") == []
