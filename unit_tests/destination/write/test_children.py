"""Children held until the end: joined to containers seen in the sync, attachments take cached text or a status."""

from __future__ import annotations

from pathlib import Path

from destination_vectors.config import DestinationConfig
from destination_vectors.store.attachment_statuses import read_statuses
from destination_vectors.store.text_cache import text_cache_path
from destination_vectors.write.children import Children
from testkit import attachment_files as files


def _children(tmp_path: Path) -> Children:
    config = DestinationConfig.model_validate(
        {"lancedb_uri": str(tmp_path / "lancedb"), "embedding": {"model": "test-hash-embedder"}}
    )
    return Children(config)


def _staged(tmp_path: Path, name: str, data: bytes) -> dict:
    path = tmp_path / name
    path.write_bytes(data)
    return {"staging_file_url": str(path), "source_file_relative_path": name, "file_size_bytes": len(data)}


def test_children_join_their_containers_and_orphans_are_left_out(tmp_path: Path) -> None:
    children = _children(tmp_path)
    try:
        children.note_container("pages", {"id": "1", "title": "Rollback", "webui_url": "u1", "visibility": "public"})
        children.hold("comments", {"id": "c1", "container_id": "1", "body_storage": "<p>purge</p>"})
        children.hold("comments", {"id": "c2", "container_id": "99", "body_storage": "<p>lost</p>"})
        joined = list(children.joined())
    finally:
        children.close()
    assert [(stream, record["id"]) for stream, record in joined] == [("comments", "c1")], joined
    assert joined[0][1]["container_title"] == "Rollback", "joined comment lost its page's title"
    assert children.orphans == {"comments": 1}, f"the orphan was not counted: {children.orphans}"


def test_attachment_text_comes_from_the_delivered_file_or_a_status(tmp_path: Path) -> None:
    children = _children(tmp_path)
    base = {"container_id": "1", "version": 2}
    try:
        children.note_container("pages", {"id": "1", "title": "VPN", "webui_url": "u"})
        status = children.take_file(
            {"id": "att1", "title": "a.pdf", "media_type": "application/pdf", "version": 2},
            _staged(tmp_path, "a.pdf", files.pdf_bytes(["Gateway vpn.corp.example.com"])),
        )
        bad = children.take_file(
            {"id": "att2", "title": "b.pdf", "media_type": "application/pdf", "version": 2},
            _staged(tmp_path, "b.pdf", files.corrupt_pdf_bytes()),
        )
        children.hold("attachments", {"id": "att1", "title": "a.pdf", **base})
        children.hold(
            "attachments", {"id": "att2", "title": "b.pdf", "media_type": "application/pdf", "file_size": 216, **base}
        )
        children.hold("attachments", {"id": "att3", "title": "c.png", "extraction": "unsupported_type", **base})
        children.hold("attachments", {"id": "att4", "title": "d.txt", **base})  # its file never came
        children.hold("attachments", {"id": "att5", "title": "e.pdf", "container_id": "77", "version": 1})
        joined = list(children.joined())
        children.record_outcomes("run1", "2026-11-27T11:00:00+00:00", complete=True)
    finally:
        children.close()
    assert status == "ok" and bad.startswith("failed: unreadable PDF"), (status, bad)
    assert not (tmp_path / "a.pdf").exists(), "the staged file was not removed after extraction"
    assert [record["id"] for _, record in joined] == ["att1"], f"only the readable attachment is indexed: {joined}"
    assert "vpn.corp.example.com" in joined[0][1]["text"], joined[0][1]
    assert children.statuses["unsupported_type"] == 1 and children.statuses["ok"] == 1, children.statuses
    assert any(s.startswith("failed: content not delivered") for s in children.statuses), children.statuses
    assert text_cache_path(children.config).exists(), "the text cache file was not written"
    recorded = {row.id: row for row in read_statuses(text_cache_path(children.config))}
    assert {att: row.status[:22] for att, row in recorded.items()} == {
        "att1": "ok",
        "att2": "failed: unreadable PDF",
        "att3": "unsupported_type",
        "att4": "failed: content not de",
        "att5": "failed: content not de",
    }, f"recorded statuses differ from the sync's: {recorded}"
    assert recorded["att1"].container_title == "VPN" and recorded["att1"].run_id == "run1", recorded["att1"]
    assert recorded["att3"].detail == "the source's verdict from the listing, not downloaded", recorded["att3"]
    att2 = recorded["att2"]
    assert (att2.title, att2.media_type, att2.file_size, att2.version) == ("b.pdf", "application/pdf", 216, 2), att2
    assert recorded["att5"].note == "its page or blog post is not in this sync", f"orphan not explained: {recorded}"
    assert all(not row.note for att, row in recorded.items() if att != "att5"), f"unexpected notes: {recorded}"


def test_a_file_whose_size_differs_from_the_listing_is_failed_not_indexed(tmp_path: Path) -> None:
    children = _children(tmp_path)
    try:
        staged = _staged(tmp_path, "gone.txt", b"Not found")  # the error body of a file deleted after listing
        status = children.take_file(
            {"id": "att9", "title": "notes.txt", "media_type": "text/plain", "version": 1, "file_size": 4_000}, staged
        )
    finally:
        children.close()
    assert status.startswith("failed: 9 bytes delivered, 4000 listed"), status
    assert not (tmp_path / "gone.txt").exists(), "the mismatched staged file was not removed"


def test_a_comment_with_only_its_authors_id_is_named_from_the_syncs_pages(tmp_path: Path) -> None:
    """Cloud's comment lists give an account id only: the name comes from a page of the same sync that this person
    wrote or that mentions them (no request); a name the comment carries itself is kept."""
    children = _children(tmp_path)
    try:
        page = {"id": "1", "title": "Plan", "webui_url": "u1", "author_id": "acc-1", "author_name": "Ann Lee"}
        children.note_container("pages", {**page, "user_names": {"acc-2": "Bo Chen"}})
        children.hold("comments", {"id": "c1", "container_id": "1", "author_id": "acc-2", "body_storage": "<p>a</p>"})
        children.hold("comments", {"id": "c2", "container_id": "1", "author_id": "acc-1", "body_storage": "<p>b</p>"})
        children.hold("comments", {"id": "c3", "container_id": "1", "author_id": "acc-9", "body_storage": "<p>c</p>"})
        children.hold(
            "comments",
            {"id": "c4", "container_id": "1", "author_id": "acc-1", "author_name": "Ann L.", "body_storage": "<p/>"},
        )
        joined = {record["id"]: record.get("author_name") for _, record in children.joined()}
    finally:
        children.close()
    assert joined == {"c1": "Bo Chen", "c2": "Ann Lee", "c3": None, "c4": "Ann L."}, joined
