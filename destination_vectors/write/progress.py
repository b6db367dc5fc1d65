"""Progress of a long write: Airbyte log lines at a steady pace, and a progress bar when a person is watching.

It only displays the sync's `SyncCounts`; it counts nothing itself. `SyncReport` is the one-line summary a write ends
with.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field

from destination_vectors.store.counts import SyncCounts

logger = logging.getLogger("airbyte")


@dataclass
class Progress:
    counts: SyncCounts = field(default_factory=SyncCounts)
    log_every_seconds: float = 15.0
    bar: bool = field(default_factory=lambda: sys.stderr.isatty())
    _started: float = field(default_factory=time.monotonic)
    _last_log: float = field(default_factory=time.monotonic)
    _shown_records: int = 0
    _tqdm: object | None = None

    def __post_init__(self) -> None:
        if self.bar:
            from tqdm import tqdm

            self._tqdm = tqdm(unit=" records", file=sys.stderr, dynamic_ncols=True, desc="indexing")

    def show(self) -> None:
        """Brings the bar up to date with the counts, and logs a progress line every `log_every_seconds`."""
        c = self.counts
        if self._tqdm is not None:
            self._tqdm.update(c.records - self._shown_records)
            self._tqdm.set_postfix(chunks=c.chunks, embedded=c.embedded, reused=c.reused, refresh=False)
        self._shown_records = c.records
        now = time.monotonic()
        if now - self._last_log >= self.log_every_seconds:
            self._last_log = now
            logger.info(self.line("progress"))

    def line(self, label: str) -> str:
        c = self.counts
        elapsed = max(time.monotonic() - self._started, 1e-9)
        return (
            f"{label}: {c.records} records, {c.chunks} chunks ({c.embedded} embedded, {c.reused} reused), "
            f"{c.bad_records} bad records, {c.records / elapsed:.1f} records/s, {c.chunks / elapsed:.1f} "
            f"chunks/s, {elapsed:.1f} s"
        )

    @property
    def seconds(self) -> float:
        return time.monotonic() - self._started

    def close(self) -> None:
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None


@dataclass
class SyncReport:
    run_id: str
    counts: SyncCounts
    seconds: float
    table_version: int | None
    no_text: dict[str, int] = field(default_factory=dict)  # records not indexed because they hold no text, by stream

    def summary(self) -> str:
        c = self.counts
        empty = ""
        if self.no_text:
            by_stream = ", ".join(f"{stream} {count}" for stream, count in sorted(self.no_text.items()))
            empty = f", {sum(self.no_text.values())} without text not indexed ({by_stream})"
        return (
            f"sync {self.run_id} succeeded: {c.records} records, {c.bad_records} bad{empty}, {c.chunks} chunks "
            f"({c.embedded} embedded, {c.reused} reused); pages {c.pages_added} added, {c.pages_updated} updated, "
            f"{c.pages_deleted} deleted; table version {self.table_version}; {self.seconds:.1f} s"
        )
