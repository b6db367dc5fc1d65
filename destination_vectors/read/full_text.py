"""One question against one table version (`Ask`), and its full-text candidates: the words, and the query's
identifiers as whole tokens (text/exact.py), each either filtered by Lance or, when most rows are allowed, filtered
after in memory by the allowed set flat.py caches. search.py fuses them with the vector side."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from lance.query import MatchQuery

from destination_vectors.store.row import HIT_COLUMNS
from destination_vectors.store.table import FTS_COLUMN, IDENTIFIERS_COLUMN, Snapshot
from destination_vectors.text.exact import identifiers

Mode = Literal["hybrid", "vector", "fts"]
POSTFILTER_SHARE = 0.5  # allowed share of rows from which a full-text query is filtered after, in memory
SELECTED = (*HIT_COLUMNS, "metadata")  # the columns a search reads; metadata holds the ancestors of the breadcrumb


@dataclass(frozen=True)
class Ask:
    """One search's fixed inputs: the table version it reads, the words, the prefilter."""

    snapshot: Snapshot
    query: str
    mode: Mode
    where: str | None
    ann: bool  # the table has an approximate vector index
    in_memory: bool  # flat search on the version's vectors in memory (flat.py)
    identifiers: tuple[str, ...] = ()  # the query's identifier-like tokens, lower-cased (hybrid only)

    @property
    def columns(self) -> list[str]:  # a column newer than the table comes back empty (`hit_from_row`)
        wanted = (*SELECTED, IDENTIFIERS_COLUMN) if self.identifiers else SELECTED
        return [name for name in wanted if name in self.snapshot.columns]

    @property
    def exact_indexed(self) -> bool:
        """Whether the whole-token index can be asked for the query's identifiers (tables before it cannot)."""
        return bool(self.identifiers) and (IDENTIFIERS_COLUMN,) in self.snapshot.indexed


def text_rows(ask: Ask, limit: int) -> list[dict]:
    # The words as a plain match query: a query string would be parsed (quotes become phrase queries, which
    # the index cannot answer without positions), and text copied from a page is full of quotes.
    found = ask.snapshot.dataset.to_table(
        columns=[*ask.columns, "_score"],
        full_text_query=MatchQuery(ask.query, FTS_COLUMN),
        filter=ask.where,
        prefilter=True,
        limit=limit,
    )
    return found.to_pylist()


def exact_query(ask: Ask) -> MatchQuery:
    """Any of the query's identifiers, each a whole token of the whitespace-tokenized `identifiers` column."""
    return MatchQuery(" ".join(ask.identifiers), IDENTIFIERS_COLUMN)


def exact_rows(ask: Ask, limit: int) -> list[dict]:
    found = ask.snapshot.dataset.to_table(
        columns=[*ask.columns, "_score"],
        full_text_query=exact_query(ask),
        filter=ask.where,
        prefilter=True,
        limit=limit,
    )
    return found.to_pylist()


def row_identifiers(row: dict) -> frozenset[str]:
    """The chunk's identifiers: its column when the table has it, else read from its text (tables before it)."""
    stored = row.get(IDENTIFIERS_COLUMN)
    return frozenset(stored.split()) if stored is not None else identifiers(row.get("text") or "")


def text_ids(
    ask: Ask, limit: int, where: str | None, query: MatchQuery | None = None
) -> tuple[np.ndarray, list[float]]:
    """The full-text query of `text_rows` (or `query`), returning row ids and scores only."""
    found = ask.snapshot.dataset.to_table(
        columns=["_score"],
        with_row_id=True,
        full_text_query=query if query is not None else MatchQuery(ask.query, FTS_COLUMN),
        filter=where,
        prefilter=True,
        limit=limit,
    )
    return found.column("_rowid").to_numpy(), found.column("_score").to_pylist()


def text_hits_in_memory(ask: Ask, limit: int) -> tuple[list[int], list[float]]:
    return hits_in_memory(ask, limit, MatchQuery(ask.query, FTS_COLUMN))


def hits_in_memory(ask: Ask, limit: int, query: MatchQuery) -> tuple[list[int], list[float]]:
    """Full-text candidates of `query` (the words, or the whole-token identifiers) as (positions, BM25 scores).
    When most rows are allowed, a deeper query without the
    prefilter keeps the rows of the filter's allowed set (which Lance evaluated, cached in flat.py): the same rows
    and scores as the prefiltered query, only the order among equal scores may differ; on 1,500 rows Lance's
    prefilter costs more than the query itself (2.8 vs 1.1 ms). Too few kept: the prefiltered query after all."""
    flat = ask.snapshot.flat
    share = flat.share(ask.where)
    if ask.where is not None and share >= POSTFILTER_SHARE:
        deeper = math.ceil(limit / share) + limit
        ids, scores = text_ids(ask, deeper, None, query)
        positions = flat.positions_of(ids)
        keep = flat.is_allowed(positions, ask.where).tolist()
        kept = [(p, s) for p, s, k in zip(positions, scores, keep, strict=True) if k][:limit]
        if len(kept) == limit or len(ids) < deeper:  # enough, or every matching row was seen
            return [p for p, _ in kept], [s for _, s in kept]
    ids, scores = text_ids(ask, limit, ask.where, query)
    return flat.positions_of(ids), scores
