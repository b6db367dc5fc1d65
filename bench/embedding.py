"""Embedding backends side by side, measured in one run on this machine.

    python -m bench.embedding [--chunks 160] [--pages 2000] [--repull-pages 120] [--repull-runs 3]
                              [--backends torch onnx onnx-int8]

1. chunks/s of ~256-token chunks and peak RSS, per backend, each in its own process (model load excluded from the
   rate, included in the RSS)
2. a cold sync of --pages pages per backend: `write` process start to exit, in-write seconds, peak RSS
3. light start: a re-pull of --repull-pages unchanged pages vs their cold sync (process start to exit), per backend:
   the median of --repull-runs re-pulls, wall and CPU seconds (user + system: the work, less stretched by load)
4. `destination-vectors search` and `history` from the shell (process start to printed answer), per backend
5. what `auto` chose on this CPU (the quality gate's numbers), and the one-time export's cost
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.destination_sync import run_write
from testkit.confluence_stand_in import synthetic_site
from testkit.embedding_corpus import fixture_chunks
from testkit.records import catalog_file, site_records, write_messages

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ["torch", "onnx", "onnx-int8"]

WORKER = """
import json, sys, time
from destination_vectors.config import EmbeddingConfig
from destination_vectors.embedding.embedder import load_embedder
texts = json.load(open(sys.argv[2]))
embedder = load_embedder(EmbeddingConfig(backend=sys.argv[1]))
embedder.embed(texts[:4])  # load and warm up: not part of the rate
best = float("inf")
for _ in range(int(sys.argv[3])):
    started = time.perf_counter()
    embedder.embed(texts)
    best = min(best, time.perf_counter() - started)
