"""Access control end to end: the stand-in's sample site read by the real source (`main.py read`), indexed by the
destination (real LanceDB and DuckDB, the fast hash model), searched as each person. Who finds a restricted page is
exactly who Confluence lets read it; a restriction added or lifted between two syncs, with the text unchanged,
changes who finds the page; `restricted_pages: exclude` leaves restricted pages out; a 403 on the permission
endpoints makes pages internal with a warning naming the cause, never public."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from destination_vectors.read.access import Principal
from integration_tests.reliability.helpers import (
    destination_config as make_destination_config,
)
from integration_tests.reliability.helpers import (
    ledger_history,
    sample_site,
    searcher,
    source_command,
    source_config,
    write_in_process,
)
from testkit.confluence_stand_in import Faults, Grant, StandIn

ALICE, BOB, CHEN, DANA, EMEKA = (f"5d8a1b2c3e4f5a6b7c8d9e0{n}" for n in range(1, 6))
PEOPLE = {"Alice": ALICE, "Bob": BOB, "Chen": CHEN, "Dana": DANA, "Emeka": EMEKA}
# (page title, a phrase only that page holds, who may read it: integration_tests/sample_site/README.md)
RESTRICTED_PAGES = [
    ("Salary Bands", "quince ledger cobalt review round", {ALICE, DANA}),
    ("Incident Post-mortems", "heron protocol saffron outage review", {BOB, CHEN, EMEKA}),
    ("Payment Outage 2024-03", "walnut checklist tangerine gateway", {BOB, CHEN, EMEKA}),
    ("Security Incident 2024-07", "pelican rotation indigo deploy keys", {CHEN}),
    ("Admin Account Procedures", "mango vault procedure violet break-glass", {EMEKA}),
]
ROLLBACK_ID = "101004"
GROUPS = {  # integration_tests/sample_site/access.json: the groups a front end knows each person by
    ALICE: ("confluence-users",),
    BOB: ("confluence-users", "eng-leads"),
    CHEN: ("confluence-users", "eng-leads"),
    DANA: ("confluence-users", "hr-team"),
    EMEKA: ("confluence-users", "it-admins"),
}


def _person(account: str) -> Principal:
    """A person with their groups: `readers` keep a group that may read as a whole as one `group:` token."""
    return Principal(account_id=account, groups=GROUPS.get(account, ()))


def _read(server: StandIn, folder: Path, deployment: str = "cloud", **config: Any) -> list[dict[str, Any]]:
    base = server.url if deployment == "cloud" else server.dc_url
    run = source_command("read", folder, source_config(base, deployment=deployment, **config))
    assert run.returncode == 0, f"source read failed\n{run.tail()}"
    return run.records()


def _finds(config: dict[str, Any], principal: Principal, phrase: str, title: str) -> bool:
    hits = searcher(config).search(phrase, k=5, mode="fts", visibility="all", principal=principal)
    return any(hit.title == title for hit in hits)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[StandIn, dict[str, Any], Path]]:
    folder = tmp_path_factory.mktemp("access")
    with StandIn(sample_site()) as server:
        records = _read(server, folder)
        config = make_destination_config(folder)
        write_in_process(config, records)
        yield server, config, folder


def test_records_carry_restricted_readers_and_internal_visibility(
    indexed: tuple[StandIn, dict[str, Any], Path],
) -> None:
    server, _, folder = indexed
    by_title = {r["title"]: r for r in _read(server, folder / "again")}
    for title, _, readers in RESTRICTED_PAGES:
        record = by_title[title]
        assert record["restricted"] is True and record["visibility"] == "internal", f"{title}: {record}"
        users = {token.removeprefix("user:") for token in record["readers"] if token.startswith("user:")}
        assert users == readers, f"{title}: readers {record['readers']}"
    home = by_title["Engineering Home"]
    assert home["restricted"] is False and home["visibility"] == "public", f"Engineering Home: {home}"
    assert home["readers"] == ["group:confluence-users"], f"the whole company costs one token: {home['readers']}"


@pytest.mark.parametrize(("title", "phrase", "readers"), RESTRICTED_PAGES, ids=[p[0] for p in RESTRICTED_PAGES])
def test_each_person_finds_a_restricted_page_iff_confluence_lets_them_read_it(
    indexed: tuple[StandIn, dict[str, Any], Path], title: str, phrase: str, readers: set[str]
) -> None:
    _, config, _ = indexed
    for name, account in PEOPLE.items():
        found = _finds(config, _person(account), phrase, title)
        assert found == (account in readers), f"{name} {'found' if found else 'did not find'} {title!r}"
    assert not _finds(config, Principal(account_id="someone-the-index-never-saw"), phrase, title)
    public = searcher(config).search(phrase, k=5, mode="fts", visibility="public")
    assert all(hit.title != title for hit in public), f"{title} answered a public search"


def test_search_as_a_person_fills_k_from_readable_chunks(indexed: tuple[StandIn, dict[str, Any], Path]) -> None:
    _, config, _ = indexed
    alice = _person(ALICE)  # most incident pages are closed to her: a filter after ranking would drop them
    hits = searcher(config).search("incident outage post-mortem security", k=8, mode="vector", principal=alice)
    assert len(hits) == 8, f"asked for 8 readable hits, got {len(hits)}: the filter must run before ranking"
    closed = {title for title, _, readers in RESTRICTED_PAGES if ALICE not in readers}
    assert not {hit.title for hit in hits} & closed, f"Alice got pages closed to her: {[h.title for h in hits]}"


def test_a_restriction_change_with_unchanged_text_changes_who_finds_the_page(
    indexed: tuple[StandIn, dict[str, Any], Path], tmp_path: Path
) -> None:
    server, _, _ = indexed
    config = make_destination_config(tmp_path)
    site = sample_site()
    phrase, title = "git revert deploy rollback", "Rollback"
    with StandIn(site) as fresh:
        write_in_process(config, _read(fresh, tmp_path / "one"))
        assert _finds(config, _person(BOB), phrase, title), "Bob finds Rollback before the change"
        secret = "pelican rotation indigo deploy keys"
        assert not _finds(config, _person(BOB), secret, "Security Incident 2024-07")
        access = site.access.with_restriction(ROLLBACK_ID, Grant(users=(CHEN,)))
        access = access.with_restriction("101011", None)  # lifted: the parent's restriction still applies
        fresh.site = site.with_access(access)
        write_in_process(config, _read(fresh, tmp_path / "two"))
    assert not _finds(config, _person(BOB), phrase, title), "a new restriction must hide Rollback"
    assert _finds(config, _person(CHEN), phrase, title), "Chen is named by the new restriction"
    assert _finds(config, _person(BOB), secret, "Security Incident 2024-07"), "lifted for eng-leads"
    assert not _finds(config, _person(ALICE), secret, "Security Incident 2024-07")
    runs = ledger_history(config)
    assert len(runs) >= 2 and runs[0]["status"] == "succeeded", f"ledger: {runs[:2]}"
    assert runs[0]["embedded"] == 0 and runs[0]["reused"] > 0, f"an access-only change embedded chunks: {runs[0]}"


def test_exclude_leaves_restricted_pages_out(tmp_path: Path) -> None:
    with StandIn(sample_site()) as server:
        records = _read(server, tmp_path, restricted_pages="exclude")
    titles = {r["title"] for r in records}
    assert not titles & {title for title, _, _ in RESTRICTED_PAGES}, f"excluded pages were read: {titles}"
    assert "Engineering Home" in titles and all(r["restricted"] is False for r in records)


@pytest.mark.parametrize("deployment", ["cloud", "data_center"])
def test_a_403_on_permissions_makes_pages_internal_and_warns_never_public(tmp_path: Path, deployment: str) -> None:
    faults = Faults(forbidden=frozenset({"space_permissions"}))
    with StandIn(sample_site(), faults=faults) as server:
        base = server.url if deployment == "cloud" else server.dc_url
        run = source_command("read", tmp_path, source_config(base, deployment=deployment))
        check = source_command("check", tmp_path, source_config(base, deployment=deployment))
    assert run.returncode == 0, f"a 403 on permissions must not fail the sync\n{run.tail()}"
    records = run.records()
    assert records and all(r["visibility"] == "internal" and r["restricted"] for r in records), (
        f"{deployment}: pages of spaces whose permissions could not be read must be internal"
    )
    warnings = [line for line in run.logs() if "HTTP 403" in line and "permissions" in line]
    assert warnings, f"{deployment}: no warning names the 403\n{run.tail()}"
    status = check.connection_status() or {}
    assert status.get("status") == "SUCCEEDED", f"check must still succeed: {status}"
    said = [line for line in check.logs() if "HTTP 403" in line and "never public" in line]
    assert len(said) == 1, f"{deployment}: check must say once what cannot be read and what is assumed\n{check.tail()}"
