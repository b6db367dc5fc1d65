"""Vectors -> LanceDB: build each sync in a staging table, then swap it into the live table in one commit.

LanceDB OSS has no table rename and no multi-table transaction, so the swap is a single `merge_insert` that
inserts new chunks, updates changed ones, and deletes the overwritten streams' chunks that the sync did not send.
One commit = one new version: readers see the previous snapshot until it lands, and a killed process leaves it intact.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import lance
import lancedb
import numpy as np
import pyarrow as pa

from destination_vectors.ann import VectorIndexConfig, ensure_vector_index
from destination_vectors.config import DestinationConfig, local_folder
from destination_vectors.failpoints import failpoint
from destination_vectors.row import VECTOR_COLUMN, chunk_schema

logger = logging.getLogger("airbyte")

SNAPSHOT_TAG_PREFIX = "snapshot-"
FTS_COLUMN = "text"


def rows_to_arrow(rows: Sequence[dict[str, Any]], vectors: np.ndarray, schema: pa.Schema) -> pa.Table:
    """Rows (dicts of `row.COLUMNS`) and their vectors as one Arrow table of the chunk schema."""
    columns: dict[str, Any] = {name: [row[name] for row in rows] for name in schema.names if name != VECTOR_COLUMN}
    dimension = schema.field(VECTOR_COLUMN).type.list_size
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1))
    columns[VECTOR_COLUMN] = pa.FixedSizeListArray.from_arrays(flat, dimension)
    return pa.table(columns, schema=schema)


def quote(value: str) -> str:
    """SQL string literal for Lance filters: the only way a value enters a filter."""
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Snapshot:
    """One version of the live table, as the Lance dataset searches read directly: every query of one search reads
    this version (a commit landing meanwhile is seen whole or not at all), and what a search checks first (columns,
    indexes, model) is read once per version instead of once per query."""

    dataset: lance.LanceDataset
    version: int
    columns: frozenset[str]
    indexed: frozenset[tuple[str, ...]]  # the columns of each index
    embedding_model: str | None  # of the table's first row; None when the table has no such column or no rows


@dataclass
class CommitResult:
    version: int
    inserted: int
    updated: int
    deleted: int


class ChunkStore:
    """The live chunk table and its staging table in one LanceDB database."""

    def __init__(self, uri: str, table_name: str, storage_options: dict[str, str] | None = None) -> None:
        self.uri = uri
        self.table_name = table_name
        self.staging_name = f"{table_name}__staging"
        folder = local_folder(uri)
        # The options (object-store endpoint and credentials) go to LanceDB only; never kept on self, never logged.
        self._db = lancedb.connect(str(folder) if folder is not None else uri, storage_options=storage_options or None)

    @classmethod
    def from_config(cls, config: DestinationConfig) -> ChunkStore:
        return cls(config.lancedb_uri, config.table_name, config.storage_options())

    # -- reading the live snapshot ---------------------------------------------------------------------------
    def open_live(self) -> lancedb.table.Table | None:
        if self.table_name not in self._table_names():
            return None
        return self._db.open_table(self.table_name)

    def snapshot(self, previous: Snapshot | None = None) -> Snapshot | None:
        """The live table's newest version, or None before the first sync. `previous` is kept when no commit landed
        since (one version check), else moved to the new version with its caches (the full-text index stays loaded);
        the first call opens the table."""
        if previous is not None:
            try:
                latest = previous.dataset.latest_version
            except Exception:  # dropped or unreachable: open afresh below
                latest = None
            if latest == previous.version:
                return previous
            if latest is not None:
                return _snapshot_of(previous.dataset.checkout_version(latest))
        table = self.open_live()
        return None if table is None else _snapshot_of(table.to_lance())

    def _table_names(self) -> list[str]:
        result = self._db.list_tables()
        names = getattr(result, "tables", result)
        return list(names)

    def reuse_lookup(self, model_name: str) -> VectorLookup:
        live = self.open_live()
        return VectorLookup(live, model_name)

    def carried_pages(self, schema: pa.Schema) -> CarriedPages:
        return CarriedPages(self.open_live(), schema)

    def probe_writable(self) -> None:
        """Create and drop a one-row table: proves the store takes writes and deletes (for `check` on a remote URI,
        where read-only credentials would otherwise pass and fail at the first sync)."""
        name = f"{self.table_name}__check"
        self._db.create_table(name, data=pa.table({"probe": [1]}), mode="overwrite")
        self._db.drop_table(name)

    # -- staging -------------------------------------------------------------------------------------------------
    def start_staging(self, dimension: int) -> Staging:
        """A fresh staging table; one left by a killed sync is replaced."""
        table = self._db.create_table(self.staging_name, schema=chunk_schema(dimension), mode="overwrite")
        return Staging(table)

    def drop_staging(self) -> None:
        if self.staging_name in self._table_names():
            self._db.drop_table(self.staging_name)

    # -- the swap ------------------------------------------------------------------------------------------------
    def commit(
        self, staging: Staging, replace_streams: Iterable[str], dedup_pages: dict[str, set[str]]
    ) -> CommitResult:
        """One commit: upsert every staged chunk, delete what the replaced streams / re-sent pages no longer have."""
        schema = staging.table.schema
        live = self.open_live()
        if live is not None and live.schema != schema:
            logger.warning(
                "the table's columns or vector size changed (new model or new version of this "
                "destination): it is rebuilt from this sync's chunks only"
            )
            live = None
            mode = "overwrite"
        else:
            mode = "create"
        if live is None:
            table = self._db.create_table(self.table_name, data=staging.reader(), schema=schema, mode=mode)
            return CommitResult(table.version, table.count_rows(), 0, 0)
        delete_when = _delete_condition(replace_streams, dedup_pages)
        merge = (
            live.merge_insert("chunk_id")
            .when_matched_update_all(where="target.row_hash != source.row_hash")
            .when_not_matched_insert_all()
        )
        if delete_when:
            merge = merge.when_not_matched_by_source_delete(delete_when)
        result = merge.execute(staging.reader())
        return CommitResult(result.version, result.num_inserted_rows, result.num_updated_rows, result.num_deleted_rows)

    # -- housekeeping ----------------------------------------------------------------------------------------------
    def housekeeping(self, version: int, keep_snapshots: int, vector_index: VectorIndexConfig | None = None) -> None:
        """Tag the new snapshot, keep the last few, compact, clean old versions, bring the indexes up to date."""
        table = self.open_live()
        if table is None:
            return
        tags = table.tags
        tags.create(f"{SNAPSHOT_TAG_PREFIX}{version}", version)
        snapshot_tags = sorted(
            (info["version"], name) for name, info in tags.list().items() if name.startswith(SNAPSHOT_TAG_PREFIX)
        )
        for _, name in snapshot_tags[:-keep_snapshots]:
            tags.delete(name)
        failpoint("housekeeping")
        self.ensure_indexes(table)
        ensure_vector_index(table, vector_index or VectorIndexConfig())
        table.optimize(cleanup_older_than=timedelta(days=3650))  # compaction + index merge; cleanup is below
        table.to_lance().cleanup_old_versions(
            older_than=timedelta(0), delete_unverified=True, error_if_tagged_old_versions=False
        )

    @staticmethod
    def ensure_indexes(table: lancedb.table.Table) -> None:
        """Full-text index on text and a BTREE on content_hash (reuse lookups); built once data exists."""
        if table.count_rows() == 0:
            return
        existing = {tuple(index.columns) for index in table.list_indices()}
        if (FTS_COLUMN,) not in existing:
            table.create_fts_index(FTS_COLUMN, replace=True)
        if ("content_hash",) not in existing:
            table.create_scalar_index("content_hash", index_type="BTREE")


def _snapshot_of(dataset: lance.LanceDataset) -> Snapshot:
    columns = frozenset(dataset.schema.names)
    model = None
    if "embedding_model" in columns:
        first = dataset.to_table(columns=["embedding_model"], limit=1).column("embedding_model").to_pylist()
        model = first[0] if first else None
    indexed = frozenset(tuple(index.field_names) for index in dataset.describe_indices())
    return Snapshot(dataset, dataset.version, columns, indexed, model)


def describe_store_error(uri: str, error: BaseException) -> str:
    """One sentence for an object store's refusal, instead of LanceDB's nested debug dump (which names the store's
    error code and HTTP status somewhere inside; it never holds the credentials)."""
    text = str(error)
    code, status = re.search(r"<Code>(\w+)</Code>", text), re.search(r"status: (\d{3})", text)
    if code or status:
        answer = " ".join(part for part in (code and code.group(1), status and f"(HTTP {status.group(1)})") if part)
        return (
            f"the object store refused access to {uri}: {answer}; check object_storage (endpoint, region, "
            "access key and secret) and that the bucket exists"
        )
    if "ConnectionRefused" in text or "kind: Connect" in text or "dns error" in text:
        return f"cannot connect to the object store of {uri}: check object_storage.endpoint"
    return text


def _delete_condition(replace_streams: Iterable[str], dedup_pages: dict[str, set[str]]) -> str:
    clauses = [f"stream = {quote(stream)}" for stream in sorted(set(replace_streams))]
    for stream, pages in sorted(dedup_pages.items()):
        if pages:
            ids = ", ".join(quote(page) for page in sorted(pages))
            clauses.append(f"(stream = {quote(stream)} AND page_id IN ({ids}))")
    return " OR ".join(clauses)


class Staging:
    def __init__(self, table: lancedb.table.Table) -> None:
        self.table = table
        self.rows = 0

    def add(self, batch: pa.Table) -> None:
        if batch.num_rows:
            self.table.add(batch)
            self.rows += batch.num_rows

    def reader(self) -> pa.RecordBatchReader:
        """Streams the staged rows, so the swap never holds the whole snapshot in memory."""
        dataset = self.table.to_lance()
        return pa.RecordBatchReader.from_batches(self.table.schema, dataset.to_batches(batch_size=4096))


class VectorLookup:
    """Vectors of the live snapshot by content hash, pinned to the version that was live when the sync began."""

    def __init__(self, live: lancedb.table.Table | None, model_name: str) -> None:
        self._dataset = live.to_lance() if live is not None else None
        self._model = model_name
        if self._dataset is not None and "embedding_model" not in self._dataset.schema.names:
            self._dataset = None

    def __call__(self, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        if self._dataset is None or not hashes:
            return {}
        wanted = ", ".join(quote(h) for h in hashes)
        found = self._dataset.to_table(
            columns=["content_hash", "vector"],
            filter=f"content_hash IN ({wanted}) AND embedding_model = {quote(self._model)}",
        )
        vectors = found.column("vector").combine_chunks()
        if len(vectors) == 0:
            return {}
        matrix = vectors.flatten().to_numpy(zero_copy_only=False).reshape(len(vectors), -1)
        return dict(zip(found.column("content_hash").to_pylist(), matrix, strict=False))


class CarriedPages:
    """Pages whose every input (text, metadata, model, chunking) is unchanged since the live snapshot.

    Their rows are copied from the snapshot as they are, so an unchanged page is neither converted, chunked nor
    embedded again: a full re-pull where little changed costs little more than reading its input.
    """

    def __init__(self, live: lancedb.table.Table | None, schema: pa.Schema) -> None:
        self._schema = schema
        self._dataset = live.to_lance() if live is not None and live.schema == schema else None
        self._known: dict[tuple[str, str], tuple[str, int]] = {}
        if self._dataset is not None:
            pages = self._dataset.to_table(columns=["stream", "page_id", "page_hash"])
            for stream, page_id, page_hash in zip(
                *(pages.column(n).to_pylist() for n in pages.column_names), strict=False
            ):
                _, count = self._known.get((stream, page_id), (page_hash, 0))
                self._known[(stream, page_id)] = (page_hash, count + 1)

    def chunks_if_unchanged(self, stream: str, page_id: str, page_hash: str) -> int:
        """The page's chunk count when its rows can be carried over, else 0."""
        known = self._known.get((stream, page_id))
        return known[1] if known is not None and known[0] == page_hash else 0

    def rows(self, stream: str, page_ids: Sequence[str]) -> pa.Table:
        assert self._dataset is not None
        ids = ", ".join(quote(page) for page in page_ids)
        found = self._dataset.to_table(
            columns=self._schema.names, filter=f"stream = {quote(stream)} AND page_id IN ({ids})"
        )
        return found.cast(self._schema)
