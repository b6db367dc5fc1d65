"""The web page's search against the same search through `Searcher` in a warm process, and the search page's weight.

The index is `synthetic_site(300, seed=7)` synced with the real default model (about 1,500 chunks, as
bench/search_latency.py). `destination-vectors web` runs as its own process on a free loopback port and is warmed up;
this process holds a `Searcher` over the same index, warmed the same way. Each round asks one new question both
ways, in a shuffled order: a GET of the search page (k=10, grouped by page, the page's default) and
`Searcher.search(q, k=10, group_by="page")`. Reported, medians and p95 over the rounds:

- the server's own time for the request (its Server-Timing header: routing, the Host/Origin check, the listing of
  filter values, the search, the template), against the Searcher call: the goal is at most 1.3x;
- the request as a client sees it (HTTP on loopback included);
- the CPU time of both (the server's process during the request, from the same header; this process during the
  call), which a loaded machine disturbs less than wall time;
- the search page's weight: the HTML of a search with ten results plus every asset it references (goal <= 100 KB).

    python -m bench.web_search [--pages 300] [--rounds 60] [--index DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote_plus, urljoin

import requests

from bench.search_latency import QUESTIONS, p95
from bench.search_quality import synthetic_index
from testkit.paths import ROOT

K = 10
GOAL_RATIO = 1.3
GOAL_BYTES = 100_000


def start_server(config_path: Path) -> tuple[subprocess.Popen[str], str]:
    """`destination-vectors web --port 0` as users start it; returns the process and its address."""
    process = subprocess.Popen(
        [sys.executable, "-m", "destination_vectors", "web", "--config", str(config_path), "--port", "0"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in process.stderr:
        found = re.search(r"Web page on (http://\S+)/", line)
        if found:
            return process, found.group(1)
    raise SystemExit(f"the web server did not start (exit {process.wait()})")


def page_weight(session: requests.Session, url: str) -> tuple[int, dict[str, int]]:
    """Bytes of the page at `url` and of every asset it references (style sheets, scripts, images), as sent."""
    html = session.get(url, timeout=120)
    sizes = {"HTML (10 results)": len(html.content)}
    for asset in sorted(set(re.findall(r'(?:href|src)="(/static/[^"]+)"', html.text))):
        sizes[asset] = len(session.get(urljoin(url, asset), timeout=120).content)
    return sum(sizes.values()), sizes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--index", type=Path, help="keep the index in this folder and reuse it on the next run")
    options = parser.parse_args(argv)
    import json

    from destination_vectors.config import DestinationConfig
    from destination_vectors.read.search import Searcher

    with tempfile.TemporaryDirectory(prefix="web-search-") as scratch:
        folder = options.index or Path(scratch)
        config = synthetic_index(folder, options.pages, reuse=options.index is not None)
        config_path = folder / "destination.json"
        config_path.write_text(json.dumps(config))
        searcher = Searcher.from_config(DestinationConfig.model_validate(config))
        chunks = searcher._store.open_live().count_rows()
        server, base = start_server(config_path)
        try:
            session = requests.Session()
            for question in QUESTIONS:  # warm: model, table, indexes, the server's listing of filter values
                searcher.search(question, k=K, group_by="page")
                session.get(f"{base}/?q={quote_plus(question)}", timeout=120).raise_for_status()
            direct, served, client = [], [], []
            direct_cpu, served_cpu = [], []
            for round_number in range(options.rounds):
                question = f"{QUESTIONS[round_number % len(QUESTIONS)]} {round_number}"

                def ask_searcher(q: str = question) -> None:
                    started, cpu = time.perf_counter(), time.process_time()
                    searcher.search(q, k=K, group_by="page")
                    direct.append((time.perf_counter() - started) * 1000)
                    direct_cpu.append((time.process_time() - cpu) * 1000)

                def ask_server(q: str = question) -> None:
                    started = time.perf_counter()
                    response = session.get(f"{base}/?q={quote_plus(q)}&k={K}", timeout=120)
                    client.append((time.perf_counter() - started) * 1000)
                    response.raise_for_status()
                    timing = dict(re.findall(r"(\w+);dur=([\d.]+)", response.headers["server-timing"]))
                    served.append(float(timing["app"]))
                    served_cpu.append(float(timing["cpu"]))

                calls = [ask_searcher, ask_server]
                random.Random(round_number).shuffle(calls)
                for call in calls:
                    call()
            weight, sizes = page_weight(session, f"{base}/?q={quote_plus(QUESTIONS[0])}&k={K}")
        finally:
            server.terminate()
            server.wait(timeout=30)

    base_ms = statistics.median(direct)
    print(f"load average {os.getloadavg()[0]:.2f}; {chunks} chunks, {options.rounds} rounds, k={K}, grouped by page")
    print("| what | median ms | p95 ms | / Searcher.search |")
    print("|---|---|---|---|")
    base_cpu = statistics.median(direct_cpu)
    for label, series in (
        ("Searcher.search in a warm process", direct),
        ("web page: the server's time (Server-Timing)", served),
        ("web page: the request as the client sees it (HTTP on loopback)", client),
        ("CPU: Searcher.search (this process, all threads)", direct_cpu),
        ("CPU: the server's, for the request (its process, all threads)", served_cpu),
    ):
        median = statistics.median(series)
        against = base_cpu if label.startswith("CPU") else base_ms
        print(f"| {label} | {median:.1f} | {p95(series):.1f} | {median / against:.2f}x |")
    ratio = statistics.median(served) / base_ms
    print(
        f"\nserver time / Searcher: {ratio:.2f}x (goal <= {GOAL_RATIO}x: {'met' if ratio <= GOAL_RATIO else 'NOT met'})"
    )
    print("\n| part of the search page | bytes |")
    print("|---|---|")
    for name, size in sizes.items():
        print(f"| {name} | {size:,} |")
    print(f"| all | {weight:,} (goal <= {GOAL_BYTES:,}: {'met' if weight <= GOAL_BYTES else 'NOT met'}) |")


if __name__ == "__main__":
    main()
