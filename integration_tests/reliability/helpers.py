"""Shared pieces of the reliability suite: source and destination runs (bounded subprocesses with peak RSS, from
`testkit.processes`), generation-marked records, and readers of the live snapshot and the ledger."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testkit.confluence_stand_in import Site, StandIn, load_site
from testkit.indexes import write_in_process
from testkit.processes import Run, run_process, write_json
from testkit.processes import unique_file as _unique
from testkit.records import catalog_dict, catalog_file, site_records, write_messages

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
SAMPLE_SITE = ROOT / "integration_tests" / "sample_site"
CFXMARK = ROOT.parent / "shared" / "fixtures" / "storage-format" / "cfxmark"
HASH_MODEL = "test-hash-embedder"
STREAM = "pages"
# Retries fast enough for tests; the CDK adds its own second per backoff, which components.py subtracts.
FAST_RETRIES: dict[str, Any] = {"min_retry_seconds": 0.01, "max_retry_seconds": 0.05, "max_retries": 6}
DEMO_CREDENTIALS = {"auth_type": "basic", "username": "demo@example.com", "api_token": "demo-api-token"}

# Destination subprocesses import torch and lancedb (5-10 s on a loaded 2-core machine); source ones the CDK.
WRITE_TIMEOUT = 180.0
SOURCE_TIMEOUT = 120.0


# -- the source -----------------------------------------------------------------------------------------------------
def source_config(
    base_url: str, *, credentials: Mapping[str, Any] | None = None, deployment: str = "cloud", **overrides: Any
) -> dict[str, Any]:
    return {
        "base_url": base_url,
        "deployment": deployment,
        "credentials": dict(credentials or DEMO_CREDENTIALS),
        **FAST_RETRIES,
        **overrides,
    }


def source_command(
    command: str,
    workdir: Path,
    config: Mapping[str, Any] | None = None,
    *,
    timeout: float = SOURCE_TIMEOUT,
    inputs: Path | None = None,
    extra: Sequence[str] = (),
    cwd: Path = ROOT,
) -> Run:
    """`python main.py <command>`; config and catalog files go to `inputs` (default workdir/inputs)."""
    inputs = inputs or workdir / "inputs"
    args = [PYTHON, str(ROOT / "main.py"), command]
    if config is not None:
        args += ["--config", str(write_json(_unique(inputs, "source-config", ".json"), config))]
    if command == "read":
        args += ["--catalog", str(write_json(inputs / "source-catalog.json", catalog_dict()))]
    return run_process([*args, *extra], workdir, timeout=timeout, cwd=cwd, name=f"source-{command}")


@dataclass(frozen=True)
class PageCount:
    """What a source sync delivered compared with the site: pages lost, duplicated and unexpected."""

    expected: int
    got: int
    lost: list[str]
    duplicated: list[str]
    unexpected: list[str]

    @classmethod
    def of(cls, records: Sequence[Mapping[str, Any]], site: Site) -> PageCount:
        ids = [str(r["id"]) for r in records]
        want = {p.id for p in site.all_pages()}
        seen: set[str] = set()
        duplicated = sorted({i for i in ids if i in seen or seen.add(i)})  # type: ignore[func-returns-value]
        return cls(len(want), len(ids), sorted(want - set(ids)), duplicated, sorted(set(ids) - want))

    def __str__(self) -> str:
        return (
            f"{self.got} records for {self.expected} pages: lost {len(self.lost)} {self.lost[:5]}, "
            f"duplicated {len(self.duplicated)} {self.duplicated[:5]}, unexpected {self.unexpected[:5]}"
        )


# -- the destination ------------------------------------------------------------------------------------------------
def destination_config(root: Path, **overrides: Any) -> dict[str, Any]:
    return {"lancedb_uri": str(root / "lancedb"), "embedding": {"model": HASH_MODEL}, **overrides}


def destination_command(
    args: Sequence[str],
    workdir: Path,
    *,
    timeout: float = WRITE_TIMEOUT,
    stdin_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
    fresh: bool = False,
) -> Run:
    """`python -m destination_vectors <args>`; `fresh` starts a new interpreter (see testkit.processes.run_process)."""
    return run_process(
        [PYTHON, "-m", "destination_vectors", *args],
        workdir,
        timeout=timeout,
        stdin_path=stdin_path,
        env=env,
        cwd=cwd,
        name=f"destination-{args[0]}",
        fresh=fresh,
    )


def destination_write(
    config: Mapping[str, Any],
    messages: Path,
    workdir: Path,
    *,
    failpoint: str | None = None,
    timeout: float = WRITE_TIMEOUT,
    mode: str = "overwrite",
    cwd: Path = ROOT,
    inputs: Path | None = None,
    fresh: bool = False,
) -> Run:
    """`python -m destination_vectors write` fed `messages`; `failpoint` arms DESTINATION_VECTORS_FAILPOINT; `fresh`
    for runs whose peak RSS is asserted (a forked run's RSS counts the imports it shares with the pre-started
    interpreter)."""
    inputs = inputs or workdir / "inputs"
    config_path = write_json(_unique(inputs, "destination-config", ".json"), config)
    catalog = catalog_file(_unique(inputs, "destination-catalog", ".json"), STREAM, mode)
    env = {"DESTINATION_VECTORS_FAILPOINT": failpoint} if failpoint else {"DESTINATION_VECTORS_FAILPOINT": ""}
    return destination_command(
        ["write", "--config", str(config_path), "--catalog", str(catalog)],
        workdir,
        timeout=timeout,
        stdin_path=messages,
        env=env,
        cwd=cwd,
        fresh=fresh,
    )


def messages_file(records: Iterable[Mapping[str, Any]], path: Path, *, final_state: bool = True) -> Path:
    """A `write` input: one RECORD per record and (by default) the final STATE that lets the commit happen."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if final_state:
        return write_messages([dict(r) for r in records], path, STREAM)
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps({"type": "RECORD", "record": {"stream": STREAM, "data": record, "emitted_at": 0}}))
            out.write("\n")
    return path


