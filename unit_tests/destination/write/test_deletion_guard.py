"""The mass-deletion guard, in-process with the hash embedder over real LanceDB and DuckDB files: what is refused,
what is allowed and how, what the ledger records, and what the index looks like afterwards."""

from __future__ import annotations

import pyarrow as pa
import pytest
from airbyte_cdk.models import FailureType, Type
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from destination_vectors.config import MassDeletionConfig
from destination_vectors.destination import DestinationVectors
from destination_vectors.read.search import Searcher
from destination_vectors.store.ledger import Ledger, MassDeletion
from destination_vectors.store.table import ChunkStore
from destination_vectors.write.deletion_guard import SpaceListing, judge, planned_deletions
from testkit.messages import catalog, page, record, state


def _pages(space: str, count: int, start: int) -> list[dict]:
    return [
        page(str(start + i), f"{space} page {i}", f"<p>{space} procedure {i} names marker{start + i}.</p>", space=space)
        for i in range(count)
    ]


ENG = _pages("ENG", 30, 1000)
OPS = _pages("OPS", 24, 2000)
TINY = _pages("TINY", 3, 3000)


def _space(key: str, space_keys: list[str] | None = None) -> dict:
    data = {"id": key, "key": key, "name": key, "type": "global"}
    if space_keys is not None:
        data["selection"] = {"space_keys": space_keys, "include_personal_spaces": True}
    return data


def _write(config, pages, *, spaces=None, mode="overwrite", allow_once=None, **refresh):
    streams = ["pages"] if spaces is None else ["spaces", "pages"]
    messages = [record(p) for p in pages] + [state("pages")]
    if spaces is not None:
        messages = [record(s, "spaces") for s in spaces] + [state("spaces"), *messages]
    out = DestinationVectors(allow_once=allow_once).write(
        config.model_dump(mode="json"), catalog(streams, mode, **refresh), iter(messages)
    )
    return [m for m in out if m.type == Type.STATE]


def _live(config) -> set[str]:
    table = ChunkStore(config.lancedb_uri, config.table_name).open_live()
    return set(table.to_arrow()["page_id"].to_pylist())


def _with(config, **mass_deletion):
    return config.model_copy(update={"mass_deletion": MassDeletionConfig(**mass_deletion)})


def _refused(config, pages, **kwargs) -> str:
    with pytest.raises(AirbyteTracedException) as error:
        _write(config, pages, **kwargs)
    assert error.value.failure_type == FailureType.config_error, "a refusal needs the user: a config error"
    return error.value.message


def test_a_sync_that_lost_90_percent_of_a_space_is_refused_and_changes_nothing(config):
    _write(config, ENG + OPS + TINY)
    store = ChunkStore(config.lancedb_uri, config.table_name)
    version, before = store.open_live().version, _live(config)
    message = _refused(config, ENG[:3] + OPS + TINY)
    ledger = Ledger(config.resolved_ledger_path)
    run = ledger.history(1)[0]
    assert "27 of 30 pages of space ENG" in message and f'allow_once to "{run["run_id"]}"' in message, message
    assert "allow_always" in message and "--allow-mass-deletion" in message, message
    assert store.open_live().version == version and _live(config) == before, "a refusal must not touch the index"
    assert not store._exists(store.staging_name), "a refusal must drop its staging table"
    hits = Searcher.from_config(config).search("marker1010", k=3, mode="fts", visibility="all")
    assert hits and hits[0].page_id == "1010", "a page the listing lost must still be found"
    assert run["status"] == "refused" and run["table_version"] is None, run
    rows = ledger.mass_deletions(run_id=run["run_id"])
    assert [
        (
            r["decision"],
            r["allowed_by"],
            r["stream"],
            r["space_key"],
            r["live_pages"],
            r["deleted_pages"],
            r["vanished"],
        )
        for r in rows
    ] == [("refused", None, "pages", "ENG", 30, 27, False)], rows


