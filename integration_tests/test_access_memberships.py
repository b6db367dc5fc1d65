"""Search as a person with nothing but their account id or e-mail address: the sample site read by the real source
(`main.py read`, pages and memberships) on Cloud and Data Center, its messages written by the destination (real
LanceDB), then searched with `Principal(account_id=...)` alone and `search --as-email`. The destination resolves the
groups from the memberships it stored; who finds a restricted page is exactly who Confluence lets read it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from destination_vectors.cli import main
from destination_vectors.read.access import Principal
from integration_tests.reliability.helpers import PYTHON, ROOT, sample_site, searcher, source_config
from integration_tests.reliability.helpers import destination_config as make_destination_config
from integration_tests.test_access_end_to_end import PEOPLE, RESTRICTED_PAGES
from testkit.confluence_stand_in import StandIn
from testkit.processes import run_process, write_json
from testkit.records import catalog_dict

STREAMS = ["pages", "memberships"]
ALICE_EMAIL = "alice.martin@example.com"  # integration_tests/sample_site/emails.json (Cloud shows it)


def _sync(server: StandIn, folder: Path, deployment: str) -> dict[str, Any]:
    """The source's pages and memberships, piped into the destination like Airbyte does (records and STATEs)."""
    from airbyte_cdk.models import AirbyteMessageSerializer

    from destination_vectors.destination import DestinationVectors
    from testkit.messages import catalog

    base = server.url if deployment == "cloud" else server.dc_url
    inputs = folder / "inputs"
    config_path = write_json(inputs / "source-config.json", source_config(base, deployment=deployment))
    catalog_path = write_json(inputs / "source-catalog.json", catalog_dict(STREAMS))
    run = run_process(
        [PYTHON, str(ROOT / "main.py"), "read", "--config", str(config_path), "--catalog", str(catalog_path)],
        folder,
        timeout=300,
        name="source-read",
    )
    assert run.returncode == 0, f"source read failed\n{run.tail()}"
    assert run.records("memberships"), "the source sent no memberships"
    messages = [AirbyteMessageSerializer.load(m) for m in run.messages() if m["type"] in ("RECORD", "STATE")]
    config = make_destination_config(folder)
    list(DestinationVectors().write(config, catalog(STREAMS), iter(messages)))
    return config


@pytest.fixture(scope="module", params=["cloud", "data_center"])
def indexed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict]]:
    with StandIn(sample_site()) as server:
        yield request.param, _sync(server, tmp_path_factory.mktemp(request.param), request.param)


def _titles(config: dict[str, Any], phrase: str, principal: Principal) -> set[str]:
    return {hit.title for hit in searcher(config).search(phrase, k=5, mode="fts", principal=principal)}


@pytest.mark.parametrize(("title", "phrase", "readers"), RESTRICTED_PAGES, ids=[p[0] for p in RESTRICTED_PAGES])
def test_an_account_id_alone_finds_a_restricted_page_iff_confluence_lets_them(
    indexed: tuple[str, dict[str, Any]], title: str, phrase: str, readers: set[str]
) -> None:
    deployment, config = indexed
    for name, account in PEOPLE.items():
        found = title in _titles(config, phrase, Principal(account_id=account))
        assert found == (account in readers), f"{deployment}: {name} {'found' if found else 'missed'} {title!r}"
    assert title not in _titles(config, phrase, Principal(account_id="someone-the-index-never-saw"))


def test_public_pages_reach_everyone_through_their_group(indexed: tuple[str, dict[str, Any]]) -> None:
    """Engineering Home is readable by confluence-users (one group token): the account alone must find it."""
    deployment, config = indexed
    for name, account in PEOPLE.items():
        titles = _titles(config, "Engineering Home", Principal(account_id=account))
        assert "Engineering Home" in titles, f"{deployment}: {name} does not find a page the whole company may read"


def test_search_as_email_from_the_command_line(
    indexed: tuple[str, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deployment, config = indexed
    path = write_json(tmp_path / "destination.json", config)
    salary = next(phrase for title, phrase, _ in RESTRICTED_PAGES if title == "Salary Bands")
    code = main(["search", "--config", str(path), "--json", "--mode", "fts", "--as-email", ALICE_EMAIL, salary])
    output = capsys.readouterr()
    if deployment == "data_center":  # the Data Center stand-in shows no addresses: a clear error, not a guess
        assert code == 2 and "hides e-mail addresses" in output.err, output.err
        return
    assert code == 0, output.err
    assert "Salary Bands" in {json.loads(line)["title"] for line in output.out.splitlines()}, "Alice may read it"
