"""The DuckDB ledger: one row per sync run and one per page, so history survives the snapshots it describes.

Connections are short-lived (DuckDB lets one process write a file at a time), so `history` can read between syncs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
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
    status VARCHAR NOT NULL,            -- running | succeeded | failed | refused | interrupted
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
CREATE TABLE IF NOT EXISTS mass_deletions (
    run_id VARCHAR NOT NULL,             -- the sync that would delete
    decided_at TIMESTAMPTZ NOT NULL,
    decision VARCHAR NOT NULL,           -- refused | allowed
    allowed_by VARCHAR,                  -- allow_always | allow_once <refused run id> | space_keys; NULL if refused
    stream VARCHAR NOT NULL,
    space_key VARCHAR NOT NULL,          -- '' for rows without a space
    live_pages BIGINT NOT NULL,          -- the stream's pages of the space in the table before the sync
    deleted_pages BIGINT NOT NULL,       -- how many of them the sync would delete
    followed_pages BIGINT NOT NULL,      -- of those, comments and attachments going with their page (not judged)
    vanished BOOLEAN NOT NULL,           -- the space is missing from the source's listing
    PRIMARY KEY (run_id, stream, space_key)
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
MASS_DELETION_COLUMNS = (
    "run_id",
    "decided_at",
    "decision",
    "allowed_by",
    "stream",
    "space_key",
    "live_pages",
    "deleted_pages",
    "followed_pages",
    "vanished",
)


@dataclass
class SeenPages:
    """Pages of one sync, collected for the ledger: (page_id, version, content_hash, title) per stream."""

    by_stream: dict[str, list[tuple[str, int, str, str]]] = field(default_factory=dict)

    def add(self, stream: str, page_id: str, version: int, content_hash: str, title: str) -> None:
        self.by_stream.setdefault(stream, []).append((page_id, version, content_hash, title))


@dataclass(frozen=True)
class MassDeletion:
    """One stream's deletions in one space, as the mass-deletion guard measured them (write/deletion_guard.py); a row
    of `mass_deletions` once decided."""

    stream: str
    space_key: str  # "" for rows without a space
    live_pages: int
    deleted_pages: int
    followed_pages: int = 0  # comments and attachments going with their deleted page or blog post
    vanished: bool = False  # the space is missing from the source's listing
    deselected: bool = False  # ... because the source's space_keys no longer names it
    decision: str | None = None  # refused | allowed
    allowed_by: str | None = None  # allow_always | allow_once <run id> | space_keys

    def decided(self, decision: str, allowed_by: str | None) -> MassDeletion:
        return replace(self, decision=decision, allowed_by=allowed_by)


@dataclass(frozen=True)
class Allowance:
    """What the ledger knows of the refused run that mass_deletion.allow_once names."""

    refused: list[MassDeletion]
    spent_by: str | None  # the sync that committed with this allowance already
    succeeded_since: str | None  # a sync that succeeded after the refusal: the refusal no longer stands


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
        mass_deletions: Sequence[MassDeletion] = (),
    ) -> None:
        """After the snapshot committed: the pages, the mass deletions it was allowed and the run's row in one
        transaction (and one connection): an allow_once is spent only by a commit that landed."""
        with self._connect() as db:
            db.execute("BEGIN")
            _record_pages(db, run_id, seen, replaced_streams, counts)
            _record_mass_deletions(db, run_id, mass_deletions)
            _finish(db, run_id, "succeeded", counts, seconds, table_version, None)
            db.execute("COMMIT")

    def refused(
        self, run_id: str, mass_deletions: Sequence[MassDeletion], counts: SyncCounts, seconds: float, error: str
    ) -> None:
        """A sync the guard refused: its mass deletions and the run's row (status `refused`) in one transaction."""
        with self._connect() as db:
            db.execute("BEGIN")
            _record_mass_deletions(db, run_id, mass_deletions)
            _finish(db, run_id, "refused", counts, seconds, None, error)
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

    def mass_deletions(
        self, limit: int = 50, run_id: str | None = None, decision: str | None = None
    ) -> list[dict[str, Any]]:
        """Refused and allowed mass deletions, newest first: one dict per run, stream and space, with the keys of
        `MASS_DELETION_COLUMNS` (docs/sync.md, "The ledger")."""
        if not self.path.exists():
            return []
        where, params = ["1 = 1"], []
        for column, value in (("run_id", run_id), ("decision", decision)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        with self._connect(read_only=True) as db:
            if not _has_table(db, "mass_deletions"):  # a ledger from before the guard, opened read-only
                return []
            cursor = db.execute(
                f"SELECT {', '.join(MASS_DELETION_COLUMNS)} FROM mass_deletions WHERE {' AND '.join(where)} "
                "ORDER BY decided_at DESC, run_id, stream, space_key LIMIT ?",
                [*params, limit],
            )
            return [dict(zip(MASS_DELETION_COLUMNS, row, strict=True)) for row in cursor.fetchall()]

    def allowance(self, refused_run_id: str) -> Allowance:
        """What mass_deletion.allow_once naming this run may allow: the deletions it refused, whether a sync spent
        it, and whether a sync succeeded since (then the refusal no longer stands)."""
        with self._connect() as db:
            refused = db.execute(
                "SELECT stream, space_key, live_pages, deleted_pages, followed_pages, vanished FROM mass_deletions "
                "WHERE run_id = ? AND decision = 'refused' ORDER BY stream, space_key",
                [refused_run_id],
            ).fetchall()
            spent = db.execute(
                "SELECT run_id FROM mass_deletions WHERE decision = 'allowed' AND allowed_by = ? LIMIT 1",
                [f"allow_once {refused_run_id}"],
            ).fetchone()
            since = db.execute(
                "SELECT run_id FROM syncs WHERE status = 'succeeded' AND started_at > "
                "(SELECT started_at FROM syncs WHERE run_id = ?) ORDER BY started_at LIMIT 1",
                [refused_run_id],
            ).fetchone()
        deletions = [
            MassDeletion(s, k, live, deleted, followed, vanished) for s, k, live, deleted, followed, vanished in refused
        ]
        return Allowance(deletions, spent[0] if spent else None, since[0] if since else None)

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


def _record_mass_deletions(db: duckdb.DuckDBPyConnection, run_id: str, deletions: Sequence[MassDeletion]) -> None:
    now = utcnow()
    for d in deletions:
        db.execute(
            f"INSERT OR REPLACE INTO mass_deletions ({', '.join(MASS_DELETION_COLUMNS)}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                now,
                d.decision,
                d.allowed_by,
                d.stream,
                d.space_key,
                d.live_pages,
                d.deleted_pages,
                d.followed_pages,
                d.vanished,
            ],
        )


def _has_table(db: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(db.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchone()[0])


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
