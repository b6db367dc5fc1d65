"""Destination benchmark: every number beside its baseline, measured in one run on this machine.

    python -m bench.destination_sync [--pages 300] [--memory-pages 2000 20000] [--queries 20]

1. cold sync chunks/s (write subprocess, in-write seconds from the ledger) vs raw `model.encode` of the same chunks
2. warm re-pull with no change, and with 1% of pages changed, vs the cold sync time
3. peak RSS of a whole `write` process at each --memory-pages size (short pages: the model dominates either way)
4. search latency (hybrid, end to end) vs embedding the query alone
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from testkit.confluence_stand_in import synthetic_site
from testkit.records import catalog_file, edit_fraction, site_records, write_messages

ROOT = Path(__file__).resolve().parents[1]


def run_write(workdir: Path, messages: Path, catalog: Path, config: dict) -> dict:
    """One `destination-vectors write` process; returns the ledger row of its sync, its wall time, CPU seconds (user +
    system: the work done, which a loaded machine stretches less than the wall time) and peak RSS."""
    config_path = workdir / "config.json"
    config_path.write_text(json.dumps(config))
    started = time.perf_counter()
    with messages.open("rb") as stdin:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "destination_vectors",
                "write",
                "--config",
                str(config_path),
                "--catalog",
                str(catalog),
            ],
            cwd=ROOT,
            stdin=stdin,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"write failed with exit code {process.returncode}")
    from destination_vectors.config import DestinationConfig
    from destination_vectors.store.ledger import Ledger

    row = Ledger(DestinationConfig.model_validate(config).resolved_ledger_path).history(1)[0]
    cpu = usage.ru_utime + usage.ru_stime
    return {**row, "wall": wall, "cpu": cpu, "peak_rss_mb": usage.ru_maxrss / 1024}


def chunk_texts(records: list[dict]) -> list[str]:
    from destination_vectors.embedding.model import load_tokenizer
    from destination_vectors.text.chunks import chunk_sections
    from destination_vectors.text.documents import storage_to_sections

    tokenizer = load_tokenizer()
    texts = []
    for record in records:
        sections = storage_to_sections(record["body_storage"])
        texts += [chunk.text for chunk in chunk_sections(record["title"], sections, tokenizer, 256, 0)]
    return texts


def raw_encode_seconds(texts: list[str]) -> float:
    from destination_vectors.config import EmbeddingConfig
    from destination_vectors.embedding.embedder import load_embedder

    embedder = load_embedder(EmbeddingConfig())
    started = time.perf_counter()  # like the sync's clock: after the model load, first-call warm-up included
    embedder.embed(texts)
    return time.perf_counter() - started


def search_latency(config: dict, queries: int) -> tuple[float, float]:
    from destination_vectors.config import DestinationConfig
    from destination_vectors.read.search import Searcher

    searcher = Searcher.from_config(DestinationConfig.model_validate(config))
    questions = [
        f"how do I configure the {word} pipeline step {i}"
        for i, word in enumerate(["deploy", "backup", "vpn", "invoice", "release"] * (queries // 5 + 1))
    ][:queries]
    searcher.search(questions[0])  # open the table, warm the model
    started = time.perf_counter()
    for question in questions:
        searcher.search(question, k=10)
    search = (time.perf_counter() - started) / queries
    started = time.perf_counter()
    for question in questions:
        searcher._embedder.embed([question])
    embed = (time.perf_counter() - started) / queries
    return search, embed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=300, help="pages for the cold/warm comparison")
    parser.add_argument("--memory-pages", type=int, nargs="*", default=[2000, 20000])
    parser.add_argument("--queries", type=int, default=20)
    options = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-destination-"))
    catalog = catalog_file(work / "catalog.json")
    records = site_records(synthetic_site(options.pages, seed=7))
    config = {"lancedb_uri": str(work / "lancedb")}
    print(f"machine: {os.cpu_count()} cores; {options.pages} pages; work dir {work}", flush=True)

    texts = chunk_texts(records)
    raw = raw_encode_seconds(texts)
    cold = run_write(work, write_messages(records, work / "cold.jsonl"), catalog, config)
    warm = run_write(work, work / "cold.jsonl", catalog, config)
    one_percent = run_write(work, write_messages(edit_fraction(records, 0.01), work / "edit.jsonl"), catalog, config)
    search, embed = search_latency(config, options.queries)

    raw_rate = len(texts) / raw
    cold_rate = cold["chunks"] / cold["seconds"]
    rows = [
        (
            "raw model.encode of the same chunks",
            f"{len(texts)} chunks",
            f"{raw:.1f} s",
            f"{raw_rate:.1f} chunks/s",
            "1.00",
        ),
        (
            "cold sync (in-write time)",
            f"{cold['chunks']} chunks, {cold['embedded']} embedded",
            f"{cold['seconds']:.1f} s",
            f"{cold_rate:.1f} chunks/s",
            f"overhead {raw_rate / cold_rate - 1:+.1%} (target < 10%)",
        ),
        (
            "warm re-pull, nothing changed",
            f"{warm['embedded']} embedded, {warm['reused']} reused",
            f"{warm['seconds']:.1f} s",
            "",
            f"{warm['seconds'] / cold['seconds']:.1%} of cold (target < 5%)",
        ),
        (
            "warm re-pull, 1% pages changed",
            f"{one_percent['embedded']} embedded, {one_percent['reused']} reused",
            f"{one_percent['seconds']:.1f} s",
            "",
            f"{one_percent['seconds'] / cold['seconds']:.1%} of cold (target < 10%)",
        ),
        ("cold sync wall time incl. process start", "", f"{cold['wall']:.1f} s", "", ""),
        (
            "search, hybrid, end to end (per query)",
            f"{options.queries} queries",
            f"{search * 1000:.1f} ms",
            "",
            f"{search / embed:.2f}x the query embedding alone ({embed * 1000:.1f} ms)",
        ),
    ]
    for pages in options.memory_pages:
        small = site_records(synthetic_site(pages, seed=11, body_paragraphs=0))
        memory_work = Path(tempfile.mkdtemp(prefix=f"bench-memory-{pages}-"))
        result = run_write(
            memory_work,
            write_messages(small, memory_work / "m.jsonl"),
            catalog,
            {"lancedb_uri": str(memory_work / "lancedb")},
        )
        rows.append(
            (
                f"peak RSS of write, {pages} pages",
                f"{result['chunks']} chunks",
                f"{result['seconds']:.0f} s",
                f"{result['peak_rss_mb']:.0f} MB",
                "",
            )
        )
    print()
    widths = [max(len(str(r[i])) for r in rows) for i in range(5)]
    for row in rows:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)))


if __name__ == "__main__":
    main()
