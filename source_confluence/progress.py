"""Counters for one sync, shared by the manifest's custom components, and the log lines made from them.

The declarative framework has no hook that sees requests, retries and records together, so the components that do
see them (extractor, backoff, record shaper) count into this one thread-safe object, and the source logs from it:
a progress line every `PROGRESS_EVERY_PAGES` pages and a summary when `read` ends.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

PROGRESS_EVERY_PAGES = 250
logger = logging.getLogger("airbyte.source_confluence")


@dataclass
class SyncStats:
    """What one sync has done so far. All mutation goes through the lock: partitions are read on worker threads."""

    pages: int = 0
    pages_with_empty_body: int = 0
    pages_dropped_by_max_pages: int = 0
    spaces_done: int = 0
    requests: int = 0
    retries: int = 0
    started: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reset(self) -> None:
        """Start counting afresh (one process may run several syncs, e.g. in tests)."""
        with self._lock:
            self.pages = self.pages_with_empty_body = self.pages_dropped_by_max_pages = 0
            self.spaces_done = self.requests = self.retries = 0
            self.started = time.monotonic()

    def count_response(self, is_last_page_of_a_space: bool) -> None:
        with self._lock:
            self.requests += 1
            if is_last_page_of_a_space:
                self.spaces_done += 1

    def count_retry(self) -> None:
        with self._lock:
            self.retries += 1

    def admit_page(self, max_pages: int | None) -> bool:
        """Reserve a slot for one more page; False once `max_pages` pages were admitted."""
        with self._lock:
            if max_pages is not None and max_pages > 0 and self.pages >= max_pages:
                self.pages_dropped_by_max_pages += 1
                return False
            self.pages += 1
            pages_now = self.pages
        if pages_now % PROGRESS_EVERY_PAGES == 0:
            logger.info(self.progress_line())
        return True

    def count_empty_body(self) -> None:
        with self._lock:
            self.pages_with_empty_body += 1

    def progress_line(self) -> str:
        seconds = max(time.monotonic() - self.started, 1e-9)
        return (
            f"Progress: {_n(self.pages, 'page')} so far ({self.pages / seconds:.1f}/s), "
            f"{_n(self.spaces_done, 'space')} done, {_n(self.requests, 'request')}, {_n(self.retries, 'retry', 'retries')}."
        )

    def summary_line(self, failed: bool = False) -> str:
        capped = (
            f", {_n(self.pages_dropped_by_max_pages, 'page')} skipped by max_pages"
            if self.pages_dropped_by_max_pages
            else ""
        )
        outcome = "Sync FAILED after" if failed else "Sync summary:"
        return (
            f"{outcome} {_n(self.pages, 'page')} read from {_n(self.spaces_done, 'space')} in "
            f"{_n(self.requests, 'request')} with {_n(self.retries, 'retry', 'retries')} in "
            f"{time.monotonic() - self.started:.1f} s; {_n(self.pages_with_empty_body, 'page')} had an empty body{capped}."
        )


def _n(count: int, singular: str, plural: str = "") -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


SYNC_STATS = SyncStats()
