"""The index on object storage: `lancedb_uri: s3://...` against a real S3-compatible server on loopback.

moto's server mode (testkit/object_storage.py) checks every request's signature, so a passing sync proves the
configured credentials reached the store. The ledger and the writer's lock stay local. Every write and search is the
`destination-vectors` command a user runs; config files (which hold the secret) live in an `inputs` folder outside
the folders scanned for leaked secrets.
"""

from __future__ import annotations

import base64
import fcntl
import json
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from integration_tests.reliability.helpers import (
    HASH_MODEL,
    Run,
    assert_write_succeeded,
    destination_command,
    destination_write,
    generation_records,
    messages_file,
    parsed_config,
    sample_site,
    site_records,
    title_generation,
    write_json,
)
from testkit.confluence_stand_in import synthetic_site
from testkit.indexes import write_in_process
from testkit.object_storage import S3Server, s3_server

TABLE = "confluence_chunks"
# Questions the sample site answers, each on one public page.
QUESTIONS = {
    "How do I roll back a deploy?": "Rollback",
    "How do I connect to the VPN?": "VPN Setup",
    "How do I claim an expense?": "Expense Policy",
}


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with s3_server(tmp_path_factory.mktemp("moto")) as server:
        yield server


def _config(s3: S3Server, prefix: str, root: Path, **overrides: Any) -> dict[str, Any]:
    """An s3:// index with a local ledger (and so a local lock) under `root/out`."""
    return {
        "lancedb_uri": s3.uri(prefix),
        "ledger_path": str(root / "out" / "ledger" / f"{prefix}.ledger.duckdb"),
        "object_storage": s3.object_storage,
        **overrides,
    }


def _write(config: dict[str, Any], messages: Path, root: Path, **kwargs: Any) -> Run:
    """`destination-vectors write`, run from `root/out` (so stray files land where the secret scan looks)."""
    out = root / "out"
    return destination_write(config, messages, out, cwd=out, inputs=root / "inputs", **kwargs)


def _live(config: dict[str, Any]) -> list[dict[str, Any]]:
    from destination_vectors.store.table import ChunkStore

    table = ChunkStore.from_config(parsed_config(config)).open_live()
    return [] if table is None else table.to_arrow().select(["chunk_id", "page_id", "title", "row_hash"]).to_pylist()


