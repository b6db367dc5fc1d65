"""write() end to end in-process, with the deterministic test embedder: states, snapshots, reuse, failures."""

from __future__ import annotations

import pytest
from airbyte_cdk.models import Status, Type
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from destination_vectors.destination import DestinationVectors
from destination_vectors.read.search import Searcher
from destination_vectors.store.ledger import Ledger
from destination_vectors.store.table import ChunkStore
from testkit.messages import catalog, page, record, state

PAGES = [
    page("1", "Rollback", "<h1>Deploys</h1><h2>Rollback</h2><p>Run the rollback script to restore the release.</p>"),
    page("2", "VPN", "<p>Connect to the VPN with the corporate client.</p>", space="IT"),
    page("3", "My notes", "<p>Secret salary negotiation notes for the rollback team.</p>", space="~alice"),
]


def _write(config, messages, mode="overwrite", streams=("pages",)):
    out = list(DestinationVectors().write(config.model_dump(), catalog(streams, mode), iter(messages)))
    return [m for m in out if m.type == Type.STATE]


def _messages(pages, final_state=True):
    return [record(p) for p in pages] + ([state()] if final_state else [])


def _chunk_ids(config):
    table = ChunkStore(config.lancedb_uri, config.table_name).open_live()
    return sorted(table.to_arrow()["chunk_id"].to_pylist()) if table is not None else []


def test_first_sync_indexes_every_page_and_releases_the_state(config):
    states = _write(config, _messages(PAGES))
    assert len(states) == 1, "the final STATE must be emitted once the snapshot is committed"
    ids = _chunk_ids(config)
    assert {i.split(":")[1] for i in ids} == {"1", "2", "3"}
    run = Ledger(config.resolved_ledger_path).history()[0]
    assert run["status"] == "succeeded" and run["pages_added"] == 3 and run["embedded"] == run["chunks"] > 0


def test_unchanged_resync_embeds_nothing_and_edit_delete_are_exact(config):
    _write(config, _messages(PAGES))
    _write(config, _messages(PAGES))
    assert Ledger(config.resolved_ledger_path).history()[0]["embedded"] == 0, "unchanged pages must not be re-embedded"
    edited = [dict(PAGES[0], body_storage="<h1>Deploys</h1><p>Brand new procedure.</p>", version=2), PAGES[1]]
    _write(config, _messages(edited))
    run = Ledger(config.resolved_ledger_path).history()[0]
    assert (run["pages_added"], run["pages_updated"], run["pages_deleted"]) == (0, 1, 1)
    assert {i.split(":")[1] for i in _chunk_ids(config)} == {"1", "2"}, "deleted page 3 must leave the index"
    assert 0 < run["embedded"] < run["chunks"] + 1


def test_an_unchanged_resync_writes_no_new_version_but_records_the_run_and_releases_the_state(config):
    _write(config, _messages(PAGES))
    store = ChunkStore(config.lancedb_uri, config.table_name)
    live = store.open_live().version
    for mode in ("overwrite", "append_dedup", "append"):
        states = _write(config, _messages(PAGES), mode=mode)
        assert len(states) == 1, f"{mode}: the STATE must be released even when nothing was committed"
        assert store.open_live().version == live, f"{mode}: nothing changed, yet a new table version was written"
        run = Ledger(config.resolved_ledger_path).history(1)[0]
        assert run["status"] == "succeeded" and run["table_version"] == live, f"{mode}: ledger row {run}"
        assert run["reused"] == run["chunks"] > 0 and run["embedded"] == 0, f"{mode}: ledger row {run}"
    assert not store._exists(store.staging_name), "a sync with nothing to write must leave no staging table"
    _write(config, _messages(PAGES[:2]))
    assert store.open_live().version > live, "a deleted page is a change: it must be committed"
    assert {i.split(":")[1] for i in _chunk_ids(config)} == {"1", "2"}


