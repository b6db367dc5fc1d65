from pathlib import Path

from destination_vectors.store.ledger import Ledger, SeenPages, SyncCounts


def _sync(ledger: Ledger, run: str, pages: list[tuple[str, int, str]], replaced=("pages",)) -> SyncCounts:
    ledger.start_sync(run, ["pages"], "model")
    seen = SeenPages()
    for page_id, version, digest in pages:
        seen.add("pages", page_id, version, digest, f"title {page_id}")
    counts = SyncCounts()
    ledger.succeeded(run, seen, list(replaced), counts, 1.5, table_version=7)
    return counts


def test_added_updated_deleted_and_resurrected(tmp_path: Path):
    ledger = Ledger(tmp_path / "l.duckdb")
    first = _sync(ledger, "r1", [("1", 1, "a"), ("2", 1, "b")])
    assert (first.pages_added, first.pages_updated, first.pages_deleted) == (2, 0, 0)
    second = _sync(ledger, "r2", [("1", 2, "a2"), ("3", 1, "c")])
    assert (second.pages_added, second.pages_updated, second.pages_deleted) == (1, 1, 1)
    pages = {p["page_id"]: p for p in ledger.pages()}
    assert pages["2"]["deleted_at"] is not None, "a vanished page is marked deleted, not forgotten"
    third = _sync(ledger, "r3", [("1", 2, "a2"), ("2", 1, "b"), ("3", 1, "c")])
    assert (third.pages_added, third.pages_updated, third.pages_deleted) == (1, 0, 0), "page 2 came back"
    assert {p["page_id"]: p for p in ledger.pages()}["2"]["deleted_at"] is None


def test_history_newest_first_and_killed_runs_marked_interrupted(tmp_path: Path):
    ledger = Ledger(tmp_path / "l.duckdb")
    _sync(ledger, "r1", [("1", 1, "a")])
    ledger.start_sync("killed", ["pages"], "model")  # never finished: the process died
    _sync(ledger, "r3", [("1", 1, "a")])
    runs = ledger.history()
    assert [r["run_id"] for r in runs] == ["r3", "killed", "r1"]
    assert runs[1]["status"] == "interrupted"
    assert runs[0]["table_version"] == 7 and runs[0]["seconds"] == 1.5


def test_append_streams_never_mark_deletions(tmp_path: Path):
    ledger = Ledger(tmp_path / "l.duckdb")
    _sync(ledger, "r1", [("1", 1, "a")], replaced=())
    counts = _sync(ledger, "r2", [("2", 1, "b")], replaced=())
    assert counts.pages_deleted == 0


def test_history_of_a_missing_ledger_is_empty(tmp_path: Path):
    assert Ledger(tmp_path / "none.duckdb").history() == []


def test_mass_deletions_of_a_ledger_from_before_the_guard_are_none(tmp_path: Path):
    import duckdb

    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as db:  # a ledger written before the mass_deletions table existed
        db.execute("CREATE TABLE syncs (run_id VARCHAR PRIMARY KEY, started_at TIMESTAMPTZ, status VARCHAR)")
    assert Ledger(path).mass_deletions() == [], "reading an older ledger must not fail"
    assert Ledger(tmp_path / "missing.duckdb").mass_deletions() == []


def test_an_allowance_is_spent_by_the_sync_that_committed_with_it(tmp_path: Path):
    from destination_vectors.store.ledger import MassDeletion

    ledger = Ledger(tmp_path / "l.duckdb")
    eng = MassDeletion(stream="pages", space_key="ENG", live_pages=40, deleted_pages=30)
    ledger.start_sync("refused1", ["pages"], "model")
    ledger.refused("refused1", [eng.decided("refused", None)], SyncCounts(), 1.0, "refused")
    fresh = ledger.allowance("refused1")
    assert [(d.stream, d.space_key, d.deleted_pages) for d in fresh.refused] == [("pages", "ENG", 30)]
    assert fresh.spent_by is None and fresh.succeeded_since is None
    ledger.start_sync("allowed1", ["pages"], "model")
    ledger.succeeded("allowed1", SeenPages(), [], SyncCounts(), 1.0, 3, [eng.decided("allowed", "allow_once refused1")])
    spent = ledger.allowance("refused1")
    assert spent.spent_by == "allowed1" and spent.succeeded_since == "allowed1"
    assert ledger.allowance("unknown").refused == []
