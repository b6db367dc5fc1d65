"""Vectors -> LanceDB: build each sync in a staging table, then swap it into the live table in one commit.

LanceDB OSS has no table rename and no multi-table transaction, so the swap is a single `merge_insert` that
inserts new chunks, updates changed ones, and deletes the overwritten streams' chunks that the sync did not send.
One commit = one new version: readers see the previous snapshot until it lands, and a killed process leaves it intact.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import lance
import numpy as np
import pyarrow as pa

from destination_vectors.config import DestinationConfig, local_folder
from destination_vectors.failpoints import failpoint
from destination_vectors.store.ann import FILTER_INDEXES, VectorIndexConfig, ensure_vector_index
from destination_vectors.store.row import VECTOR_COLUMN, chunk_schema
from destination_vectors.store.snapshot import Snapshot, quote, snapshot_of

if TYPE_CHECKING:
    import lancedb

logger = logging.getLogger("airbyte")

SNAPSHOT_TAG_PREFIX = "snapshot-"
FTS_COLUMN = "text"
IDENTIFIERS_COLUMN = "identifiers"  # whole identifier-like tokens (exact.py): whitespace-tokenized, never stemmed
# The identifiers column's tokenizer: split on spaces only, lower-case, nothing stemmed, dropped or folded, no length cap
IDENTIFIER_TOKENS: dict[str, Any] = {
    "base_tokenizer": "whitespace",
    "lower_case": True,
    "stem": False,
    "remove_stop_words": False,
    "ascii_folding": False,
    "max_token_length": None,
}
# Lance operations only housekeeping commits (compaction, index builds and merges): a live version made by one of
# them had its commit tagged before (`housekeeping` tags first).
_HOUSEKEEPING_OPERATIONS = frozenset({"Rewrite", "CreateIndex"})


def rows_to_arrow(rows: Sequence[dict[str, Any]], vectors: np.ndarray, schema: pa.Schema) -> pa.Table:
    """Rows (dicts of `row.COLUMNS`) and their vectors as one Arrow table of the chunk schema."""
    columns: dict[str, Any] = {name: [row[name] for row in rows] for name in schema.names if name != VECTOR_COLUMN}
    dimension = schema.field(VECTOR_COLUMN).type.list_size
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1))
    columns[VECTOR_COLUMN] = pa.FixedSizeListArray.from_arrays(flat, dimension)
    return pa.table(columns, schema=schema)


@dataclass
class CommitResult:
    version: int
    inserted: int
    updated: int
    deleted: int


class ChunkStore:
    """The live chunk table and its staging table in one LanceDB database.

    LanceDB is imported and connected on first use: reading the live table (`snapshot`) needs only Lance for a local
    folder, so a search, or a sync that has nothing to write, never pays LanceDB's import (seconds).
    """

    def __init__(self, uri: str, table_name: str, storage_options: dict[str, str] | None = None) -> None:
        self.uri = uri
        self.table_name = table_name
        self.staging_name = f"{table_name}__staging"
        self._folder = local_folder(uri)
        # The options (object-store endpoint and credentials) go to LanceDB only; never logged.
        self._storage_options = storage_options or None
        self._connection: lancedb.DBConnection | None = None
        if self._folder is None:  # a remote store is reached through LanceDB anyway: refused keys fail here, at once
            self._connect()

    @classmethod
    def from_config(cls, config: DestinationConfig) -> ChunkStore:
        return cls(config.lancedb_uri, config.table_name, config.storage_options())

    @property
    def _db(self) -> lancedb.DBConnection:
        return self._connection if self._connection is not None else self._connect()

    def _connect(self) -> lancedb.DBConnection:
        import lancedb

        target = str(self._folder) if self._folder is not None else self.uri
        self._connection = lancedb.connect(target, storage_options=self._storage_options)
        return self._connection

    # -- reading the live snapshot ---------------------------------------------------------------------------
    def open_live(self) -> lancedb.table.Table | None:
        if not self._exists(self.table_name):
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
                return snapshot_of(previous.dataset.checkout_version(latest))
        dataset = self._open_dataset()
        return None if dataset is None else snapshot_of(dataset)

    def _open_dataset(self) -> lance.LanceDataset | None:
        return self.open_dataset(self.table_name)

    def open_dataset(self, name: str) -> lance.LanceDataset | None:
        """Table `name` of this database at its newest version as a Lance dataset (None: no such table): a local one
        opened with Lance alone (LanceDB's layout, `<folder>/<name>.lance`), a remote one through LanceDB, which
        resolves its URI and options."""
        if not self._exists(name):
            return None
        if self._folder is None:
            return self._db.open_table(name).to_lance()
        return lance.dataset(str(self._folder / f"{name}.lance"))

    def overwrite_table(self, name: str, data: pa.Table) -> int:
        """Replaces (or creates) table `name` of this database with `data` in one commit; returns its version."""
        return self._db.create_table(name, data=data, schema=data.schema, mode="overwrite").version

    def _exists(self, name: str) -> bool:
        """Whether the database holds table `name`: its `<name>.lance` folder locally, else LanceDB's listing."""
        if self._folder is not None:
            return (self._folder / f"{name}.lance").is_dir()
        result = self._db.list_tables()
        return name in list(getattr(result, "tables", result))

    def probe_writable(self) -> None:
        """Create and drop a one-row table: proves the store takes writes and deletes (for `check` on a remote URI,
        where read-only credentials would otherwise pass and fail at the first sync)."""
        name = f"{self.table_name}__check"
        self._db.create_table(name, data=pa.table({"probe": [1]}), mode="overwrite")
        self._db.drop_table(name)

    # -- staging -------------------------------------------------------------------------------------------------
    def start_staging(self, dimension: int) -> Staging:
        """A fresh staging table, created when the first rows arrive; one left by a killed sync is replaced."""
        schema = chunk_schema(dimension)
        return Staging(lambda: self._db.create_table(self.staging_name, schema=schema, mode="overwrite"), schema)

    def drop_staging(self) -> None:
        if self._exists(self.staging_name):
            self._db.drop_table(self.staging_name)

    # -- the swap ------------------------------------------------------------------------------------------------
    def commit(
        self, staging: Staging, replace_streams: Iterable[str], dedup_pages: dict[str, set[str]]
    ) -> CommitResult:
        """One commit: upsert every staged chunk, delete what the replaced streams / re-sent pages no longer have."""
        schema = staging.schema
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
        if f"{SNAPSHOT_TAG_PREFIX}{version}" not in tags.list():  # tagged already when finishing a stopped one
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
        """Full-text indexes on text and on identifiers (whole tokens: `comment-3` is one token, which `comment-30`
        is not) and a BTREE on content_hash (reuse lookups); built once data exists."""
        if table.count_rows() == 0:
            return
        existing = {tuple(index.columns) for index in table.list_indices()}
        if (FTS_COLUMN,) not in existing:
            table.create_fts_index(FTS_COLUMN, replace=True)
        if IDENTIFIERS_COLUMN in table.schema.names and (IDENTIFIERS_COLUMN,) not in existing:
            table.create_fts_index(IDENTIFIERS_COLUMN, replace=True, **IDENTIFIER_TOKENS)
        if ("content_hash",) not in existing:
            table.create_scalar_index("content_hash", index_type="BTREE")


def housekeeping_due(snapshot: Snapshot | None, vector_index: VectorIndexConfig) -> str | None:
    """Why a sync that committed nothing still has housekeeping to do, read from the snapshot with Lance alone (None:
    the last housekeeping finished). Housekeeping tags its commit first, then builds and merges the indexes."""
    if snapshot is None:
        return None
    dataset = snapshot.dataset
    tagged = any(
        name.startswith(SNAPSHOT_TAG_PREFIX) and info["version"] == dataset.version
        for name, info in dataset.tags.list().items()
    )
    transaction = dataset.read_transaction(dataset.version)
    operation = type(transaction.operation).__name__ if transaction is not None else None
    if not tagged and operation not in _HOUSEKEEPING_OPERATIONS:
        return f"version {dataset.version} was committed but never tagged"
    rows = dataset.count_rows()
    if rows == 0:
        return None
    indexes = {tuple(index.field_names): index.name for index in dataset.describe_indices()}
    wanted = (FTS_COLUMN, "content_hash", *((IDENTIFIERS_COLUMN,) if IDENTIFIERS_COLUMN in snapshot.columns else ()))
    missing = [column for column in wanted if (column,) not in indexes]
    if missing:
        return f"no index on {', '.join(missing)}"
    if rows >= vector_index.min_rows:
        if (VECTOR_COLUMN,) not in indexes:
            return f"{rows} chunks >= vector_index.min_rows and no vector index"
        unfiltered = [c for c in FILTER_INDEXES if c in snapshot.columns and (c,) not in indexes]
        if unfiltered:
            return f"{rows} chunks >= vector_index.min_rows and no index on {', '.join(unfiltered)}"
    for name in indexes.values():
        unindexed = dataset.stats.index_stats(name).get("num_unindexed_rows", 0)
        if unindexed:
            return f"{unindexed} rows not in index {name}"
    return None


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
    """This sync's new rows, in a table of their own until the commit; created only when rows arrive."""

    def __init__(self, create: Callable[[], lancedb.table.Table], schema: pa.Schema) -> None:
        self._create = create
        self.schema = schema
        self.table: lancedb.table.Table | None = None
        self.rows = 0

    def add(self, batch: pa.Table) -> None:
        if batch.num_rows:
            if self.table is None:
                self.table = self._create()
            self.table.add(batch)
            self.rows += batch.num_rows

    def reader(self) -> pa.RecordBatchReader:
        """Streams the staged rows, so the swap never holds the whole snapshot in memory."""
        if self.table is None:
            return pa.RecordBatchReader.from_batches(self.schema, [])
        dataset = self.table.to_lance()
        return pa.RecordBatchReader.from_batches(self.schema, dataset.to_batches(batch_size=4096))
