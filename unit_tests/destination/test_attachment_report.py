"""The attachments report: sizes people read, the format name for types we extract, notes for the not-indexed."""

from __future__ import annotations

import json

from destination_vectors.attachment_report import json_lines, summary, table
from destination_vectors.store.attachment_statuses import AttachmentStatus, human_size

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _row(
    status: str, media_type: str = DOCX, note: str = "", container_title: str = "Handbook", detail: str = ""
) -> AttachmentStatus:
    return AttachmentStatus(
        "att9", 3, "hb.docx", "42", container_title, media_type, 262_144, status, detail, note, "r", ""
    )


def test_human_size() -> None:
    cases = {None: "?", 0: "0 B", 999: "999 B", 1000: "1.0 kB", 262_144: "262.1 kB", 20_000_000: "20.0 MB"}
    assert {size: human_size(size) for size in cases} == cases, "sizes are not shown as people read them"


def test_table_names_the_format_the_page_and_the_note() -> None:
    bomb = _row("too_large", detail="archive expands to 262144000 bytes (limit 209715200)")
    orphan = _row("ok", "image/x-very-long-media-type", "its page or blog post is not in this sync", "")
    failed = _row("failed: unreadable DOCX (BadZipFile)", detail="unreadable DOCX (BadZipFile)")
    lines = table([bomb, orphan, failed]).splitlines()
    assert " docx " in lines[1] and DOCX not in lines[1], f"a long office media type was not shown as docx: {lines[1]}"
    assert "hb.docx (Handbook)  [archive expands to 262144000 bytes (limit 209715200)]" in lines[1], (
        f"the zip bomb's line does not say why it is too_large: {lines[1]}"
    )
    assert lines[3].split()[0] == "failed", f"the status column is not the kind: {lines[3]}"
    assert lines[3].endswith("hb.docx (Handbook)  [unreadable DOCX (BadZipFile)]"), (
        f"the reason is missing, or the detail that repeats it was shown twice: {lines[3]}"
    )
    assert "image/x-very-lo…" in lines[2], f"an unknown long media type was not shortened: {lines[2]}"
    assert "(page 42)  [its page or blog post is not in this sync]" in lines[2], f"orphan not explained: {lines[2]}"


def test_summary_groups_every_failed_reason_and_json_keeps_them_whole() -> None:
    rows = [_row("failed: a"), _row("failed: b"), _row("ok")]
    assert summary(rows) == "3 attachments: 2 failed, 1 ok", summary(rows)
    statuses = [json.loads(line)["status"] for line in json_lines(rows).splitlines()]
    assert statuses == ["failed: a", "failed: b", "ok"], f"JSON lost the reasons: {statuses}"
