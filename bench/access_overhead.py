"""What reading access costs: requests and wall time of a sync with and without it, side by side in one run.

    python -m bench.access_overhead [--pages 2000] [--spaces 4] [--latency-ms 20] [--restricted 0.1] [--groups 6]

Serves `synthetic_site(pages)` with `synthetic_access` (about `--restricted` of the pages restricted to a group and a
user, `--groups` groups over the site's users) in-process with a fixed latency per API request, then runs `main.py
read` (the real entry point, in a subprocess) for the `pages` stream twice per deployment: `read_permissions: false`
(no access requests; every page restricted) and `true` (restrictions in bulk, space permissions, group members).
Prints pages, API requests, wall time and the ratios access/no-access, and checks both runs delivered every page.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.timed_runs import RunResult, expected_pages, format_table, run_source_read, site_parser
from testkit.confluence_stand_in import Faults, StandIn, synthetic_access, synthetic_site


def run(server: StandIn, workdir: Path, deployment: str, read_permissions: bool, expected: int) -> RunResult:
    label = f"{'Cloud' if deployment == 'cloud' else 'DC'} {'with' if read_permissions else 'without'} access"
    return run_source_read(server, workdir, deployment, label, expected, {"read_permissions": read_permissions})


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = site_parser("python -m bench.access_overhead", __doc__)
    parser.add_argument("--restricted", type=float, default=0.1, help="fraction of pages carrying a restriction")
    parser.add_argument("--groups", type=int, default=6)
    parser.add_argument("--deployments", nargs="+", default=["cloud", "data_center"])
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    site = synthetic_site(args.pages, args.spaces)
    pages = [(page.id, page.parent_id) for page in site.all_pages()]
    access = synthetic_access(pages, site.user_ids(), restricted_fraction=args.restricted, n_groups=args.groups)
    site = site.with_access(access)
    expected = expected_pages(site)
    rows: list[list[object]] = []
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as folder, StandIn(site, faults=Faults(latency_ms=args.latency_ms)) as server:
        for deployment in args.deployments:
            without = run(server, Path(folder), deployment, False, expected)
            with_access = run(server, Path(folder), deployment, True, expected)
            for result in (without, with_access):
                if not result.ok:
                    failures.append(f"{result.name}: {result.unique}/{expected} pages, exit {result.exit_code}")
                rows.append([result.name, result.unique, result.api_requests, result.wall, "", ""])
            rows[-1][4] = f"{with_access.api_requests / max(1, without.api_requests):.2f}x"
            rows[-1][5] = f"{with_access.wall / max(1e-9, without.wall):.2f}x"
    restricted = len(access.restrictions)
    print(
        f"{args.pages} pages in {args.spaces} spaces, {restricted} carrying a restriction, {len(access.groups)} groups, "
        f"{args.latency_ms:g} ms per request, default num_workers"
    )
    print(format_table(["run", "pages", "API requests", "wall s", "requests ratio", "wall ratio"], rows))
    for failure in failures:
        print(f"FAILED {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