def test_an_unchanged_resync_finishes_housekeeping_an_earlier_sync_did_not(config, monkeypatch):
    from destination_vectors.store.table import housekeeping_due

    _write(config, _messages(PAGES))
    edited = [dict(PAGES[0], body_storage="<p>Rollback with the new script.</p>", version=2), *PAGES[1:]]
    with monkeypatch.context() as patched:  # as if the process was killed after the commit, before housekeeping
        patched.setattr(ChunkStore, "housekeeping", lambda *args, **kwargs: None)
        _write(config, _messages(edited))
    store = ChunkStore(config.lancedb_uri, config.table_name)
    assert housekeeping_due(store.snapshot(), config.vector_index), "the skipped housekeeping left nothing to do"
    _write(config, _messages(edited))
    assert housekeeping_due(store.snapshot(), config.vector_index) is None, "the unchanged resync did not finish it"
    assert any(name.startswith("snapshot-") for name in store.open_live().tags.list()), "the commit is not tagged"


def test_input_without_final_state_keeps_the_previous_snapshot(config):
    _write(config, _messages(PAGES))
    before = _chunk_ids(config)
    with pytest.raises(AirbyteTracedException, match="did not finish"):
        _write(config, _messages(PAGES[:1], final_state=False))
    assert _chunk_ids(config) == before, "a source that died mid-sync must not delete anything"
    assert Ledger(config.resolved_ledger_path).history()[0]["status"] == "failed"


def test_bad_records_are_skipped_and_counted_or_fail_on_request(config):
    bad = page("9", "Broken", "x")
    bad["body_storage"] = {"not": "text"}
    _write(config, _messages([PAGES[0], bad]))
    run = Ledger(config.resolved_ledger_path).history()[0]
    assert run["bad_records"] == 1 and run["status"] == "succeeded"
    strict = config.model_copy(update={"on_bad_record": "fail"})
    with pytest.raises(AirbyteTracedException, match="record 9"):
        _write(strict, _messages([PAGES[0], bad]))


def test_append_dedup_replaces_resent_pages_and_keeps_others(config):
    _write(config, _messages(PAGES), mode="append_dedup")
    states = _write(config, _messages([dict(PAGES[0], title="Rollback v2")]), mode="append_dedup")
    assert len(states) == 1
    table = ChunkStore(config.lancedb_uri, config.table_name).open_live()
    titles = {r["page_id"]: r["title"] for r in table.to_arrow().to_pylist()}
    assert titles == {"1": "Rollback v2", "2": "VPN", "3": "My notes"}


def test_public_search_never_returns_internal_chunks(config):
    _write(config, _messages(PAGES))
    searcher = Searcher.from_config(config)
    for mode in ("hybrid", "vector", "fts"):
        hits = searcher.search("salary negotiation notes rollback", k=10, mode=mode, visibility="public")
        assert hits and all(h.visibility == "public" for h in hits), f"{mode} leaked an internal chunk"
    internal = searcher.search("salary negotiation", k=3, mode="fts", visibility="internal")
    assert internal and internal[0].page_id == "3"
    assert all(h.space_key == "IT" for h in searcher.search("vpn", k=5, visibility="all", spaces=["IT"]))


def test_check_reports_a_bad_model_in_one_sentence(config, tmp_path):
    status = DestinationVectors().check(None, {**config.model_dump(), "embedding": {"model": str(tmp_path / "nope")}})
    assert status.status == Status.FAILED and "never downloaded" in status.message
    assert DestinationVectors().check(None, config.model_dump()).status == Status.SUCCEEDED


def test_empty_query_and_missing_index_are_clear_errors(config):
    from destination_vectors.read.search import SearchError

    searcher = Searcher.from_config(config)
    with pytest.raises(SearchError, match="run a sync first"):
        searcher.search("anything")
    _write(config, _messages(PAGES))
    with pytest.raises(SearchError, match="empty"):
        searcher.search("   ")


def test_state_record_count_mismatch_means_lost_messages_and_commits_nothing(config):
    _write(config, _messages(PAGES))
    before = _chunk_ids(config)
    with pytest.raises(AirbyteTracedException, match="reported 3 records before this STATE but 2 arrived"):
        _write(config, [record(PAGES[0]), record(PAGES[1]), state(record_count=3)])
    assert _chunk_ids(config) == before, "lost messages must not shrink the index"
    assert len(_write(config, [record(p) for p in PAGES] + [state(record_count=3)])) == 1