def test_allow_once_commits_the_refused_deletion_once(config):
    _write(config, ENG + OPS)
    _refused(config, ENG[:3] + OPS)
    ledger = Ledger(config.resolved_ledger_path)
    refused_run = ledger.history(1)[0]["run_id"]
    allowed = _with(config, allow_once=refused_run)
    assert len(_write(allowed, ENG[:3] + OPS)) == 1, "the allowed sync must commit and release its STATE"
    assert _live(config) == {p["id"] for p in ENG[:3] + OPS}, "the allowed deletion must be committed"
    run = ledger.history(1)[0]
    assert run["status"] == "succeeded" and run["pages_deleted"] == 27, run
    rows = ledger.mass_deletions(run_id=run["run_id"])
    assert [(r["decision"], r["allowed_by"], r["deleted_pages"]) for r in rows] == [
        ("allowed", f"allow_once {refused_run}", 27)
    ]
    message = _refused(allowed, ENG[:3] + OPS[:2])  # the same id again, for another deletion: spent
    assert f"run {run['run_id']} used it already" in message, message
    assert {p["id"] for p in OPS} <= _live(config)


def test_allow_once_covers_only_the_spaces_the_refused_run_named(config):
    _write(config, ENG + OPS)
    _refused(config, ENG[:3] + OPS)
    refused_run = Ledger(config.resolved_ledger_path).history(1)[0]["run_id"]
    message = _refused(_with(config, allow_once=refused_run), ENG[:3] + OPS[:2])
    assert f"run {refused_run} did not refuse deletions in pages of space OPS" in message, message
    assert "22 of 24 pages of space OPS" in message and "27 of 30 pages of space ENG" in message, message


def test_a_refusal_no_longer_stands_once_a_sync_succeeded_after_it(config):
    _write(config, ENG)
    _refused(config, ENG[:3])
    ledger = Ledger(config.resolved_ledger_path)
    refused_run = ledger.history(1)[0]["run_id"]
    _write(config, ENG)  # the listing recovered
    recovered = ledger.history(1)[0]["run_id"]
    message = _refused(_with(config, allow_once=refused_run), ENG[:3])
    assert f"run {recovered} succeeded after the refusal" in message, message


def test_the_write_flag_allows_once_like_the_config(config):
    _write(config, ENG)
    _refused(config, ENG[:3])
    refused_run = Ledger(config.resolved_ledger_path).history(1)[0]["run_id"]
    _write(config, ENG[:3], allow_once=refused_run)
    assert _live(config) == {p["id"] for p in ENG[:3]}


def test_allow_always_commits_and_records_every_mass_deletion(config):
    _write(config, ENG + OPS)
    always = _with(config, allow_always=True)
    _write(always, ENG[:3] + OPS)
    assert _live(config) == {p["id"] for p in ENG[:3] + OPS}
    ledger = Ledger(config.resolved_ledger_path)
    rows = ledger.mass_deletions(run_id=ledger.history(1)[0]["run_id"])
    assert [(r["decision"], r["allowed_by"], r["space_key"]) for r in rows] == [("allowed", "allow_always", "ENG")]


def test_small_spaces_and_small_shares_delete_normally(config):
    _write(config, ENG + OPS + TINY)
    kept = ENG[:19] + OPS[:2] + OPS[12:]  # ENG loses 11 of 30 (< 20 pages); OPS 10 of 24 (< half); TINY all 3
    assert len(_write(config, kept)) == 1
    assert _live(config) == {p["id"] for p in kept}, "ordinary deletions must be committed"
    ledger = Ledger(config.resolved_ledger_path)
    assert ledger.history(1)[0]["pages_deleted"] == 24 and ledger.mass_deletions() == []


