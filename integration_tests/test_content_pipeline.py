"""Source -> destination with every stream on (sample site, Cloud and Data Center): one index, one commit per sync.

Comments and attachments carry their page's title and link, its visibility and its access (those of a restricted
page are internal, with the page's readers); a re-pull with nothing changed embeds
0 chunks and downloads 0 attachment bytes; a deleted comment or attachment leaves the index; hostile files are
recorded with a status and never fail the sync. Real HTTP to the stand-in, real LanceDB and DuckDB files; the
deterministic test embedder (full-text search finds the exact phrases).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.models import DestinationSyncMode, SyncMode, Type
from airbyte_cdk.test.catalog_builder import CatalogBuilder, ConfiguredAirbyteStreamBuilder
from airbyte_cdk.test.entrypoint_wrapper import read

from destination_vectors.config import DestinationConfig
from destination_vectors.destination import DestinationVectors
from destination_vectors.embedding.embedder import TEST_HASH_EMBEDDER
from destination_vectors.read.search import Searcher
from destination_vectors.store.ledger import Ledger
from destination_vectors.store.table import ChunkStore
from destination_vectors.store.text_cache import text_cache_path
from source_confluence.source import SourceConfluence
from testkit.confluence_stand_in import Grant, StandIn, load_site

SAMPLE_SITE = Path(__file__).parent / "sample_site"
STREAMS = ("spaces", "pages", "blog_posts", "comments", "attachments", "attachment_files")
INDEXED = STREAMS  # every stream selected, as Airbyte's UI does by default: spaces are counted, never indexed


def _source_config(server: StandIn, deployment: str) -> dict[str, Any]:
    base = server.url if deployment == "cloud" else server.dc_url
    return {
        "base_url": base,
        "deployment": deployment,
        "credentials": {"auth_type": "bearer", "token": "demo-pat"},
        "include_blog_posts": True,
        "include_comments": True,
        "include_attachments": True,
        "read_labels": True,
        "internal_space_keys": ["HR"],
        "min_retry_seconds": 0.01,
        "max_retry_seconds": 0.05,
    }


def _catalogs():
    source, destination = CatalogBuilder(), CatalogBuilder()
    for name in STREAMS:
        mode = SyncMode.incremental if name == "attachment_files" else SyncMode.full_refresh
        source.with_stream(ConfiguredAirbyteStreamBuilder().with_name(name).with_sync_mode(mode))
        if name in INDEXED:
            stream = ConfiguredAirbyteStreamBuilder().with_name(name).with_sync_mode(mode).with_primary_key([["id"]])
            destination.with_stream(stream)
    built = destination.build()
    for stream in built.streams:
        if stream.stream.name == "attachment_files":
            stream.destination_sync_mode = DestinationSyncMode.append
    return source.build(), built


def _sync(server: StandIn, deployment: str, config: DestinationConfig, state: list | None = None) -> list:
    source_catalog, destination_catalog = _catalogs()
    source_config = _source_config(server, deployment)
    output = read(SourceConfluence(config=source_config, state=state), source_config, source_catalog, state=state)
    assert not output.errors, f"{deployment}: source failed: {output.errors[:1]}"
    messages = [m for m in output.records_and_state_messages if m.type == Type.RECORD]
    messages += output.state_messages
    out = list(DestinationVectors().write(config.model_dump(), destination_catalog, iter(messages)))
    return [
        m.state for m in out if m.type == Type.STATE and m.state.stream.stream_descriptor.name == "attachment_files"
    ]


def _rows(config: DestinationConfig) -> list[dict[str, Any]]:
    table = ChunkStore(config.lancedb_uri, config.table_name).open_live()
    return table.to_arrow().select(["stream", "page_id", "title", "text", "container_title", "container_url",
                                    "visibility", "labels", "webui_url", "restricted", "readers"]).to_pylist()  # fmt: skip


def _assert_attachment_statuses(deployment: str, config: DestinationConfig) -> None:
    """`destination-vectors attachments` as a user runs it: the hostile files with the reason, the good ones ok."""
    config_path = Path(config.lancedb_uri).parent / "destination.json"
    config_path.write_text(config.model_dump_json())
    command = [str(Path(sys.executable).parent / "destination-vectors"), "attachments", "--config", str(config_path)]
    done = subprocess.run([*command, "--json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{deployment}: attachments --json failed: {done.stderr[-2000:]}"
    listed = {row["id"]: row for row in map(json.loads, done.stdout.splitlines())}
    status = {att: row["status"] for att, row in listed.items()}
    hostile = {"att107002": "failed: unreadable PDF", "att107105": "too_large", "att107003": "unsupported_type"}
    for att, expected in hostile.items():
        assert status.get(att, "").startswith(expected), f"{deployment}: {att} is {status.get(att)!r}, not {expected}"
    bomb = listed["att107105"]["detail"]
    expands = re.fullmatch(r"archive expands to (\d+) bytes \(limit (\d+)\)", bomb)
    assert expands and int(expands[1]) > int(expands[2]), f"{deployment}: the zip bomb's detail: {bomb!r}"
    good = set(status) - set(hostile)
    assert len(good) == 9 and all(status[att] == "ok" for att in good), f"{deployment}: good files: {status}"
    assert listed["att107101"]["container_title"] == "VPN Setup", f"{deployment}: PDF's page: {listed['att107101']}"
    done = subprocess.run([*command, "--status", "failed"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{deployment}: attachments --status failed: {done.stderr[-2000:]}"
    lines = done.stdout.splitlines()
    assert len(lines) == 3 and "old-architecture-diagram.pdf" in lines[1], f"{deployment}: --status failed: {lines}"
    assert (
        lines[1].split()[2] == "failed" and "[unreadable PDF (" in lines[1] and lines[2] == "1 attachment: 1 failed"
    ), f"{deployment}: {lines}"
    assert "demo-pat" not in done.stdout + done.stderr, f"{deployment}: the source token leaked into the listing"


@pytest.fixture
def config(tmp_path: Path) -> DestinationConfig:
    return DestinationConfig.model_validate(
        {"lancedb_uri": str(tmp_path / "lancedb"), "embedding": {"model": TEST_HASH_EMBEDDER}}
    )


@pytest.mark.parametrize("deployment", ["cloud", "data_center"])
def test_all_streams_one_index_then_cheap_repull_then_deletions(deployment: str, config: DestinationConfig) -> None:
    site = load_site(SAMPLE_SITE)
    restricted = {"101005": "Database Failover", "102004": "New Laptop Setup"}  # inline comments; JSON and HTML files
    access = site.access.with_restriction("101005", Grant(groups=("eng-leads",)))
    site = site.with_access(access.with_restriction("102004", Grant(groups=("it-admins",))))
    with StandIn(site) as server:
        state = _sync(server, deployment, config)
        rows = _rows(config)
        readers_of = {r["page_id"]: r["readers"] for r in rows if r["stream"] == "pages"}
        for page_id, title in restricted.items():
            children = [r for r in rows if r["stream"] in ("comments", "attachments") and r["container_title"] == title]
            assert children, f"{deployment}: no comment or attachment of {title} was indexed"
            page_readers = readers_of[page_id]
            assert page_readers and "anonymous" not in page_readers, f"{deployment}: {title} readers {page_readers}"
            for child in children:  # a restricted page's comments and files are as closed as the page itself
                assert (child["visibility"], child["restricted"], child["readers"]) == (
                    "internal",
                    True,
                    page_readers,
                ), f"{deployment}: {child['stream']} of restricted {title} did not take its access: {child}"
        streams = {row["stream"] for row in rows}
        assert streams == set(INDEXED) - {"attachment_files", "spaces"}, (
            f"{deployment}: streams in the index: {streams}"
        )
        empty = [(r["stream"], r["page_id"]) for r in rows if not r["text"].strip()]
        assert not empty, f"{deployment}: chunks with empty text: {empty}"
        assert all(r["title"] and r["webui_url"] for r in rows), f"{deployment}: a chunk without title or link"
        first = ChunkStore(config.lancedb_uri, config.table_name).open_live().to_lance().checkout_version(1)
        committed = set(first.to_table(columns=["stream"])["stream"].to_pylist())
        assert committed == streams, f"{deployment}: the table's first version holds only {committed}: not one commit"
        comment = next(r for r in rows if r["stream"] == "comments" and "cdn-purge" in r["text"])
        assert comment["container_title"] == "Rollback", f"{deployment}: comment row lost its page: {comment}"
        assert comment["container_url"].endswith(("/pages/101004/Rollback", "pageId=101004")), comment
        assert comment["labels"] == ["runbook", "deploy"], f"{deployment}: comment did not inherit labels: {comment}"
        pdf = next(r for r in rows if r["stream"] == "attachments" and "vpn.corp.example.com" in r["text"])
        assert pdf["container_title"] == "VPN Setup" and pdf["page_id"] == "att107101", f"{deployment}: {pdf}"
        csv = next(r for r in rows if r["stream"] == "attachments" and "hotel" in r["text"])
        assert csv["visibility"] == "internal", f"{deployment}: an attachment of an internal space became public"
        indexed_files = {r["page_id"] for r in rows if r["stream"] == "attachments"}
        for hostile in ("att107002", "att107105", "att107003"):  # corrupt PDF, zip bomb, image
            assert hostile not in indexed_files, f"{deployment}: {hostile} was indexed"
        _assert_attachment_statuses(deployment, config)
        searcher = Searcher.from_config(config)
        hits = searcher.search("cdn-purge", mode="fts", visibility="all", streams=["comments"])
        assert hits and hits[0].container_title == "Rollback", f"{deployment}: --stream comments search: {hits}"
        hits = searcher.search("51820", mode="fts", visibility="all", labels=["vpn"])
        assert hits and hits[0].stream == "attachments", f"{deployment}: --label vpn search: {hits}"
        assert not searcher.search("51820", mode="fts", visibility="all", labels=["policy"]), "label filter ignored"

        server.stats.reset()
        _sync(server, deployment, config, state=state)
        runs = Ledger(config.resolved_ledger_path).history(limit=1)
        assert runs[0]["embedded"] == 0, f"{deployment}: a re-pull with nothing changed embedded {runs[0]}"
        downloaded = server.stats.snapshot().get("download_bytes", 0)
        assert downloaded == 0, f"{deployment}: a re-pull with nothing changed downloaded {downloaded} bytes"
        assert len(_rows(config)) == len(rows), f"{deployment}: the re-pull changed the index"

        server.site = site.without_comment("106001").without_attachment("107101")
        _sync(server, deployment, config, state=state)
        after = _rows(config)
    texts = " ".join(r["text"] for r in after)
    assert "cdn-purge" not in texts and "vpn.corp.example.com" not in texts, f"{deployment}: deleted items remain"
    assert any(r["stream"] == "attachments" for r in after), f"{deployment}: other attachments were dropped too"
    assert text_cache_path(config).exists(), "the extracted-text cache is missing"
