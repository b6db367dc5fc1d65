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
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from testkit.confluence_stand_in import Faults, Site, StandIn, synthetic_site

ROOT = Path(__file__).resolve().parents[1]
CREDENTIALS = {"auth_type": "basic", "username": "demo@example.com", "api_token": "demo-api-token"}
PAGES_CATALOG = {
    "streams": [
        {
            "stream": {
                "name": "pages",
                "json_schema": {},
                "supported_sync_modes": ["full_refresh"],
                "source_defined_primary_key": [["id"]],
            },
            "sync_mode": "full_refresh",
            "destination_sync_mode": "overwrite",
            "primary_key": [["id"]],
        }
    ]
}


@dataclass
class RunResult:
    """What one client run delivered and what it cost, as measured from outside the client."""

    name: str
    expected: int
    ids: list[str] = field(default_factory=list)
    wall: float = 0.0
    api_requests: int = 0
    status_429_sent: int = 0
    first_record: float = 0.0  # seconds from launch to the first page (start-up: imports, config, first request)
    last_record: float = 0.0  # seconds from launch to the last page (the rest of wall is shut-down)
    exit_code: int = 0
    note: str = ""

    @property
    def unique(self) -> int:
        return len(set(self.ids))

    @property
    def duplicates(self) -> int:
        return len(self.ids) - self.unique

    @property
    def pages_per_second(self) -> float:
        return self.unique / self.wall if self.wall > 0 else 0.0

    @property
    def read_seconds(self) -> float:
        """First page to last page: the read phase, without start-up and shut-down."""
        return self.last_record - self.first_record

    @property
    def read_pages_per_second(self) -> float:
        """Pages after the first, over the read phase (0 if fewer than two pages arrived)."""
        return (self.unique - 1) / self.read_seconds if self.read_seconds > 0 and self.unique > 1 else 0.0

    @property
    def killed(self) -> bool:
        return self.note.startswith("killed after")

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.unique == self.expected and self.duplicates == 0


def expected_pages(site: Site) -> int:
    """Pages every client should deliver: the synthetic site's current pages (all of them)."""
    return sum(1 for page in site.pages if page.status == "current")


def record_ids_from_airbyte_stdout(lines: Iterable[bytes], stream: str) -> Iterator[str]:
    """Ids of RECORD messages of `stream` in an Airbyte protocol stdout (other messages skipped cheaply)."""
    for line in lines:
        if b'"RECORD"' not in line:
            continue
        message = json.loads(line)
        record = message.get("record") or {}
        if message.get("type") == "RECORD" and record.get("stream") == stream:
            yield str(record["data"]["id"])


def timed_subprocess(
    server: StandIn,
    result: RunResult,
    command: Sequence[str],
    parse: Callable[[Iterable[bytes]], Iterable[str]],
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    stderr_path: Path | None = None,
    timeout: float = 900.0,
) -> RunResult:
    """Run `command` against `server` from zeroed request counters; fill ids, wall time and request counts in.

    A run still going after `timeout` seconds is killed and marked, so one stuck peer cannot hang the benchmark."""
    server.stats.reset()
    stderr = stderr_path.open("wb") if stderr_path else subprocess.DEVNULL
    started = time.perf_counter()
    try:
        process = subprocess.Popen(list(command), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=stderr)
        assert process.stdout is not None
        watchdog = threading.Timer(timeout, process.kill)
        watchdog.start()
        tail: deque[bytes] = deque(maxlen=5)  # the last lines (a failing Airbyte source explains itself on stdout)
        for page_id in parse(_remember(process.stdout, tail)):
            result.last_record = time.perf_counter() - started
            result.first_record = result.first_record or result.last_record
            result.ids.append(page_id)
        result.exit_code = process.wait()
        if not watchdog.is_alive():
            result.note = f"killed after {timeout:g} s"
        watchdog.cancel()
        if stderr_path and result.exit_code != 0:
            stderr_path.with_suffix(".stdout-tail").write_bytes(b"".join(tail))
    finally:
        if stderr_path:
            stderr.close()  # type: ignore[union-attr]
    result.wall = time.perf_counter() - started
    snapshot = server.stats.snapshot()
    result.api_requests = int(snapshot["api_requests"])  # type: ignore[arg-type]
    result.status_429_sent = int(snapshot.get("status_429_sent", 0))  # type: ignore[arg-type]
    return result


def _remember(lines: Iterable[bytes], tail: deque[bytes]) -> Iterator[bytes]:
    for line in lines:
        tail.append(line)
        yield line


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
    config = {
        "base_url": server.url if deployment == "cloud" else server.dc_url,
        "deployment": deployment,
        "credentials": CREDENTIALS,
        "page_size": page_size,
    }
    if workers is not None:
        config["num_workers"] = workers
    label = name or f"ours {'Cloud v2' if deployment == 'cloud' else 'DC v1'} w={workers or 'default'} ps={page_size}"
    stem = label.replace(" ", "_").replace("=", "").replace("/", "")
    config_path, catalog_path = workdir / f"{stem}.config.json", workdir / "pages.catalog.json"
    config_path.write_text(json.dumps(config))
    catalog_path.write_text(json.dumps(PAGES_CATALOG))
    command = [
        sys.executable,
        str(ROOT / "main.py"),
        "read",
        "--config",
        str(config_path),
        "--catalog",
        str(catalog_path),
    ]
    result = RunResult(label, expected)
    return timed_subprocess(
        server,
        result,
        command,
        lambda out: record_ids_from_airbyte_stdout(out, "pages"),
        env=env,
        stderr_path=workdir / f"{stem}.stderr",
    )


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


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain Markdown table (it reads fine in a terminal and pastes into RESULTS.md as is)."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}" if value < 100 else f"{value:.0f}"
    return str(value)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.source_throughput", description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--spaces", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=20.0)
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
