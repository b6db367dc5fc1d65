"""The whole product over real parts: stand-in over HTTP -> source -> destination (real model, LanceDB, DuckDB)."""

from __future__ import annotations

import json
import signal
import urllib.request
from pathlib import Path

import pytest

from destination_vectors.config import DestinationConfig
from destination_vectors.read.search import Searcher
from destination_vectors.store.ledger import Ledger
from destination_vectors.store.table import ChunkStore
from testkit.confluence_stand_in import StandIn, load_site
from testkit.pipeline import ROOT, cli, source_config, sync

QUESTIONS = {
    "How do I roll back a deploy?": "Rollback",
    "How do I connect to the VPN?": "VPN Setup",
    "How many vacation days do I get?": "Holidays and Time Off",
}


def _page_id(site, title: str) -> str:
    return next(page.id for page in site.pages if page.title == title)


def _live_pages(config: DestinationConfig) -> set[str]:
    table = ChunkStore(config.lancedb_uri, config.table_name).open_live()
    return set(table.to_arrow()["page_id"].to_pylist())


def _search_in_process(config: DestinationConfig, embedder, questions: list[str]) -> dict[str, list[dict]]:
    """The same answers as `search --queries-file`, from the session's model (one model load per test session)."""
    searcher = Searcher.from_config(config, embedder=embedder)
    return {q: [hit.to_dict() for hit in searcher.search(q, k=3)] for q in questions}


def _search(config_path: Path, questions: list[str]) -> dict[str, list[dict]]:
    """All questions in one process (one model load) through `search --queries-file`."""
    queries = config_path.parent / "queries.jsonl"
    queries.write_text("".join(json.dumps({"id": q, "query": q}) + "\n" for q in questions))
    result = cli("search", "--config", str(config_path), "-k", "3", "--queries-file", str(queries))
    assert result.returncode == 0, f"search failed: {result.stderr[-2000:]}"
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    return {answer["id"]: answer["results"] for answer in answers}


@pytest.mark.model
def test_pipe_search_resync_edit_delete_and_kill(tmp_path: Path, embedder):
    site = load_site(ROOT / "integration_tests" / "sample_site")
    destination = {"lancedb_uri": str(tmp_path / "index")}
    config = DestinationConfig.model_validate(destination)
    ledger = Ledger(config.resolved_ledger_path)
    with StandIn(site) as server:
        source = source_config(server.url)
        first, messages = sync(tmp_path, source, destination)
        assert first.returncode == 0, f"first sync failed: {first.stderr[-3000:]}"
        assert any(m["type"] == "STATE" for m in messages), "write must emit the final STATE after committing"
        assert _live_pages(config) == {p.id for p in site.pages}, "every sample page must be indexed"

        answers = _search(tmp_path / "destination.json", list(QUESTIONS))
        for question, title in QUESTIONS.items():
            hits = answers[question]
            assert hits and hits[0]["title"] == title, f"{question!r}: expected {title!r} first, got {hits[:1]}"
            assert all(hit["visibility"] == "public" for hit in hits)
            with urllib.request.urlopen(hits[0]["webui_url"], timeout=10) as response:
                assert response.status == 200 and title.encode() in response.read(), "webui_url must open the page"

        unchanged, _ = sync(tmp_path, source, destination)
        assert unchanged.returncode == 0, unchanged.stderr[-3000:]
        run = ledger.history(1)[0]
        assert run["embedded"] == 0 and run["reused"] == run["chunks"] > 0, f"unchanged re-pull re-embedded: {run}"

        rollback, troubleshooting = _page_id(site, "Rollback"), _page_id(site, "VPN Troubleshooting")
        edited = site.with_page_edited(rollback, body="<h2>Steps</h2><p>Press the big red rollback button.</p>")
        server.site = edited.without_page(troubleshooting)
        changed, _ = sync(tmp_path, source, destination)
        assert changed.returncode == 0, changed.stderr[-3000:]
        run = ledger.history(1)[0]
        assert (run["pages_added"], run["pages_updated"], run["pages_deleted"]) == (0, 1, 1), run
        assert 0 < run["embedded"] <= 3, f"only the edited page's chunks should be embedded: {run}"
        assert troubleshooting not in _live_pages(config), "a page deleted in Confluence must leave the index"
        deleted = [p for p in ledger.pages() if p["page_id"] == troubleshooting]
        assert deleted and deleted[0]["deleted_at"] is not None, "the ledger must mark the page deleted"

        before_kill = _search_in_process(config, embedder, list(QUESTIONS))
        server.site = server.site.with_page_edited(_page_id(site, "VPN Setup"), body="<p>VPN is retired.</p>")
        killed, _ = sync(tmp_path, source, destination, env={"DESTINATION_VECTORS_FAILPOINT": "before_commit"})
        assert killed.returncode == -signal.SIGKILL, f"the write should have been killed: {killed.returncode}"
        after_kill = _search_in_process(config, embedder, list(QUESTIONS))
        assert after_kill == before_kill, "a write killed before its commit must leave the previous snapshot as it was"

        recovered, _ = sync(tmp_path, source, destination)
        assert recovered.returncode == 0, recovered.stderr[-3000:]
        statuses = [run["status"] for run in ledger.history(2)]
        assert statuses == ["succeeded", "interrupted"], f"the killed run must be marked interrupted: {statuses}"
        hits = _search_in_process(config, embedder, ["Is the VPN retired?"])["Is the VPN retired?"]
        assert hits[0]["title"] == "VPN Setup" and "retired" in hits[0]["text"]

    history = cli("history", "--config", str(tmp_path / "destination.json"), "--json")
    rows = [json.loads(line) for line in history.stdout.splitlines()]
    assert len(rows) == 5 and rows[0]["status"] == "succeeded", f"history must list every run: {rows}"
