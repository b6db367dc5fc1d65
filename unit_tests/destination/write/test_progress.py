"""Progress displays the sync's counts and never counts itself: the ledger stores the same object."""

from __future__ import annotations

from dataclasses import asdict

from destination_vectors.store.counts import SyncCounts
from destination_vectors.write.progress import Progress


def test_progress_shows_the_counts_it_is_given_and_leaves_them_alone():
    counts = SyncCounts(records=7, bad_records=1, chunks=20, embedded=5, reused=15)
    before = asdict(counts)
    progress = Progress(counts, bar=False, log_every_seconds=0)
    progress.show()
    line = progress.line("progress")
    assert line.startswith("progress: 7 records, 20 chunks (5 embedded, 15 reused), 1 bad records"), line
    assert asdict(counts) == before, "showing progress must not change the counts"
    counts.records += 3
    assert progress.line("x").startswith("x: 10 records"), "progress reads the live counts, it keeps no copy"


def test_the_writer_counts_into_the_one_object_progress_shows(config):
    from destination_vectors.embedding.embedder import load_embedder
    from destination_vectors.write.sync import SyncWriter

    writer = SyncWriter(config, [], load_embedder(config.embedding))
    assert writer.progress.counts is writer.counts