def assert_write_succeeded(run: Run, what: str) -> None:
    assert run.returncode == 0 and not run.error_traces(), f"{what}: the write failed\n{run.tail()}"
    assert run.states(), f"{what}: the write emitted no STATE after committing\n{run.tail()}"


def parsed_config(config: Mapping[str, Any]):
    from destination_vectors.config import DestinationConfig

    return DestinationConfig.model_validate(dict(config))


def live_rows(
    config: Mapping[str, Any], columns: Sequence[str] = ("chunk_id", "page_id", "title", "row_hash", "visibility")
) -> list[dict[str, Any]]:
    """Rows of the live snapshot (empty when there is no table yet)."""
    from destination_vectors.store.table import ChunkStore

    parsed = parsed_config(config)
    table = ChunkStore.from_config(parsed).open_live()
    if table is None:
        return []
    return table.to_arrow().select(list(columns)).to_pylist()


def snapshot_fingerprint(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(chunk_id, row_hash) of every live row, sorted: equal fingerprints = the same snapshot content."""
    return sorted((r["chunk_id"], r["row_hash"]) for r in live_rows(config, ("chunk_id", "row_hash")))


def ledger_history(config: Mapping[str, Any], limit: int = 1000) -> list[dict[str, Any]]:
    from destination_vectors.store.ledger import Ledger

    return Ledger(parsed_config(config).resolved_ledger_path).history(limit)


def searcher(config: Mapping[str, Any]):
    from destination_vectors.read.search import Searcher

    return Searcher.from_config(parsed_config(config))


# -- records with a generation marker -------------------------------------------------------------------------------
def sample_site() -> Site:
    return load_site(SAMPLE_SITE)


def generation_records(
    records: Sequence[Mapping[str, Any]], generation: str, *, drop_every: int = 0, add: int = 0
) -> list[dict[str, Any]]:
    """A copy of `records` in which every title and body carries `gen-<generation>`, so a search hit tells which
    snapshot it came from; `drop_every` deletes every n-th page, `add` appends new pages."""
    marker = f"gen-{generation}"
    out: list[dict[str, Any]] = []
    for index, record in enumerate(records):
        if drop_every and index % drop_every == drop_every - 1:
            continue
        out.append(
            {
                **record,
                "title": f"{record['title']} [{marker}]",
                "version": int(record["version"]) + 1,
                "body_storage": f"<p>Generation {marker}.</p>" + str(record["body_storage"]),
            }
        )
    template = records[0]
    for number in range(add):
        page_id = str(900_000 + number)
        out.append(
            {
                **template,
                "id": page_id,
                "title": f"Added page {number} [{marker}]",
                "version": 1,
                "body_storage": f"<p>Generation {marker}. Added page {number} about deployments.</p>",
                "webui_url": f"{template['webui_url']}-added-{number}",
            }
        )
    return out


def title_generation(title: str) -> str | None:
    match = re.search(r"\[gen-([A-Za-z0-9]+)\]$", title)
    return match.group(1) if match else None


__all__ = [
    "CFXMARK",
    "FAST_RETRIES",
    "HASH_MODEL",
    "PYTHON",
    "ROOT",
    "Run",
    "SAMPLE_SITE",
    "STREAM",
    "PageCount",
    "StandIn",
    "assert_write_succeeded",
    "destination_command",
    "destination_config",
    "destination_write",
    "generation_records",
    "ledger_history",
    "live_rows",
    "messages_file",
    "parsed_config",
    "run_process",
    "sample_site",
    "searcher",
    "site_records",
    "snapshot_fingerprint",
    "source_command",
    "source_config",
    "title_generation",
    "write_in_process",
    "write_json",
]
