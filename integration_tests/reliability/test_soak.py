"""Guarantee 8 (soak): 20 consecutive full re-pulls of the sample site, with small edits between them, keep the index
exact and its disk use bounded: after every sync the live pages are the site's pages (no duplicate chunk), the
ledger ends with 20 succeeded runs, and the index folder stays within 2x of its size after the first sync.

The source runs in-process (the CDK's entrypoint wrapper) over real HTTP against the stand-in, and the destination
in-process with the hash embedder: the point is many syncs, not process start-up."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read

from integration_tests.reliability.helpers import (
    destination_config,
    ledger_history,
    live_rows,
    parsed_config,
    sample_site,
    source_config,
    write_in_process,
)
from source_confluence.source import SourceConfluence
from testkit.confluence_stand_in import Site, StandIn

SYNCS = 20
SEED = 8
MAX_GROWTH = 2.0


def _full_pull(server: StandIn) -> list[dict[str, Any]]:
    config = source_config(server.url, internal_space_keys=["HR"])
    catalog = CatalogBuilder().with_stream("pages", SyncMode.full_refresh).build()
    output = read(SourceConfluence(config=config), config, catalog)
    assert not output.errors, f"the source failed: {output.errors[:1]}"
    return [message.record.data for message in output.records if message.record.stream == "pages"]


def _small_edit(site: Site, sync: int, rng: random.Random) -> Site:
    """One page edited every time; every 4th sync one page deleted and a new one added."""
    page = rng.choice(site.pages)
    site = site.with_page_edited(page.id, body=page.body + f"<p>Soak edit {sync}: {rng.random():.6f}</p>")
    if sync % 4 == 0:
        leaves = [p for p in site.pages if not site.children(p) and not p.space_key.startswith("~")]
        site = site.without_page(rng.choice(leaves).id)
        template = rng.choice(site.pages)
        site = site.with_page_added(
            replace(
                template,
                id=site.next_page_id(),
                title=f"Soak page {sync}",
                parent_id=None,
                version=1,
                body=f"<p>Added in sync {sync}.</p>",
            )
        )
    return site


def _disk_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


@pytest.mark.slow
def test_twenty_full_repulls_stay_exact_and_bounded_on_disk(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    config = destination_config(tmp_path)
    folder = Path(config["lancedb_uri"])
    site = sample_site()
    sizes: list[int] = []
    with StandIn(site) as server:
        for sync in range(1, SYNCS + 1):
            if sync > 1:
                site = server.site = _small_edit(site, sync, rng)
            records = _full_pull(server)
            assert sorted(r["id"] for r in records) == sorted(p.id for p in site.pages), (
                f"sync {sync}: the source did not deliver every page once"
            )
            write_in_process(config, records)
            rows = live_rows(config, ("chunk_id", "page_id"))
            chunk_ids = [row["chunk_id"] for row in rows]
            assert len(chunk_ids) == len(set(chunk_ids)), f"sync {sync}: duplicate chunks in the live table"
            assert {row["page_id"] for row in rows} == {p.id for p in site.pages}, (
                f"sync {sync}: live pages differ from the site's by "
                f"{sorted({row['page_id'] for row in rows} ^ {p.id for p in site.pages})}"
            )
            latest = ledger_history(config)[0]
            assert latest["status"] == "succeeded" and latest["records"] == len(site.pages), (
                f"sync {sync}: ledger says {latest['status']} with {latest['records']} records"
            )
            sizes.append(_disk_bytes(folder))
            assert sizes[-1] <= MAX_GROWTH * sizes[0], (
                f"sync {sync}: the index folder grew to {sizes[-1]:,} bytes, over {MAX_GROWTH}x the first "
                f"sync's {sizes[0]:,} (sizes so far {sizes})"
            )

    history = ledger_history(config, limit=100)
    assert [row["status"] for row in history] == ["succeeded"] * SYNCS, (
        f"the ledger holds {[row['status'] for row in history]}, expected {SYNCS} succeeded runs"
    )
    from destination_vectors.store.ledger import Ledger

    live_pages = Ledger(parsed_config(config).resolved_ledger_path).pages(include_deleted=False)
    assert {row["page_id"] for row in live_pages} == {p.id for p in site.pages}, "ledger pages differ from the site"
    print(f"index folder sizes (bytes) over {SYNCS} syncs: first {sizes[0]:,}, max {max(sizes):,}, last {sizes[-1]:,}")
