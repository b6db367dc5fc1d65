"""The ledger as the health view and the banner read it: re-read on change, failed runs, hidden error texts."""

from __future__ import annotations

from pathlib import Path

import duckdb

from destination_vectors.serve.web.health import LedgerView
from destination_vectors.store.counts import SyncCounts
from destination_vectors.store.ledger import Ledger


def _run(ledger: Ledger, run_id: str, status: str, error: str | None = None) -> None:
    ledger.start_sync(run_id, ["pages"], "m")
    if status != "running":
        ledger.finish_sync(run_id, status, SyncCounts(records=3), 2.0, error=error)


def test_no_ledger_yet_is_a_note(tmp_path: Path) -> None:
    runs = LedgerView(tmp_path / "x.ledger.duckdb", show_errors=False).runs()
    assert runs.rows == [] and "no sync has been recorded yet" in runs.note and runs.last_failed is None


def test_a_failed_last_run_is_reported_even_while_the_next_one_runs(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "t.ledger.duckdb")
    view = LedgerView(ledger.path, show_errors=False)
    _run(ledger, "r1", "succeeded")
    assert view.runs().last_failed is None
    _run(ledger, "r2", "failed", error="page Secret Title could not be read")
    failed = view.runs().last_failed
    assert failed is not None and failed["run_id"] == "r2", "the failed run was not read after the ledger changed"
    assert "Secret Title" not in failed["error"], "an error text reached a server that may not read everything"
    _run(ledger, "r3", "running")
    assert view.runs().last_failed["run_id"] == "r2", "a running sync hid the failure before it"
    assert LedgerView(ledger.path, show_errors=True).runs().last_failed["error"].startswith("page Secret Title")


def test_a_ledger_held_by_a_writer_keeps_the_last_rows_with_a_note(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "t.ledger.duckdb")
    _run(ledger, "r1", "succeeded")
    view = LedgerView(ledger.path, show_errors=False)
    assert len(view.runs().rows) == 1
    writer = duckdb.connect(str(ledger.path))  # a sync holding the file (another configuration in this process)
    try:
        writer.execute("INSERT INTO syncs (run_id, started_at, status) VALUES ('r2', now(), 'running')")
        writer.execute("CHECKPOINT")
        runs = view.runs()
        assert [row["run_id"] for row in runs.rows] == ["r1"] and "cannot be read" in runs.note, runs
    finally:
        writer.close()
