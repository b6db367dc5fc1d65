"""An approximate vector index for large tables, kept only when it finds what flat search finds.

Flat search reads every vector: about 150 ms per 100,000 chunks here, so it stops being fast somewhere past
`min_rows` (measured in bench/RESULTS.md, `python -m bench.ann_scale`). Past that, housekeeping builds an index and
measures it at once on a sample of the table's own rows: recall@10 against flat search must reach `min_recall`, or
the index is dropped again and search stays flat (the reason is logged). Filters still apply before ranking: search
always asks for a prefiltered query, with or without an index.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from destination_vectors.store.row import VECTOR_COLUMN

logger = logging.getLogger("airbyte")

INDEX_NAME = "vector_ann"
# The columns search filters on before ranking, with the scalar index that answers each filter without a scan: at a
# million rows the visibility prefilter alone scanned for ~70 ms of a ~100 ms query (bench/RESULTS.md).
FILTER_INDEXES: dict[str, Literal["BITMAP", "LABEL_LIST"]] = {
    "visibility": "BITMAP",
    "stream": "BITMAP",
    "space_key": "BITMAP",
    "readers": "LABEL_LIST",
    "labels": "LABEL_LIST",
    "ancestor_ids": "LABEL_LIST",
}
IndexKind = Literal["IVF_FLAT", "IVF_SQ", "IVF_PQ", "IVF_HNSW_SQ"]
# Kinds whose partitions hold compressed vectors: their hits are re-ranked on the exact vectors (`refine_factor`).
_REFINED: frozenset[str] = frozenset({"IVF_SQ", "IVF_PQ"})


class VectorIndexConfig(BaseModel):
    """When and how the approximate index is built (a config section; defaults measured on this machine)."""

    model_config = ConfigDict(extra="forbid", title="Vector index")

    min_rows: int = Field(
        50_000,
        ge=1,
        title="Build from this many chunks",
        description="Below this, search scans every vector (exact, and fast enough); from here on housekeeping "
        "builds an approximate index.",
    )
    kind: IndexKind = Field(
        "IVF_SQ",
        title="Index type",
        description="IVF_FLAT (exact vectors in partitions), IVF_SQ or IVF_PQ (compressed, re-ranked exactly with "
        "refine_factor), or IVF_HNSW_SQ (a graph in each partition).",
    )
    min_recall: float = Field(
        0.98,
        ge=0.0,
        le=1.0,
        title="Minimum recall@10",
        description="Measured against flat search on a sample of the table's rows right after the build; an index "
        "below it is dropped and search stays flat.",
    )
    sample_queries: int = Field(30, ge=5, le=1000, title="Rows sampled for the recall check")
    num_partitions: int | None = Field(None, ge=1, title="IVF partitions (default: LanceDB's, about sqrt(rows))")
    nprobes: int = Field(20, ge=1, title="Partitions searched per query")
    ef: int = Field(100, ge=1, title="HNSW candidates per query (IVF_HNSW_SQ)")
    refine_factor: int = Field(10, ge=1, title="Rows re-ranked exactly per result (IVF_SQ, IVF_PQ)")
    num_sub_vectors: int | None = Field(None, ge=1, title="PQ sub-vectors (IVF_PQ; default dimension / 16)")


@dataclass(frozen=True)
class IndexDecision:
    action: Literal["flat", "kept", "built", "refused"]
    rows: int
    recall: float | None = None
    seconds: float | None = None
    reason: str = ""


def vector_index_name(table: Any) -> str | None:
    for index in table.list_indices():
        if tuple(index.columns) == (VECTOR_COLUMN,):
            return index.name
    return None


def search_settings(config: VectorIndexConfig) -> dict[str, int]:
    """Search-time settings of an indexed query, by their Lance name: search passes them to Lance's `nearest`, the
    recall check to LanceDB's query builder (`tune`), so both search the index alike."""
    settings = {"minimum_nprobes": config.nprobes, "maximum_nprobes": config.nprobes}
    if config.kind == "IVF_HNSW_SQ":
        settings["ef"] = config.ef
    elif config.kind in _REFINED:
        settings["refine_factor"] = config.refine_factor
    return settings


def tune(builder: Any, config: VectorIndexConfig) -> Any:
    """`search_settings` applied to a LanceDB query builder (whose methods carry the same names)."""
    for name, value in search_settings(config).items():
        builder = getattr(builder, name)(value)
    return builder


