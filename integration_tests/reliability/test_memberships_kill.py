"""Memberships stay in step with the chunks when a sync dies between writing them and committing the pages: the
memberships a killed sync wrote are never read, not even when a later sync that brings no memberships commits the
very chunk version they were stamped for."""

from __future__ import annotations

import json
from pathlib import Path

from airbyte_cdk.models import AirbyteMessageSerializer

from destination_vectors.read.access import Principal
from destination_vectors.store.memberships import MembershipTable
from destination_vectors.store.table import ChunkStore
from integration_tests.reliability.helpers import destination_command, parsed_config, searcher
from testkit.indexes import HASH_MODEL
from testkit.messages import catalog, page, record, state
from testkit.processes import write_json
from testkit.records import catalog_dict

ANN = Principal(account_id="ann")


def _messages(version: int, ann_groups: list[str] | None) -> list:
    """Page 1 (for eng) at `version` (new words each time, so a commit is due), plus ann's memberships if given."""
    body = f"<p>offsite budget, revision {version}</p>"
    messages = [record(page("1", "Budget", body, version=version, readers=["group:eng"]))]
    if ann_groups is not None:
        messages.append(record({"user_id": "ann", "groups": ann_groups}, "memberships"))
    return [*messages, *(state(s) for s in (["pages", "memberships"] if ann_groups is not None else ["pages"]))]


def _write(config: dict, messages: list) -> None:
    from destination_vectors.destination import DestinationVectors

    streams = sorted({m.record.stream for m in messages if m.record is not None})
    list(DestinationVectors().write(config, catalog(streams), iter(messages)))


def _ann_finds_the_budget(config: dict) -> bool:
    return any(hit.page_id == "1" for hit in searcher(config).search("offsite budget", k=5, principal=ANN))


def test_memberships_of_a_sync_killed_before_its_commit_are_never_read(tmp_path: Path) -> None:
    config = {"lancedb_uri": str(tmp_path / "lancedb"), "embedding": {"model": HASH_MODEL}}
    _write(config, _messages(1, ["eng"]))
    assert _ann_finds_the_budget(config), "ann is in eng"
    live = ChunkStore.from_config(parsed_config(config)).snapshot().version  # the commit, then housekeeping's
    table = MembershipTable(ChunkStore.from_config(parsed_config(config)))
    first = [g.valid_from for g in table.generations(table.dataset())]

    messages = tmp_path / "inputs" / "killed.jsonl"
    messages.parent.mkdir(parents=True)
    lines = [json.dumps(AirbyteMessageSerializer.dump(m)) for m in _messages(2, [])]  # ann leaves eng ...
    messages.write_text("\n".join(lines) + "\n")
    killed = destination_command(
        [
            "write",
            "--config",
            str(write_json(tmp_path / "inputs" / "config.json", config)),
            "--catalog",
            str(write_json(tmp_path / "inputs" / "catalog.json", catalog_dict(["pages", "memberships"]))),
        ],
        tmp_path,
        stdin_path=messages,
        env={"DESTINATION_VECTORS_FAILPOINT": "before_commit"},  # ... but the sync dies before its commit
    )
    assert killed.returncode != 0, f"the failpoint did not stop the write\n{killed.tail()}"
    assert [g.valid_from for g in table.generations(table.dataset())] == [*first, live + 1], "nothing written"
    assert _ann_finds_the_budget(config), "the killed sync's memberships were read with the old chunks"

    _write(config, _messages(3, None))  # pages only: commits chunk version live + 1, the killed sync's stamp
    assert ChunkStore.from_config(parsed_config(config)).snapshot().version >= live + 1
    assert _ann_finds_the_budget(config), "a later commit made the killed sync's memberships live"
    assert [g.valid_from for g in table.generations(table.dataset())] == first, "the orphan generation was kept"
