"""The mass-deletion guard over real parts: stand-in over HTTP -> source -> destination (LanceDB, DuckDB files).

The hash test embedder keeps the syncs fast; the guard does not depend on the model. Searches run as the command.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from destination_vectors.config import DestinationConfig
from destination_vectors.store.ledger import Ledger
from destination_vectors.store.table import ChunkStore
from testkit.confluence_stand_in import StandIn
from testkit.confluence_stand_in.site import Page, Site, Space
from testkit.indexes import HASH_MODEL
from testkit.pipeline import SPACES_AND_PAGES_CATALOG, cli, source_config, sync

SPACE_SIZES = {"ENG": 30, "OPS": 24, "TINY": 3}
AUTHOR = "557058:0a1b2c3d-site-admin"


def _site() -> Site:
    """Three spaces; every page has a word of its own (`marker<id>`), so a search finds exactly that page."""
    spaces = tuple(
        Space(id=str(7001 + index), key=key, name=f"{key} space", type="global")
        for index, key in enumerate(SPACE_SIZES)
    )
    pages, next_id = [], 600001
    for key, size in SPACE_SIZES.items():
        for index in range(size):
            page_id = str(next_id)
            next_id += 1
            pages.append(
                Page(
                    id=page_id,
                    space_key=key,
                    title=f"{key} runbook {index}",
                    parent_id=None,
                    author_id=AUTHOR,
                    created_at="2024-01-15T09:00:00.000Z",
                    updated_at="2024-01-15T09:00:00.000Z",
                    version=1,
                    body=f"<p>Step {index} of the {key} runbook mentions marker{page_id} once.</p>",
                )
            )
    return Site(spaces, tuple(pages), {AUTHOR: "Site Admin"})


def _without(site: Site, page_ids: set[str]) -> Site:
    return replace(site, pages=tuple(p for p in site.pages if p.id not in page_ids))


def _without_space(site: Site, key: str) -> Site:
    """As Confluence looks to credentials that lost access to the space: neither it nor its pages are listed."""
    return replace(
        site,
        spaces=tuple(s for s in site.spaces if s.key != key),
        pages=tuple(p for p in site.pages if p.space_key != key),
    )


def _live_pages(config: DestinationConfig) -> set[str]:
    table = ChunkStore(config.lancedb_uri, config.table_name).open_live()
    return set(table.to_arrow()["page_id"].to_pylist())


def _found(config_path: Path, page_id: str) -> bool:
    """Whether a full-text search for the page's own word, as the command runs it, returns the page."""
    result = cli(
        "search", "--config", str(config_path), "--mode", "fts", "--visibility", "all", "--json", f"marker{page_id}"
    )
    assert result.returncode == 0, f"search failed: {result.stderr[-2000:]}"
    return page_id in {json.loads(line)["page_id"] for line in result.stdout.splitlines()}


def _trace_error(messages: list[dict]) -> str:
    errors = [m["trace"]["error"] for m in messages if m["type"] == "TRACE" and m["trace"].get("type") == "ERROR"]
    assert errors, f"the refused write must end with an Airbyte TRACE error; got {[m['type'] for m in messages]}"
    return errors[0]["message"]


