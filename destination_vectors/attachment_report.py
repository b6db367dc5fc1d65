"""`destination-vectors attachments`: the recorded attachment statuses as a table for people or JSON lines.

Only metadata is printed (no text, no download link, nothing from the config), so the output is safe to paste.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict

from destination_vectors.store.attachment_statuses import AttachmentStatus, human_size
from destination_vectors.text.extract.formats import resolve_format


def json_lines(rows: Sequence[AttachmentStatus]) -> str:
    return "\n".join(json.dumps(asdict(row), ensure_ascii=False) for row in rows)


def table(rows: Sequence[AttachmentStatus]) -> str:
    """One line per attachment: fixed columns first (the status as its kind), then the title and page, then why."""
    lines = [
        f"{'synced (UTC)':<16}  {'status':<16}  {'id':<12} {'ver':>4}  {'size':>8}  {'type':<16} title (page)  [why]"
    ]
    for row in rows:
        page = row.container_title or f"page {row.container_id}"
        why = "; ".join(part for part in (_reason(row), _detail(row), row.note) if part)
        lines.append(
            f"{row.synced_at[:16].replace('T', ' '):<16}  {_status_kind(row.status):<16}  {row.id:<12} "
            f"{row.version:>4}  {human_size(row.file_size):>8}  {_kind(row):<16} {row.title} ({page})"
            + (f"  [{why}]" if why else "")
        )
    return "\n".join(lines)


def summary(rows: Sequence[AttachmentStatus]) -> str:
    counts: dict[str, int] = {}
    for row in rows:
        kind = _status_kind(row.status)
        counts[kind] = counts.get(kind, 0) + 1
    return f"{len(rows)} attachment{'' if len(rows) == 1 else 's'}: " + ", ".join(
        f"{n} {kind}" for kind, n in sorted(counts.items())
    )


def _status_kind(status: str) -> str:
    return "failed" if status.startswith("failed") else status


def _reason(row: AttachmentStatus) -> str:
    return row.status.removeprefix("failed:").strip() if row.status.startswith("failed") else ""


def _detail(row: AttachmentStatus) -> str:
    """The extractor's detail when it adds to the status (a `failed: <reason>` usually says it already)."""
    return "" if row.status == "ok" or row.detail in row.status else row.detail


def _kind(row: AttachmentStatus) -> str:
    """The format read (pdf, docx, ...) for a media type we extract, else the media type itself (shortened)."""
    fmt = resolve_format(row.media_type, row.title)
    if fmt is not None:
        return fmt
    text = row.media_type or "?"
    return text if len(text) <= 16 else text[:15] + "…"
