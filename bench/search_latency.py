"""Warm-process search latency: hybrid search per query against the query embedding alone, in one process.

The index is `synthetic_site(300, seed=7)` synced with the real default model (about 1,500 chunks, as in the
destination benchmark that measured 3.45x before the fusion change). Each round embeds one question, then answers it
with hybrid search (chunks, then grouped by page), then with LanceDB's own hybrid query (RRFReranker, the path before
fusion.py), interleaved so that the machine's noise hits all alike; medians and p95 over the rounds, wall time and
the process's CPU time (the work, which a loaded machine disturbs less).

    python -m bench.search_latency [--pages 300] [--rounds 60] [--index DIR]

Side by side with another checkout (say main before a change), same index, same measuring code: run this file with
that checkout first on the path, `PYTHONPATH=/path/to/other python bench/search_latency.py --index DIR`.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench.search_quality import synthetic_index

QUESTIONS = [
    "how do I configure the deploy pipeline step",
    "backup retention for the database",
    "vpn access from home",
    "invoice approval process",
    "release checklist before a freeze",
    "who owns the payment service",
]


def lancedb_rrf_hybrid(searcher, query: str, k: int) -> list[dict]:
    """The search path before this change: open the table, check indexes, LanceDB hybrid with RRF reranking."""
    from lancedb.query import MatchQuery
    from lancedb.rerankers import RRFReranker

    from destination_vectors.store.row import HIT_COLUMNS

    table = searcher._store.open_live()
    table.list_indices()
    vector = searcher._embedder.embed([query])[0].tolist()
    builder = (
        table.search(query_type="hybrid")
        .vector(vector)
        .text(MatchQuery(query, "text"))
        .distance_type("cosine")
        .select([c for c in HIT_COLUMNS if c in table.schema.names])
        .rerank(RRFReranker())
        .where("visibility = 'public'", prefilter=True)
    )
    return builder.limit(k).to_list()


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--index", type=Path, help="keep the index in this folder and reuse it on the next run")
    options = parser.parse_args(argv)
    from destination_vectors.config import DestinationConfig
    from destination_vectors.read.search import Searcher

    with tempfile.TemporaryDirectory(prefix="search-latency-") as scratch:
        folder = options.index or Path(scratch)
        config = synthetic_index(folder, options.pages, reuse=options.index is not None)
        searcher = Searcher.from_config(DestinationConfig.model_validate(config))
        plain = Searcher(searcher._store, searcher._embedder, exact=False)  # ranking before exact strings counted
        chunks = searcher._store.open_live().count_rows()
        for question in QUESTIONS:  # warm: model, table, indexes, thread pool
            searcher.search(question, k=options.k)
            searcher.search(f"{question} OPS-1", k=options.k)
            lancedb_rrf_hybrid(searcher, question, options.k)
        embed, hybrid, pages, before = [], [], [], []  # (wall ms, process CPU ms) per call
        unexact, identifier = [], []
        for round_number in range(options.rounds):
            question = f"{QUESTIONS[round_number % len(QUESTIONS)]} {round_number}"
            calls = [
                (embed, lambda q=question: searcher._embedder.embed([q])),
                (hybrid, lambda q=question: searcher.search(q, k=options.k)),
                (pages, lambda q=question: searcher.search(q, k=options.k, group_by="page")),
                (unexact, lambda q=question: plain.search(q, k=options.k)),
                (identifier, lambda q=question, n=round_number: searcher.search(f"{q} OPS-{n}", k=options.k)),
                (before, lambda q=question: lancedb_rrf_hybrid(searcher, q, options.k)),
            ]
            # A new order each round: a call right after the embedding pays for ONNX Runtime's spinning threads
            # (measured: whichever search came second cost ~0.7 ms more CPU), so no series keeps that place.
            random.Random(round_number).shuffle(calls)
            for series, call in calls:
                cpu, started = time.process_time(), time.perf_counter()
                call()
                series.append(((time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000))
    import destination_vectors

    base = statistics.median(wall for wall, _ in embed)
    base_cpu = statistics.median(cpu for _, cpu in embed)
    print(f"search code: {Path(destination_vectors.__file__).parent}; load average {os.getloadavg()[0]:.2f}")
    print(f"{chunks} chunks, {options.rounds} rounds, k={options.k}, warm process; medians (p95) in ms")
    print("process CPU: all threads of this process (LanceDB's and ONNX Runtime's included): the work, less noisy\n")
    print("| what | median ms | p95 ms | / query embedding | process CPU ms | CPU / embedding's |")
    print("|---|---|---|---|---|---|")
    for label, series in (
        ("query embedding alone", embed),
        ("hybrid search (fusion.py), chunks", hybrid),
        ("hybrid search (fusion.py), grouped by page", pages),
        ("hybrid search, Searcher(exact=False): ranking before exact strings", unexact),
        ("hybrid search, a query with an identifier (+ OPS-n: whole-token index asked too)", identifier),
        ("LanceDB hybrid + RRFReranker (before fusion.py)", before),
    ):
        wall = statistics.median(w for w, _ in series)
        cpu = statistics.median(c for _, c in series)
        print(
            f"| {label} | {wall:.1f} | {p95([w for w, _ in series]):.1f} | {wall / base:.2f}x | {cpu:.1f} | "
            f"{cpu / base_cpu:.2f}x |"
        )


if __name__ == "__main__":
    main()
