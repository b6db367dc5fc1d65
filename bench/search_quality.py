"""Ranking quality: hit@1, hit@5 and nDCG@10 for vector-only, full-text-only and hybrid search, per question type,
with today's ranking and the exact-strings ranking side by side in one run.

Two labelled sets: the sample site's questions (`integration_tests/sample_site/questions.jsonl`: keyword, paraphrase,
title, breadcrumb, identifier) and the exact-string questions of `testkit/exact_strings.py` (`exact_id`: an error
code, ticket key, version, host, config key, file name, camelCase name, `::` path or numbered comment, alone or in a
sentence; `phrase`: a quoted phrase), each with near-twin distractor pages (one character changed, the same words in
another order). The index holds both sites' pages, synced with the real default model, records shaped as Data
Center sends them (ancestors filled in); answers are compared per page (`group_by="page"`), which is what a reader
sees. "before" is `Searcher(exact=False)`: quotes are plain words, identifiers get no precedence (the ranking before
exact strings counted); "after" is the default.

    python -m bench.search_quality [--json] [--index DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
from collections import defaultdict
from pathlib import Path

from testkit.confluence_stand_in import load_site, synthetic_site
from testkit.exact_strings import exact_site
from testkit.records import catalog_dict, site_records

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_SITE = ROOT / "integration_tests" / "sample_site"
QUESTIONS = SAMPLE_SITE / "questions.jsonl"
MODES = ("vector", "fts", "hybrid")
RANKINGS = ("before", "after")  # Searcher(exact=False), Searcher()


def load_questions(path: Path = QUESTIONS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def records_with_ancestors() -> list[dict]:
    """The sample site's page records with `ancestors` (titles, root first) as the Data Center API gives them."""
    site = load_site(SAMPLE_SITE)
    by_id = {str(page.id): page for page in site.pages}
    records = site_records(site)
    for record in records:
        chain, parent = [], by_id[str(record["id"])].parent_id
        while parent is not None and str(parent) in by_id:
            chain.append(by_id[str(parent)].title)
            parent = by_id[str(parent)].parent_id
        record["ancestors"] = list(reversed(chain))
    return records


def build_index(folder: Path, records: list[dict], model: str | None = None) -> dict:
    """Sync `records` into a fresh index under `folder` in this process; returns the destination config."""
    from airbyte_cdk.models import AirbyteMessageSerializer, ConfiguredAirbyteCatalogSerializer

    from destination_vectors.destination import DestinationVectors

    config: dict = {"lancedb_uri": str(folder / "lancedb")}
    if model:
        config["embedding"] = {"model": model}
    messages = [
        AirbyteMessageSerializer.load({"type": "RECORD", "record": {"stream": "pages", "data": r, "emitted_at": 0}})
        for r in records
    ]
    messages.append(
        AirbyteMessageSerializer.load(
            {
                "type": "STATE",
                "state": {
                    "type": "STREAM",
                    "stream": {"stream_descriptor": {"name": "pages"}, "stream_state": {"done": True}},
                },
            }
        )
    )
    catalog = ConfiguredAirbyteCatalogSerializer.load(catalog_dict(["pages"]))
    for _ in DestinationVectors().write(config, catalog, iter(messages)):
        pass
    return config


def synthetic_index(folder: Path, pages: int, reuse: bool) -> dict:
    """The destination config of the synthetic site's index (seed 7) in `folder`: the one already there when `reuse`
    (a benchmark's `--index`), else built now with the real default model."""
    if reuse and (folder / "lancedb").is_dir():
        return {"lancedb_uri": str(folder / "lancedb")}
    folder.mkdir(parents=True, exist_ok=True)
    return build_index(folder, site_records(synthetic_site(pages, seed=7)))


def page_metrics(ranked: list[str], relevant: set[str]) -> dict[str, float]:
    """hit@1, hit@5 and nDCG@10 (binary relevance) of one ranked list of page ids."""
    dcg = sum(1.0 / math.log2(rank + 2) for rank, page in enumerate(ranked[:10]) if page in relevant)
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(len(relevant), 10)))
    return {
        "hit@1": float(bool(set(ranked[:1]) & relevant)),
        "hit@5": float(bool(set(ranked[:5]) & relevant)),
        "ndcg@10": dcg / ideal if ideal else 0.0,
    }


def evaluate(
    searcher, questions: list[dict], misses: list[str] | None = None
) -> dict[str, dict[str, dict[str, float]]]:
    """Mean metrics per mode and question type (type "all" = every question); hybrid misses at rank 1 are appended
    to `misses` as lines."""
    sums: dict[str, dict[str, dict[str, float]]] = {m: defaultdict(lambda: defaultdict(float)) for m in MODES}
    counts: dict[str, int] = defaultdict(int)
    for question in questions:
        counts[question["type"]] += 1
        counts["all"] += 1
        for mode in MODES:
            pages = searcher.search(question["query"], k=10, mode=mode, visibility="all", group_by="page")
            ranked = [p.page_id for p in pages]
            scores = page_metrics(ranked, set(question["relevant"]))
            if mode == "hybrid" and not scores["hit@1"] and misses is not None:
                misses.append(
                    f"{question['id']} {question['query']!r}: top 3 {ranked[:3]}, wanted {question['relevant']}"
                )
            for group in (question["type"], "all"):
                for name, value in scores.items():
                    sums[mode][group][name] += value
    return {
        mode: {group: {name: value / counts[group] for name, value in metrics.items()} for group, metrics in by.items()}
        for mode, by in sums.items()
    }