def ensure_vector_index(table: Any, config: VectorIndexConfig) -> IndexDecision:
    """Build the index when the table is past `min_rows` and has none; keep it only if recall@10 holds."""
    rows = table.count_rows()
    if rows < config.min_rows:
        return IndexDecision("flat", rows, reason=f"{rows} chunks < {config.min_rows}: flat search is exact and fast")
    try:
        ensure_filter_indexes(table)
    except Exception as error:  # committed already: without them filtered searches scan, but stay correct
        logger.warning(
            "filter indexes not built (%s: %s); filtered searches scan the columns", type(error).__name__, error
        )
    existing = vector_index_name(table)
    if existing is not None:
        return IndexDecision("kept", rows, reason=f"index {existing} exists; optimize() adds new rows to it")
    started = time.perf_counter()
    try:
        table.create_index(VECTOR_COLUMN, config=_index_config(config), name=INDEX_NAME, replace=True)
        seconds = time.perf_counter() - started
        recall = measure_recall(table, config, _sample_vectors(table, config.sample_queries))
    except Exception as error:  # the sync is committed already: a failed build must only leave search flat
        if vector_index_name(table) is not None:
            table.drop_index(INDEX_NAME)
        reason = f"{config.kind} index not built ({type(error).__name__}: {error}); search stays flat"
        logger.warning(reason)
        return IndexDecision("refused", rows, reason=reason)
    if recall < config.min_recall:
        table.drop_index(INDEX_NAME)
        reason = (
            f"{config.kind} index refused: recall@10 {recall:.3f} against flat search is below {config.min_recall} "
            f"on {config.sample_queries} sampled rows; search stays flat (raise nprobes/ef/refine_factor to retry)"
        )
        logger.warning(reason)
        return IndexDecision("refused", rows, recall, seconds, reason)
    logger.info("built a %s vector index over %d chunks in %.1f s (recall@10 %.3f)", config.kind, rows, seconds, recall)
    return IndexDecision("built", rows, recall, seconds, f"recall@10 {recall:.3f} >= {config.min_recall}")


def ensure_filter_indexes(table: Any) -> list[str]:
    """Scalar indexes on the filter columns the table has and that have none yet (seconds even at a million rows);
    without them a prefiltered query reads the whole column first. The names of the indexes built."""
    from lancedb.index import Bitmap, LabelList

    indexed = {column for index in table.list_indices() for column in index.columns}
    present = set(table.schema.names)
    built = []
    for column, kind in FILTER_INDEXES.items():
        if column in present and column not in indexed:
            table.create_index(column, config=Bitmap() if kind == "BITMAP" else LabelList(), name=f"{column}_idx")
            built.append(f"{column}_idx")
    return built


def measure_recall(table: Any, config: VectorIndexConfig, queries: Sequence[Sequence[float]], k: int = 10) -> float:
    """Mean share of flat search's top k that the indexed search also returns. Rows tied with flat search's k-th
    distance count as found: equal texts have equal vectors, and which of them is "the" 10th is arbitrary."""
    if not queries:
        return 1.0
    total = 0.0
    for vector in queries:
        exact = _ranked(table.search(vector, query_type="vector").distance_type("cosine").bypass_vector_index(), k + 50)
        if not exact:
            total += 1.0
            continue
        cutoff = exact[min(k, len(exact)) - 1][1] + 1e-6
        allowed = {row_id for row_id, distance in exact if distance <= cutoff}
        approx = _ranked(tune(table.search(vector, query_type="vector").distance_type("cosine"), config), k)
        total += min(k, sum(1 for row_id, _ in approx if row_id in allowed)) / min(k, len(exact))
    return total / len(queries)


def _ranked(builder: Any, limit: int) -> list[tuple[int, float]]:
    rows = builder.with_row_id(True).select(["_distance"]).limit(limit).to_list()
    return [(row["_rowid"], float(row["_distance"])) for row in rows]


def _sample_vectors(table: Any, count: int) -> list[list[float]]:
    """Vectors of `count` rows spread over the table (real rows, as searches will look like them)."""
    rows = table.count_rows()
    step = max(1, rows // count)
    dataset = table.to_lance()
    picked = dataset.take(list(range(0, rows, step))[:count], columns=[VECTOR_COLUMN])
    return [list(v) for v in picked.column(VECTOR_COLUMN).to_pylist()]


def _index_config(config: VectorIndexConfig) -> Any:
    from lancedb.index import HnswSq, IvfFlat, IvfPq, IvfSq

    partitions = {"distance_type": "cosine", "num_partitions": config.num_partitions}
    if config.kind == "IVF_FLAT":
        return IvfFlat(**partitions)
    if config.kind == "IVF_SQ":
        return IvfSq(**partitions)
    if config.kind == "IVF_HNSW_SQ":
        return HnswSq(**partitions)
    return IvfPq(**partitions, num_sub_vectors=config.num_sub_vectors)
