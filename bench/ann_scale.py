"""Vector search at a million chunks: flat scan against the approximate indexes housekeeping can build.

A synthetic chunk table (384-dim unit vectors around 2,000 centres, as embeddings cluster; 20 % of rows `internal`)
grows in steps of 100,000 rows; flat search latency is measured at each step (where flat stops being fast sets
`vector_index.min_rows`). At the full size every index kind is built with `destination_vectors.store.ann` (the code
housekeeping runs), then searched with the project's filter (`visibility = 'public'`, prefiltered) and compared with
flat search on the same queries: p50/p95 latency (of a second pass over the queries: a serving process keeps the
index in memory), recall@10, build time, index size on disk, peak RSS of the build.
Each phase runs in its own process so its peak RSS is its own.

    python -m bench.ann_scale [--rows 1000000] [--queries 30] [--kinds IVF_SQ IVF_FLAT ...] [--folder DIR [--reuse]]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DIM = 384
CENTRES = 2000
STEP = 100_000
FLAT_QUERIES = 5  # flat search costs seconds per query at a million rows: few queries time it well enough
FILTER = "visibility = 'public'"
ROOT = Path(__file__).resolve().parents[1]


def _vectors(rng: np.random.Generator, centres: np.ndarray, count: int, noise: float = 0.6) -> np.ndarray:
    picked = centres[rng.integers(0, len(centres), count)]
    vectors = picked + rng.normal(scale=noise, size=(count, DIM)).astype(np.float32)
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def _batch(start: int, vectors: np.ndarray):
    import pyarrow as pa

    ids = np.arange(start, start + len(vectors))
    return pa.table(
        {
            "chunk_id": pa.array([f"pages:{i // 4}:{i % 4}" for i in ids]),
            "visibility": pa.array(np.where(ids % 5 == 0, "internal", "public")),
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), DIM),
        }
    )


def _queries(count: int) -> list[list[float]]:
    rng = np.random.default_rng(99)
    centres = np.random.default_rng(0).normal(size=(CENTRES, DIM)).astype(np.float32)
    return _vectors(rng, centres, count, noise=0.7).tolist()  # near the data, never equal to a row


def _timed(builder_of, queries) -> tuple[list[float], list[list[str]]]:
    times, answers = [], []
    for vector in queries:
        started = time.perf_counter()
        rows = builder_of(vector).select(["chunk_id", "_distance"]).where(FILTER, prefilter=True).limit(10).to_list()
        times.append((time.perf_counter() - started) * 1000)
        answers.append([row["chunk_id"] for row in rows])
    return times, answers


def _summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"p50_ms": statistics.median(ordered), "p95_ms": ordered[max(0, round(0.95 * len(ordered)) - 1)]}


def _folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


# -- phases (each in its own process) -------------------------------------------------------------------------------
def phase_grow(folder: Path, rows: int, queries: int) -> dict:
    """Write the table step by step; flat latency at each step; exact answers (numpy, the same filter) at the end."""
    import lancedb

    rng = np.random.default_rng(1)
    centres = np.random.default_rng(0).normal(size=(CENTRES, DIM)).astype(np.float32)
    db = lancedb.connect(str(folder))
    table = None
    steps = []
    asked = _queries(queries)
    probe = asked[:FLAT_QUERIES]
    written = 0
    public_parts: list[np.ndarray] = []
    while written < rows:
        count = min(STEP, rows - written)
        vectors = _vectors(rng, centres, count)
        batch = _batch(written, vectors)
        public_parts.append(vectors[(np.arange(written, written + count) % 5) != 0])
        table = db.create_table("chunks", data=batch) if table is None else table
        if written:
            table.add(batch)
        written += count
        if written in (STEP, 2 * STEP, 3 * STEP, 5 * STEP) or written == rows:
            times, _ = _timed(lambda v, t=table: t.search(v).distance_type("cosine"), probe)
            steps.append({"rows": written, **_summary(times)})
            print(f"  flat at {written:>9,} rows: p50 {steps[-1]['p50_ms']:.0f} ms", file=sys.stderr, flush=True)
    table.optimize()
    flat_times, flat_answers = _timed(lambda v: table.search(v).distance_type("cosine"), probe)
    truth = _exact_top10(np.concatenate(public_parts), asked, rows)
    agreement = statistics.mean(len(set(a) & set(t)) / 10 for a, t in zip(flat_answers, truth, strict=False))
    (folder / "truth.json").write_text(json.dumps(truth))
    return {"steps": steps, "flat": _summary(flat_times), "flat_vs_numpy": agreement, "disk_mb": _folder_mb(folder)}


def _exact_top10(public: np.ndarray, queries: list[list[float]], rows: int) -> list[list[str]]:
    """Exact top 10 public rows by cosine (unit vectors: the dot product), with numpy: the recall reference. A flat
    LanceDB scan gives the same answers (checked on the first queries: `flat_vs_numpy`) at seconds per query."""
    public_ids = np.arange(rows)[np.arange(rows) % 5 != 0]
    answers = []
    for vector in queries:
        scores = public @ np.asarray(vector, dtype=np.float32)
        top = np.argpartition(-scores, 10)[:10]
        top = top[np.argsort(-scores[top])]
        answers.append([f"pages:{i // 4}:{i % 4}" for i in public_ids[top]])
    return answers


def phase_index(folder: Path, kind: str, queries: int, settings: list[dict]) -> dict:
    import lancedb

    from destination_vectors.store.ann import (
        INDEX_NAME,
        VectorIndexConfig,
        _index_config,
        ensure_filter_indexes,
        measure_recall,
        tune,
    )

    table = lancedb.connect(str(folder)).open_table("chunks")
    before = _folder_mb(folder)
    config = VectorIndexConfig(kind=kind)
    started = time.perf_counter()
    table.create_index("vector", config=_index_config(config), name=INDEX_NAME, replace=True)
    build = time.perf_counter() - started
    started = time.perf_counter()
    ensure_filter_indexes(table)  # as housekeeping does: the visibility prefilter answered by a bitmap, not a scan
    filter_build = time.perf_counter() - started
    truth = json.loads((folder / "truth.json").read_text())
    # The check housekeeping runs: default settings, rows of the table as queries.
    from destination_vectors.store.ann import _sample_vectors

    check = measure_recall(table, config, _sample_vectors(table, config.sample_queries))
    results = []
    for extra in settings:
        tuned = config.model_copy(update=extra)
        search = lambda v, c=tuned: tune(table.search(v).distance_type("cosine"), c)  # noqa: E731
        _timed(search, _queries(queries))  # warm: a serving process has the index in memory after its first queries
        times, answers = _timed(search, _queries(queries))
        recall = statistics.mean(len(set(a) & set(t)) / max(1, len(t)) for a, t in zip(answers, truth, strict=True))
        results.append({"settings": extra, "recall@10": recall, **_summary(times)})
        print(f"  {kind} {extra}: recall {recall:.3f} p95 {results[-1]['p95_ms']:.1f} ms", file=sys.stderr, flush=True)
    index_mb = _folder_mb(folder) - before
    table.drop_index(INDEX_NAME)
    return {
        "kind": kind,
        "build_s": build,
        "filter_index_build_s": filter_build,
        "index_mb": index_mb,
        "housekeeping_check_recall": check,
        "runs": results,
    }


def _child(args: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.ann_scale", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    sys.stderr.write(out.stderr[-3000:])
    if out.returncode != 0:
        raise SystemExit(f"phase {args[:3]} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


SETTINGS = {
    "IVF_FLAT": [{"nprobes": 10}, {"nprobes": 20}, {"nprobes": 40}],
    "IVF_SQ": [{"nprobes": 20, "refine_factor": 10}, {"nprobes": 40, "refine_factor": 10}],
    "IVF_PQ": [{"nprobes": 20, "refine_factor": 10}, {"nprobes": 40, "refine_factor": 40}],
    "IVF_HNSW_SQ": [{"nprobes": 10, "ef": 50}, {"nprobes": 20, "ef": 100}, {"nprobes": 40, "ef": 150}],
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--kinds", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--folder", type=Path, help="where the table goes (default: a temporary folder, removed)")
    parser.add_argument(
        "--reuse", action="store_true", help="with --folder: keep the table a previous run grew there (same --rows)"
    )
    parser.add_argument("--phase", choices=["grow", "index"], help=argparse.SUPPRESS)
    parser.add_argument("--kind", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.phase:
        if options.phase == "grow":
            result = phase_grow(options.folder, options.rows, options.queries)
        else:
            result = phase_index(options.folder, options.kind, options.queries, SETTINGS[options.kind])
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    scratch = Path(tempfile.mkdtemp(prefix="ann-scale-"))
    folder = options.folder or scratch
    folder.mkdir(parents=True, exist_ok=True)
    common = ["--folder", str(folder), "--queries", str(options.queries)]
    try:
        started = time.perf_counter()
        grown = folder / f"grow-{options.rows}.json"
        if options.reuse and options.folder and grown.exists():
            grow = json.loads(grown.read_text())
        else:
            grow = _child(["--phase", "grow", "--rows", str(options.rows), *common])
            grown.write_text(json.dumps(grow))
        indexes = [_child(["--phase", "index", "--kind", kind, *common]) for kind in options.kinds]
    finally:
        if options.folder is None:
            shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"{options.rows:,} chunks x {DIM} dims, {options.queries} queries, filter {FILTER!r} (prefilter), "
        f"{os.cpu_count()} cores, {time.perf_counter() - started:.0f} s in all\n"
    )
    print(f"flat search as the table grows ({FLAT_QUERIES} queries each):\n\n| rows | p50 ms | p95 ms |\n|---|---|---|")
    for step in grow["steps"]:
        print(f"| {step['rows']:,} | {step['p50_ms']:.0f} | {step['p95_ms']:.0f} |")
    print(
        f"\ntable on disk {grow['disk_mb']:.0f} MB, peak RSS while writing {grow['peak_rss_mb']:.0f} MB; recall is "
        f"against numpy's exact top 10 (flat LanceDB agrees on {grow['flat_vs_numpy']:.3f} of it)\n"
    )
    print("| search | settings | p50 ms | p95 ms | recall@10 | build s | index MB | build peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| flat | | {grow['flat']['p50_ms']:.0f} | {grow['flat']['p95_ms']:.0f} | 1.000 | | | |")
    for index in indexes:
        for run in index["runs"]:
            print(
                f"| {index['kind']} | {run['settings']} | {run['p50_ms']:.1f} | {run['p95_ms']:.1f} | "
                f"{run['recall@10']:.3f} | {index['build_s']:.0f} | {index['index_mb']:.0f} | "
                f"{index['peak_rss_mb']:.0f} |"
            )
        print(
            f"| {index['kind']} | housekeeping's check (defaults, 30 table rows) | | | "
            f"{index['housekeeping_check_recall']:.3f} | | | |"
        )


if __name__ == "__main__":
    main()
