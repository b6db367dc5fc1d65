"""Searching as a person whose groups come from the index: the `memberships` stream stored by a sync, looked up by
`search --as-user` / `--as-email` and `Searcher.search(principal=...)`, refreshed by every full re-pull."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from destination_vectors.cli import main
from destination_vectors.destination import DestinationVectors
from destination_vectors.read.access import Principal
from destination_vectors.read.search import Searcher, SearchError
from testkit.messages import catalog, page, record, state

PAGES = [
    page("1", "Rollback", "<p>rollback steps for engineers</p>", readers=["group:eng"]),
    page("2", "Salary", "<p>rollback of the salary review</p>", restricted=True, readers=["group:hr", "user:cy"]),
    page("3", "Lobby", "<p>rollback of the lobby screen</p>", readers=["anonymous"]),
]
ANN = {"user_id": "ann", "groups": ["eng", "hr"], "email": "Ann@Example.com", "display_name": "Ann"}
BO = {"user_id": "bo", "groups": ["eng"], "email": "bo@example.com", "display_name": "Bo"}


def sync(config, members, pages=PAGES, streams=("pages", "memberships"), final=("pages", "memberships")):
    messages = [record(p) for p in pages] + [record(m, "memberships") for m in members]
    messages += [state(stream) for stream in final]
    list(DestinationVectors().write(config.model_dump(), catalog(streams), iter(messages)))


@pytest.fixture
def path(config, tmp_path: Path) -> Path:
    path = tmp_path / "destination.json"
    path.write_text(config.model_dump_json())
    return path


def found(capsys, path: Path, *options: str) -> set[str]:
    assert main(["search", "--config", str(path), "--json", "-k", "9", *options, "rollback"]) == 0, (
        capsys.readouterr().err
    )
    return {json.loads(line)["page_id"] for line in capsys.readouterr().out.splitlines()}


def test_as_user_alone_reads_what_the_synced_groups_give(config, path, capsys) -> None:
    sync(config, [ANN, BO])
    assert found(capsys, path, "--as-user", "ann") == {"1", "2", "3"}, "ann's groups eng and hr come from the index"
    assert found(capsys, path, "--as-user", "bo") == {"1", "3"}, "bo is in eng only"
    assert found(capsys, path, "--as-user", "stranger") == {"3"}, "an unknown person reads what anyone may"
    assert found(capsys, path, "--as-user", "bo", "--group", "hr") == {"1", "2", "3"}, "--group adds to the index's"


def test_memberships_are_never_indexed_as_chunks(config, path, capsys) -> None:
    sync(config, [ANN, BO])
    assert main(["search", "--config", str(path), "--json", "--visibility", "all", "-k", "20", "ann eng"]) == 0
    streams = {json.loads(line)["stream"] for line in capsys.readouterr().out.splitlines()}
    assert streams <= {"pages"}, f"memberships records became chunks: {streams}"


def test_a_full_re_pull_takes_groups_away_and_reembeds_nothing(config, path, capsys) -> None:
    sync(config, [ANN, BO])
    sync(config, [{**ANN, "groups": ["eng"]}, {**BO, "groups": ["eng", "hr"]}])
    assert found(capsys, path, "--as-user", "ann") == {"1", "3"}, "ann left hr: the salary page must go"
    assert found(capsys, path, "--as-user", "bo") == {"1", "2", "3"}, "bo joined hr"
    changed = [{**p, "readers": ["group:ops"]} if p["id"] == "1" else p for p in PAGES]
    sync(config, [ANN, BO], pages=changed)
    assert found(capsys, path, "--as-user", "ann") == {"2", "3"}, "page 1 is now for ops only"
    assert main(["history", "--config", str(path), "--json", "--limit", "1"]) == 0
    last = json.loads(capsys.readouterr().out.splitlines()[0])
    assert last["embedded"] == 0, f"an access-only change embedded {last['embedded']} chunks"
    assert last["chunks"] > 0 and last["pages_updated"] == 0, last


def test_a_memberships_stream_that_did_not_finish_keeps_the_previous_pass(config, path, capsys) -> None:
    sync(config, [ANN, BO])
    messages = [record(p) for p in PAGES] + [record({**ANN, "groups": []}, "memberships"), state("pages")]
    list(DestinationVectors().write(config.model_dump(), catalog(["pages", "memberships"], "append"), iter(messages)))
    assert found(capsys, path, "--as-user", "ann") == {"1", "2", "3"}, "half a pass must not take groups away"


def test_as_email_finds_the_account_without_case(config, path, capsys, caplog) -> None:
    sync(config, [ANN, BO])
    assert found(capsys, path, "--as-email", "ANN@example.com") == {"1", "2", "3"}
    assert found(capsys, path, "--as-email", "nobody@example.com") == {"3"}, "an unknown address reads what anyone may"
    assert "no one with the e-mail address nobody@example.com" in caplog.text, "the unknown address is not reported"


def test_as_email_on_a_site_that_hides_addresses_says_so(config, path, capsys) -> None:
    sync(config, [{k: v for k, v in m.items() if k != "email"} for m in (ANN, BO)])
    assert main(["search", "--config", str(path), "--as-email", "ann@example.com", "rollback"]) == 2
    error = capsys.readouterr().err
    assert "hides e-mail addresses" in error and "--as-user" in error, error


def test_as_email_without_memberships_says_what_to_sync(config, path, capsys) -> None:
    sync(config, [], streams=("pages",), final=("pages",))
    assert main(["search", "--config", str(path), "--as-email", "ann@example.com", "rollback"]) == 2
    assert "memberships stream was not synced" in capsys.readouterr().err


@pytest.mark.parametrize(
    "options, message",
    [
        (["--as-user", "ann", "--as-email", "a@b.c"], "one of --as-user and --as-email"),
        (["--as-email", "ann"], "needs an e-mail address"),
        (["--as-email", "a@b.c", "--visibility", "all"], "replaces --visibility"),
        (["--group", "eng"], "--group needs --as-user or --as-email"),
    ],
)
def test_person_flags_are_checked(config, path, capsys, options, message) -> None:
    sync(config, [ANN])
    assert main(["search", "--config", str(path), *options, "rollback"]) == 2
    assert message in capsys.readouterr().err


def test_searcher_resolves_a_principal_with_only_an_account_id(config) -> None:
    sync(config, [ANN, BO])
    searcher = Searcher.from_config(config)
    hits = searcher.search("rollback", k=9, mode="fts", principal=Principal(account_id="ann"))
    assert {hit.page_id for hit in hits} == {"1", "2", "3"}
    bo = searcher.principal_for(as_email="bo@EXAMPLE.com", groups=("ops",))
    assert bo == Principal(account_id="bo", groups=("ops",)), "the account and the given groups, nothing stored"
    assert searcher.resolved(bo).groups == ("ops", "eng"), "the stored groups are added at the live version"
    assert searcher.principal_for(as_email="x@example.com").account_id is None
    sync(config, [{**ANN, "groups": []}])
    hits = searcher.search("rollback", k=9, mode="fts", principal=Principal(account_id="ann"))
    assert {hit.page_id for hit in hits} == {"3"}, "a long-running searcher follows the next full re-pull"
    with pytest.raises(SearchError, match="exactly one"):
        searcher.principal_for()


def test_as_user_on_an_index_without_memberships_says_groups_are_not_resolved(config, path, capsys, caplog) -> None:
    sync(config, [], streams=("pages",), final=("pages",))
    assert found(capsys, path, "--as-user", "ann") == {"3"}, "without memberships ann is in no group"
    assert "holds no group memberships" in caplog.text, "the user is not told why groups do not count"
    assert found(capsys, path, "--as-user", "ann", "--group", "eng") == {"1", "3"}, "--group still counts"


def test_the_command_says_whom_it_searches_as(config, path, capsys) -> None:
    sync(config, [ANN, BO])
    assert main(["search", "--config", str(path), "--as-email", "bo@example.com", "rollback"]) == 0
    assert "searching as bo (groups: eng; and what anyone may read)" in capsys.readouterr().err
