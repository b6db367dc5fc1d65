"""What one read did, counted across worker threads: progress lines, and the end-of-sync summary hooked onto the
CDK's last log line of a read (no declarative component sees a read end)."""

import logging
import threading
import time
from dataclasses import dataclass, field

from source_confluence.component_parts.common import logger

PROGRESS_EVERY_PAGES = 250


def _n(count: int, singular: str, plural: str = "") -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


@dataclass
class SyncStats:
    """What one read has done so far; components on worker threads count into it under the lock."""

    pages: int = 0
    empty_bodies: int = 0
    capped: int = 0
    spaces_done: int = 0
    requests: int = 0
    retries: int = 0
    restricted: int = 0
    excluded: int = 0
    access_requests: int = 0
    started: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    summarised: bool = False

    def reset(self) -> None:
        with self._lock:
            self.pages = self.empty_bodies = self.capped = self.spaces_done = self.requests = self.retries = 0
            self.restricted = self.excluded = self.access_requests = 0
            self.started, self.summarised = time.monotonic(), False

    def first_summary(self) -> bool:
        """True once per read: the CDK logs a failure twice (the read processor, then the entrypoint)."""
        with self._lock:
            first, self.summarised = not self.summarised, True
        return first

    def count(self, **increments: int) -> None:
        with self._lock:
            for name, step in increments.items():
                setattr(self, name, getattr(self, name) + step)

    def admit_page(self, max_pages: int | None) -> bool:
        """Reserve a slot for one more page; False once `max_pages` pages were admitted."""
        with self._lock:
            if max_pages and self.pages >= max_pages:
                self.capped += 1
                return False
            self.pages += 1
            pages_now = self.pages
        if pages_now % PROGRESS_EVERY_PAGES == 0:
            seconds = max(time.monotonic() - self.started, 1e-9)
            logger.info(
                f"Progress: {_n(pages_now, 'page')} so far ({pages_now / seconds:.1f}/s), {_n(self.spaces_done, 'space')}"
                f" done, {_n(self.requests, 'request')}, {_n(self.retries, 'retry', 'retries')}."
            )
        return True

    def summary_line(self, failed: bool = False) -> str:
        capped = f", {_n(self.capped, 'page')} skipped by max_pages" if self.capped else ""
        return (
            f"{'Sync FAILED after' if failed else 'Sync summary:'} {_n(self.pages, 'page')} read from "
            f"{_n(self.spaces_done, 'space')} in {_n(self.requests, 'request')} with "
            f"{_n(self.retries, 'retry', 'retries')} in {time.monotonic() - self.started:.1f} s; "
            f"{_n(self.empty_bodies, 'page')} had an empty body{capped}{self._access_part()}."
        )

    def _access_part(self) -> str:
        if not (self.access_requests or self.restricted):
            return ""
        excluded = f", {self.excluded} left out by restricted_pages: exclude" if self.excluded else ""
        return (
            f"; {_n(self.restricted, 'page')} restricted (internal){excluded}, access read in "
            f"{_n(self.access_requests, 'request')}"
        )


SYNC_STATS = SyncStats()


class SummaryOnSyncEnd(logging.Handler):
    """Logs the summary when the CDK logs the end of a read. No declarative component sees a read end, but the
    CDK's concurrent source logs "Finished syncing" after the last stream, or the failed streams before it raises
    (airbyte-cdk 7.39.1 wording; unit_tests/source/test_retries.py fails if it changes)."""

    _FAILED = "During the sync, the following streams did not sync successfully"

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == logger.name:
            return
        message = record.getMessage()
        if (message == "Finished syncing" or message.startswith(self._FAILED)) and SYNC_STATS.first_summary():
            failed = message != "Finished syncing"
            (logger.warning if failed else logger.info)(SYNC_STATS.summary_line(failed=failed))

    @classmethod
    def install(cls) -> None:
        """One handler, this module's: an earlier copy of this module (code injected by another source in the same
        process) would log a second summary from counts this read does not update."""
        airbyte_logger = logging.getLogger("airbyte")
        for handler in [h for h in airbyte_logger.handlers if type(h).__name__ == cls.__name__]:
            airbyte_logger.removeHandler(handler)
        airbyte_logger.addHandler(cls(level=logging.INFO))