def test_unchanged_pages_are_carried_over_without_conversion(config, monkeypatch):
    from destination_vectors.write import page_rows

    _write(config, _messages(PAGES))
    before = ChunkStore(config.lancedb_uri, config.table_name).open_live().to_arrow().sort_by("chunk_id")
    converted: list[str] = []
    original = page_rows.PageRowsBuilder.chunk
    monkeypatch.setattr(
        page_rows.PageRowsBuilder,
        "chunk",
        lambda self, doc, *more: converted.append(doc.page_id) or original(self, doc, *more),
    )
    moved = dict(PAGES[1], webui_url="http://confluence.test/wiki/spaces/IT/pages/2/VPN")
    _write(config, _messages([PAGES[0], moved, PAGES[2]]))
    assert converted == ["2"], "only the page whose record changed may be converted again"
    run = Ledger(config.resolved_ledger_path).history(1)[0]
    assert run["embedded"] == 0 and run["reused"] == run["chunks"], "a link change must not re-embed"
    after = ChunkStore(config.lancedb_uri, config.table_name).open_live().to_arrow().sort_by("chunk_id")
    assert after.column("chunk_id") == before.column("chunk_id")
    assert after.column("vector") == before.column("vector"), "carried rows must keep their vectors exactly"
    monkeypatch.setattr(page_rows, "PIPELINE_VERSION", "next")
    converted.clear()
    _write(config, _messages(PAGES))
    assert sorted(converted) == ["1", "2", "3"], "a new pipeline version must convert every page again"
    run = Ledger(config.resolved_ledger_path).history(1)[0]
    assert (run["records"], run["chunks"]) == (3, len(_chunk_ids(config))), f"carried pages counted once: {run}"


@pytest.mark.parametrize("mode", ["soft_delete", "update"])
def test_an_unsupported_sync_mode_is_a_config_error_and_deletes_nothing(config, mode):
    from airbyte_cdk.models import FailureType

    _write(config, _messages(PAGES))
    before = _chunk_ids(config)
    with pytest.raises(AirbyteTracedException) as error:
        _write(config, _messages(PAGES[:1]), mode=mode)
    assert error.value.failure_type == FailureType.config_error
    assert f"stream pages: destination sync mode {mode!r} is not supported" in error.value.message
    assert _chunk_ids(config) == before, "a refused sync mode must not touch the index"


def test_refresh_with_minimum_generation_equal_to_generation_replaces_an_append_dedup_stream(config):
    _write(config, _messages(PAGES), mode="append_dedup")
    refresh = {"generation_id": 4, "minimum_generation_id": 4, "sync_id": 9}
    out = list(
        DestinationVectors().write(
            config.model_dump(), catalog(["pages"], "append_dedup", **refresh), iter([record(PAGES[0]), state()])
        )
    )
    assert [m.type for m in out].count(Type.STATE) == 1
    assert {i.split(":")[1] for i in _chunk_ids(config)} == {"1"}, "a truncating refresh keeps only this sync's pages"
    run = Ledger(config.resolved_ledger_path).history(1)[0]
    assert run["pages_deleted"] == 2, f"the ledger must mark the dropped pages deleted: {run}"


def test_a_truncating_refresh_that_does_not_finish_keeps_the_previous_data(config):
    _write(config, _messages(PAGES), mode="append")
    before = _chunk_ids(config)
    refresh = catalog(["pages"], "append", generation_id=2, minimum_generation_id=2, sync_id=3)
    with pytest.raises(AirbyteTracedException, match="did not finish"):
        list(DestinationVectors().write(config.model_dump(), refresh, iter([record(PAGES[0])])))
    assert _chunk_ids(config) == before, "the previous generation must stay until the new one commits"


def test_refresh_with_minimum_generation_zero_keeps_earlier_data(config):
    _write(config, _messages(PAGES), mode="append")
    retain = catalog(["pages"], "append", generation_id=5, minimum_generation_id=0, sync_id=6)
    list(DestinationVectors().write(config.model_dump(), retain, iter([record(PAGES[0]), state()])))
    assert {i.split(":")[1] for i in _chunk_ids(config)} == {"1", "2", "3"}, "merge refresh must not delete"


def test_a_minimum_generation_between_zero_and_the_generation_is_refused(config):
    partial = catalog(["pages"], "append", generation_id=5, minimum_generation_id=3, sync_id=6)
    with pytest.raises(AirbyteTracedException, match="minimum_generation_id 3 with generation_id 5"):
        list(DestinationVectors().write(config.model_dump(), partial, iter(_messages(PAGES))))
