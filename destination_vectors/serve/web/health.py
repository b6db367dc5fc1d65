"""The ledger's runs for the health view and the failed-sync banner, read again only when the ledger file changed.

Every page shows the banner, so the ledger is read once per change of its file (size and time), not once per request.
While a sync holds the ledger for writing, DuckDB refuses readers: the last runs read stay shown, with a note.
Error texts of failed runs can name pages; they are shown only to a server that may read everything
(`--visibility all`): the others see that a run failed, and when, not its message. The mass-deletion guard's
decisions (refused, allowed) come with each run; the view names only the spaces its access shows.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from destination_vectors.store.ledger import Ledger

RUNS = 30  # rows of the health table; the chart shows the last CHART_RUNS of them
CHART_RUNS = 20
FAILED = ("failed", "interrupted", "refused")  # refused: the mass-deletion guard stopped the commit


@dataclass(frozen=True)
class Runs:
    rows: list[dict[str, Any]]  # newest first
    note: str = ""  # why the rows may be stale or missing

    @property
    def last_failed(self) -> dict[str, Any] | None:
        """The newest finished run when it failed (a running one does not hide the outcome of the one before)."""
        finished = [row for row in self.rows if row["status"] != "running"]
        return finished[0] if finished and finished[0]["status"] in FAILED else None


class LedgerView:
    def __init__(self, path: Path, show_errors: bool) -> None:
        self._ledger = Ledger(path)
        self._show_errors = show_errors
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._runs = Runs([])

    @property
    def path(self) -> Path:
        return self._ledger.path

    def runs(self) -> Runs:
        try:
            stat = self._ledger.path.stat()
        except FileNotFoundError:
            return Runs([], f"no sync has been recorded yet ({self._ledger.path.name} does not exist)")
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if stamp != self._stamp:
                try:
                    rows = self._ledger.history(RUNS)
                    deletions = _mass_deletions(self._ledger, {row["run_id"] for row in rows})
                except Exception as error:  # duckdb.IOException while a sync writes, or a damaged file
                    note = "the ledger cannot be read right now (a sync may be writing it)"
                    if "lock" not in str(error).lower():
                        note = f"the ledger cannot be read: {type(error).__name__}"
                    return Runs(self._runs.rows, note)
                self._runs = Runs(
                    [{**self._shown(row), "mass_deletions": deletions.get(row["run_id"], [])} for row in rows]
                )
                self._stamp = stamp
            return self._runs

    def _shown(self, row: dict[str, Any]) -> dict[str, Any]:
        row = dict(row)
        started, ended = row.get("started_at"), row.get("ended_at")
        if row.get("seconds") is None and isinstance(started, datetime) and isinstance(ended, datetime):
            row["seconds"] = (ended - started).total_seconds()
        if not self._show_errors and row.get("error"):
            row["error"] = "(the message is shown to a server started with --visibility all)"
        return row


def _mass_deletions(ledger: Ledger, run_ids: set[str]) -> dict[str, list[dict[str, Any]]]:
    """The guard's decisions of these runs, by run (none for a ledger from before the guard)."""
    reader = getattr(ledger, "mass_deletions", None)
    if reader is None or not run_ids:
        return {}
    by_run: dict[str, list[dict[str, Any]]] = {}
    for row in reader(limit=1000):
        if row["run_id"] in run_ids:
            by_run.setdefault(row["run_id"], []).append(row)
    return by_run