def _fingerprint(config: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((row["chunk_id"], row["row_hash"]) for row in _live(config))


def _history(config: dict[str, Any]) -> list[dict[str, Any]]:
    from destination_vectors.store.ledger import Ledger

    return Ledger(parsed_config(config).resolved_ledger_path).history(100)


# -- a user's story with the real model: cold sync, re-pull, search ---------------------------------------------------
@dataclass(frozen=True)
class Story:
    root: Path
    config: dict[str, Any]
    page_ids: set[str]
    cold: Run
    cold_history: list[dict[str, Any]]
    cold_fingerprint: list[tuple[str, str]]
    repull: Run
    repull_history: list[dict[str, Any]]
    repull_fingerprint: list[tuple[str, str]]
    search: Run


@pytest.fixture(scope="module")
def story(s3: S3Server, tmp_path_factory: pytest.TempPathFactory) -> Story:
    root = tmp_path_factory.mktemp("story")
    config = _config(s3, "story", root)  # the default model: what a user gets
    records = site_records(sample_site())
    messages = messages_file(records, root / "inputs" / "pages.jsonl")
    # The first real-model write on a machine may export the model to ONNX once (a minute or more when loaded).
    cold = _write(config, messages, root, timeout=900)
    assert_write_succeeded(cold, "the cold sync to s3://")
    cold_history, cold_fingerprint = _history(config), _fingerprint(config)
    repull = _write(config, messages, root)
    assert_write_succeeded(repull, "the re-pull to s3://")
    queries = root / "inputs" / "queries.jsonl"
    queries.write_text("".join(json.dumps({"id": q, "query": q}) + "\n" for q in QUESTIONS), encoding="utf-8")
    config_file = write_json(root / "inputs" / "search-config.json", config)
    search = destination_command(
        ["search", "--config", str(config_file), "--queries-file", str(queries), "-k", "3"],
        root / "out",
        cwd=root / "out",
    )
    return Story(
        root,
        config,
        {str(r["id"]) for r in records},
        cold,
        cold_history,
        cold_fingerprint,
        repull,
        _history(config),
        _fingerprint(config),
        search,
    )


@pytest.mark.model
def test_cold_sync_puts_the_whole_index_in_the_bucket(story: Story, s3: S3Server) -> None:
    run = story.cold_history[0]
    assert run["status"] == "succeeded" and run["chunks"] > 0, f"the cold sync's ledger row is wrong: {run}"
    assert run["embedded"] == run["chunks"], f"a cold sync must embed every chunk: {run}"
    rows = _live(story.config)
    assert len(rows) == run["chunks"], f"the bucket's table holds {len(rows)} rows, the ledger says {run['chunks']}"
    assert {r["page_id"] for r in rows} == story.page_ids, "pages missing from (or extra in) the bucket's table"
    keys = s3.keys(f"story/{TABLE}.lance/")
    assert any(k.startswith(f"story/{TABLE}.lance/data/") for k in keys), f"no data files in the bucket: {keys}"
    assert any("/_indices/" in k for k in keys), f"the full-text index was not written to the bucket: {keys}"
    stray = sorted(str(p.relative_to(story.root)) for p in (story.root / "out").rglob("*") if ".lance" in p.name)
    assert not stray, f"LanceDB data landed on local disk instead of the bucket: {stray}"
    assert not (story.root / "out" / "s3:").exists(), "the s3:// URI was taken for a local folder name"


@pytest.mark.model
def test_re_pull_carries_every_unchanged_page_over(story: Story, s3: S3Server) -> None:
    run = story.repull_history[0]
    assert run["status"] == "succeeded", f"the re-pull failed: {run}"
    assert run["embedded"] == 0 and run["reused"] == run["chunks"] > 0, (
        f"an unchanged re-pull must embed nothing and carry every chunk over: {run}"
    )
    assert story.repull_fingerprint == story.cold_fingerprint, "the re-pull changed rows of unchanged pages"
    leftovers = s3.keys(f"story/{TABLE}__staging.lance/")
    assert not leftovers, f"the staging table was not dropped from the bucket: {leftovers[:5]}"


@pytest.mark.model
def test_search_answers_from_the_bucket(story: Story) -> None:
    assert story.search.returncode == 0, f"search failed\n{story.search.tail()}"
    answers = {a["id"]: a for a in map(json.loads, story.search.stdout.splitlines())}
    for question, title in QUESTIONS.items():
        hits = answers.get(question, {}).get("results", [])
        assert title in [h["title"] for h in hits], f"{question!r}: {title!r} not in the top 3: {hits}"
        assert all(h["visibility"] == "public" for h in hits), f"{question!r}: a public search returned {hits}"


@pytest.mark.model
def test_lock_of_a_remote_table_sits_beside_the_ledger(story: Story) -> None:
    lock = parsed_config(story.config).lock_path
    assert lock == Path(story.config["ledger_path"]).parent / f"{TABLE}.lock", f"lock at {lock}"
    assert lock.exists(), f"the sync took no lock at {lock}"


# -- a SIGKILL mid-sync on object storage (the fast test embedder: the store is under test, not the model) ------------
# ~300 chunks: the first batch of 256 is staged in the bucket while records are still arriving.
KILL_RECORDS = site_records(synthetic_site(n_pages=60, n_spaces=3, seed=5))
OLD = generation_records(KILL_RECORDS, "A")
NEW = generation_records(KILL_RECORDS, "B", drop_every=9, add=4)


@dataclass(frozen=True)
class KillBaseline:
    old_prefix: str
    old_fingerprint: list[tuple[str, str]]
    new_fingerprint: list[tuple[str, str]]  # OLD then NEW, no kill
    new_messages: Path


@pytest.fixture(scope="module")
def kill_baseline(s3: S3Server, tmp_path_factory: pytest.TempPathFactory) -> KillBaseline:
    """A first sync (A) in the bucket, and A then B without a kill: written in-process (setup, not under test)."""
    root = tmp_path_factory.mktemp("kill-baseline")
    old = _config(s3, "kill-old", root, embedding={"model": HASH_MODEL})
    write_in_process(old, OLD)
    s3.copy_prefix("kill-old", "kill-reference")
    reference = _config(s3, "kill-reference", root, embedding={"model": HASH_MODEL})
    write_in_process(reference, NEW)
    new_messages = messages_file(NEW, root / "inputs" / "new.jsonl")
    return KillBaseline("kill-old", _fingerprint(old), _fingerprint(reference), new_messages)


def test_sigkill_mid_sync_then_the_next_sync_completes(
    s3: S3Server, kill_baseline: KillBaseline, tmp_path: Path
) -> None:
    """Killed after the first batch was staged in the bucket, while records were still arriving (the local kill tests
    cover every other point; the code after the commit is the same on object storage)."""
    point = "stage"
    prefix = f"kill-{point.replace(':', '-')}"
    s3.copy_prefix(kill_baseline.old_prefix, prefix)
    config = _config(s3, prefix, tmp_path, embedding={"model": HASH_MODEL})
    assert _fingerprint(config) == kill_baseline.old_fingerprint, "copying the first sync in the bucket changed it"

    killed = _write(config, kill_baseline.new_messages, tmp_path, failpoint=point)
    assert killed.killed_by == 9, f"{point}: the write was not SIGKILLed\n{killed.tail()}"
    assert _fingerprint(config) == kill_baseline.old_fingerprint, f"{point}: the kill changed the live snapshot"
    assert s3.keys(f"{prefix}/{TABLE}__staging.lance/data/"), f"{point}: nothing was staged before the kill"

    recovered = _write(config, kill_baseline.new_messages, tmp_path)
    assert_write_succeeded(recovered, f"the sync after a kill at {point}")
    assert _fingerprint(config) == kill_baseline.new_fingerprint, (
        f"{point}: after the next sync the bucket's rows differ from those of the same syncs without a kill"
    )
    generations = {title_generation(row["title"]) for row in _live(config)}
    assert generations == {"B"}, f"{point}: rows of generations {generations} are live"
    statuses = [run["status"] for run in _history(config)]
    assert statuses[:2] == ["succeeded", "interrupted"], f"{point}: ledger statuses {statuses}"
    assert not s3.keys(f"{prefix}/{TABLE}__staging.lance/"), f"{point}: the staging table was left in the bucket"


def test_a_second_writer_on_this_machine_is_refused_at_once(s3: S3Server, tmp_path: Path) -> None:
    from airbyte_cdk.utils.traced_exception import AirbyteTracedException

    from destination_vectors.destination import DestinationVectors
    from testkit.messages import catalog, record, state

    config = _config(s3, "locked", tmp_path, embedding={"model": HASH_MODEL})
    lock = parsed_config(config).lock_path
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another writer holds the table
        messages = [record(dict(r), "pages") for r in OLD[:3]] + [state("pages")]
        with pytest.raises(AirbyteTracedException, match="another sync is writing"):
            list(DestinationVectors().write(config, catalog(["pages"], "overwrite"), messages))
    assert not s3.keys("locked/"), "the refused writer wrote to the bucket"


def test_memberships_live_in_the_bucket_and_search_as_user_resolves_them(s3: S3Server, tmp_path: Path) -> None:
    """The memberships table sits beside the chunk table in the bucket: a searcher on another machine (no ledger)
    resolves a person's groups from it, and the next full re-pull takes a group away."""
    from destination_vectors.destination import DestinationVectors
    from testkit.messages import catalog, page, record, state

    config = _config(s3, "members", tmp_path, embedding={"model": HASH_MODEL})
    pages = [page("1", "Budget", "<p>budget for the eng offsite</p>", readers=["group:eng"])]

    def sync(groups: list[str]) -> None:
        messages = [record(pages[0]), record({"user_id": "ann", "groups": groups}, "memberships")]
        messages += [state("pages"), state("memberships")]
        list(DestinationVectors().write(config, catalog(["pages", "memberships"]), iter(messages)))

    def search_as_ann() -> set[str]:
        elsewhere = {**config, "ledger_path": str(tmp_path / "no-ledger-here.duckdb")}  # another machine
        config_file = write_json(tmp_path / "inputs" / "search-config.json", elsewhere)
        run = destination_command(
            ["search", "--config", str(config_file), "--json", "--as-user", "ann", "budget"], tmp_path / "out"
        )
        assert run.returncode == 0, run.tail()
        return {json.loads(line)["page_id"] for line in run.stdout.splitlines() if line.startswith("{")}

    sync(["eng"])
    assert any(key.startswith("members/confluence_chunks__memberships.lance/") for key in s3.keys("members/")), (
        "no memberships table in the bucket"
    )
    assert search_as_ann() == {"1"}, "ann's group eng was not resolved from the bucket"
    sync([])
    assert search_as_ann() == set(), "ann left eng: the re-pull must take the page away"


# -- secrets ------------------------------------------------------------------------------------------------------
WRONG_SECRET = "wrong-SECRET-4c2e/9f+Qz"


def _forms(secret: str) -> dict[str, bytes]:
    return {
        secret[:6] + "...": secret.encode(),
        "url-encoded": urllib.parse.quote(secret, safe="").encode(),
        "base64": base64.b64encode(secret.encode()).rstrip(b"="),
    }


def test_the_secret_key_appears_in_no_output(story: Story, s3: S3Server, tmp_path: Path) -> None:
    """The secret (and a wrong one) never reach stdout, stderr, the ledger or any local file, in good runs and bad."""
    store_only = {**story.config, "embedding": {"model": HASH_MODEL}}  # check and write refusals test the store
    good = write_json(tmp_path / "inputs" / "good.json", store_only)
    wrong = {**store_only, "object_storage": {**s3.object_storage, "secret_access_key": WRONG_SECRET}}
    misspelled = {**story.config, "object_storage": {**s3.object_storage, "secret_key": WRONG_SECRET}}
    out = tmp_path / "out"

    def run(*args: str) -> Run:
        return destination_command(list(args), out, cwd=out)

    checked = run("check", "--config", str(good))
    assert (checked.connection_status() or {}).get("status") == "SUCCEEDED", f"check failed\n{checked.tail()}"
    refused = run("check", "--config", str(write_json(tmp_path / "inputs" / "wrong.json", wrong)))
    status = refused.connection_status() or {}
    assert status.get("status") == "FAILED", f"check passed with a wrong secret\n{refused.tail()}"
    assert "SignatureDoesNotMatch" in status["message"] and "object_storage" in status["message"], (
        f"the refusal does not say what to fix: {status['message']}"
    )
    refused_write = _write(
        {**wrong, "lancedb_uri": s3.uri("refused")},
        story.root / "inputs" / "pages.jsonl",
        tmp_path,
    )
    traces = refused_write.error_traces()
    assert refused_write.returncode != 0 and traces, f"a write with a wrong secret did not fail\n{refused_write.tail()}"
    assert "SignatureDoesNotMatch" in traces[0]["message"] and traces[0]["failure_type"] == "config_error", (
        f"a write with a wrong secret does not fail as a config error saying why: {traces[0]}"
    )
    assert not s3.keys("refused/"), "a write with a wrong secret left objects in the bucket"
    typo = run("search", "--config", str(write_json(tmp_path / "inputs" / "typo.json", misspelled)), "deploy")
    assert typo.returncode == 2 and "object_storage.secret_key" in typo.stderr, f"misspelled field\n{typo.tail()}"
    history = run("history", "--config", str(good), "--json")
    assert history.returncode == 0 and history.stdout.count("succeeded") >= 2, f"history\n{history.tail()}"

    forbidden = {f"{name} of {which}": form for which, secret in (("the secret", s3.secret_access_key),
                 ("the wrong secret", WRONG_SECRET)) for name, form in _forms(secret).items()}  # fmt: skip
    runs = [story.cold, story.repull, story.search, checked, refused, refused_write, typo, history]
    outputs = {f"{' '.join(r.args[3:4])} #{i}": (r.stdout + r.stderr).encode() for i, r in enumerate(runs)}
    files = {str(p): p.read_bytes() for root in (story.root / "out", out) for p in root.rglob("*") if p.is_file()}
    assert any(name.endswith(".duckdb") for name in files), "the scan missed the ledger"
    leaks = {
        where: found
        for where, data in {**outputs, **files}.items()
        if (found := [name for name, form in forbidden.items() if form in data])
    }
    assert not leaks, f"secrets leaked: {leaks}"
