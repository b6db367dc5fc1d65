"""The extracted-text cache: keyed by (id, version), survives reopening, forgets what left the listing."""

from __future__ import annotations

from pathlib import Path

from destination_vectors.store.text_cache import TextCache
from destination_vectors.text.extract.guard import Extraction


def test_put_get_reopen_and_keep_only(tmp_path: Path) -> None:
    cache = TextCache(tmp_path / "c.sqlite")
    cache.put("att1", 1, Extraction("ok", "hello", False, ""))
    cache.put("att1", 2, Extraction("ok", "hello again", True, ""))
    cache.put("att2", 1, Extraction("failed: encrypted PDF (needs a password)"))
    cache.close()
    cache = TextCache(tmp_path / "c.sqlite")
    assert cache.get("att1", 2) == Extraction("ok", "hello again", True, ""), "entry changed across reopening"
    assert cache.get("att3", 1) is None, "an unknown attachment had an entry"
    assert cache.keep_only([("att1", 2)]) == 2, "keep_only did not drop the two unlisted entries"
    assert cache.get("att1", 1) is None and cache.get("att2", 1) is None, "dropped entries still answer"
    assert cache.get("att1", 2) is not None, "the listed entry was dropped"
