"""`destination-vectors history`: the ledger's syncs, pages and mass-deletion decisions as tables for people.

Only what the ledger holds is printed (counts, ids, titles, times), never anything from the config.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def sync_table(rows: Sequence[dict[str, Any]]) -> str:
    """One line per sync, newest first: when, how it ended, and what it counted."""
    lines = [
        f"{'started (UTC)':<20} {'status':<12} {'records':>8} {'chunks':>7} {'embedded':>9} {'reused':>7} "
        f"{'added':>6} {'updated':>8} {'deleted':>8} {'seconds':>8}"
    ]
    for row in rows:
        lines.append(
            f"{row['started_at']:%Y-%m-%d %H:%M:%S}  {row['status']:<12} {row['records']:>8} {row['chunks']:>7} "
            f"{row['embedded']:>9} {row['reused']:>7} {row['pages_added']:>6} {row['pages_updated']:>8} "
            f"{row['pages_deleted']:>8} {row['seconds'] or 0:>8.1f}"
        )
    return "\n".join(lines)


def page_table(rows: Sequence[dict[str, Any]]) -> str:
    """One line per page the ledger has seen: live, or when it was deleted."""
    lines = []
    for row in rows:
        state = f"deleted {row['deleted_at']:%Y-%m-%d %H:%M}" if row["deleted_at"] else "live"
        lines.append(f"{row['stream']:<10} {row['page_id']:<14} v{row['version']:<4} {state:<24} {row['title']}")
    return "\n".join(lines)


def mass_deletions(rows: Sequence[dict[str, Any]]) -> str:
    """The guard's decisions, newest first: which run, refused or allowed (and by what), stream, space, counts."""
    lines = [
        "mass deletions (docs/sync.md):",
        f"{'run':<13} {'decided (UTC)':<20} {'decision':<9} {'allowed by':<23} {'stream':<12} {'space':<12} "
        "deleted/live",
    ]
    for row in rows:
        note = " (space missing from the listing)" if row["vanished"] else ""
        if row["followed_pages"]:
            note += f" ({row['followed_pages']} with their page)"
        lines.append(
            f"{row['run_id']:<13} {row['decided_at']:%Y-%m-%d %H:%M:%S}  {row['decision']:<9} "
            f"{row['allowed_by'] or '':<23} {row['stream']:<12} {row['space_key'] or '(none)':<12} "
            f"{row['deleted_pages']}/{row['live_pages']}{note}"
        )
    return "\n".join(lines)
