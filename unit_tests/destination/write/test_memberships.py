"""The writer's side of the memberships stream: records checked, one person once, a pass stored in step with the
chunk commit (or the live version when nothing else is committed), an unfinished pass changing nothing."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from destination_vectors.store.memberships import Member, MembershipTable, generation_for
from destination_vectors.store.table import ChunkStore
from destination_vectors.write.memberships import Memberships, member_from_record
from destination_vectors.write.records import BadRecord


def test_a_record_becomes_a_member_with_sorted_unique_groups() -> None:
    member = member_from_record(
        {"user_id": "u1", "groups": ["hr", "eng", "hr", ""], "email": " Ann@Example.com ", "display_name": "Ann"}
    )
    assert member == Member("u1", ("eng", "hr"), "Ann@Example.com", "Ann", "")
    assert member_from_record({"user_id": "u2", "email": "  "}).email is None, "a blank address is no address"


@pytest.mark.parametrize(
    "record, reason",
    [
        ({"groups": ["eng"]}, "without user_id"),
        ({"user_id": "  "}, "without user_id"),
        ({"user_id": "u1", "groups": "eng"}, "not a list of group names"),
        ({"user_id": "u1", "groups": [1, 2]}, "not a list of group names"),
    ],
)
def test_a_record_that_names_nobody_or_no_groups_is_bad(record: dict, reason: str) -> None:
    with pytest.raises(BadRecord, match=reason):
        member_from_record(record)


def test_a_pass_is_stored_for_the_coming_commit_or_the_live_version(tmp_path: Path, caplog) -> None:
    table = MembershipTable(ChunkStore(str(tmp_path / "lancedb"), "chunks"))
    memberships = Memberships(table)
    memberships.add({"user_id": "u1", "groups": ["eng"]})
    with caplog.at_level(logging.WARNING):
        memberships.add({"user_id": "u1", "groups": ["hr"]})
    assert "came twice" in caplog.text
    generation = memberships.store(live_version=4, commit=True)
    assert (generation.valid_from, generation.people) == (5, 1), "read from the version the commit makes"
    memberships.landed(generation, 6)  # the commit made another version: the generation follows it
    dataset = table.dataset()
    assert generation_for(table.generations(dataset), 5) is None and generation_for(table.generations(dataset), 6)
    rows = table.lookup(dataset, generation_for(table.generations(dataset), 6), "user_id", "u1")
    assert [row["groups"] for row in rows] == [["hr"]], "the later record of a person sent twice is kept"

    later = Memberships(table)
    later.finish(complete=True, synced=True, live_version=6)  # no chunk commit: applies from the live version
    assert later.written and generation_for(later.table.generations(table.dataset()), 6).people == 0


def test_an_unfinished_pass_keeps_the_previous_one(tmp_path: Path, caplog) -> None:
    table = MembershipTable(ChunkStore(str(tmp_path / "lancedb"), "chunks"))
    first = Memberships(table)
    first.add({"user_id": "u1", "groups": ["eng"]})
    first.store(live_version=1)
    unfinished = Memberships(table)
    unfinished.add({"user_id": "u1", "groups": []})
    with caplog.at_level(logging.WARNING):
        unfinished.finish(complete=False, synced=True, live_version=1)
    assert "did not finish" in caplog.text and not unfinished.written
    assert generation_for(table.generations(table.dataset()), 1).number == 1, "a new generation was written"
