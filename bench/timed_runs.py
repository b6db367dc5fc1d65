"""What the source benchmarks share: a client run against a stand-in, timed and counted from outside the client.

`timed_subprocess` runs any client (this project's source through `run_source_read`, or a peer) and fills a
`RunResult`; `format_table` prints the side-by-side rows. Benchmarks import this module, never each other.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from testkit.confluence_stand_in import Site, StandIn
from testkit.records import catalog_dict

ROOT = Path(__file__).resolve().parents[1]
CREDENTIALS = {"auth_type": "basic", "username": "demo@example.com", "api_token": "demo-api-token"}
PAGES_CATALOG = catalog_dict(["pages"])  # the configured catalog every run of `main.py read` gets


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


def timed_read(
    server: StandIn,
    workdir: Path,
    label: str,
    expected: int,
    launcher: Sequence[str],
    config: dict[str, object],
    catalog: dict[str, object],
    *,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    timeout: float = 900.0,
) -> RunResult:
    """`<launcher> read --config ... --catalog ...` of an Airbyte source (ours or a peer) against `server`, its
    `pages` records counted on stdout by `timed_subprocess`; config, catalog and stderr kept in `workdir`."""
    stem = label.replace(" ", "_").replace("=", "").replace("/", "")
    config_path, catalog_path = workdir / f"{stem}.config.json", workdir / f"{stem}.catalog.json"
    config_path.write_text(json.dumps(config))
    catalog_path.write_text(json.dumps(catalog))
    return timed_subprocess(
        server,
        RunResult(label, expected),
        [*launcher, "read", "--config", str(config_path), "--catalog", str(catalog_path)],
        lambda out: record_ids_from_airbyte_stdout(out, "pages"),
        env=env,
        cwd=cwd,
        stderr_path=workdir / f"{stem}.stderr",
        timeout=timeout,
    )


def run_source_read(
    server: StandIn,
    workdir: Path,
    deployment: str,
    label: str,
    expected: int,
    settings: dict[str, object] | None = None,
    env: dict[str, str] | None = None,
) -> RunResult:
    """This project's `main.py read` of the `pages` stream against `server`, `settings` added to its config."""
    config = {
        "base_url": server.url if deployment == "cloud" else server.dc_url,
        "deployment": deployment,
        "credentials": CREDENTIALS,
        **(settings or {}),
    }
    launcher = [sys.executable, str(ROOT / "main.py")]
    return timed_read(server, workdir, label, expected, launcher, config, PAGES_CATALOG, env=env)


def site_parser(prog: str, doc: str) -> argparse.ArgumentParser:
    """A benchmark's argument parser with what every source benchmark takes: the synthetic site's size (`--pages`,
    `--spaces`) and the stand-in's latency per API request (`--latency-ms`)."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.split("\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--spaces", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    return parser


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