@pytest.mark.slow  # seven pipe syncs (about a minute of CPU): started early by conftest.py's file order
def test_a_listing_that_lost_most_of_a_space_is_refused_until_allowed_once_and_a_vanished_space_too(tmp_path: Path):
    site = _site()
    destination = {"lancedb_uri": str(tmp_path / "index"), "embedding": {"model": HASH_MODEL}}
    config = DestinationConfig.model_validate(destination)
    config_path = tmp_path / "destination.json"
    ledger = Ledger(config.resolved_ledger_path)
    store = ChunkStore(config.lancedb_uri, config.table_name)
    eng = [p.id for p in site.pages if p.space_key == "ENG"]
    tiny = [p.id for p in site.pages if p.space_key == "TINY"]
    lost = set(eng[3:])  # 27 of ENG's 30 pages: 90 %
    with StandIn(site) as server:
        source = source_config(server.url)
        first, _ = sync(tmp_path, source, destination)
        assert first.returncode == 0, f"first sync failed: {first.stderr[-3000:]}"
        assert _live_pages(config) == {p.id for p in site.pages}, "the first sync must index every page"
        version = store.open_live().version

        # The listing lost 90 % of ENG (and 2 of TINY's 3 pages, which alone would be an ordinary deletion).
        server.site = _without(site, lost | set(tiny[1:]))
        refused, messages = sync(tmp_path, source, destination)
        assert refused.returncode != 0, "a sync that would delete 27 of 30 pages of a space must fail"
        message = _trace_error(messages)
        run_id = ledger.history(1)[0]["run_id"]
        for part in ("27 of 30 pages of space ENG", f'allow_once to "{run_id}"', f"--allow-mass-deletion {run_id}"):
            assert part in message, f"the refusal must say {part!r}: {message}"
        assert "TINY" not in message, f"2 of 3 pages of a small space are no mass deletion: {message}"
        logged = [m["log"]["message"] for m in messages if m["type"] == "LOG" and m["log"]["level"] == "ERROR"]
        assert any(line.startswith("mass deletion refused") for line in logged), "the refusal must be logged too"
        assert not any(m["type"] == "STATE" for m in messages), "no STATE may be released for a refused sync"
        assert _live_pages(config) == {p.id for p in site.pages}, "a refused sync must leave every page in the index"
        assert store.open_live().version == version, "a refused sync must not write a table version"
        assert not store._exists(store.staging_name), "a refused sync must drop its staging table"
        vanished = sorted(lost)[0]
        assert _found(config_path, vanished), "a page the listing lost must still be found after the refusal"
        run = ledger.history(1)[0]
        assert run["status"] == "refused" and "ENG" in run["error"], f"the ledger must record the refusal: {run}"
        rows = ledger.mass_deletions(run_id=run_id)
        assert [(r["decision"], r["stream"], r["space_key"], r["live_pages"], r["deleted_pages"]) for r in rows] == [
            ("refused", "pages", "ENG", 30, 27)
        ], rows
        history = cli("history", "--config", str(config_path))
        assert "refused" in history.stdout and "ENG" in history.stdout and "27/30" in history.stdout, history.stdout

        allowed, messages = sync(tmp_path, source, destination, write_args=["--allow-mass-deletion", run_id])
        assert allowed.returncode == 0, f"the allowed sync failed: {allowed.stderr[-3000:]}"
        assert any(m["type"] == "STATE" for m in messages), "the allowed sync must release its STATE"
        assert _live_pages(config) == {p.id for p in server.site.pages}, "the allowed deletion must be committed"
        assert not _found(config_path, vanished), "a page deleted with the allowance must no longer be found"
        rows = ledger.mass_deletions(run_id=ledger.history(1)[0]["run_id"])
        assert [(r["decision"], r["allowed_by"], r["space_key"], r["deleted_pages"]) for r in rows] == [
            ("allowed", f"allow_once {run_id}", "ENG", 27)
        ], rows

        # OPS vanishes from the listing (the credentials lost it): refused, though the spaces stream is read.
        server.site = _without_space(server.site, "OPS")
        gone, messages = sync(tmp_path, source, destination, catalog=SPACES_AND_PAGES_CATALOG)
        assert gone.returncode != 0, "a space missing from the listing must not be emptied"
        message = _trace_error(messages)
        assert "all 24 pages of space OPS (the space is missing from the source's listing)" in message, message
        ops = [p.id for p in site.pages if p.space_key == "OPS"]
        assert set(ops) <= _live_pages(config), "the vanished space's pages must stay in the index"
        assert ledger.mass_deletions(run_id=ledger.history(1)[0]["run_id"])[0]["vanished"] is True

        # The user drops OPS from space_keys (the space itself is back): the spaces stream says so, OPS is emptied.
        server.site = _without(site, lost | set(tiny[1:]))
        dropped, _ = sync(
            tmp_path,
            source_config(server.url, space_keys=["ENG", "TINY"]),
            destination,
            catalog=SPACES_AND_PAGES_CATALOG,
        )
        assert dropped.returncode == 0, f"dropping a space from space_keys must empty it: {dropped.stderr[-3000:]}"
        assert not set(ops) & _live_pages(config), "OPS was dropped from space_keys: its pages must leave the index"
        assert not any(p.startswith("7") for p in _live_pages(config)), "space records must never be indexed"
        rows = ledger.mass_deletions(run_id=ledger.history(1)[0]["run_id"])
        assert [(r["decision"], r["allowed_by"], r["space_key"]) for r in rows] == [("allowed", "space_keys", "OPS")]
