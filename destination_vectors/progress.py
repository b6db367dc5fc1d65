"""Progress of a long write: Airbyte log lines at a steady pace, and a progress bar when a person is watching."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field

logger = logging.getLogger("airbyte")


@dataclass
class Progress:
    log_every_seconds: float = 15.0
    bar: bool = field(default_factory=lambda: sys.stderr.isatty())
    records: int = 0
    chunks: int = 0
    embedded: int = 0
    reused: int = 0
    bad_records: int = 0
    _started: float = field(default_factory=time.monotonic)
    _last_log: float = field(default_factory=time.monotonic)
    _tqdm: object | None = None

    def __post_init__(self) -> None:
        if self.bar:
            from tqdm import tqdm

            self._tqdm = tqdm(unit=" records", file=sys.stderr, dynamic_ncols=True, desc="indexing")

    def update(self, records: int = 0, chunks: int = 0, embedded: int = 0, reused: int = 0, bad: int = 0) -> None:
        self.records += records
        self.chunks += chunks
        self.embedded += embedded
        self.reused += reused
        self.bad_records += bad
        if self._tqdm is not None:
            self._tqdm.update(records)
            self._tqdm.set_postfix(chunks=self.chunks, embedded=self.embedded, reused=self.reused, refresh=False)
        now = time.monotonic()
        if now - self._last_log >= self.log_every_seconds:
            self._last_log = now
            logger.info(self.line("progress"))

    def line(self, label: str) -> str:
        elapsed = max(time.monotonic() - self._started, 1e-9)
        return (
            f"{label}: {self.records} records, {self.chunks} chunks ({self.embedded} embedded, {self.reused} reused), "
            f"{self.bad_records} bad records, {self.records / elapsed:.1f} records/s, {self.chunks / elapsed:.1f} "
            f"chunks/s, {elapsed:.1f} s"
        )

    @property
    def seconds(self) -> float:
        return time.monotonic() - self._started

    def close(self) -> None:
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None
