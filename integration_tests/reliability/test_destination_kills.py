"""Guarantee 2: a `write` SIGKILLed at any named failpoint loses nothing.

Before the kill point's commit: the previous snapshot answers the same searches with the same hits. From
`after_commit` on: the new snapshot is live and complete. Either way the ledger stays readable, and the next sync
succeeds and holds exactly the new site's chunks (rows equal to those of the same two syncs without a kill).
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from integration_tests.reliability.helpers import (
    assert_write_succeeded,
    destination_config,
    destination_write,
    generation_records,
    ledger_history,
    messages_file,
    searcher,
    site_records,
    snapshot_fingerprint,
    title_generation,
    write_in_process,
)
from testkit.confluence_stand_in import synthetic_site

SEED = 5
# 120 pages -> ~600 chunks -> 3 embedding batches of 256 rows, so ":n" can hit a later batch.
RECORDS = site_records(synthetic_site(n_pages=120, n_spaces=3, seed=SEED))
OLD = generation_records(RECORDS, "A")
NEW = generation_records(RECORDS, "B", drop_every=9, add=4)  # every title/body edited, 13 deleted, 4 added
QUERIES = [
    "deployments",
    "how to roll back a release",
    "database failover",
    "Added page",
    "gen-A",
    "gen-B",
    "kubernetes cluster upgrade",
    "on-call handbook",
]
MODES = ("hybrid", "vector", "fts")
AFTER_COMMIT = {"after_commit", "after_ledger", "housekeeping", "after_cleanup"}


def _points() -> list[tuple[str, bool]]:
    """The 10 kill points: (DESTINATION_VECTORS_FAILPOINT value, slow?), the :n picked by a seeded draw."""
    rng = random.Random(SEED)
    return [
        ("record", True),
        (f"record:{rng.randint(2, len(NEW) - 1)}", True),
        ("embed", True),
        (f"embed:{rng.randint(2, 3)}", True),
        (f"stage:{rng.randint(2, 3)}", False),
        ("before_commit", False),
        ("after_commit", False),
        ("after_ledger", True),
        ("housekeeping", True),
        ("after_cleanup", True),
    ]


@dataclass(frozen=True)
class Baseline:
    folder: Path  # a finished first sync of OLD, copied for each kill
    old_fingerprint: list[tuple[str, str]]
    new_fingerprint: list[tuple[str, str]]  # OLD then NEW synced without a kill
    old_answers: dict[tuple[str, str], list[dict[str, Any]]]
    new_answers: dict[tuple[str, str], list[dict[str, Any]]]
    new_messages: Path


def _answers(config: dict[str, Any]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    search = searcher(config)
    return {
        (mode, query): [hit.to_dict() for hit in search.search(query, k=8, mode=mode, visibility="all")]
        for mode in MODES
        for query in QUERIES
    }


def _new_snapshot_problems(
    answers: dict[tuple[str, str], list[dict[str, Any]]], reference: dict[tuple[str, str], list[dict[str, Any]]]
) -> list[str]:
    """What makes `answers` not those of a complete generation-B snapshot: an empty answer, a hit of another
    generation, or vector scores that differ from the unkilled reference. (Hit order is not compared across two
    tables: equal-score hits, and so RRF ranks, follow the physical row order, which merge_insert does not fix.)"""
    problems = []
    for key, hits in answers.items():
        if not hits:
            problems.append(f"{key}: no hits")
        wrong = sorted({str(title_generation(hit["title"])) for hit in hits} - {"B"})
        if wrong:
            problems.append(f"{key}: hits of generation {wrong}")
        if key[0] == "vector" and [round(h["score"], 4) for h in hits] != [
            round(h["score"], 4) for h in reference[key]
        ]:
            problems.append(f"{key}: vector scores differ from the unkilled sync")
    return problems


def _synced(folder: Path, records: list[dict[str, Any]], what: str) -> dict[str, Any]:
    config = destination_config(folder)
    run = destination_write(config, messages_file(records, folder / "inputs" / "messages.jsonl"), folder)
    assert_write_succeeded(run, what)
    return config


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    old_config = _synced(tmp_path_factory.mktemp("baseline"), OLD, "the first sync (generation A)")
    old_fingerprint, old_answers = snapshot_fingerprint(old_config), _answers(old_config)
    reference = tmp_path_factory.mktemp("reference")
    shutil.copytree(old_config["lancedb_uri"], destination_config(reference)["lancedb_uri"])
    new_config = _synced(reference, NEW, "the second sync (generation B) without a kill")
    new_messages = messages_file(NEW, tmp_path_factory.mktemp("messages") / "new.jsonl")
    assert all(old_answers.values()), "a query found nothing in the first snapshot; the comparison proves less"
    return Baseline(
        Path(old_config["lancedb_uri"]),
        old_fingerprint,
        snapshot_fingerprint(new_config),
        old_answers,
        _answers(new_config),
        new_messages,
    )


@pytest.mark.parametrize(
    "point", [pytest.param(p, marks=[pytest.mark.slow] if slow else [], id=p) for p, slow in _points()]
)
def test_sigkill_at_failpoint_keeps_a_whole_snapshot_and_the_next_sync_completes(
    point: str, baseline: Baseline, tmp_path: Path
) -> None:
    config = destination_config(tmp_path)
    shutil.copytree(baseline.folder, config["lancedb_uri"])
    assert snapshot_fingerprint(config) == baseline.old_fingerprint, "copying the first sync changed it"

    killed = destination_write(config, baseline.new_messages, tmp_path, failpoint=point)
    assert killed.killed_by == 9, f"{point}: the write was not SIGKILLed at the failpoint\n{killed.tail()}"
    assert not killed.states(), f"{point}: a STATE was released by a sync that never finished"

    name = point.partition(":")[0]
    if name in AFTER_COMMIT:
        assert snapshot_fingerprint(config) == baseline.new_fingerprint, (
            f"{point}: killed after the commit, the live snapshot is not exactly generation B"
        )
        problems = _new_snapshot_problems(_answers(config), baseline.new_answers)
        assert not problems, f"{point}: the new snapshot does not answer as a complete one: {problems[:4]}"
    else:
        assert snapshot_fingerprint(config) == baseline.old_fingerprint, (
            f"{point}: killed before the commit, the live snapshot is no longer generation A"
        )
        answers = _answers(config)  # the same table as before the kill: exactly the same hits, in the same order
        changed = [key for key in baseline.old_answers if answers[key] != baseline.old_answers[key]]
        assert not changed, f"{point}: the previous snapshot answers differently after the kill: {changed[:4]}"

    history = ledger_history(config)
    assert history, f"{point}: the ledger is unreadable or empty after the kill"
    killed_status = "succeeded" if name in {"after_ledger", "housekeeping", "after_cleanup"} else "running"
    assert history[0]["status"] == killed_status, (
        f"{point}: the killed run is recorded as {history[0]['status']!r}, expected {killed_status!r}"
    )

    write_in_process(config, NEW)  # the next sync (in this process: the kill above is the subprocess that matters)
    assert snapshot_fingerprint(config) == baseline.new_fingerprint, (
        f"{point}: after the recovery sync the live rows are not exactly generation B's chunks"
    )
    problems = _new_snapshot_problems(_answers(config), baseline.new_answers)
    assert not problems, f"{point}: after recovery the snapshot does not answer as a complete one: {problems[:4]}"
    history = ledger_history(config)
    statuses = [row["status"] for row in history]
    assert statuses[0] == "succeeded", f"{point}: the recovery sync is recorded as {statuses[0]!r}"
    assert "running" not in statuses, f"{point}: a run is still 'running' in the ledger: {statuses}"
    if killed_status == "running":
        assert statuses[1] == "interrupted", f"{point}: the killed run is {statuses[1]!r}, not 'interrupted'"
