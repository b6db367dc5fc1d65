"""Guarantee 7: untrusted config values are refused with a clear message or neutralised, never obeyed.

Destination: a `table_name`, path or field name with `..`, slashes or SQL quotes is refused (check FAILED naming the
field, write fails with a config error) or, where it is only ever data, neutralised (a folder with quotes in its name
works; a space filter with SQL in it matches nothing). Source: `custom_headers` cannot replace `Authorization`: the
stand-in accepts only the credentials a forged header would carry, so a silent replacement would make check pass.
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

import pytest

from integration_tests.reliability.helpers import (
    destination_command,
    destination_config,
    destination_write,
    messages_file,
    sample_site,
    searcher,
    site_records,
    source_command,
    source_config,
    write_in_process,
    write_json,
)
from testkit.confluence_stand_in import Auth, StandIn

HOSTILE_NAMES = [
    "../evil",
    "a/b",
    "/abs",
    "x'; DROP TABLE t; --",
    'quote"d',
    "..",
    "",
    "tab\tle",
    "名前",
    "a" * 65,
    "chunks\x00x",
]
BAD_FIELDS: list[tuple[str, dict[str, Any]]] = [
    *[("table_name", {"table_name": name}) for name in HOSTILE_NAMES],
    ("lancedb_uri", {"lancedb_uri": "{tmp}/../escaped"}),
    ("lancedb_uri", {"lancedb_uri": "{tmp}/a/../../escaped"}),
    ("ledger_path", {"ledger_path": "{tmp}/../ledger.duckdb"}),
    ("text_field", {"text_field": "body' OR '1'='1"}),
    ("title_field", {"title_field": "title; DROP TABLE pages"}),
    ("metadata_fields", {"metadata_fields": ["space_key", "x') OR 1=1 --"]}),
]
FORGED = Auth(username="forged-user", api_token="forged-token", bearer_token="forged-bearer")
FORGED_BASIC = "Basic " + base64.b64encode(b"forged-user:forged-token").decode()


def _with_tmp(values: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    return {k: v.replace("{tmp}", str(tmp_path)) if isinstance(v, str) else v for k, v in values.items()}


@pytest.mark.parametrize("field,values", BAD_FIELDS, ids=[f"{f}={list(v.values())[0]!r}"[:40] for f, v in BAD_FIELDS])
def test_destination_check_refuses_a_hostile_value_naming_the_field(
    field: str, values: dict[str, Any], tmp_path: Path
) -> None:
    from destination_vectors.destination import DestinationVectors

    config = {**destination_config(tmp_path / "inside"), **_with_tmp(values, tmp_path / "inside")}
    status = DestinationVectors().check(logging.getLogger("test"), config)
    assert status.status.name == "FAILED", f"check accepted {field}={values[field]!r}"
    assert field in (status.message or ""), f"check's message does not name {field}: {status.message!r}"
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "ledger.duckdb").exists(), (
        "check created a file outside its folder"
    )


def test_destination_write_and_check_subprocesses_refuse_a_traversing_table_name(tmp_path: Path) -> None:
    config = {**destination_config(tmp_path / "index"), "table_name": "../../escaped"}
    run = destination_write(config, messages_file(site_records(sample_site())[:3], tmp_path / "m.jsonl"), tmp_path)
    traces = run.error_traces()
    assert run.returncode != 0 and traces, f"write accepted table_name '../../escaped'\n{run.tail()}"
    assert traces[0]["failure_type"] == "config_error" and "table_name" in traces[0]["message"], (
        f"write did not fail with a config error naming table_name: {traces[0]}"
    )
    assert not run.states(), "write released a STATE with a refused config"
    assert not list(tmp_path.rglob("*.lance")) and not (tmp_path.parent / "escaped").exists(), (
        "write created table files despite refusing the config"
    )

    check = destination_command(["check", "--config", str(write_json(tmp_path / "c.json", config))], tmp_path)
    status = check.connection_status()
    assert status and status["status"] == "FAILED" and "table_name" in status["message"], (
        f"check subprocess did not report FAILED naming table_name: {status}\n{check.tail()}"
    )


def test_history_cli_refuses_a_hostile_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from destination_vectors.cli import main

    path = write_json(tmp_path / "c.json", {**destination_config(tmp_path), "ledger_path": f"{tmp_path}/../x.duckdb"})
    assert main(["history", "--config", str(path)]) == 2, "history accepted a ledger_path with '..'"
    assert "ledger_path" in capsys.readouterr().err, "history's error does not name ledger_path"


def test_quotes_in_a_folder_name_and_in_search_filters_are_only_data(tmp_path: Path) -> None:
    folder = tmp_path / 'it\'s a "quoted" folder; DROP TABLE x'
    config = destination_config(folder)
    write_in_process(config, site_records(sample_site()))
    search = searcher(config)
    hits = search.search("deploy", k=20, mode="fts", visibility="all", spaces=["ENG' OR '1'='1"])
    assert hits == [], f"a space filter with SQL in it matched {len(hits)} chunks: the value reached the SQL raw"
    hits = search.search("deploy", k=20, mode="fts", visibility="all", spaces=["ENG"])
    assert hits and {h.space_key for h in hits} == {"ENG"}, "the plain space filter stopped working"
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written and all(folder in p.parents for p in written), "files were written outside the quoted folder"


@pytest.mark.parametrize(
    "header", ["Authorization", " authorization ", "AUTHORIZATION", "Proxy-Authorization", "Cookie"]
)
def test_source_refuses_custom_headers_that_replace_credentials(header: str) -> None:
    from airbyte_cdk.utils.traced_exception import AirbyteTracedException

    from source_confluence.source import SourceConfluence

    config = source_config("http://127.0.0.1:9", custom_headers={header: FORGED_BASIC})
    source = SourceConfluence(config=config)  # the refusal waits for a command, so check can report it as FAILED
    with pytest.raises(AirbyteTracedException) as refused:
        source.discover(logging.getLogger("airbyte.test"), config)
    assert refused.value.failure_type.name == "config_error", f"{header!r}: not a config error"
    assert "custom_headers" in refused.value.message, f"{header!r}: message does not name custom_headers"


def test_source_check_and_read_do_not_let_a_custom_header_replace_authorization(tmp_path: Path) -> None:
    with StandIn(sample_site(), auth=FORGED) as server:  # only the forged credentials open this stand-in
        forged_header = source_config(server.url, custom_headers={"Authorization": FORGED_BASIC})
        check = source_command("check", tmp_path, forged_header)
        read = source_command("read", tmp_path, forged_header)
        injected = source_config(
            server.url, max_retries=0, custom_headers={"X-Tenant": f"docs\r\nAuthorization: {FORGED_BASIC}"}
        )
        crlf = source_command("check", tmp_path, injected)
        served = server.stats.snapshot().get("status_401_sent", 0), server.stats.api_requests
    status = check.connection_status()
    assert status and status["status"] == "FAILED", f"check passed with a forged Authorization header: {status}"
    assert "custom_headers" in status["message"] and "Authorization" in status["message"], (
        f"check's message does not say custom_headers may not set Authorization: {status['message']!r}"
    )
    traces = read.error_traces()
    assert read.returncode != 0 and traces and traces[0]["failure_type"] == "config_error", (
        f"read with a forged Authorization header did not fail with a config error\n{read.tail()}"
    )
    assert not read.records(), "read emitted records with a forged Authorization header"
    crlf_status = crlf.connection_status()
    assert crlf_status and crlf_status["status"] == "FAILED", (
        f"a header value with CRLF smuggled an Authorization header past the check: {crlf_status}"
    )
    assert served[1] == served[0], f"a request with the forged credentials was answered: {served}"
