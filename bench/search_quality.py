"""Ranking quality on the sample site: hit@1, hit@5 and nDCG@10 for vector-only, full-text-only and hybrid search.

The labelled questions live in `integration_tests/sample_site/questions.jsonl` (query -> relevant page ids, by type).
The index is the sample site's pages synced with the real default model, records shaped as Data Center sends them
(ancestors filled in), and answers are compared per page (`group_by="page"`), which is what a reader sees.

    python -m bench.search_quality [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
from collections import defaultdict
from pathlib import Path

from testkit.confluence_stand_in import load_site
from testkit.records import catalog_dict, site_records

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_SITE = ROOT / "integration_tests" / "sample_site"
QUESTIONS = SAMPLE_SITE / "questions.jsonl"
MODES = ("vector", "fts", "hybrid")


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


def page_metrics(ranked: list[str], relevant: set[str]) -> dict[str, float]:
    """hit@1, hit@5 and nDCG@10 (binary relevance) of one ranked list of page ids."""
    dcg = sum(1.0 / math.log2(rank + 2) for rank, page in enumerate(ranked[:10]) if page in relevant)
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(len(relevant), 10)))
    return {
        "hit@1": float(bool(set(ranked[:1]) & relevant)),
        "hit@5": float(bool(set(ranked[:5]) & relevant)),
        "ndcg@10": dcg / ideal if ideal else 0.0,
    }


def evaluate(searcher, questions: list[dict]) -> dict[str, dict[str, dict[str, float]]]:
    """Mean metrics per mode and question type (type "all" = every question)."""
    sums: dict[str, dict[str, dict[str, float]]] = {m: defaultdict(lambda: defaultdict(float)) for m in MODES}
    counts: dict[str, int] = defaultdict(int)
    for question in questions:
        counts[question["type"]] += 1
        counts["all"] += 1
        for mode in MODES:
            pages = searcher.search(question["query"], k=10, mode=mode, visibility="all", group_by="page")
            scores = page_metrics([p.page_id for p in pages], set(question["relevant"]))
            for group in (question["type"], "all"):
                for name, value in scores.items():
                    sums[mode][group][name] += value
    return {
        mode: {group: {name: value / counts[group] for name, value in metrics.items()} for group, metrics in by.items()}
        for mode, by in sums.items()
    }


def verdict(results: dict) -> list[str]:
    """The issue's bar: hybrid beats the better single mode on average, and never loses to both on a type."""
    lines = []
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


def table(results: dict) -> str:
    groups = ["all", *sorted(g for g in results["hybrid"] if g != "all")]
    lines = ["| question type | n | mode | hit@1 | hit@5 | nDCG@10 |", "|---|---|---|---|---|---|"]
    for group in groups:
        for mode in MODES:
            m = results[mode][group]
            lines.append(
                f"| {group} | {results['_n'][group]} | {mode} | {m['hit@1']:.3f} | {m['hit@5']:.3f} | "
                f"{m['ndcg@10']:.3f} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.add_argument("--model", help="embedding model (default: the packaged all-MiniLM-L6-v2)")
    parser.add_argument("--index", type=Path, help="keep the index in this folder and reuse it on the next run")
    options = parser.parse_args(argv)
    from destination_vectors.config import DestinationConfig
    from destination_vectors.read.search import Searcher

    questions = load_questions()
    with tempfile.TemporaryDirectory(prefix="search-quality-") as scratch:
        folder = options.index or Path(scratch)
        if options.index and (folder / "lancedb").is_dir():
            config = {
                "lancedb_uri": str(folder / "lancedb"),
                **({"embedding": {"model": options.model}} if options.model else {}),
            }
        else:
            folder.mkdir(parents=True, exist_ok=True)
            config = build_index(folder, records_with_ancestors(), options.model)
        searcher = Searcher.from_config(DestinationConfig.model_validate(config))
        results: dict = evaluate(searcher, questions)
    results["_n"] = defaultdict(int)
    for question in questions:
        results["_n"][question["type"]] += 1
        results["_n"]["all"] += 1
    if options.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{len(questions)} questions on the sample site ({QUESTIONS.relative_to(ROOT)}), answers grouped by page\n")
    print(table(results))
    print()
    print("\n".join(verdict(results)))


if __name__ == "__main__":
    main()