def test_a_vanished_space_is_refused_and_a_space_dropped_from_space_keys_is_emptied(config):
    spaces = [_space("ENG", []), _space("OPS", []), _space("TINY", [])]
    _write(config, ENG + OPS + TINY, spaces=spaces)
    message = _refused(config, ENG + TINY, spaces=[spaces[0], spaces[2]])
    assert "all 24 pages of space OPS (the space is missing from the source's listing)" in message, message
    ledger = Ledger(config.resolved_ledger_path)
    assert ledger.mass_deletions(limit=1)[0]["vanished"] is True
    message = _refused(config, ENG + TINY)  # without the spaces stream the destination cannot tell: guarded
    assert "space OPS (the space is missing" in message, message
    still_named = [_space("ENG", ["ENG", "OPS", "TINY"]), _space("TINY", ["ENG", "OPS", "TINY"])]
    message = _refused(config, ENG + TINY, spaces=still_named)  # named, but not listed: access lost
    assert "space OPS" in message, message
    deselected = [_space("ENG", ["ENG", "TINY"]), _space("TINY", ["ENG", "TINY"])]
    assert len(_write(config, ENG + TINY, spaces=deselected)) == 2, "both STATEs (spaces, pages) released"
    assert _live(config) == {p["id"] for p in ENG + TINY}, "a space dropped from space_keys must be emptied"
    rows = ledger.mass_deletions(run_id=ledger.history(1)[0]["run_id"])
    assert [(r["decision"], r["allowed_by"], r["space_key"]) for r in rows] == [("allowed", "space_keys", "OPS")]


def test_a_truncating_refresh_is_guarded_like_overwrite(config):
    _write(config, ENG, mode="append_dedup")
    message = _refused(config, ENG[:3], mode="append_dedup", generation_id=3, minimum_generation_id=3)
    assert "27 of 30 pages of space ENG" in message
    assert _live(config) == {p["id"] for p in ENG}


def test_the_first_sync_and_append_streams_are_never_refused(config):
    assert len(_write(config, ENG[:3])) == 1
    assert len(_write(config, ENG[:1], mode="append")) == 1
    assert _live(config) == {p["id"] for p in ENG[:3]}


# -- the measure and the decision, on their own ----------------------------------------------------------------------
def _live_table(rows: list[tuple[str, str, str, str | None, str | None]]) -> pa.Table:
    names = ["stream", "page_id", "space_key", "webui_url", "container_url"]
    return pa.table({name: [row[i] for row in rows] for i, name in enumerate(names)})


def test_comments_that_go_with_their_page_are_not_judged_on_their_own():
    live = [("pages", "p1", "ENG", "u/p1", None), ("pages", "p2", "ENG", "u/p2", None)]
    live += [("comments", f"c{i}", "ENG", f"u/c{i}", "u/p1") for i in range(30)]  # p1's comments
    live += [("comments", f"d{i}", "ENG", f"u/d{i}", "u/p2") for i in range(5)]
    deletions = planned_deletions(
        _live_table(live), {"pages": {"p2"}, "comments": {f"d{i}" for i in range(5)}}, {"ENG"}, None
    )
    comments = next(d for d in deletions if d.stream == "comments")
    assert (comments.live_pages, comments.deleted_pages, comments.followed_pages) == (35, 30, 30)
    verdict = judge(deletions, MassDeletionConfig(), None)
    assert not verdict.refused, f"30 comments of one deleted page are no mass deletion: {verdict}"
    lost = planned_deletions(_live_table(live), {"pages": {"p1", "p2"}, "comments": set()}, {"ENG"}, None)
    assert [d.stream for d in judge(lost, MassDeletionConfig(), None).refused] == ["comments"], (
        "comments lost while their page stays are judged"
    )


@pytest.mark.parametrize(
    ("live_pages", "deleted", "refused"),
    [(40, 20, False), (40, 21, True), (30, 19, False), (20, 20, True), (19, 19, False), (1000, 501, True)],
)
def test_the_thresholds(live_pages, deleted, refused):
    deletion = MassDeletion(stream="pages", space_key="ENG", live_pages=live_pages, deleted_pages=deleted)
    assert bool(judge([deletion], MassDeletionConfig(), None).refused) is refused


def test_a_listing_without_selection_never_deselects():
    listing = SpaceListing()
    listing.add({"key": "ENG"})
    assert not listing.deselected("OPS"), "an older source (no selection): the guard applies"
    listing.add({"key": "ENG", "selection": {"space_keys": [], "include_personal_spaces": False}})
    assert listing.deselected("~alice") and not listing.deselected("OPS")
