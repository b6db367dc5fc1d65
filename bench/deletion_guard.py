"""What the mass-deletion guard costs a sync: its read of the live table and its count, beside the read of the same
table every sync already makes (`CarriedPages`: stream, page_id, page_hash), measured alternately in one run.

    python -m bench.deletion_guard [--pages 20000] [--chunks-per-page 5] [--rounds 3]

The table is written with Lance alone (no model): pages over 10 spaces, a comment per fifth page, one column of
vectors (the guard never reads them). The sync is a re-pull whose listing lost three quarters of one space.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import lance
import numpy as np
import pyarrow as pa

from destination_vectors.config import MassDeletionConfig
from destination_vectors.store.row import chunk_schema
from destination_vectors.write.carry import CarriedPages
from destination_vectors.write.deletion_guard import judge, live_pages, planned_deletions

DIMENSION = 384


def _table(pages: int, chunks_per_page: int) -> tuple[pa.Table, dict[str, set[str]]]:
    schema = chunk_schema(DIMENSION)
    rows: dict[str, list] = {name: [] for name in schema.names}
    seen: dict[str, set[str]] = {"pages": set(), "comments": set()}
    for page in range(pages):
        space = f"S{page % 10}"
        items = [("pages", str(page), f"https://x/{page}", None)]
        if page % 5 == 0:
            items.append(("comments", f"c{page}", f"https://x/c{page}", f"https://x/{page}"))
        for stream, page_id, url, container in items:
            lost = space == "S0" and page % 40 < 30  # three quarters of space S0 are missing from this sync
            if not lost:
                seen[stream].add(page_id)
            for index in range(chunks_per_page if stream == "pages" else 1):
                for name in schema.names:
                    rows[name].append(None)
                rows["chunk_id"][-1] = f"{stream}:{page_id}:{index}"
                rows["stream"][-1], rows["page_id"][-1], rows["space_key"][-1] = stream, page_id, space
                rows["webui_url"][-1], rows["container_url"][-1] = url, container
                rows["page_hash"][-1] = f"h{page_id}"
    count = len(rows["chunk_id"])
    vectors = np.random.default_rng(0).random((count, DIMENSION), dtype=np.float32)
    rows["vector"] = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), DIMENSION)
    columns = {
        name: (rows[name] if name == "vector" else pa.array(rows[name], schema.field(name).type))
        for name in schema.names
    }
    return pa.table(columns, schema=schema), seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=20000)
    parser.add_argument("--chunks-per-page", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    table, seen = _table(args.pages, args.chunks_per_page)
    with tempfile.TemporaryDirectory() as folder:
        dataset = lance.write_dataset(table, str(Path(folder) / "t.lance"))
        print(f"{dataset.count_rows()} chunks of {args.pages} pages (+ comments), 10 spaces; {args.rounds} rounds")
        times: dict[str, list[float]] = {"carried pages (every sync)": [], "guard (overwrite syncs)": []}
        refused = None
        for _ in range(args.rounds):
            started = time.perf_counter()
            CarriedPages(dataset, table.schema)
            times["carried pages (every sync)"].append(time.perf_counter() - started)
            started = time.perf_counter()
            deletions = planned_deletions(live_pages(dataset, ["pages", "comments"]), seen, {"S0"}, None)
            refused = judge(deletions, MassDeletionConfig(), None).refused
            times["guard (overwrite syncs)"].append(time.perf_counter() - started)
        for name, values in times.items():
            print(f"{name:<28} best {min(values):.3f} s, median {sorted(values)[len(values) // 2]:.3f} s")
        ratio = min(times["guard (overwrite syncs)"]) / min(times["carried pages (every sync)"])
        print(
            f"guard / carried pages: {ratio:.2f}x; refused: {[(d.stream, d.space_key, d.deleted_pages) for d in refused]}"
        )


if __name__ == "__main__":
    main()
