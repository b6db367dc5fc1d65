"""The last syncs as an inline SVG drawn on the server: duration on top, pages added/updated/deleted below.

Drawn here so it is in the page without JavaScript, a chart library or a request: one `<svg>` of rectangles and
text, each bar with a `<title>` (the browser's tooltip, read by screen readers). Every value placed in it is a number
or an escaped string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

WIDTH, PANEL, GAP, LEFT, BOTTOM = 720, 110, 34, 54, 24
PAGE_PARTS = (
    ("pages_added", "added", "#2e7d32"),
    ("pages_updated", "updated", "#1565c0"),
    ("pages_deleted", "deleted", "#c62828"),
)
FAILED = {"failed", "interrupted", "refused"}


def _nice_max(value: float) -> float:
    """A round upper bound for an axis (1, 2, 5 x 10^n), at least 1."""
    if value <= 1:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def _label(run: Mapping[str, Any]) -> str:
    started = run.get("started_at")
    return started.strftime("%m-%d %H:%M") if hasattr(started, "strftime") else str(started or "")[:16]


def sync_chart(runs: Sequence[Mapping[str, Any]]) -> Markup:
    """`runs` oldest first. An empty list draws nothing (the page says there are no syncs)."""
    if not runs:
        return Markup("")
    height = 2 * PANEL + GAP + BOTTOM + 30
    slot = (WIDTH - LEFT - 10) / len(runs)
    bar = max(2.0, min(36.0, slot * 0.6))
    seconds_max = _nice_max(max(float(run.get("seconds") or 0) for run in runs))
    pages_max = _nice_max(max(sum(int(run.get(key) or 0) for key, _, _ in PAGE_PARTS) for run in runs))
    top1, top2 = 26, 26 + PANEL + GAP
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        'xmlns="http://www.w3.org/2000/svg" aria-labelledby="chart-title">',
        f'<title id="chart-title">The last {len(runs)} syncs: duration in seconds and pages added, updated and '
        "deleted</title>",
        _axis(top1, seconds_max, "duration (s)"),
        _axis(top2, pages_max, "pages changed"),
    ]
    for index, run in enumerate(runs):
        x = LEFT + index * slot + (slot - bar) / 2
        status = str(run.get("status") or "")
        failed = status in FAILED
        seconds = float(run.get("seconds") or 0)
        h = PANEL * seconds / seconds_max
        tip = escape(f"{_label(run)} {status}: {seconds:.1f} s")
        parts.append(
            f'<rect class="{"bar-failed" if failed else "bar-time"}" x="{x:.1f}" y="{top1 + PANEL - h:.1f}" '
            f'width="{bar:.1f}" height="{max(h, 1):.1f}"><title>{tip}</title></rect>'
        )
        y = top2 + PANEL
        for key, name, colour in PAGE_PARTS:
            count = int(run.get(key) or 0)
            if not count:
                continue
            h = PANEL * count / pages_max
            y -= h
            tip = escape(f"{_label(run)}: {count} pages {name}")
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{tip}</title></rect>"
            )
        if index == 0 or index == len(runs) - 1 or len(runs) <= 8:
            parts.append(
                f'<text class="tick" x="{x + bar / 2:.1f}" y="{top2 + PANEL + 16}" text-anchor="middle">'
                f"{escape(_label(run))}</text>"
            )
    legend_x = WIDTH - 250
    for offset, (_, name, colour) in enumerate(PAGE_PARTS):
        parts.append(
            f'<rect x="{legend_x + offset * 80}" y="{top2 - 14}" width="10" height="10" fill="{colour}"></rect>'
            f'<text class="tick" x="{legend_x + offset * 80 + 14}" y="{top2 - 5}">{name}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _axis(top: int, maximum: float, name: str) -> str:
    value = f"{maximum:g}"
    return (
        f'<text class="axis" x="4" y="{top - 10}">{escape(name)}</text>'
        f'<line class="grid" x1="{LEFT}" y1="{top}" x2="{WIDTH - 10}" y2="{top}"></line>'
        f'<line class="grid" x1="{LEFT}" y1="{top + PANEL}" x2="{WIDTH - 10}" y2="{top + PANEL}"></line>'
        f'<text class="tick" x="{LEFT - 4}" y="{top + 4}" text-anchor="end">{value}</text>'
        f'<text class="tick" x="{LEFT - 4}" y="{top + PANEL + 4}" text-anchor="end">0</text>'
    )
