"""Extracted attachment text kept between syncs, keyed by (attachment id, version), in a small SQLite file.

Why: a re-pull delivers no bytes for unchanged attachments (the source's `attachment_files` stream is incremental),
yet their rows must survive a container's rename or a change of chunking; the text is here. Entries whose attachment
left the listing are dropped after a successful commit.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from destination_vectors.config import DestinationConfig
from destination_vectors.text.extract.guard import Extraction


def text_cache_path(config: DestinationConfig) -> Path:
    """The SQLite file beside the ledger that holds extracted texts and attachment statuses."""
    ledger = config.resolved_ledger_path
    return ledger.with_name(ledger.name.removesuffix(".duckdb") + ".attachments.sqlite")


class TextCache:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path))
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS extracted (attachment_id TEXT, version INTEGER, status TEXT, truncated INTEGER,"
            " detail TEXT, text TEXT, PRIMARY KEY (attachment_id, version))"
        )

    def put(self, attachment_id: str, version: int, extraction: Extraction) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO extracted VALUES (?, ?, ?, ?, ?, ?)",
                (
                    attachment_id,
                    version,
                    extraction.status,
                    int(extraction.truncated),
                    extraction.detail,
                    extraction.text,
                ),
            )

    def get(self, attachment_id: str, version: int) -> Extraction | None:
        row = self._db.execute(
            "SELECT status, text, truncated, detail FROM extracted WHERE attachment_id = ? AND version = ?",
            (attachment_id, version),
        ).fetchone()
        return None if row is None else Extraction(row[0], row[1], bool(row[2]), row[3])

    def keep_only(self, current: Iterable[tuple[str, int]]) -> int:
        """Drop every entry that is not a listed (id, version); returns how many were dropped."""
        keep = set(current)
        rows = self._db.execute("SELECT attachment_id, version FROM extracted").fetchall()
        gone = [row for row in rows if (row[0], row[1]) not in keep]
        with self._db:
            self._db.executemany("DELETE FROM extracted WHERE attachment_id = ? AND version = ?", gone)
        return len(gone)

    def close(self) -> None:
        self._db.close()
