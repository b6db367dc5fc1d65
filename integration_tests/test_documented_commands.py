"""Every `destination-vectors search`, `history` and `attachments` command the manual (README.md, docs/) shows, run
as written against a real index of the sample site: every stream read by the real source from the stand-in (pages,
blog posts, comments, attachments with their files, memberships), written by the destination (real LanceDB, DuckDB
and the attachment file), with the deterministic test embedder.

unit_tests/test_readme.py checks that each command parses; this checks that each one answers. `write` is run by the
pipeline tests and the demo, `mcp` by integration_tests/test_mcp_server.py, `web` by integration_tests/test_web_access.py
and test_web_browser.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.models import DestinationSyncMode, SyncMode, Type
from airbyte_cdk.test.catalog_builder import CatalogBuilder, ConfiguredAirbyteStreamBuilder
from airbyte_cdk.test.entrypoint_wrapper import read

from destination_vectors.cli import main
from destination_vectors.destination import DestinationVectors
from destination_vectors.embedding.embedder import TEST_HASH_EMBEDDER
from source_confluence.source import SourceConfluence
from testkit.confluence_stand_in import StandIn, load_site
from testkit.manual import commands
from testkit.paths import SAMPLE_SITE

STREAMS = ("pages", "blog_posts", "comments", "attachments", "attachment_files", "memberships")
RUN = ("search", "history", "attachments")
DOCUMENTED = [(name, argv[1:]) for name, argv in commands() if argv[0] == "destination-vectors" and argv[1] in RUN]


def _catalogs():
    source, destination = CatalogBuilder(), CatalogBuilder()
    for name in STREAMS:
        mode = SyncMode.incremental if name == "attachment_files" else SyncMode.full_refresh
        source.with_stream(ConfiguredAirbyteStreamBuilder().with_name(name).with_sync_mode(mode))
        stream = ConfiguredAirbyteStreamBuilder().with_name(name).with_sync_mode(mode).with_primary_key([["id"]])
        destination.with_stream(stream)
    built = destination.build()
    for stream in built.streams:
        if stream.stream.name == "attachment_files":
            stream.destination_sync_mode = DestinationSyncMode.append
    return source.build(), built


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding `destination.json` (naming the sample site's index) and `questions.jsonl`, as the manual's
    commands expect in the folder they are run from."""
    folder = tmp_path_factory.mktemp("documented")
    config: dict[str, Any] = {"lancedb_uri": str(folder / "lancedb"), "embedding": {"model": TEST_HASH_EMBEDDER}}
    source_catalog, destination_catalog = _catalogs()
    with StandIn(load_site(SAMPLE_SITE)) as server:
        source_config = {
            "base_url": server.url,
            "deployment": "cloud",
            "credentials": {"auth_type": "bearer", "token": "demo-pat"},
            "include_blog_posts": True,
            "include_comments": True,
            "include_attachments": True,
            "read_labels": True,
        }
        output = read(SourceConfluence(config=source_config, state=None), source_config, source_catalog)
    assert not output.errors, f"the source failed: {output.errors[:1]}"
    messages = [m for m in output.records_and_state_messages if m.type == Type.RECORD] + output.state_messages
    list(DestinationVectors().write(config, destination_catalog, iter(messages)))
    (folder / "destination.json").write_text(json.dumps(config))
    questions = (SAMPLE_SITE / "questions.jsonl").read_text().splitlines()[:3]
    (folder / "questions.jsonl").write_text("\n".join(questions) + "\n")
    return folder


@pytest.mark.parametrize(("name", "argv"), DOCUMENTED, ids=[f"{n}: {' '.join(a)[:70]}" for n, a in DOCUMENTED])
def test_every_documented_command_answers(
    workdir: Path, name: str, argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workdir)
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, f"{name}: `destination-vectors {' '.join(argv)}` exited {code}: {err.strip()}"
    assert out.strip(), f"{name}: `destination-vectors {' '.join(argv)}` printed nothing"
    if "--json" in argv:
        rows = [json.loads(line) for line in out.splitlines()]
        assert rows, f"{name}: --json printed no object"


def test_the_manual_shows_each_command_that_reads_the_index():
    """So the parametrised test above cannot pass by finding nothing to run."""
    shown = {argv[0] for _, argv in DOCUMENTED}
    assert shown == set(RUN), f"the manual shows {sorted(shown)} of {RUN}"
