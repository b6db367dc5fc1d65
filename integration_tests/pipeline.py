"""Moved to `testkit/pipeline.py` (test support lives in testkit); this name is kept for tests written against it."""

from testkit.pipeline import PAGES_CATALOG, ROOT, cli, source_config, sync, write_json

__all__ = ["PAGES_CATALOG", "ROOT", "cli", "source_config", "sync", "write_json"]
