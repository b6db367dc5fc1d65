"""What one sync did, counted in one place: the writer and the embedding step add to it, progress displays it, and
the ledger stores it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SyncCounts:
    records: int = 0  # records of configured streams, bad ones included (a page sent twice counts once)
    bad_records: int = 0  # skipped because they cannot be indexed
    chunks: int = 0  # rows of the new snapshot written by this sync (carried and new)
    embedded: int = 0  # chunks run through the model
    reused: int = 0  # chunks whose vector came from the previous snapshot (carried pages and equal texts)
    pages_added: int = 0  # the rest are filled in by the ledger after the commit
    pages_updated: int = 0
    pages_deleted: int = 0
