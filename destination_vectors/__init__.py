"""Airbyte destination into a local LanceDB vector index; see README.md and docs/searching.md.

The public Python surface is importable from here (`from destination_vectors import Searcher, Principal`); every
other module is internal and may move. Names are loaded on first use, so `import destination_vectors` (what
`spec` and `check` pay for) stays cheap: no LanceDB, no model, no numpy.
"""

from __future__ import annotations

import importlib as _importlib
import os as _os
from typing import TYPE_CHECKING

# Quiet by default: Lance's Rust logger warns on stderr about routine events (a new staging table, score columns).
_os.environ.setdefault("LANCEDB_LOG", "error")

# name -> the module it lives in (declared once; __all__ and __getattr__ read it)
_PUBLIC = {
    "DestinationConfig": "destination_vectors.config",
    "Searcher": "destination_vectors.read.search",
    "SearchError": "destination_vectors.read.search",
    "Hit": "destination_vectors.read.search",
    "Mode": "destination_vectors.read.search",
    "Visibility": "destination_vectors.read.search",
    "PageHit": "destination_vectors.read.grouping",
    "Snippet": "destination_vectors.read.grouping",
    "Origin": "destination_vectors.read.grouping",
    "GroupBy": "destination_vectors.read.grouping",
    "Principal": "destination_vectors.read.access",
}
__all__ = sorted(_PUBLIC)

if TYPE_CHECKING:  # for type checkers and editors; the same names as _PUBLIC (a unit test compares them)
    from destination_vectors.config import DestinationConfig as DestinationConfig
    from destination_vectors.read.access import Principal as Principal
    from destination_vectors.read.grouping import GroupBy as GroupBy
    from destination_vectors.read.grouping import Origin as Origin
    from destination_vectors.read.grouping import PageHit as PageHit
    from destination_vectors.read.grouping import Snippet as Snippet
    from destination_vectors.read.search import Hit as Hit
    from destination_vectors.read.search import Mode as Mode
    from destination_vectors.read.search import Searcher as Searcher
    from destination_vectors.read.search import SearchError as SearchError
    from destination_vectors.read.search import Visibility as Visibility


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'destination_vectors' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
