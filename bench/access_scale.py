"""Access at enterprise scale, destination side: what the readers and the stored memberships cost, side by side.
(The source side, bytes of Airbyte messages per page and the source's peak RSS, is `bench/access_source_scale.py`.)

    python -m bench.access_scale [--pages 20000] [--members 10000] [--subtrees 5] [--queries 40] [--paragraphs 1]
                                 [--model NAME]

The site: `--pages` pages in one space granted to a `--members`-person group (`confluence-users`), plus `--subtrees`
restricted subtrees (each restricted to a 50-person team and one named person), as the source emits them: the big
group is ONE `group:` token on every page it may read, a restricted subtree carries its team's token and one `user:`
token, and the `memberships` stream lists every person with their groups. The same pages are written twice by a
`destination-vectors write` process (the real entry point):
- without access: no `readers` (every row empty) and no memberships;
- with access: `readers`, `restricted`, and the memberships stream stored beside the chunks.
Prints the table size on disk (chunk table, memberships table), the write's peak RSS and time, and the latency of a
warm in-process search as a person (`principal=Principal(account_id=...)`: the groups resolved from the stored
memberships, then the readers prefilter) against a public search of the same questions on the same index, with the
ratios. `--model test-hash-embedder` (default) embeds by hashing (64 dimensions, no model load): vectors are then
small, so the readers' share of the table is larger than with a real model, and the query's embedding (which a
person's search and a public search share) is nearly free, so the latency ratio is the filter's and the resolution's
cost alone. Both are the harder case for the ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.destination_sync import run_write
from bench.timed_runs import format_table
from testkit.confluence_stand_in import synthetic_site
from testkit.records import catalog_dict, site_records

COMPANY = "confluence-users"
TEAM_SIZE = 50


def person(index: int) -> str:
    return f"5b10ac8d82e05b22cc{index:06d}"


def access_records(pages: int, members: int, subtrees: int, paragraphs: int = 1) -> tuple[list[dict], list[dict]]:
    """(pages records with readers, memberships records) for one space of `pages` pages granted to a `members`-person
    group, with `subtrees` restricted subtrees (a team of 50 and one named person each)."""
    records = site_records(synthetic_site(pages, n_spaces=1, body_paragraphs=paragraphs))
    parent = {r["id"]: r["parent_id"] for r in records}

    def root_of(page_id: str) -> str:
        while parent.get(page_id) is not None:
            page_id = parent[page_id]
        return page_id

    sizes = Counter(root_of(r["id"]) for r in records)  # the largest trees: "a few restricted subtrees" that matter
    restricted_roots = {root: index for index, (root, _) in enumerate(sizes.most_common(subtrees))}

    def subtree_of(page_id: str) -> int | None:
        return restricted_roots.get(root_of(page_id))

    for record in records:
        team = subtree_of(record["id"])
        if team is None:
            record.update(restricted=False, readers=[f"group:{COMPANY}"])
        else:  # restricted to team-N and one person outside it (who holds the space grant through the company)
            named = person(members - 1 - team)
            record.update(restricted=True, visibility="internal", readers=[f"group:team-{team}", f"user:{named}"])
    memberships = []
    for index in range(members):
        team = index // TEAM_SIZE
        groups = [COMPANY, *([f"team-{team}"] if team < subtrees else [])]
        memberships.append(
            {
                "user_id": person(index),
                "groups": groups,
                "display_name": f"Person {index}",
                "email": f"person.{index}@example.com",
            }
        )
    return records, memberships


def write_messages(path: Path, pages: list[dict], memberships: list[dict]) -> Path:
    streams = [("pages", pages)] + ([("memberships", memberships)] if memberships else [])
    with path.open("w", encoding="utf-8") as out:
        for stream, records in streams:
            for record in records:
                message = {"type": "RECORD", "record": {"stream": stream, "data": record, "emitted_at": 0}}
                out.write(json.dumps(message) + "\n")
        for stream, _ in streams:
            state = {"stream_descriptor": {"name": stream}, "stream_state": {"__ab_no_cursor_state_message": True}}
            out.write(json.dumps({"type": "STATE", "state": {"type": "STREAM", "stream": state}}) + "\n")
    return path


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def search_latencies(config: dict, scopes: dict[str, dict[str, Any]], queries: int, rounds: int) -> dict[str, list]:
    """Seconds per search for each scope, warm, in one Searcher: every question is asked in every scope back to back
    (the order rotating), so a busy machine slows each scope alike."""
    from destination_vectors.config import DestinationConfig
    from destination_vectors.read.search import Searcher

    searcher = Searcher.from_config(DestinationConfig.model_validate(config))
    words = ["deploy", "backup", "vpn", "invoice", "release"]
    questions = [f"{words[i % len(words)]} checklist for step {i}" for i in range(queries)]
    for scope in scopes.values():  # open the table, load the vectors and the full-text index, resolve the person
        searcher.search(questions[0], k=10, **scope)
    times: dict[str, list[float]] = {label: [] for label in scopes}
    labels = list(scopes)
    for round_ in range(rounds):
        for number, question in enumerate(questions):
            shift = (round_ + number) % len(labels)
            for label in labels[shift:] + labels[:shift]:
                started = time.perf_counter()
                searcher.search(question, k=10, **scopes[label])
                times[label].append(time.perf_counter() - started)
    return times


def first_search(config: dict, scope: dict[str, Any]) -> float:
    """The first search of a fresh Searcher (what one `search` command pays once the model is loaded): opening the
    table, and for a person the memberships table and their look-up."""
    from destination_vectors.config import DestinationConfig
    from destination_vectors.read.search import Searcher

    searcher = Searcher.from_config(DestinationConfig.model_validate(config))
    started = time.perf_counter()
    searcher.search("deploy checklist", k=10, **scope)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.access_scale", description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=20000)
    parser.add_argument("--members", type=int, default=10000)
    parser.add_argument("--subtrees", type=int, default=5)
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--paragraphs", type=int, default=1, help="paragraphs per page (1: one or two chunks)")
    parser.add_argument("--model", default="test-hash-embedder")
    args = parser.parse_args(argv)
    from destination_vectors.read.access import Principal

    pages, memberships = access_records(args.pages, args.members, args.subtrees, args.paragraphs)
    bare = [{k: v for k, v in r.items() if k not in ("readers", "restricted")} for r in pages]
    restricted = sum(1 for r in pages if r["restricted"])
    rows, results = [], {}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        catalog = root / "catalog.json"
        catalog.write_text(json.dumps(catalog_dict(["pages", "memberships"])))
        for label, records, members in (("without access", bare, []), ("with access", pages, memberships)):
            work = root / label.replace(" ", "-")
            work.mkdir()
            config = {"lancedb_uri": str(work / "lancedb"), "embedding": {"model": args.model}}
            messages = write_messages(work / "messages.jsonl", records, members)
            run = run_write(work, messages, catalog, config)
            chunks = folder_bytes(work / "lancedb" / "confluence_chunks.lance")
            stored = folder_bytes(work / "lancedb" / "confluence_chunks__memberships.lance")
            results[label] = {
                "config": config,
                "bytes": chunks + stored,
                "rss": run["peak_rss_mb"],
                "wall": run["wall"],
            }
            rows.append(
                [
                    label,
                    run["chunks"],
                    f"{chunks / 1e6:.1f}",
                    f"{stored / 1e6:.2f}",
                    f"{(chunks + stored) / 1e6:.1f}",
                    f"{run['peak_rss_mb']:.0f}",
                    f"{run['wall']:.1f}",
                ]
            )
        without, with_access = results["without access"], results["with access"]
        rows.append(
            [
                "ratio with/without",
                "",
                "",
                "",
                f"{with_access['bytes'] / without['bytes']:.3f}x",
                f"{with_access['rss'] / without['rss']:.2f}x",
                f"{with_access['wall'] / without['wall']:.2f}x",
            ]
        )
        config = with_access["config"]
        scopes = {
            "public (visibility public)": {"visibility": "public"},
            # resolved from the stored memberships, never given: the company group, or it and a team
            "--as-user, company group": {"principal": Principal(account_id=person(args.members // 2))},
            "--as-user, company + team": {"principal": Principal(account_id=person(0))},
        }
        latencies = search_latencies(config, scopes, args.queries, args.rounds)
        first_times: dict[str, list[float]] = {label: [] for label in scopes}
        for repeat in range(6):  # each in turn, the order rotating: the first one of all warms the page cache
            labels = list(scopes)[repeat % len(scopes) :] + list(scopes)[: repeat % len(scopes)]
            for label in labels:
                first_times[label].append(first_search(config, scopes[label]))
        firsts = {label: statistics.median(times) for label, times in first_times.items()}
    print(
        f"{args.pages} pages in one space granted to {COMPANY} ({args.members} people), {args.subtrees} restricted "
        f"subtrees ({restricted} pages), model {args.model}"
    )
    print(
        format_table(["write", "chunks", "chunk table MB", "memberships MB", "total MB", "peak RSS MB", "wall s"], rows)
    )
    base = statistics.median(latencies["public (visibility public)"])
    first_base = firsts["public (visibility public)"]
    latency_rows = []
    for label, times in latencies.items():
        median, p95 = statistics.median(times), statistics.quantiles(times, n=20)[-1]
        latency_rows.append(
            [
                label,
                f"{median * 1000:.1f}",
                f"{p95 * 1000:.1f}",
                f"{median / base:.2f}x",
                f"{firsts[label] * 1000:.0f}",
                f"{firsts[label] / first_base:.2f}x",
            ]
        )
    headers = ["search (k=10, hybrid)", "warm median ms", "warm p95 ms", "vs public", "first search ms", "vs public"]
    print(format_table(headers, latency_rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