def verdict(results: dict, before: dict | None = None) -> list[str]:
    """The bars: hybrid beats the better single mode on average, and never loses to both on a type; with `before`
    (today's ranking): identifier and phrase questions reach hybrid hit@1 0.95, other types keep their nDCG@10."""
    lines = []
    if before is not None:
        for group in sorted(g for g in results["hybrid"] if g != "all"):
            now, then = results["hybrid"][group], before["hybrid"][group]
            if group in ("exact_id", "phrase"):
                ok = now["hit@1"] >= 0.95
                lines.append(
                    f"type {group}: hybrid hit@1 {then['hit@1']:.3f} -> {now['hit@1']:.3f} (goal 0.95) -> "
                    f"{'ok' if ok else 'NOT MET'}"
                )
            else:
                ok = now["ndcg@10"] >= then["ndcg@10"] - 1e-9
                lines.append(
                    f"type {group}: hybrid nDCG@10 {then['ndcg@10']:.3f} -> {now['ndcg@10']:.3f} -> "
                    f"{'ok' if ok else 'LOWER'}"
                )
    for metric in ("hit@1", "hit@5", "ndcg@10"):
        best_single = max(results["vector"]["all"][metric], results["fts"]["all"][metric])
        ok = results["hybrid"]["all"][metric] >= best_single
        lines.append(
            f"average {metric}: hybrid {results['hybrid']['all'][metric]:.3f} vs best single {best_single:.3f}"
            f" -> {'ok' if ok else 'NOT MET'}"
        )
    for group in sorted(g for g in results["hybrid"] if g != "all"):
        h, v, f = (results[m][group]["ndcg@10"] for m in ("hybrid", "vector", "fts"))
        lost = h < v and h < f
        lines.append(
            f"type {group}: nDCG@10 hybrid {h:.3f}, vector {v:.3f}, fts {f:.3f} -> {'LOSES TO BOTH' if lost else 'ok'}"
        )
    return lines


def table(results: dict, before: dict | None = None) -> str:
    """One row per type and mode; with `before`, today's ranking and the new one side by side."""
    groups = ["all", *sorted(g for g in results["hybrid"] if g != "all")]
    if before is None:
        lines = ["| question type | n | mode | hit@1 | hit@5 | nDCG@10 |", "|---|---|---|---|---|---|"]
    else:
        lines = [
            "| question type | n | mode | hit@1 before | hit@1 after | hit@5 before | hit@5 after | nDCG@10 before | "
            "nDCG@10 after |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
    for group in groups:
        for mode in MODES:
            m = results[mode][group]
            if before is None:
                cells = [f"{m[name]:.3f}" for name in ("hit@1", "hit@5", "ndcg@10")]
            else:
                b = before[mode][group]
                cells = [f"{value:.3f}" for name in ("hit@1", "hit@5", "ndcg@10") for value in (b[name], m[name])]
            lines.append(f"| {group} | {results['_n'][group]} | {mode} | {' | '.join(cells)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.add_argument("--model", help="embedding model (default: the packaged all-MiniLM-L6-v2)")
    parser.add_argument("--index", type=Path, help="keep the index in this folder and reuse it on the next run")
    options = parser.parse_args(argv)
    from destination_vectors.config import DestinationConfig
    from destination_vectors.read.search import Searcher

    exact_records, exact_questions = exact_site()
    questions = [*load_questions(), *exact_questions]
    with tempfile.TemporaryDirectory(prefix="search-quality-") as scratch:
        folder = options.index or Path(scratch)
        if options.index and (folder / "lancedb").is_dir():
            config = {
                "lancedb_uri": str(folder / "lancedb"),
                **({"embedding": {"model": options.model}} if options.model else {}),
            }
        else:
            folder.mkdir(parents=True, exist_ok=True)
            config = build_index(folder, [*records_with_ancestors(), *exact_records], options.model)
        after = Searcher.from_config(DestinationConfig.model_validate(config))
        before = Searcher(after._store, after._embedder, exact=False)
        misses: dict[str, list[str]] = {ranking: [] for ranking in RANKINGS}
        results: dict = {
            ranking: evaluate(searcher, questions, misses[ranking])
            for ranking, searcher in (("before", before), ("after", after))
        }
    counts: dict[str, int] = defaultdict(int)
    for question in questions:
        counts[question["type"]] += 1
        counts["all"] += 1
    for ranking in RANKINGS:
        results[ranking]["_n"] = counts
    if options.json:
        print(json.dumps(results, indent=2))
        return
    print(
        f"{len(questions)} questions ({QUESTIONS.relative_to(ROOT)} and testkit/exact_strings.py) on "
        f"{len(records_with_ancestors()) + len(exact_records)} pages, answers grouped by page; before = today's "
        "ranking (Searcher(exact=False)), after = exact strings first\n"
    )
    print(table(results["after"], results["before"]))
    print()
    print("\n".join(verdict(results["after"], results["before"])))
    for ranking in RANKINGS:
        print(f"\nhybrid misses at rank 1, {ranking}:")
        print("\n".join(f"- {line}" for line in misses[ranking]) or "- none")


if __name__ == "__main__":
    main()
