"""Source throughput: pages/s of this project's `read` beside the bound set by the requests alone, in one run.

    python -m bench.source_throughput [--pages 2000] [--latency-ms 20] [--workers 1 4 16] [--page-size 100 250]

Serves `synthetic_site(pages)` in-process with a fixed latency per API request, runs `main.py read` for the `pages`
stream in a subprocess (the real entry point, stdout and all) for Cloud (REST v2) and Data Center (REST v1), and
counts RECORD lines. Beside each run it prints the request-bound time, requests x latency / workers, because with a
fixed latency per request no client can beat it: a ratio near 1 means the time goes into waiting on requests that
overlap as much as the worker count allows, a larger ratio means time lost in the client (CPU, serialisation, idle
workers). Also printed: the per-space chain (spaces request + the largest space's page requests, x latency): the
source pages each space sequentially and runs spaces in parallel, so with workers >= spaces that chain is its floor;
and where the wall time goes: start-up to the first page, reading to the last page, and shut-down after it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench.timed_runs import RunResult, expected_pages, format_table, run_source_read, site_parser
from testkit.confluence_stand_in import Faults, Site, StandIn, synthetic_site


def run_our_source(
    server: StandIn,
    workdir: Path,
    deployment: str,
    *,
    workers: int | None,
    page_size: int,
    expected: int,
    name: str | None = None,
    env: dict[str, str] | None = None,
) -> RunResult:
    """This project's `main.py read` for the `pages` stream only, in a subprocess."""
    settings: dict[str, object] = {"page_size": page_size}
    if workers is not None:
        settings["num_workers"] = workers
    label = name or f"ours {'Cloud v2' if deployment == 'cloud' else 'DC v1'} w={workers or 'default'} ps={page_size}"
    return run_source_read(server, workdir, deployment, label, expected, settings, env)


def request_bound(result: RunResult, latency_ms: float, workers: int) -> float:
    """Seconds the successful requests alone take at `workers` in parallel: no client can be faster."""
    needed = result.api_requests - result.status_429_sent
    return needed * latency_ms / 1000 / max(1, workers)


def chain_seconds(site: Site, deployment: str, page_size: int, latency_ms: float) -> float:
    """The longest sequential request chain (spaces listing, then one space's pages) times the latency."""
    per_request = min(page_size, 250 if deployment == "cloud" else 100)  # Data Center caps v1 `limit` at 100
    per_space: dict[str, int] = {}
    for page in site.pages:
        per_space[page.space_key] = per_space.get(page.space_key, 0) + 1
    longest = max(per_space.values(), default=0)
    return (1 + -(-longest // per_request)) * latency_ms / 1000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = site_parser("python -m bench.source_throughput", __doc__)
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 4, 16], help="num_workers values to run (the config default is 4)"
    )
    parser.add_argument(
        "--page-size",
        type=int,
        nargs="+",
        default=[100],
        help="page_size values (Cloud v2 allows 250; DC v1 caps at 100)",
    )
    parser.add_argument("--deployments", nargs="+", default=["cloud", "data_center"])
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    site = synthetic_site(args.pages, args.spaces)
    expected = expected_pages(site)
    rows: list[list[object]] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-source-") as tmp,
        StandIn(site, faults=Faults(latency_ms=args.latency_ms)) as server,
    ):
        for deployment in args.deployments:
            for page_size in args.page_size:
                for workers in args.workers:
                    result = run_our_source(
                        server, Path(tmp), deployment, workers=workers, page_size=page_size, expected=expected
                    )
                    bound = request_bound(result, args.latency_ms, workers)
                    chain = chain_seconds(site, deployment, page_size, args.latency_ms)
                    rows.append(
                        [
                            result.name,
                            f"{result.unique}/{expected}",
                            result.duplicates,
                            result.api_requests,
                            result.wall,
                            result.pages_per_second,
                            bound,
                            result.wall / bound if bound else 0.0,
                            chain,
                            result.first_record,
                            result.last_record - result.first_record,
                            result.wall - result.last_record,
                            "ok" if result.ok else f"FAIL exit={result.exit_code}",
                        ]
                    )
                    print(f"  {result.name}: {result.unique}/{expected} pages in {result.wall:.2f} s", file=sys.stderr)
    print(
        f"synthetic_site({args.pages}, {args.spaces}) with {args.latency_ms:g} ms per API request; "
        f"bound = successful requests x latency / workers; chain = longest one-space request chain x latency; "
        f"wall = start (to first page) + read (first to last page) + exit"
    )
    print(
        format_table(
            [
                "run",
                "pages",
                "dup",
                "requests",
                "wall s",
                "pages/s",
                "bound s",
                "wall/bound",
                "chain s",
                "start s",
                "read s",
                "exit s",
                "status",
            ],
            rows,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
