"""Attachment statuses kept beside the text cache: newest sync first, filtered by status, replaced by a full listing."""

from __future__ import annotations

from pathlib import Path

import pytest

from destination_vectors.store.attachment_statuses import (
    AttachmentStatus,
    StatusesUnavailable,
    read_statuses,
    record_statuses,
)
from destination_vectors.store.text_cache import TextCache
from destination_vectors.text.extract.guard import Extraction


def _status(att: str, status: str, run: str, at: str, title: str = "") -> AttachmentStatus:
    return AttachmentStatus(
        id=att,
        version=1,
        title=title or f"{att}.pdf",
        container_id="1",
        container_title="VPN Setup",
        media_type="application/pdf",
        file_size=1234,
        status=status,
        run_id=run,
        synced_at=at,
    )


def test_newest_sync_first_and_status_filter(tmp_path: Path) -> None:
    path = tmp_path / "t.attachments.sqlite"
    TextCache(path).close()  # the cache file as a sync leaves it, with its texts table
    record_statuses(path, [_status("a1", "ok", "r1", "2026-01-01T10:00:00+00:00")], complete=True)
    second = [
        _status("a2", "failed: unreadable PDF (EOF marker not found)", "r2", "2026-01-02T10:00:00+00:00"),
        _status("a3", "too_large", "r2", "2026-01-02T10:00:00+00:00"),
    ]
    record_statuses(path, second, complete=False)  # a partial listing updates, keeps a1
    rows = read_statuses(path)
    assert [r.id for r in rows] == ["a2", "a3", "a1"], f"not newest sync first (then title): {rows}"
    failed = read_statuses(path, "failed")
    assert [(r.id, r.status) for r in failed] == [("a2", "failed: unreadable PDF (EOF marker not found)")], failed
    assert [r.id for r in read_statuses(path, "too_large")] == ["a3"], "--status too_large"
    assert [r.id for r in read_statuses(path, "ok")] == ["a1"], "--status ok"
    assert read_statuses(path, "unsupported_type") == [], "a status nobody has matched rows"
    assert rows[2] == _status("a1", "ok", "r1", "2026-01-01T10:00:00+00:00"), "a row changed on its way through"


def test_a_complete_listing_replaces_every_older_status(tmp_path: Path) -> None:
    path = tmp_path / "t.attachments.sqlite"
    record_statuses(path, [_status("a1", "ok", "r1", "t1"), _status("a2", "ok", "r1", "t1")], complete=True)
    record_statuses(path, [_status("a2", "failed: timed out after 30 s", "r2", "t2")], complete=True)
    rows = read_statuses(path)
    assert [(r.id, r.status) for r in rows] == [("a2", "failed: timed out after 30 s")], (
        f"a deleted attachment or the old status of a2 survived a complete listing: {rows}"
    )
    record_statuses(path, [], complete=True)
    assert read_statuses(path) == [], "an empty complete listing left statuses behind"


def test_texts_and_statuses_share_the_file_without_touching_each_other(tmp_path: Path) -> None:
    path = tmp_path / "t.attachments.sqlite"
    cache = TextCache(path)
    cache.put("a1", 1, Extraction("ok", "hello"))
    record_statuses(path, [_status("a1", "ok", "r1", "t1")], complete=True)
    assert cache.get("a1", 1) == Extraction("ok", "hello"), "recording statuses changed the cached text"
    cache.close()
    assert [r.id for r in read_statuses(path)] == ["a1"], "statuses unreadable beside the text cache"


def test_missing_file_or_table_is_a_clear_error_and_nothing_is_created(tmp_path: Path) -> None:
    missing = tmp_path / "none.attachments.sqlite"
    with pytest.raises(StatusesUnavailable, match="does not exist.*run a sync"):
        read_statuses(missing)
    assert not missing.exists(), "reading created the cache file"
    old = tmp_path / "old.attachments.sqlite"
    TextCache(old).close()  # a cache written before statuses were recorded
    with pytest.raises(StatusesUnavailable, match="no attachment statuses recorded"):
        read_statuses(old)
    garbage = tmp_path / "garbage.attachments.sqlite"
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StatusesUnavailable, match="cannot be read"):
        read_statuses(garbage)
    with pytest.raises(ValueError, match="status must be one of"):
        read_statuses(old, "broken")


def test_reading_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "t.attachments.sqlite"
    record_statuses(path, [_status("a1", "ok", "r1", "t1")], complete=True)
    before = path.read_bytes()
    assert [r.id for r in read_statuses(path, "ok")] == ["a1"], "the recorded status was not listed"
    assert path.read_bytes() == before, "listing the statuses changed the cache file"
