"""The demo's index for the web page's tests: the sample site read for real, written twice, like `make demo` run twice.

The source reads the sample site from the stand-in once (every stream, access and labels, attachment files staged
under `folder`); the destination writes those messages twice in this process with the test embedder: the second
sync, with one page edited and no attachment file delivered again (the source's incremental state), reuses the
other chunks. So the ledger holds two succeeded syncs, the text cache holds
attachment statuses, and the table holds pages, blog posts, comments and attachments of public and restricted
spaces, with ancestors for the tree. No model is loaded and nothing is embedded for real.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from testkit.indexes import HASH_MODEL
from testkit.paths import ROOT

ALL_STREAMS = ROOT / "integration_tests" / "all_streams_catalog.json"
EDITED_TITLE = "Rollback"  # the page the second sync changes
EDIT = "<p>Added for the second sync: the rollback dashboard lists every release.</p>"


def catalog() -> dict[str, Any]:
    """The demo's streams (integration_tests/all_streams_catalog.json), memberships included, so a person can be named
    by e-mail address (`--as-email`)."""
    return json.loads(ALL_STREAMS.read_text())


def read_site(url: str, folder: Path, timeout: float = 240) -> list[dict[str, Any]]:
    """The source's messages for the whole site (`python main.py read`, every stream)."""
    config = {
        "base_url": url,
        "deployment": "cloud",
        "credentials": {"auth_type": "basic", "username": "demo@example.com", "api_token": "demo-api-token"},
        "include_blog_posts": True,
        "include_comments": True,
        "include_attachments": True,
        "read_labels": True,
    }
    (folder / "source.json").write_text(json.dumps(config))
    (folder / "catalog.json").write_text(json.dumps(catalog()))
    staging = folder / "staging"
    staging.mkdir(exist_ok=True)
    done = subprocess.run(
        [
            sys.executable,
            "main.py",
            "read",
            "--config",
            str(folder / "source.json"),
            "--catalog",
            str(folder / "catalog.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "AIRBYTE_STAGING_DIRECTORY": str(staging)},
    )
    assert done.returncode == 0, f"the source read of the sample site failed: {(done.stderr or done.stdout)[-2000:]}"
    messages = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert any(m["type"] == "RECORD" for m in messages), "the source read emitted no record"
    return messages


def write_twice(messages: list[dict[str, Any]], folder: Path) -> dict[str, Any]:
    """Two syncs of `messages` into a new index under `folder`; the second edits one page. Returns the config with
    `config_path`, the file naming it."""
    config = {"lancedb_uri": str(folder / "lancedb"), "embedding": {"model": HASH_MODEL}}
    _write(config, messages)
    # the second read is incremental for attachment files (the demo keeps the state): nothing changed, none delivered
    again = [_unfiled(m) for m in messages if m["type"] != "RECORD" or m["record"]["stream"] != "attachment_files"]
    _write(config, [_edited(message) for message in again])
    path = folder / "destination.json"
    path.write_text(json.dumps(config))
    return {**config, "config_path": str(path)}


def _unfiled(message: dict[str, Any]) -> dict[str, Any]:
    """A STATE of attachment_files without the record count of the first read (its records are not sent again)."""
    state = message.get("state", {})
    if (
        message["type"] != "STATE"
        or state.get("stream", {}).get("stream_descriptor", {}).get("name") != "attachment_files"
    ):
        return message
    return {**message, "state": {key: value for key, value in state.items() if key != "sourceStats"}}


def _edited(message: dict[str, Any]) -> dict[str, Any]:
    data = message.get("record", {}).get("data", {})
    if message["type"] != "RECORD" or message["record"]["stream"] != "pages" or data.get("title") != EDITED_TITLE:
        return message
    data = {**data, "body_storage": data["body_storage"] + EDIT, "version": int(data["version"]) + 1}
    return {**message, "record": {**message["record"], "data": data}}


def _write(config: dict[str, Any], messages: list[dict[str, Any]]) -> None:
    from airbyte_cdk.models import AirbyteMessageSerializer, ConfiguredAirbyteCatalogSerializer

    from destination_vectors.destination import DestinationVectors

    configured = ConfiguredAirbyteCatalogSerializer.load(catalog())
    parsed = [AirbyteMessageSerializer.load(m) for m in messages if m["type"] in ("RECORD", "STATE")]
    out = list(DestinationVectors().write(dict(config), configured, parsed))
    assert any(m.type.name == "STATE" for m in out), "an in-process sync of the sample site committed nothing"
