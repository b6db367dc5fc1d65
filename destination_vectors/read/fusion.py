"""Hybrid ranking: one score per chunk from its vector similarity, its full-text score and its breadcrumb match.

Pure transform over the candidate rows the two searches returned (both already filtered before ranking).
Measured on the labelled sample-site questions (`python -m bench.search_quality`, numbers in bench/RESULTS.md):
- Reciprocal-rank fusion (LanceDB's RRFReranker, any k 1-60) lost to vector-only search on average: it throws away
  how far apart scores are, so a weak keyword match could outvote a clear semantic one.
- A weighted sum of max-normalised scores (0.7 vector, 0.3 full text) beat both single modes on average.
- Where a chunk sits in the wiki (`ancestors > title > headings`) is asked for directly ("IT help desk: VPN
  troubleshooting"); body text of the parent page mentions its children, so the child only wins when the share of
  the query's words found in its breadcrumb also counts (+0.3). A separate full-text index on titles hurt instead:
  every chunk's text already starts with that line, and the extra index double-counted one-word titles.
- Exact strings first (exact.py): when the query holds identifier-like tokens, a chunk holding more of them whole
  ranks above one holding fewer, whatever the scores above say; the scores only order chunks holding as many. The
  model and word-by-word full text both rank `narwhal-comment-30` near `narwhal-comment-3`; a reader wants the one
  that says it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOP_WORDS = frozenset(
    "a an and are as at be by can do does for from how i in is it my of on or the to what when where which who why "
    "with you your".split()
)


@dataclass(frozen=True)
class Weights:
    vector: float = 0.7
    text: float = 0.3
    breadcrumb: float = 0.3

    @property
    def total(self) -> float:
        return self.vector + self.text + self.breadcrumb


DEFAULT_WEIGHTS = Weights()


@functools.lru_cache(maxsize=8192)  # the same breadcrumbs come back query after query
def terms(text: str) -> frozenset[str]:
    """Lower-cased words without stop words, cut to five letters: a crude stemmer (deploys/deploy, failover/failed
    both collapse, which is the point for a breadcrumb match of a handful of words)."""
    return frozenset(word[:5] for word in _WORD.findall(text.lower()) if word not in _STOP_WORDS)


@dataclass(frozen=True)
class Exact:
    """The query's identifier-like tokens (lower-cased), the rows the whole-token index found for them (no score of
    their own: they only join the candidates), and how to read a row's identifiers."""

    tokens: Sequence[str]
    identifiers_of: Callable[[dict[str, Any]], frozenset[str]]
    rows: Sequence[dict[str, Any]] = ()


def fuse(
    query: str,
    vector_rows: Sequence[dict[str, Any]],
    text_rows: Sequence[dict[str, Any]],
    breadcrumb_of: Callable[[dict[str, Any]], str],
    limit: int,
    weights: Weights = DEFAULT_WEIGHTS,
    exact: Exact | None = None,
) -> list[tuple[dict[str, Any], float]]:
    """Rows (each chunk once) with a score in 0..1, best first. Vector rows carry `_distance` (cosine), text rows
    `_score` (BM25); each side is divided by its best value, so a query's scale does not matter. With `exact`
    tokens, the score is (tokens held + fused score) / (tokens + 1): holding more of them always ranks higher."""
    similarity = {row["chunk_id"]: 1.0 - float(row["_distance"]) for row in vector_rows if "_distance" in row}
    keyword = {row["chunk_id"]: float(row["_score"]) for row in text_rows}
    extra = exact.rows if exact is not None else ()
    rows = {row["chunk_id"]: row for row in (*extra, *text_rows, *vector_rows)}
    tokens = frozenset(exact.tokens) if exact is not None else frozenset()
    best_similarity = max(similarity.values(), default=0.0)
    best_keyword = max(keyword.values(), default=0.0)
    wanted = terms(query)
    scored = []
    for chunk_id, row in rows.items():
        score = 0.0
        if best_similarity > 0:
            score += weights.vector * max(similarity.get(chunk_id, 0.0), 0.0) / best_similarity
        if best_keyword > 0:
            score += weights.text * keyword.get(chunk_id, 0.0) / best_keyword
        if wanted:
            score += weights.breadcrumb * len(wanted & terms(breadcrumb_of(row))) / len(wanted)
        score /= weights.total
        if tokens and exact is not None:
            score = (len(tokens & exact.identifiers_of(row)) + score) / (len(tokens) + 1)
        scored.append((row, score))
    scored.sort(key=lambda pair: (-pair[1], pair[0]["chunk_id"]))
    return scored[:limit]
