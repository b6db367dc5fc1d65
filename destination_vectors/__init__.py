"""Airbyte destination into a local LanceDB vector index; see README.md."""

import os as _os

# Quiet by default: Lance's Rust logger warns on stderr about routine events (a new staging table, score columns).
_os.environ.setdefault("LANCEDB_LOG", "error")
