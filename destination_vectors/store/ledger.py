"""The DuckDB ledger: one row per sync run and one per page, so history survives the snapshots it describes.

Connections are short-lived (DuckDB lets one process write a file at a time), so `history` can read between syncs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from destination_vectors.store.counts import SyncCounts

SCHEMA = """
CREATE TABLE IF NOT EXISTS syncs (
    run_id VARCHAR PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ,
    status VARCHAR NOT NULL,            -- running | succeeded | failed | interrupted
    streams VARCHAR,
    embedding_model VARCHAR,
    records BIGINT DEFAULT 0,
    bad_records BIGINT DEFAULT 0,
    chunks BIGINT DEFAULT 0,
    embedded BIGINT DEFAULT 0,
    reused BIGINT DEFAULT 0,
    pages_added BIGINT DEFAULT 0,
    pages_updated BIGINT DEFAULT 0,
    pages_deleted BIGINT DEFAULT 0,
    seconds DOUBLE,
    table_version BIGINT,
    error VARCHAR
);
CREATE TABLE IF NOT EXISTS pages (
    stream VARCHAR NOT NULL,
    page_id VARCHAR NOT NULL,
    version BIGINT,
    content_hash VARCHAR,
    title VARCHAR,
    first_seen TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL,
    deleted_at TIMESTAMPTZ,              -- set when a full re-pull no longer has the page; cleared if it returns
    last_run_id VARCHAR,
    PRIMARY KEY (stream, page_id)
);
"""

SYNC_COLUMNS = (
    "run_id",
    "started_at",
    "ended_at",
    "status",
    "streams",
    "embedding_model",
    "records",
    "bad_records",
    "chunks",
    "embedded",
    "reused",
    "pages_added",
    "pages_updated",
    "pages_deleted",
    "seconds",
    "table_version",
    "error",
)


@dataclass
class SeenPages:
    """Pages of one sync, collected for the ledger: (page_id, version, content_hash, title) per stream."""

    by_stream: dict[str, list[tuple[str, int, str, str]]] = field(default_factory=dict)

    def add(self, stream: str, page_id: str, version: int, content_hash: str, title: str) -> None:
        self.by_stream.setdefault(stream, []).append((page_id, version, content_hash, title))


def utcnow() -> datetime:
    return datetime.now(UTC)


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @contextlib.contextmanager
    def _connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = duckdb.connect(str(self.path), read_only=read_only)
        try:
            if not read_only:
                connection.execute(SCHEMA)
            yield connection
        finally:
            connection.close()

    def start_sync(self, run_id: str, streams: Sequence[str], model: str) -> None:
        """Records the run; a run still 'running' here was killed, and is marked interrupted."""
        with self._connect() as db:
            db.execute(
                "UPDATE syncs SET status = 'interrupted', error = 'process ended before the sync finished' "
                "WHERE status = 'running'"
            )
            db.execute(
                "INSERT INTO syncs (run_id, started_at, status, streams, embedding_model) VALUES (?, ?, 'running', ?, ?)",
                [run_id, utcnow(), ",".join(streams), model],
            )

    def succeeded(
        self,
        run_id: str,
        seen: SeenPages,
        replaced_streams: Sequence[str],
        counts: SyncCounts,
        seconds: float,
        table_version: int | None,
    ) -> None:
        """After the snapshot committed: the pages and the run's row in one transaction (and one connection)."""
        with self._connect() as db:
            db.execute("BEGIN")
            _record_pages(db, run_id, seen, replaced_streams, counts)
            _finish(db, run_id, "succeeded", counts, seconds, table_version, None)
            db.execute("COMMIT")

    def finish_sync(
        self,
        run_id: str,
        status: str,
        counts: SyncCounts,
        seconds: float,
        table_version: int | None = None,
        error: str | None = None,
    ) -> None:
        with self._connect() as db:
            _finish(db, run_id, status, counts, seconds, table_version, error)

    def history(self, limit: int = 20) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self._connect(read_only=True) as db:
            cursor = db.execute(
                f"SELECT {', '.join(SYNC_COLUMNS)} FROM syncs ORDER BY started_at DESC LIMIT ?", [limit]
            )
            return [dict(zip(SYNC_COLUMNS, row, strict=False)) for row in cursor.fetchall()]

    def pages(self, stream: str | None = None, include_deleted: bool = True) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        columns = ("stream", "page_id", "version", "content_hash", "title", "first_seen", "last_seen", "deleted_at")
        where = ["1 = 1"]
        params: list[Any] = []
        if stream:
            where.append("stream = ?")
            params.append(stream)
        if not include_deleted:
            where.append("deleted_at IS NULL")
        with self._connect(read_only=True) as db:
            cursor = db.execute(
                f"SELECT {', '.join(columns)} FROM pages WHERE {' AND '.join(where)} ORDER BY stream, page_id", params
            )
            return [dict(zip(columns, row, strict=False)) for row in cursor.fetchall()]


