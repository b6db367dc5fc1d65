"""The cross-page step of a sync: a page that includes another (`include`, `excerpt-include`) gets that page's text
when the included page is part of the same sync.

How: every page of the sync is remembered by (space key, title) in a temporary SQLite file (bodies can be large and a
sync must not hold them all in memory); a page that includes others is set aside and converted after the last
record, when every page it may include has been seen. The included text is converted without following its own
includes (one level: no cycles, no blow-up). The texts a page included become part of its page hash, so an edit to an
included page re-indexes the pages that include it on the next sync that carries both.
"""

from __future__ import annotations

import hashlib
import sqlite3
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from destination_vectors.text.documents import IncludeTarget, PageContext, storage_to_text

_CACHE = 64  # converted texts kept per sync (a page included by many pages is converted once)


class IncludeIndex:
    """(space key, title) -> storage body of every page seen in this sync; `text(target)` converts on demand."""

    def __init__(self, directory: Path | None = None) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="includes-", dir=directory)
        self._db = sqlite3.connect(Path(self._dir.name) / "pages.sqlite", check_same_thread=False)
        self._db.execute("create table page (space_key text, title text, body text, primary key (space_key, title))")
        self._text: Callable[[IncludeTarget], str | None] = lru_cache(maxsize=_CACHE)(self._convert)

    def add(self, space_key: str, title: str, body: str) -> None:
        """Remember a page (the latest record wins when a title repeats)."""
        self._db.execute("insert or replace into page values (?, ?, ?)", (space_key, title, body))

    def text(self, target: IncludeTarget) -> str | None:
        """The included page's text, or None when the page is not in this sync."""
        return self._text(target)

    def _convert(self, target: IncludeTarget) -> str | None:
        row = self._db.execute(
            "select body from page where space_key = ? and title = ?", (target.space_key, target.title)
        ).fetchone()
        if row is None:
            return None
        return storage_to_text(row[0], PageContext(space_key=target.space_key)) or None

    def context(self, space_key: str, user_names: dict[str, str] | None = None) -> PageContext:
        """The context a page of `space_key` is converted with: its includes resolved against this sync."""
        return PageContext(space_key=space_key, user_names=user_names or {}, included_text=self.text)

    def included_hash(self, targets: set[IncludeTarget]) -> str:
        """What a page's includes resolved to, as one digest for its page hash ('' without includes)."""
        if not targets:
            return ""
        digest = hashlib.sha256()
        for target in sorted(targets):
            text = self.text(target)
            digest.update(f"{target.space_key}\x00{target.title}\x00{text is not None}\x00{text or ''}\x00".encode())
        return digest.hexdigest()

    def close(self) -> None:
        self._db.close()
        self._dir.cleanup()

    def __enter__(self) -> IncludeIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
