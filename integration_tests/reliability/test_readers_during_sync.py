"""Guarantee 3: searches running while a sync writes see the old snapshot or the new one, wholly, never a mix, never
an empty answer and never an error. Every title carries a generation marker (`[gen-A]`, `[gen-B]`), so each answer
names the snapshot it came from."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from integration_tests.reliability.helpers import (
    Run,
    assert_write_succeeded,
    destination_config,
    destination_write,
    generation_records,
    messages_file,
    searcher,
    site_records,
    title_generation,
    write_in_process,
)
from testkit.confluence_stand_in import synthetic_site

SEED = 3
RECORDS = site_records(synthetic_site(n_pages=300, n_spaces=3, seed=SEED))
QUERIES = ["deployments", "release checklist", "database", "on-call", "gen", "incident review", "python code"]
MODES = ("hybrid", "fts", "vector")
READERS = 2


@dataclass
class Observations:
    answers: list[tuple[int, str, str, str]] = field(
        default_factory=list
    )  # (reader, mode, query, generation), in order
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, reader: int, mode: str, query: str, generation: str | None, problem: str | None) -> None:
        with self.lock:
            if problem:
                self.problems.append(f"reader {reader}, {mode} {query!r}: {problem}")
            else:
                self.answers.append((reader, mode, query, str(generation)))


def _read_until(config: dict, stop: threading.Event, seen: Observations, reader: int) -> None:
    rng = random.Random(SEED * 100 + reader)
    search = searcher(config)
    while not stop.is_set():
        mode, query = rng.choice(MODES), rng.choice(QUERIES)
        try:
            hits = search.search(query, k=10, mode=mode, visibility="all")
        except Exception as error:  # any error a reader sees is a failure of the guarantee
            seen.add(reader, mode, query, None, f"{type(error).__name__}: {str(error)[:300]}")
            continue
        generations = {title_generation(hit.title) for hit in hits}
        if not hits:
            seen.add(reader, mode, query, None, "empty answer")
        elif len(generations) != 1:
            seen.add(reader, mode, query, None, f"hits from several snapshots {sorted(map(str, generations))}")
        else:
            seen.add(reader, mode, query, generations.pop(), None)


def test_searches_during_a_sync_see_one_whole_snapshot(tmp_path: Path) -> None:
    config = destination_config(tmp_path)
    write_in_process(config, generation_records(RECORDS, "A"))
    new_messages = messages_file(generation_records(RECORDS, "B", drop_every=7, add=5), tmp_path / "new.jsonl")

    stop, seen = threading.Event(), Observations()
    readers = [threading.Thread(target=_read_until, args=(config, stop, seen, n), daemon=True) for n in range(READERS)]
    for reader in readers:
        reader.start()
    writer: list[Run] = []
    try:
        time.sleep(0.5)  # readers are running before the write begins
        writer.append(destination_write(config, new_messages, tmp_path))
        time.sleep(0.5)  # and after it ended
    finally:
        stop.set()
        for reader in readers:
            reader.join(timeout=60)
    assert not any(reader.is_alive() for reader in readers), "a reader hung (a search did not return in 60 s)"
    assert_write_succeeded(writer[0], "the sync under concurrent searches")

    assert not seen.problems, f"{len(seen.problems)} bad answers during the sync, e.g. {seen.problems[:5]}"
    by_generation = Counter(generation for _, _, _, generation in seen.answers)
    assert by_generation["A"] > 10 and by_generation["B"] > 0, (
        f"too few answers to judge: {dict(by_generation)}; the readers did not overlap the write"
    )
    assert set(by_generation) == {"A", "B"}, f"answers from unknown snapshots: {dict(by_generation)}"
    for reader in range(READERS):  # a reader's searches run one after another: once it saw B, A must not return
        sequence = "".join(g for r, _, _, g in seen.answers if r == reader)
        assert "BA" not in sequence, f"reader {reader} saw the old snapshot again after the new one: {sequence}"
    print(f"answers during the sync: {dict(by_generation)}")