print(json.dumps({"seconds": best}))
"""


def long_chunks(count: int, tokens: int = 250, seed: int = 0) -> list[str]:
    """~256-token texts of real fixture words in random order (sync chunks are cut at the model's 256 tokens)."""
    from destination_vectors.embedding.model import load_tokenizer

    tokenizer = load_tokenizer()
    words = " ".join(fixture_chunks()).split()
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        start = rng.randrange(0, len(words) - 400)
        text = " ".join(words[start : start + 400])
        offsets = tokenizer.offsets(text)
        texts.append(text[: offsets[min(tokens, len(offsets)) - 1][1]])
    return texts


def child(args: list[str], stdin=None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB, children included) and stdout of one process."""
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=ROOT, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{args[:4]} failed")
    return wall, usage.ru_maxrss / 1024, out


def embed_rates(texts: list[str], backends: list[str], work: Path, rounds: int) -> dict[str, dict]:
    corpus = work / "chunks.json"
    corpus.write_text(json.dumps(texts))
    results = {}
    for backend in backends:
        _, rss, out = child([sys.executable, "-c", WORKER, backend, str(corpus), str(rounds)])
        seconds = json.loads(out.strip().splitlines()[-1])["seconds"]
        results[backend] = {"rate": len(texts) / seconds, "rss": rss}
        print(f"  {backend}: {results[backend]['rate']:.1f} chunks/s, peak RSS {rss:.0f} MB", flush=True)
    return results


def shell_times(config: dict, work: Path) -> tuple[float, float]:
    config_path = work / "search-config.json"
    config_path.write_text(json.dumps(config))
    cli = [sys.executable, "-m", "destination_vectors"]
    search, _, out = child([*cli, "search", "--config", str(config_path), "how do I configure the deploy pipeline"])
    assert out.startswith("Q:"), out[:200]
    history, _, _ = child([*cli, "history", "--config", str(config_path)])
    return search, history


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=160, help="~256-token chunks for the embedding rate")
    parser.add_argument("--rounds", type=int, default=2, help="best of this many rounds per backend")
    parser.add_argument("--pages", type=int, default=2000, help="pages of the cold sync per backend")
    parser.add_argument("--repull-pages", type=int, default=120)
    parser.add_argument("--repull-runs", type=int, default=3, help="re-pulls per backend; the median is reported")
    parser.add_argument("--backends", nargs="*", default=BACKENDS)
    parser.add_argument("--no-export-timing", action="store_true", help="skip the one-time export into a new cache")
    options = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-embedding-"))
    flags = Path("/proc/cpuinfo").read_text().split("flags", 1)[-1].split("\n", 1)[0].split()
    simd = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni") if f in flags]
    print(f"machine: {os.cpu_count()} cores, {' '.join(simd) or 'no AVX2'}; load {os.getloadavg()[0]:.1f}; {work}")

    from destination_vectors.config import EmbeddingConfig
    from destination_vectors.embedding.cache import ONNX_FILES, cache_root, ensure_export, model_key
    from destination_vectors.embedding.gate import read_gate
    from destination_vectors.embedding.model import resolve_model

    info = resolve_model()
    export_seconds = float("nan")
    if not options.no_export_timing:
        started = time.perf_counter()
        ensure_export(info.path, work / "fresh-cache", list(ONNX_FILES.values()))
        export_seconds = time.perf_counter() - started
    print(f"one-time export (fp32 + int8) into an empty cache: {export_seconds:.1f} s", flush=True)
    from destination_vectors.embedding.embedder import load_embedder

    default = load_embedder(EmbeddingConfig()).backend  # runs the gate once if this CPU has none yet
    gate = read_gate(cache_root() / "onnx" / model_key(info.path, cache_root()))
    print(f"auto on this CPU: {default}; gate: {json.dumps(gate)}", flush=True)

    print("1. embedding rate, ~256-token chunks", flush=True)
    rates = embed_rates(long_chunks(options.chunks), options.backends, work, options.rounds)

    print(f"2. cold sync of {options.pages} pages, 3. re-pull of {options.repull_pages} unchanged pages", flush=True)
    catalog = catalog_file(work / "catalog.json")
    big = write_messages(site_records(synthetic_site(options.pages, seed=7)), work / "big.jsonl")
    small = write_messages(site_records(synthetic_site(options.repull_pages, seed=3)), work / "small.jsonl")
    syncs, light, shell = {}, {}, {}
    for backend in options.backends:
        config = {"lancedb_uri": str(work / f"db-{backend}"), "embedding": {"backend": backend}}
        syncs[backend] = run_write(work, big, catalog, config)
        small_config = {**config, "lancedb_uri": str(work / f"small-{backend}")}
        if options.pages == options.repull_pages:  # the cold sync above is the re-pull's baseline
            small_config, small = config, big
        cold = syncs[backend] if small is big else run_write(work, small, catalog, small_config)
        runs = [run_write(work, small, catalog, small_config) for _ in range(max(1, options.repull_runs))]
        warm = {key: statistics.median(run[key] for run in runs) for key in ("wall", "cpu")}
        light[backend] = (cold, warm)
        shell[backend] = shell_times(config, work)
        s = syncs[backend]
        print(
            f"  {backend}: cold {s['wall']:.1f} s wall ({s['chunks']} chunks, {s['seconds']:.1f} s in write, "
            f"{s['peak_rss_mb']:.0f} MB); re-pull (median of {len(runs)}) {warm['wall']:.1f} s wall, {warm['cpu']:.1f} s "
            f"CPU vs cold {cold['wall']:.1f} s wall, {cold['cpu']:.1f} s CPU; "
            f"search {shell[backend][0]:.1f} s, history {shell[backend][1]:.1f} s",
            flush=True,
        )
    report(options, rates, syncs, light, shell, default, gate, export_seconds)


def report(options, rates, syncs, light, shell, default, gate, export_seconds) -> None:
    """One markdown table; ratios are against torch measured in this same run."""
    base = "torch" if "torch" in rates else next(iter(rates))
    print()
    print(
        "| backend | chunks/s (~256 tokens) | speed vs torch | peak RSS, embedding | cold sync wall "
        f"({options.pages} pages) | speed vs torch | peak RSS, write | re-pull {options.repull_pages} unchanged / "
        "cold, wall | same, CPU | search from the shell | vs torch | history |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for backend in rates:
        rate, sync, (cold, warm), (search, history) = rates[backend], syncs[backend], light[backend], shell[backend]
        mark = " (auto's choice)" if backend == default else ""
        print(
            f"| {backend}{mark} | {rate['rate']:.1f} | {rate['rate'] / rates[base]['rate']:.2f}x | {rate['rss']:.0f} MB "
            f"| {sync['wall']:.1f} s | {syncs[base]['wall'] / sync['wall']:.2f}x | {sync['peak_rss_mb']:.0f} MB "
            f"| {warm['wall'] / cold['wall']:.0%} ({warm['wall']:.1f} / {cold['wall']:.1f} s) "
            f"| {warm['cpu'] / cold['cpu']:.0%} ({warm['cpu']:.1f} / {cold['cpu']:.1f} s) | {search:.1f} s "
            f"| {search / shell[base][0]:.0%} | {history:.1f} s |"
        )
    print(f"\none-time export into an empty cache: {export_seconds:.1f} s; auto chose {default}; gate: {gate}")


if __name__ == "__main__":
    main()
