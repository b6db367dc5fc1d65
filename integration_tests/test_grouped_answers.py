"""Answers grouped by page, end to end: a page whose body, a comment and an attachment all match the question is one
answer with three passages, each saying where it came from, in-process and through MCP's `search_confluence`.

The index is written for real (LanceDB + DuckDB) by the destination from pages, comments, attachments and the
attachment's file (delivered as Airbyte file transfer delivers it), with the fast test embedder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from airbyte_cdk.models import AirbyteMessageSerializer, ConfiguredAirbyteCatalogSerializer, Type

from integration_tests.test_mcp_server import call, stdio_session
from testkit.messages import page, record, state
from testkit.records import catalog_dict

QUESTION = "lighthouse budget"
PAGE = "601"


def _catalog():
    built = catalog_dict(["pages", "comments", "attachments", "attachment_files"])
    for stream in built["streams"]:
        if stream["stream"]["name"] == "attachment_files":
            stream["destination_sync_mode"] = "append"
    return ConfiguredAirbyteCatalogSerializer.load(built)


def _file_message(tmp_path: Path, data: dict, text: str):
    staged = tmp_path / "staging" / data["title"]
    staged.parent.mkdir(parents=True, exist_ok=True)
    staged.write_text(text, encoding="utf-8")
    reference = {
        "staging_file_url": str(staged),
        "source_file_relative_path": data["title"],
        "file_size_bytes": staged.stat().st_size,
    }
    message = {"stream": "attachment_files", "data": data, "emitted_at": 0, "file_reference": reference}
    return AirbyteMessageSerializer.load({"type": "RECORD", "record": message})


@pytest.fixture(scope="module")
def grouped_index(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from destination_vectors.destination import DestinationVectors
    from destination_vectors.embedding.embedder import TEST_HASH_EMBEDDER

    root = tmp_path_factory.mktemp("grouped")
    config = {"lancedb_uri": str(root / "lancedb"), "embedding": {"model": TEST_HASH_EMBEDDER}}
    body = "<p>The lighthouse budget for next year, line by line.</p>"
    attachment = {"id": "att603", "title": "lighthouse-budget.txt", "container_id": PAGE, "media_type": "text/plain"}
    attachment |= {"version": 1, "webui_url": f"http://confluence.test/wiki/pages/{PAGE}/att603"}
    comment = {
        "id": "602",
        "container_id": PAGE,
        "container_type": "page",
        "kind": "footer",
        "author_name": "Ann Lee",
        "body_storage": "<p>Is the lighthouse budget final?</p>",
        "webui_url": f"http://confluence.test/wiki/pages/{PAGE}?focusedCommentId=602",
        "version": 1,
    }
    messages = [
        record(page(PAGE, "Lighthouse plan", body)),
        record(page("604", "Canteen menu", "<p>Soup on Mondays.</p>")),
        record(comment, "comments"),
        record(attachment, "attachments"),
        _file_message(root, dict(attachment), "Lighthouse budget: lamps 1200, paint 300."),
    ]
    messages += [state(s) for s in ("pages", "comments", "attachments", "attachment_files")]
    out = list(DestinationVectors().write(config, _catalog(), iter(messages)))
    assert any(m.type == Type.STATE for m in out), "the sync committed nothing"
    path = root / "destination.json"
    path.write_text(json.dumps(config))
    return {**config, "config_path": str(path)}


def _check_grouped(results: list[dict], where: str) -> None:
    assert results and results[0]["page_id"] == PAGE, f"{where}: top answer {results[:1]}"
    assert [r["page_id"] for r in results].count(PAGE) == 1, f"{where}: the page answers more than once: {results}"
    top = results[0]
    assert top["stream"] == "pages" and top["title"] == "Lighthouse plan", f"{where}: not the page itself: {top}"
    assert top["webui_url"].endswith(f"/pages/{PAGE}"), f"{where}: the page's link must come first: {top}"
    origins = [top["origin"], *(s["origin"] for s in top["snippets"])]
    assert sorted(o["kind"] for o in origins) == ["attachment", "comment", "page"], f"{where}: {origins}"
    comment = next(o for o in origins if o["kind"] == "comment")
    attachment = next(o for o in origins if o["kind"] == "attachment")
    assert comment["label"] == "comment by Ann Lee", f"{where}: {comment}"
    assert attachment["attachment"] == "lighthouse-budget.txt", f"{where}: {attachment}"


def test_body_comment_and_attachment_are_one_answer_with_three_passages(grouped_index: dict[str, Any]) -> None:
    from destination_vectors import DestinationConfig, Searcher

    config = DestinationConfig.model_validate({k: v for k, v in grouped_index.items() if k != "config_path"})
    searcher = Searcher.from_config(config)
    chunks = searcher.search(QUESTION, k=10, mode="fts")
    assert {h.stream for h in chunks} == {"pages", "comments", "attachments"}, f"setup: {chunks}"
    pages = searcher.search(QUESTION, k=5, group_by="page")
    _check_grouped([hit.to_dict() for hit in pages], "Searcher")
    unchanged = searcher.search(QUESTION, k=10, group_by="chunk")
    assert len([h for h in unchanged if h.stream in ("comments", "attachments")]) == 2, "--group-by chunk changed"


def test_mcp_search_confluence_groups_the_same_way(grouped_index: dict[str, Any]) -> None:
    async def scenario() -> None:
        async with stdio_session(Path(grouped_index["config_path"])) as client:
            failed, found = await call(client, "search_confluence", {"query": QUESTION, "k": 5})
            assert not failed, f"search failed: {found}"
            assert found["group_by"] == "page", found
            _check_grouped(found["results"], "MCP")

    anyio.run(scenario)
