"""Access at enterprise scale, source side: bytes of Airbyte messages per page with access vs without, and the
source's peak RSS, side by side in one run (the destination side is bench/access_scale.py).

    python -m bench.access_source_scale [--pages 20000] [--members 10000] [--subtrees 5] [--deployment cloud]
                                        [--keep DIR]

The site: `synthetic_site(--pages, 1 space)` served by the stand-in, the space granted to `confluence-users` with
`--members` members, plus `--subtrees` restricted subtrees (the largest root trees, each restricted to a 50-person
team and one named person). `main.py read` (the real entry point, a fresh process so its peak RSS is its own) reads
`pages` and `memberships` twice: `read_permissions: false` (no access read: every page restricted, no readers) and
`true`. Prints the RECORD bytes per page (pages, and pages + memberships), the readers tokens, the access requests,
the peak RSS and the wall time, with the ratios. The last row is the same records with every `group:` token expanded
into its members' `user:` tokens, as the source emitted them before issue 17: computed from the read's own records
and memberships (not a run of the old code). `--keep DIR` writes both runs' stdout (Airbyte messages) there, for the
destination benchmark to write from.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench.timed_runs import format_table
from testkit.confluence_stand_in import StandIn, enterprise_access, synthetic_site
from testkit.paths import ROOT
from testkit.processes import run_process

COMPANY = "confluence-users"
TEAM_SIZE = 50
CREDENTIALS = {
    "cloud": {"auth_type": "basic", "username": "demo@example.com", "api_token": "demo-api-token"},
    "data_center": {"auth_type": "bearer", "token": "demo-pat"},
}


def enterprise_site(pages: int, members: int, subtrees: int) -> Any:
    """One space of `pages` pages granted to a `members`-person group, the `subtrees` largest root trees restricted."""
    site = synthetic_site(pages, n_spaces=1, body_paragraphs=1)
    pairs = [(page.id, page.parent_id) for page in site.all_pages()]
    keys = [space.key for space in site.spaces]
    access = enterprise_access(pairs, keys, members=members, restricted_subtrees=subtrees, team_size=TEAM_SIZE)
    return site.with_access(access)


def read(server: StandIn, workdir: Path, deployment: str, with_access: bool) -> dict[str, Any]:
    config = {
        "base_url": server.url if deployment == "cloud" else server.dc_url,
        "deployment": deployment,
        "credentials": CREDENTIALS[deployment],
        "read_permissions": with_access,
    }
    streams = [
        {
            "stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
            "sync_mode": "full_refresh",
            "destination_sync_mode": "overwrite",
        }
        for name in ("pages", "memberships")
    ]
    label = "with" if with_access else "without"
    config_path, catalog_path = workdir / f"{label}.config.json", workdir / f"{label}.catalog.json"
    config_path.write_text(json.dumps(config))
    catalog_path.write_text(json.dumps({"streams": streams}))
    run = run_process(
        [sys.executable, str(ROOT / "main.py"), "read", "--config", str(config_path), "--catalog", str(catalog_path)],
        workdir,
        timeout=1800,
        name=f"source-{label}",
        fresh=True,
    )
    if run.returncode != 0:
        raise SystemExit(f"read {label} access failed:\n{run.tail()}")
    (workdir / f"{label}.messages.jsonl").write_text(run.stdout)  # for the destination benchmark (--keep)
    return {"run": run, "wall": run.seconds, "label": label}


def measure(stdout: str) -> dict[str, Any]:
    """Bytes of RECORD messages per stream (as written on stdout), pages, tokens, access requests."""
    sizes: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    tokens = 0
    access_requests = 0
    pages: list[dict[str, Any]] = []
    members: dict[str, list[str]] = {}
    if True:
        for line in (text.encode() + b"\n" for text in stdout.splitlines()):
            if not line.startswith(b'{"type":"RECORD"') and b'"RECORD"' not in line[:40]:
                if b"access read in" in line:
                    text = line.decode("utf-8", "replace")
                    access_requests = int(text.split("access read in ")[1].split(" ")[0])
                continue
            message = json.loads(line)
            record = message["record"]
            sizes[record["stream"]] += len(line)
            counts[record["stream"]] += 1
            if record["stream"] == "pages":
                tokens += len(record["data"].get("readers") or [])
                pages.append(record["data"])
            else:
                for group in record["data"].get("groups") or []:
                    members.setdefault(group, []).append(record["data"]["user_id"])
    legacy = 0
    for page in pages:  # the pre-issue-17 shape: every group token followed by every member's user token
        readers = set(page.get("readers") or [])
        for token in list(readers):
            if token.startswith("group:"):
                readers |= {f"user:{u}" for u in members.get(token[6:], [])}
        legacy += (
            len(
                json.dumps(
                    {"type": "RECORD", "record": {"stream": "pages", "data": {**page, "readers": sorted(readers)}}}
                ).encode()
            )
            + 1
        )
    return {"sizes": sizes, "counts": counts, "tokens": tokens, "access_requests": access_requests, "legacy": legacy}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.access_source_scale", description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=20000)
    parser.add_argument("--members", type=int, default=10000)
    parser.add_argument("--subtrees", type=int, default=5)
    parser.add_argument("--deployment", choices=["cloud", "data_center"], default="cloud")
    parser.add_argument("--keep", type=Path, help="keep both runs' Airbyte messages in this folder")
    args = parser.parse_args(argv)
    site = enterprise_site(args.pages, args.members, args.subtrees)
    restricted = len(site.access.restrictions)
    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory() as folder, StandIn(site) as server:
        workdir = args.keep or Path(folder)
        workdir.mkdir(parents=True, exist_ok=True)
        results = {}
        for with_access in (False, True):
            outcome = read(server, workdir, args.deployment, with_access)
            results[with_access] = (outcome, measure(outcome["run"].stdout))
    base_pages = results[False][1]["sizes"]["pages"] / max(1, results[False][1]["counts"]["pages"])
    for with_access in (False, True):
        outcome, measured = results[with_access]
        n = max(1, measured["counts"]["pages"])
        pages_only = measured["sizes"]["pages"] / n
        total = (measured["sizes"]["pages"] + measured["sizes"]["memberships"]) / n
        rows.append(
            [
                f"{'with' if with_access else 'without'} access",
                measured["counts"]["pages"],
                measured["counts"]["memberships"],
                f"{measured['tokens'] / n:.2f}",
                f"{pages_only:.0f}",
                f"{total:.0f}",
                f"{total / base_pages:.3f}x",
                measured["access_requests"],
                f"{outcome['run'].peak_rss_bytes / 2**20:.0f}",
                f"{outcome['wall']:.1f}",
            ]
        )
    legacy = results[True][1]["legacy"] / max(1, results[True][1]["counts"]["pages"])
    rows.append(
        [
            "groups expanded (pre-17 shape, computed)",
            results[True][1]["counts"]["pages"],
            "",
            "",
            f"{legacy:.0f}",
            f"{legacy:.0f}",
            f"{legacy / base_pages:.1f}x",
            "",
            "",
            "",
        ]
    )
    print(
        f"{args.pages} pages in one space granted to {COMPANY} ({args.members} members), {restricted} restricted "
        f"subtree roots (a {TEAM_SIZE}-person team and one person each); {args.deployment}; main.py read of pages + "
        "memberships"
    )
    print(
        format_table(
            [
                "run",
                "pages",
                "memberships",
                "tokens/page",
                "page record B/page",
                "all records B/page",
                "vs without",
                "access requests",
                "peak RSS MB",
                "wall s",
            ],
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
