"""Counters for one sync, shared by the manifest's custom components, and the log lines made from them.

The declarative framework has no hook that sees requests, retries and records together, so the components that do
see them (extractor, backoff, record shaper) count into this one thread-safe object, and the source logs from it:
a progress line every `PROGRESS_EVERY_PAGES` pages and a summary when `read` ends.
"""

from __future__ import annotations

import logging
import threading
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
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reset(self) -> None:
        """Start counting afresh (one process may run several syncs, e.g. in tests)."""
        with self._lock:
            self.pages = self.pages_with_empty_body = self.pages_dropped_by_max_pages = 0
            self.spaces_done = self.requests = self.retries = 0

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
        return (
            f"Progress: {self.pages} pages so far, {self.spaces_done} spaces done, "
            f"{self.requests} requests, {self.retries} retries."
        )

    def summary_line(self) -> str:
        capped = (
            f", {self.pages_dropped_by_max_pages} pages skipped by max_pages" if self.pages_dropped_by_max_pages else ""
        )
        return (
            f"Sync summary: {self.pages} pages read from {self.spaces_done} spaces in {self.requests} requests "
            f"with {self.retries} retries; {self.pages_with_empty_body} pages had an empty body{capped}."
        )


SYNC_STATS = SyncStats()
