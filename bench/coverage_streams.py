"""All streams beside pages only: requests, bytes and wall time of a source read at 2,000 pages, in one run.

    python -m bench.coverage_streams [--pages 2000] [--latency-ms 20] [--deployments cloud data_center]

Serves `with_synthetic_extras(synthetic_site(pages, 4))` (blog posts, ~1 comment and ~0.3 attachments per page,
labels) in-process with a fixed latency per API request, and runs `main.py read` in a subprocess three times per
deployment: pages only (spaces + pages, as today); every stream on (blog posts, comments, attachments with file
transfer, labels); every stream again with the state of the second run (a re-pull with nothing changed, whose
downloads should be 0 bytes); and every stream without labels (Cloud reads labels with the CQL listing access makes anyway). Bytes are the stand-in's response bodies (API and downloads).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from testkit.confluence_stand_in import Faults, StandIn, synthetic_site, with_synthetic_extras

ROOT = Path(__file__).resolve().parents[1]
CREDENTIALS = {"auth_type": "basic", "username": "demo@example.com", "api_token": "demo-api-token"}
ALL_ON = {"include_blog_posts": True, "include_comments": True, "include_attachments": True, "read_labels": True}


def _catalog(streams: list[str]) -> dict:
    entries = []
    for name in streams:
        incremental = name == "attachment_files"
        entries.append(
            {
                "stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
                "sync_mode": "incremental" if incremental else "full_refresh",
                "destination_sync_mode": "append" if incremental else "overwrite",
                **({"cursor_field": ["content_cursor"]} if incremental else {}),
            }
        )
    return {"streams": entries}


def run(server: StandIn, config: dict, streams: list[str], work: Path, state: list | None) -> dict:
    (work / "config.json").write_text(json.dumps(config))
    (work / "catalog.json").write_text(json.dumps(_catalog(streams)))
    args = ["read", "--config", str(work / "config.json"), "--catalog", str(work / "catalog.json")]
    if state:
        (work / "state.json").write_text(json.dumps(state))
        args += ["--state", str(work / "state.json")]
    server.stats.reset()
    started = time.perf_counter()
    out = subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    records: Counter[str] = Counter()
    last_state = []
    for line in out.stdout.splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            records[message["record"]["stream"]] += 1
        elif (
            message["type"] == "STATE" and message["state"]["stream"]["stream_descriptor"]["name"] == "attachment_files"
        ):
            last_state = [message["state"]]
    snap = server.stats.snapshot()
    return {
        "records": dict(records),
        "requests": snap["api_requests"],
        "downloads": int(snap.get("download_requests", 0)),
        "download_bytes": int(snap.get("download_bytes", 0)),
        "bytes": int(snap.get("response_bytes", 0)),
        "wall": wall,
        "exit": out.returncode,
        "state": last_state,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--deployments", nargs="+", default=["cloud", "data_center"])
    options = parser.parse_args()
    site = with_synthetic_extras(synthetic_site(options.pages, 4), seed=0)
    print(
        f"site: {len(site.pages)} pages, {len(site.blog_posts)} blog posts, {len(site.comments)} comments, "
        f"{len(site.attachments)} attachments ({sum(len(a.content) for a in site.attachments):,} bytes); "
        f"latency {options.latency_ms:g} ms per API request"
    )
    print(
        "| deployment | run | records | API requests | downloads | bytes (API + files) | file bytes | wall s | requests / pages-only | bytes / pages-only | wall / pages-only |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    with StandIn(site, faults=Faults(latency_ms=options.latency_ms)) as server, tempfile.TemporaryDirectory() as tmp:
        for deployment in options.deployments:
            base = server.url if deployment == "cloud" else server.dc_url
            config = {"base_url": base, "deployment": deployment, "credentials": CREDENTIALS, "page_size": 250}
            work = Path(tmp)
            pages_only = run(server, config, ["spaces", "pages"], work, None)
            everything = ["spaces", "pages", "blog_posts", "comments", "attachments", "attachment_files"]
            all_on = run(server, {**config, **ALL_ON}, everything, work, None)
            repull = run(server, {**config, **ALL_ON}, everything, work, all_on["state"])
            no_labels = run(server, {**config, **ALL_ON, "read_labels": False}, everything, work, None)
            runs = (
                ("pages only", pages_only),
                ("all streams", all_on),
                ("all streams, re-pull", repull),
                ("all streams, labels off", no_labels),
            )
            for name, result in runs:
                total = sum(result["records"].values())
                print(
                    f"| {deployment} | {name} | {total:,} | {result['requests']:,} | {result['downloads']:,} | "
                    f"{result['bytes']:,} | {result['download_bytes']:,} | {result['wall']:.2f} | "
                    f"{result['requests'] / pages_only['requests']:.2f} | {result['bytes'] / pages_only['bytes']:.2f} | "
                    f"{result['wall'] / pages_only['wall']:.2f} |"
                    + ("" if result["exit"] == 0 else f" exit {result['exit']}")
                )
            print(f"<!-- {deployment} records: {all_on['records']} -->")


if __name__ == "__main__":
    main()
