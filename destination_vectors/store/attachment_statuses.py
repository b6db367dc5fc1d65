"""Each listed attachment's final extraction status, kept beside the extracted texts (same SQLite file), so a user can
ask which attachments were not indexed, and why (`destination-vectors attachments`).

Why here: the source's `extraction` field carries only the listing's verdicts (`too_large`, `unsupported_type`); a
`failed: <reason>` is known only once the destination has read the delivered bytes. The writer records the statuses
after its commit, so they describe the live snapshot; a complete `attachments` listing replaces them all (an
attachment gone from Confluence leaves the list too).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import astuple, dataclass, fields
from pathlib import Path

STATUS_CHOICES = ("ok", "too_large", "unsupported_type", "failed")  # `failed` matches every `failed: <reason>`


@dataclass(frozen=True)
class AttachmentStatus:
    id: str
    version: int
    title: str
    container_id: str
    container_title: str  # "" when its page or blog post was not in the sync
    media_type: str
    file_size: int | None  # as listed by Confluence
    status: str  # ok | too_large | unsupported_type | failed: <reason>
    detail: str = (
        ""  # the extractor's detail (e.g. "archive expands to N bytes (limit M)"), or where a verdict came from
    )
    note: str = ""  # why an `ok` attachment is still not in the index ("" when it is)
    run_id: str = ""  # the sync that recorded it (the ledger's run_id)
    synced_at: str = ""  # when that sync committed, ISO 8601 UTC


COLUMNS = tuple(f.name for f in fields(AttachmentStatus))
_TABLE = "attachment_status"
_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {_TABLE} (id TEXT PRIMARY KEY, version INTEGER, title TEXT, container_id TEXT, "
    "container_title TEXT, media_type TEXT, file_size INTEGER, status TEXT, detail TEXT, note TEXT, run_id TEXT, "
    "synced_at TEXT)"
)


class StatusesUnavailable(Exception):
    """No statuses can be read: the message says why and what to do."""


def status_matches(status: str, wanted: str | None) -> bool:
    if wanted is None:
        return True
    return status.startswith("failed") if wanted == "failed" else status == wanted


def record_statuses(path: Path, statuses: Iterable[AttachmentStatus], complete: bool) -> int:
    """Store one sync's statuses in one transaction; `complete` (a full listing) first forgets every older one."""
    rows = [astuple(status) for status in statuses]
    db = sqlite3.connect(str(path))
    try:
        with db:
            db.execute(_CREATE)
            if complete:
                db.execute(f"DELETE FROM {_TABLE}")
            placeholders = ", ".join("?" for _ in COLUMNS)
            db.executemany(f"INSERT OR REPLACE INTO {_TABLE} ({', '.join(COLUMNS)}) VALUES ({placeholders})", rows)
    finally:
        db.close()
    return len(rows)


def read_statuses(path: Path, status: str | None = None) -> list[AttachmentStatus]:
    """The recorded statuses, newest sync first (then by page and title); `status` as in STATUS_CHOICES."""
    if status is not None and status not in STATUS_CHOICES:
        raise ValueError(f"status must be one of {', '.join(STATUS_CHOICES)}, not {status!r}")
    if not path.exists():
        raise StatusesUnavailable(
            f"no attachment statuses yet: {path} does not exist (run a sync with the attachments and "
            "attachment_files streams first)"
        )
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        known = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (_TABLE,)).fetchone()
        if known is None:
            raise StatusesUnavailable(
                f"no attachment statuses recorded in {path} yet: no sync since they are kept (this version) "
                "read the attachments stream"
            )
        cursor = db.execute(
            f"SELECT {', '.join(COLUMNS)} FROM {_TABLE} ORDER BY synced_at DESC, container_title, title, id"
        )
        rows = [AttachmentStatus(*row) for row in cursor.fetchall()]
    except sqlite3.DatabaseError as error:
        raise StatusesUnavailable(f"{path} cannot be read as the attachment text cache ({error})") from None
    finally:
        db.close()
    return [row for row in rows if status_matches(row.status, status)]


def human_size(size: int | None) -> str:
    """An attachment's listed size as people read it, in the CLI's table and on the web page alike."""
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"
