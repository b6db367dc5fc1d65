"""Peers, side by side in one run: pages/s of this project's source vs Airbyte's and LangChain's Confluence readers.

    python -m bench.peers [--pages 2000] [--latency-ms 20] [--scenarios normal 429]

Every client reads the same `synthetic_site(pages)` from stand-ins started here with the same faults: 20 ms per API
request, then again with a 429 (Retry-After: 1) on every 50th request. Each runs as a subprocess in its own venv
(bench/.venv-<peer>, built on first use). Counted from outside: unique page ids and duplicates on stdout, API requests
seen by the stand-in, wall seconds from launch to exit (start-up included: a sync pays it too).

The Airbyte peer only speaks HTTPS (`https://{domain_name}/wiki/rest/api/`), so an HTTPS stand-in with a self-signed
certificate serves it; our source also runs against that one as a control, so transport cost is visible, not hidden.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.peers.clients import airbyte_tls_cert, run_airbyte, run_langchain
from bench.peers.venvs import AIRBYTE, LANGCHAIN
from bench.source_throughput import run_our_source
from bench.timed_runs import RunResult, expected_pages, format_table, site_parser
from testkit.confluence_stand_in import Faults, Site, StandIn, synthetic_site

SCENARIOS = {
    "normal": "20 ms per request",
    "429": "20 ms per request + 429 (Retry-After: 1) on every 50th request",
}
MAIN_LINE = "ours Cloud v2 (defaults, HTTP)"


def faults_for(scenario: str, latency_ms: float) -> Faults:
    if scenario == "429":
        return Faults(latency_ms=latency_ms, status_429_every=50, retry_after="1")
    return Faults(latency_ms=latency_ms)


def run_scenario(
    site: Site, scenario: str, latency_ms: float, workdir: Path, peer_timeout: float = 900.0
) -> list[RunResult]:
    """Every client once against an HTTP and an HTTPS stand-in carrying the same site and faults."""
    expected = expected_pages(site)
    cert, key = airbyte_tls_cert()
    tls_env = {**os.environ, "REQUESTS_CA_BUNDLE": cert}
    faults = faults_for(scenario, latency_ms)
    with StandIn(site, faults=faults) as http, StandIn(site, faults=faults, tls=(cert, key)) as https:
        runs: list[tuple[str, Callable[[], RunResult]]] = [
            (
                MAIN_LINE,
                lambda: run_our_source(
                    http, workdir, "cloud", workers=None, page_size=100, expected=expected, name=MAIN_LINE
                ),
            ),
            (
                "ours DC v1",
                lambda: run_our_source(
                    http,
                    workdir,
                    "data_center",
                    workers=None,
                    page_size=100,
                    expected=expected,
                    name="ours DC v1 (defaults, HTTP)",
                ),
            ),
            (
                "ours https",
                lambda: run_our_source(
                    https,
                    workdir,
                    "cloud",
                    workers=None,
                    page_size=100,
                    expected=expected,
                    name="ours Cloud v2 (defaults, HTTPS)",
                    env=tls_env,
                ),
            ),
            ("airbyte", lambda: run_airbyte(https, workdir, expected, timeout=peer_timeout)),
            ("langchain", lambda: run_langchain(http, workdir, expected, timeout=peer_timeout)),
        ]
        results = []
        for label, run in runs:
            print(f"[{scenario}] {label} ...", file=sys.stderr, flush=True)
            result = run()
            print(
                f"[{scenario}] {result.name}: {result.unique}/{expected} pages, {result.wall:.2f} s "
                f"(start {result.first_record:.2f} s, read {result.read_seconds:.2f} s), "
                f"exit {result.exit_code} {result.note}",
                file=sys.stderr,
                flush=True,
            )
            results.append(result)
    return results


def comparable(result: RunResult) -> bool:
    """A peer counts for the ratios if it delivered every page once, or was stopped by --peer-timeout with no
    duplicates (a bounded run: its rates are measured on the pages it got, and the table says so)."""
    return result.ok or (result.killed and result.duplicates == 0 and result.unique > 1)


def _ratio(ours: float, peer: float) -> float:
    return ours / peer if peer else float("inf")


def scenario_table(results: list[RunResult]) -> str:
    """One row per client, then the verdict against the issue's target (every page, no duplicates, >= 3x), on both
    end-to-end pages/s (launch to exit, start-up included) and read-phase pages/s (first to last page)."""
    ours = next(r for r in results if r.name == MAIN_LINE)
    peers = [r for r in results if not r.name.startswith("ours") and comparable(r)]
    if not peers:
        return (
            format_table(["client", "pages", "status"], [[r.name, r.unique, r.exit_code] for r in results])
            + "\n\nno peer delivered every page: no ratio"
        )
    fastest = max(peers, key=lambda r: r.pages_per_second)
    fastest_read = max(peers, key=lambda r: r.read_pages_per_second)
    rows = []
    for r in results:
        if r.ok:
            status = "ok"
        elif r.killed and r.duplicates == 0:
            status = f"bounded ({r.note})"
        else:
            status = f"exit={r.exit_code} {r.note}".strip()
        rows.append(
            [
                r.name,
                f"{r.unique}/{r.expected}",
                len(r.ids),
                r.duplicates,
                r.api_requests,
                r.status_429_sent,
                r.wall,
                r.first_record,
                r.read_seconds,
                r.pages_per_second,
                r.read_pages_per_second,
                _ratio(ours.pages_per_second, r.pages_per_second),
                _ratio(ours.read_pages_per_second, r.read_pages_per_second),
                status,
            ]
        )
    table = format_table(
        [
            "client",
            "unique pages",
            "total",
            "dup",
            "requests",
            "429s",
            "wall s",
            "start s",
            "read s",
            "e2e pages/s",
            "read pages/s",
            "ours/this e2e",
            "ours/this read",
            "status",
        ],
        rows,
    )
    ratio = _ratio(ours.pages_per_second, fastest.pages_per_second)
    read_ratio = _ratio(ours.read_pages_per_second, fastest_read.read_pages_per_second)

    def verdict(value: float) -> str:
        return "MET" if ours.ok and value >= 3 else "NOT MET"

    return (
        f"{table}\n\nstart = launch to first page; read = first to last page; e2e pages/s = unique pages / wall; "
        f"read pages/s = (unique pages - 1) / read s\n"
        f"ours (Cloud v2, defaults) / fastest peer end to end ({fastest.name}): {ratio:.2f}x; "
        f"target (all pages, no duplicates, >= 3x): {verdict(ratio)}\n"
        f"ours (Cloud v2, defaults) / fastest peer read phase ({fastest_read.name}): {read_ratio:.2f}x; "
        f"target: {verdict(read_ratio)}"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = site_parser("python -m bench.peers", __doc__)
    parser.add_argument("--scenarios", nargs="+", choices=sorted(SCENARIOS), default=["normal", "429"])
    parser.add_argument(
        "--peer-timeout",
        type=float,
        default=900.0,
        help="stop a peer after this many seconds; its rates then come from a bounded run",
    )
    parser.add_argument("--keep", type=Path, help="keep configs and peer stderr logs in this folder (e.g. bench/out)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    AIRBYTE.ensure()
    LANGCHAIN.ensure()
    site = synthetic_site(args.pages, args.spaces)
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        workdir = (args.keep or Path(tmp)).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        for scenario in args.scenarios:
            results = run_scenario(site, scenario, args.latency_ms, workdir, args.peer_timeout)
            print(f"\n### {scenario}: synthetic_site({args.pages}, {args.spaces}), {SCENARIOS[scenario]}\n")
            print(scenario_table(results), flush=True)
    print(
        f"\nversions: airbyte-source-confluence {AIRBYTE.version_of('airbyte-source-confluence')} "
        f"(airbyte-cdk {AIRBYTE.version_of('airbyte-cdk')}), langchain-community "
        f"{LANGCHAIN.version_of('langchain-community')}, atlassian-python-api "
        f"{LANGCHAIN.version_of('atlassian-python-api')}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
