"""Warm-process search latency: hybrid search per query against the query embedding alone, in one process.

The index is `synthetic_site(300, seed=7)` synced with the real default model (about 1,500 chunks, as in the
destination benchmark that measured 3.45x before this change). Each round embeds one question, then answers it with
hybrid search (this project's fusion), then with the previous LanceDB hybrid query (RRFReranker), interleaved so
that the machine's noise hits all three alike; medians and p95 over the rounds.

    python -m bench.search_latency [--pages 300] [--rounds 60] [--index DIR]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench.search_quality import build_index
from testkit.confluence_stand_in import synthetic_site
from testkit.records import site_records

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

    from destination_vectors.search import HIT_COLUMNS

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
    from destination_vectors.search import Searcher

    with tempfile.TemporaryDirectory(prefix="search-latency-") as scratch:
        folder = options.index or Path(scratch)
        if options.index and (folder / "lancedb").is_dir():
            config = {"lancedb_uri": str(folder / "lancedb")}
        else:
            folder.mkdir(parents=True, exist_ok=True)
            config = build_index(folder, site_records(synthetic_site(options.pages, seed=7)))
        searcher = Searcher.from_config(DestinationConfig.model_validate(config))
        chunks = searcher._store.open_live().count_rows()
        for question in QUESTIONS:  # warm: model, table, indexes, thread pool
            searcher.search(question, k=options.k)
            lancedb_rrf_hybrid(searcher, question, options.k)
        embed, hybrid, before, chunk_mode = [], [], [], []
        for round_number in range(options.rounds):
            question = f"{QUESTIONS[round_number % len(QUESTIONS)]} {round_number}"
            for series, call in (
                (embed, lambda q=question: searcher._embedder.embed([q])),
                (hybrid, lambda q=question: searcher.search(q, k=options.k)),
                (chunk_mode, lambda q=question: searcher.search(q, k=options.k, group_by="page")),
                (before, lambda q=question: lancedb_rrf_hybrid(searcher, q, options.k)),
            ):
                started = time.perf_counter()
                call()
                series.append((time.perf_counter() - started) * 1000)
    base = statistics.median(embed)
    print(f"{chunks} chunks, {options.rounds} rounds, k={options.k}, warm process; medians (p95) in ms\n")
    print("| what | median ms | p95 ms | / query embedding |")
    print("|---|---|---|---|")
    for label, series in (
        ("query embedding alone", embed),
        ("hybrid search (fusion.py), chunks", hybrid),
        ("hybrid search (fusion.py), grouped by page", chunk_mode),
        ("previous path: LanceDB hybrid + RRFReranker", before),
    ):
        print(
            f"| {label} | {statistics.median(series):.1f} | {p95(series):.1f} | {statistics.median(series) / base:.2f}x |"
        )


if __name__ == "__main__":
    main()
