"""Search the live snapshot: hybrid (vector + full text + breadcrumb, fused by fusion.py), vector only, or full text.

from destination_vectors import Searcher
searcher = Searcher.from_config(config)          # loads the model once
for hit in searcher.search("How do I roll back a deploy?", k=5):
    print(hit.rank, hit.title, hit.webui_url)
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, TypedDict, Unpack, overload

import numpy as np

from destination_vectors.config import DestinationConfig
from destination_vectors.embedding.embedder import Embedder, load_embedder
from destination_vectors.read import full_text
from destination_vectors.read.access import READERS_COLUMN, Principal, readable_filter
from destination_vectors.read.full_text import Ask, Mode, row_identifiers
from destination_vectors.read.fusion import Exact, fuse
from destination_vectors.read.grouping import GroupBy, PageHit, distinct_pages, group_by_page, page_key, shown
from destination_vectors.read.memberships import IdentityError, MembershipResolver
from destination_vectors.store.ann import VECTOR_COLUMN, VectorIndexConfig, search_settings
from destination_vectors.store.memberships import MembershipTable
from destination_vectors.store.row import hit_from_row, make_hit_class
from destination_vectors.store.table import FTS_COLUMN, ChunkStore, Snapshot, quote
from destination_vectors.text.exact import parse_query, phrase_filter

logger = logging.getLogger("airbyte")

Visibility = Literal["public", "internal", "all"]
HYBRID_CANDIDATES = 40  # chunks each side offers the fusion: the top k of a hybrid answer rarely comes from deeper
MAX_CANDIDATES = 1000  # chunks read to fill k distinct pages when grouping: bounds the work of a page-heavy query


class SearchError(RuntimeError):
    """A search that cannot run as asked (no index yet, a different model than the index's)."""


# A search result: rank, score, the row's hit columns (row.COLUMNS), and the breadcrumb computed from them.
Hit = make_hit_class(
    extra={"breadcrumb": str}, module=__name__
)  # breadcrumb: ancestors > title > headings, where the chunk sits


class Scope(TypedDict, total=False):
    """Which rows a search may return, as keywords of `Searcher.search` and `visibility_filter`: declared once."""

    visibility: Visibility
    spaces: Sequence[str] | None
    streams: Sequence[str] | None
    under: str | None
    labels: Sequence[str] | None
    principal: Principal | None


def visibility_filter(**scope: Unpack[Scope]) -> str | None:
    """The SQL filter applied before ranking (prefilter), so the top k never holds a row it excludes. Visibility
    defaults to public. `under`: only that page and the pages below it (its id among their `ancestor_ids`). A
    principal replaces the visibility rule with its own access (what Confluence lets that person read)."""
    unknown = scope.keys() - Scope.__annotations__.keys()
    if unknown:  # keywords are not checked by the signature: a misspelt filter must not be dropped silently
        raise TypeError(f"unknown search filter(s): {', '.join(sorted(unknown))}")
    clauses = []
    if under := scope.get("under"):
        clauses.append(f"(page_id = {quote(under)} OR array_has(ancestor_ids, {quote(under)}))")
    if (principal := scope.get("principal")) is not None:
        clauses.append(readable_filter(principal))
    elif (visibility := scope.get("visibility", "public")) != "all":
        clauses.append(f"visibility = {quote(visibility)}")
    if spaces := scope.get("spaces"):
        clauses.append(f"space_key IN ({', '.join(quote(s) for s in spaces)})")
    if streams := scope.get("streams"):
        clauses.append(f"stream IN ({', '.join(quote(s) for s in streams)})")
    if labels := scope.get("labels"):  # any of them; comments and attachments carry their container's labels
        clauses.append(f"array_has_any(labels, [{', '.join(quote(label) for label in labels)}])")
    return " AND ".join(clauses) or None


def breadcrumb(title: str, heading_path: str, metadata_json: str | None, ancestors: Sequence[str] = ()) -> str:
    """Ancestors (root first: the `ancestors` column, else the record's `ancestors` metadata), the page title, then
    the chunk's headings."""
    if not ancestors:
        try:
            ancestors = json.loads(metadata_json or "{}").get("ancestors") or []
        except (ValueError, AttributeError):
            ancestors = []
    parts = [str(a.get("title", "")) if isinstance(a, dict) else str(a) for a in ancestors]
    return " > ".join(p for p in (*parts, title, heading_path) if p)


class Searcher:
    """`exact=False` ranks as before exact strings counted (quotes are plain words, identifiers get no precedence):
    the benchmark's side-by-side baseline."""

    def __init__(
        self,
        store: ChunkStore,
        embedder: Embedder | None,
        vector_index: VectorIndexConfig | None = None,
        exact: bool = True,
    ) -> None:
        self.exact = exact
        self._store = store
        self._embedder = embedder
        self._vector_index = vector_index or VectorIndexConfig()
        self._snapshot: Snapshot | None = None  # the last version read; each search checks for a newer one
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="search")
        self._members = MembershipResolver(MembershipTable(store))  # the groups of a person searching

    @classmethod
    def from_config(cls, config: DestinationConfig, embedder: Embedder | None = None) -> Searcher:
        store = ChunkStore.from_config(config)
        snapshot = None
        if embedder is None:  # backend auto follows the index, so the query is embedded like its chunks were
            snapshot = store.snapshot()  # Lance alone for a local index: no LanceDB import on the search path
            embedder = load_embedder(config.embedding, indexed=snapshot.embedding_model if snapshot else None)
        searcher = cls(store, embedder, config.vector_index)
        searcher._snapshot = snapshot  # opened once: the first search only checks it is still the newest version
        return searcher

    @overload
    def search(
        self, query: str, k: int = ..., mode: Mode = ..., group_by: Literal["chunk"] = ..., **scope: Unpack[Scope]
    ) -> list[Hit]: ...

    @overload
    def search(
        self, query: str, k: int = ..., mode: Mode = ..., *, group_by: Literal["page"], **scope: Unpack[Scope]
    ) -> list[PageHit]: ...

    def search(
        self, query: str, k: int = 10, mode: Mode = "hybrid", group_by: GroupBy = "chunk", **scope: Unpack[Scope]
    ) -> list[Hit] | list[PageHit]:
        """Top k chunks, or with group_by="page" the top k pages (each once, best chunk first, two more snippets).

        `scope` (keywords, see Scope) narrows the rows before ranking; visibility defaults to public. With
        `principal`, only chunks that person may read in Confluence (their account, their groups, what is open to
        anyone); `visibility` is then not applied. A "quoted phrase" keeps only chunks holding it (any mode);
        identifier-like tokens (exact.py) rank the chunks holding them whole first (hybrid)."""
        if not query or not query.strip():
            raise SearchError("the query is empty")
        snapshot = self._live_snapshot()
        if scope.get("labels") and "labels" not in snapshot.columns:
            raise SearchError("this index holds no labels yet: sync again, or search without --label")
        if (principal := scope.get("principal")) is not None:
            if READERS_COLUMN not in snapshot.columns:
                raise SearchError(
                    "this index holds no access information (written before access was read): searching as a person "
                    "needs a sync with a source that reads access"
                )
            scope = {**scope, "principal": self._members.principal(snapshot.version, principal)}
        where = visibility_filter(**scope)
        tokens: tuple[str, ...] = ()
        if self.exact:
            parsed = parse_query(query)
            query, tokens = parsed.words, parsed.identifiers
            if phrases := phrase_filter(parsed.phrases, FTS_COLUMN):
                where = f"({where}) AND {phrases}" if where else phrases
        if mode != "vector" and (FTS_COLUMN,) not in snapshot.indexed:
            if mode == "fts":
                raise SearchError("the full-text index does not exist yet (the table is empty or never synced)")
            logger.warning("no full-text index yet: searching by vector only")
            mode = "vector"
        ann = (VECTOR_COLUMN,) in snapshot.indexed
        # The memory cap: flat search in memory holds rows x dimension x 4 bytes (flat.py), so only below min_rows
        # (77 MB at the default 50,000 rows of 384 dimensions); past it Lance reads the vectors (or its index).
        in_memory = not ann and snapshot.rows < self._vector_index.min_rows
        ask = Ask(snapshot, query, mode, where, ann, in_memory, tokens if mode == "hybrid" else ())
        if group_by == "chunk":
            return [_to_hit(rank, row, score) for rank, (row, score) in enumerate(self._ranked(ask, k), start=1)]
        # Pages: read a few chunks per wanted page; read more only when chunks of few pages fill the list.
        limit = min(MAX_CANDIDATES, max(k * 4, 20))
        while True:
            ranked = self._ranked(ask, limit)
            pages = [page_key(row) for row, _ in ranked]  # a comment or an attachment counts as its page
            if len(ranked) < limit or limit >= MAX_CANDIDATES or distinct_pages(pages) >= k:
                break
            limit = min(MAX_CANDIDATES, limit * 4)
        # Hits (and their breadcrumbs) only for the chunks the pages show.
        sources = [(row["stream"], row["page_id"]) for row, _ in ranked]
        positions = [position for group in shown(zip(pages, sources, strict=True), k) for position in group]
        return group_by_page([_to_hit(p + 1, *ranked[p]) for p in positions], k)

    def principal_for(
        self, as_user: str | None = None, as_email: str | None = None, groups: Sequence[str] = ()
    ) -> Principal:
        """The person a front end names (`--as-user ACCOUNT_ID` or `--as-email ADDRESS`, plus any `--group`): their
        account and the given groups, to pass to `search` (which adds the groups the memberships give them at the
        version it reads; `resolved` shows them). SearchError when that person cannot be searched as (an e-mail
        address on a site that hides them, no memberships synced for an e-mail address)."""
        try:
            return self._members.resolve(self._live_snapshot().version, as_user, as_email, groups)
        except (IdentityError, ValueError) as error:
            raise SearchError(str(error)) from None

    def resolved(self, principal: Principal) -> Principal:
        """`principal` with the groups the memberships give its account at the live version (search does this
        itself; for front ends that filter rows without searching, e.g. opening a page)."""
        return self._members.principal(self._live_snapshot().version, principal)

    def _live_snapshot(self) -> Snapshot:
        """The newest version of the live table (one version check when nothing was committed since the last).
        Concurrent searches may both move it to a new version: each then reads a whole version, which is all that
        counts, so no lock is held across the check (a round trip on object storage)."""
        snapshot = self._snapshot = self._store.snapshot(self._snapshot)
        if snapshot is None:
            raise SearchError(
                f"no index yet: table {self._store.table_name!r} does not exist in {self._store.uri}; run a sync first"
            )
        return snapshot

    def _ranked(self, ask: Ask, limit: int) -> list[tuple[dict, float]]:
        """(candidate row, score) best first; every query reads the one version `ask.snapshot` holds."""
        if ask.mode == "fts":
            return [(row, float(row["_score"])) for row in full_text.text_rows(ask, limit)]
        if ask.mode == "vector":
            rows = self._vector_rows(ask, self._query_vector(ask), limit)
            return [(row, 1.0 - float(row["_distance"])) for row in rows]
        # Hybrid: the full-text query needs no vector, so it runs while the query is embedded.
        depth = max(limit, HYBRID_CANDIDATES)
        if ask.in_memory:
            vector_rows, text_rows = self._hybrid_rows_in_memory(ask, depth)
            exact = Exact(ask.identifiers, row_identifiers) if ask.identifiers else None
            return fuse(ask.query, vector_rows, text_rows, _row_breadcrumb, limit, exact=exact)
        text_rows = self._pool.submit(full_text.text_rows, ask, depth)
        exact_rows = self._pool.submit(full_text.exact_rows, ask, depth) if ask.exact_indexed else None
        vector_rows = self._vector_rows(ask, self._query_vector(ask), depth)
        exact = None
        if ask.identifiers:
            exact = Exact(ask.identifiers, row_identifiers, exact_rows.result() if exact_rows is not None else ())
        return fuse(ask.query, vector_rows, text_rows.result(), _row_breadcrumb, limit, exact=exact)

    def _hybrid_rows_in_memory(self, ask: Ask, depth: int) -> tuple[list[dict], list[dict]]:
        """Both sides' candidates with one read of their columns: the full-text query returns row ids and scores
        only, the vector side positions and distances (flat.py), then one `take` reads the union (materialising the
        columns in the full-text query cost about as much as the query itself)."""
        flat = ask.snapshot.flat
        text_hits = self._pool.submit(full_text.text_hits_in_memory, ask, depth)
        exact_hits = (
            self._pool.submit(full_text.hits_in_memory, ask, depth, full_text.exact_query(ask))
            if ask.exact_indexed
            else None
        )
        vector = self._query_vector(ask)
        positions, distances = flat.nearest(vector, depth, ask.where)
        text_positions, scores = text_hits.result()
        vector_positions = positions.tolist()
        if exact_hits is not None:  # chunks holding the tokens whole join the vector side with their own distance
            seen = set(vector_positions)
            more = [p for p in exact_hits.result()[0] if p not in seen]
            vector_positions += more
            distances = np.concatenate([distances, flat.distances(vector, more)])
        wanted = list(dict.fromkeys([*vector_positions, *text_positions]))
        read = dict(zip(wanted, flat.read(ask.columns, wanted), strict=True))
        return (
            [{**read[p], "_distance": d} for p, d in zip(vector_positions, distances.tolist(), strict=True)],
            [{**read[p], "_score": score} for p, score in zip(text_positions, scores, strict=True)],
        )

    def _vector_rows(self, ask: Ask, vector: np.ndarray, limit: int) -> list[dict]:
        if ask.in_memory:
            return ask.snapshot.flat.rows(ask.columns, vector, limit, ask.where)
        nearest: dict[str, Any] = {"column": VECTOR_COLUMN, "q": vector, "k": limit, "metric": "cosine"}
        if ask.ann:  # the settings the index's recall was measured with at build time
            nearest.update(search_settings(self._vector_index))
        found = ask.snapshot.dataset.to_table(
            columns=[*ask.columns, "_distance"],
            nearest=nearest,
            filter=ask.where,
            prefilter=True,
        )
        return found.to_pylist()

    def _query_vector(self, ask: Ask) -> np.ndarray:
        if self._embedder is None:
            raise SearchError("vector search needs an embedding model")
        indexed = ask.snapshot.embedding_model
        if indexed is not None and indexed != self._embedder.name:
            raise SearchError(
                f"the index was built with {indexed!r} but the config names "
                f"{self._embedder.name!r}: search with the same model, or re-sync"
            )
        return np.asarray(self._embedder.embed([ask.query])[0], dtype=np.float32)


def _row_breadcrumb(row: dict) -> str:
    return _breadcrumb(
        row.get("title") or "", row.get("heading_path") or "", row.get("metadata"), tuple(row.get("ancestors") or ())
    )


@functools.lru_cache(maxsize=8192)  # fusion asks for every candidate's breadcrumb on every query (JSON parsing)
def _breadcrumb(title: str, heading_path: str, metadata_json: str | None, ancestors: tuple[str, ...]) -> str:
    return breadcrumb(title, heading_path, metadata_json, ancestors)


def _to_hit(rank: int, row: dict, score: float) -> Hit:
    return hit_from_row(rank, round(score, 6), row, Hit, breadcrumb=_row_breadcrumb(row))