def _record_pages(
    db: duckdb.DuckDBPyConnection, run_id: str, seen: SeenPages, replaced_streams: Sequence[str], counts: SyncCounts
) -> None:
    """Compare the sync's pages with the last known state (counts added/updated/deleted), then update `pages`."""
    now = utcnow()
    for stream in sorted(set(seen.by_stream) | set(replaced_streams)):
        rows = seen.by_stream.get(stream, [])
        batch = pa.table(
            {
                "page_id": [r[0] for r in rows],
                "version": [r[1] for r in rows],
                "content_hash": [r[2] for r in rows],
                "title": [r[3] for r in rows],
            },
            schema=pa.schema(
                [
                    ("page_id", pa.string()),
                    ("version", pa.int64()),
                    ("content_hash", pa.string()),
                    ("title", pa.string()),
                ]
            ),
        )
        db.register("seen_batch", batch)
        db.execute("CREATE OR REPLACE TEMP TABLE seen AS SELECT DISTINCT ON (page_id) * FROM seen_batch")
        db.unregister("seen_batch")
        added, updated = db.execute(
            "SELECT count(*) FILTER (WHERE p.page_id IS NULL OR p.deleted_at IS NOT NULL), "
            "count(*) FILTER (WHERE p.page_id IS NOT NULL AND p.deleted_at IS NULL AND p.content_hash IS DISTINCT FROM s.content_hash) "
            "FROM seen s LEFT JOIN pages p ON p.stream = ? AND p.page_id = s.page_id",
            [stream],
        ).fetchone()
        counts.pages_added += added
        counts.pages_updated += updated
        if stream in replaced_streams:
            deleted = db.execute(
                "UPDATE pages SET deleted_at = ?, last_run_id = ? WHERE stream = ? AND deleted_at IS NULL "
                "AND page_id NOT IN (SELECT page_id FROM seen)",
                [now, run_id, stream],
            ).fetchone()[0]
            counts.pages_deleted += deleted
        db.execute(
            "INSERT INTO pages BY NAME (SELECT ? AS stream, page_id, version, content_hash, title, "
            "? AS first_seen, ? AS last_seen, NULL AS deleted_at, ? AS last_run_id FROM seen) "
            "ON CONFLICT (stream, page_id) DO UPDATE SET version = excluded.version, "
            "content_hash = excluded.content_hash, title = excluded.title, last_seen = excluded.last_seen, "
            "deleted_at = NULL, last_run_id = excluded.last_run_id",
            [stream, now, now, run_id],
        )


def _finish(
    db: duckdb.DuckDBPyConnection,
    run_id: str,
    status: str,
    counts: SyncCounts,
    seconds: float,
    table_version: int | None,
    error: str | None,
) -> None:
    values = asdict(counts)
    assignments = ", ".join(f"{name} = ?" for name in values)
    db.execute(
        f"UPDATE syncs SET ended_at = ?, status = ?, seconds = ?, table_version = ?, error = ?, {assignments} "
        "WHERE run_id = ?",
        [utcnow(), status, round(seconds, 3), table_version, error, *values.values(), run_id],
    )
