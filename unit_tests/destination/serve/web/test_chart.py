"""The sync chart: an inline SVG with one duration bar per run, stacked page bars, failed runs marked."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from destination_vectors.serve.web.chart import sync_chart

SVG = "{http://www.w3.org/2000/svg}"


def _run(hour: int, status: str = "succeeded", seconds: float = 10.0, **pages: int) -> dict:
    return {"started_at": datetime(2026, 12, 1, hour, tzinfo=UTC), "status": status, "seconds": seconds, **pages}


def test_one_bar_per_run_and_failed_runs_marked() -> None:
    runs = [_run(1, pages_added=40), _run(2, "failed", 3.0), _run(3, seconds=2.5, pages_updated=2, pages_deleted=1)]
    svg = ET.fromstring(str(sync_chart(runs)))
    rects = svg.findall(f"{SVG}rect")
    time_bars = [r for r in rects if r.get("class") in ("bar-time", "bar-failed")]
    assert [r.get("class") for r in time_bars] == ["bar-time", "bar-failed", "bar-time"], time_bars
    heights = [float(r.get("height")) for r in time_bars]
    assert heights[0] > heights[2] > 0, f"duration bars not proportional: {heights}"
    tips = [t.text for t in svg.iter(f"{SVG}title")]
    assert any("40 pages added" in t for t in tips) and any("1 pages deleted" in t for t in tips), tips


def test_no_runs_draw_nothing_and_text_is_escaped() -> None:
    assert str(sync_chart([])) == ""
    svg = str(sync_chart([{"started_at": "<b>", "status": "<i>", "seconds": None}]))
    assert "<b>" not in svg and "<i>" not in svg and "&lt;b&gt;" in svg, svg
    ET.fromstring(svg)  # well-formed
