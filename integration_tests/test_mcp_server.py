"""`destination-vectors mcp` as a subprocess, driven by the MCP SDK's own client over stdio and streamable HTTP.

The index is the sample site, written for real (LanceDB + DuckDB files) with the fast test embedder.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from integration_tests.reliability.helpers import ROOT, sample_site

ALICE_PHRASE = "lighthouse budget for the marmalade migration"  # only on a page of the personal space ~alice


@pytest.fixture(scope="module")
def index(sample_hash_index: dict[str, Any]) -> dict[str, Any]:
    """The session's sample-site index (conftest.py); the server only reads it."""
    site = sample_site()
    path = Path(sample_hash_index["config_path"])
    alice = next(page for page in site.pages if page.space_key.startswith("~") and ALICE_PHRASE in page.body)
    rollback = next(page for page in site.pages if page.title == "Rollback")
    return {"config": path, "alice_page": str(alice.id), "rollback_page": str(rollback.id)}


def _env() -> dict[str, str]:
    return {"PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}


@asynccontextmanager
async def stdio_session(config: Path, *options: str) -> AsyncIterator[Client]:
    command = [sys.executable, "-m", "destination_vectors", "mcp", "--config", str(config), *options]
    params = StdioServerParameters(command=command[0], args=command[1:], env=_env(), cwd=str(ROOT))
    async with Client(params, read_timeout_seconds=120) as client:
        yield client


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
    """(is_error, structured result or error text)."""
    result = await client.call_tool(tool, arguments)
    if result.is_error:
        return True, " ".join(getattr(block, "text", "") for block in result.content)
    return False, result.structured_content


def test_stdio_lists_the_tools_and_answers_each(index: dict[str, Any]) -> None:
    async def scenario() -> None:
        async with stdio_session(index["config"]) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            assert set(tools) == {"search_confluence", "get_page", "list_spaces"}, f"tools listed: {sorted(tools)}"
            search_args = set(tools["search_confluence"].input_schema["properties"])
            assert {"query", "k", "spaces", "labels", "streams"} <= search_args, f"search arguments: {search_args}"
            assert not {"visibility", "as_user"} & search_args, "a tool publishes an access argument"

            failed, found = await call(client, "search_confluence", {"query": "How do I roll back a deploy?", "k": 3})
            assert not failed, f"search failed: {found}"
            results = found["results"]
            assert results and results[0]["page_id"] == index["rollback_page"], f"top page: {results[:1]}"
            for hit in results:
                assert hit["title"] and hit["breadcrumb"] and hit["text"], f"a hit lacks title/breadcrumb/text: {hit}"
                assert hit["webui_url"].startswith("http"), f"a hit has no link: {hit}"
            pages = [hit["page_id"] for hit in results]
            assert len(pages) == len(set(pages)), f"page-grouped answers repeat a page: {pages}"

            failed, chunks = await call(
                client, "search_confluence", {"query": "roll back", "k": 4, "group_by": "chunk", "spaces": ["ENG"]}
            )
            assert not failed and chunks["results"], f"chunk search failed or empty: {chunks}"
            assert {hit["space_key"] for hit in chunks["results"]} == {"ENG"}, "spaces did not narrow the search"

            failed, page = await call(client, "get_page", {"page_id": index["rollback_page"]})
            assert not failed, f"get_page failed: {page}"
            assert page["title"] == "Rollback" and page["webui_url"].startswith("http"), f"page: {page['title']}"
            assert "kubectl -n checkout rollout undo" in page["text"], "get_page lost the page's code block"
            assert len(page["sections"]) >= 2, f"get_page returned {len(page['sections'])} section(s)"

            failed, spaces = await call(client, "list_spaces", {})
            assert not failed, f"list_spaces failed: {spaces}"
            keys = {space["space_key"]: space for space in spaces["spaces"]}
            assert set(keys) == {"ENG", "OPS", "HR"}, f"spaces listed by a public server: {sorted(keys)}"
            assert all(space["pages"] > 0 and space["chunks"] >= space["pages"] for space in keys.values()), keys

            # Many calls at once on one connection: all answered, each one whole.
            answers: list[tuple[bool, Any]] = []

            async def ask(question: str) -> None:
                answers.append(await call(client, "search_confluence", {"query": question, "k": 2}))

            questions = ["VPN", "vacation days", "expense claim", "on call", "database failover", "laptop"] * 2
            async with anyio.create_task_group() as group:
                for question in questions:
                    group.start_soon(ask, question)
            problems = [answer for failed, answer in answers if failed or not answer["results"]]
            assert len(answers) == len(questions) and not problems, f"concurrent calls failed: {problems[:2]}"

    anyio.run(scenario)


def test_access_is_fixed_at_start_and_tool_arguments_cannot_widen_it(index: dict[str, Any]) -> None:
    query = {"query": ALICE_PHRASE, "k": 10}

    async def public_server() -> None:
        async with stdio_session(index["config"]) as client:
            failed, found = await call(client, "search_confluence", query)
            assert not failed, found
            assert all(hit["visibility"] == "public" for hit in found["results"]), "a public server showed internal"
            for smuggled in ({"visibility": "all"}, {"as_user": "alice"}, {"visibility": "internal", "as_user": "*"}):
                failed, answer = await call(client, "search_confluence", {**query, **smuggled})
                assert failed, f"{smuggled} was accepted: {answer}"
                assert "fixed when it starts" in answer and next(iter(smuggled)) in answer, f"unclear: {answer}"
                failed, answer = await call(client, "get_page", {"page_id": index["alice_page"], **smuggled})
                assert failed and "fixed when it starts" in answer, f"get_page took {smuggled}: {answer}"
            failed, answer = await call(client, "get_page", {"page_id": index["alice_page"]})
            assert failed and "no page with id" in answer, f"a public server opened a personal page: {answer}"
            failed, spaces = await call(client, "list_spaces", {"visibility": "all"})
            assert failed, f"list_spaces took a visibility: {spaces}"

    async def unrestricted_server() -> None:  # proves the queries above can reach the personal page at all
        async with stdio_session(index["config"], "--visibility", "all") as client:
            failed, found = await call(client, "search_confluence", query)
            assert not failed and found["results"][0]["page_id"] == index["alice_page"], found
            failed, page = await call(client, "get_page", {"page_id": index["alice_page"]})
            assert not failed and ALICE_PHRASE in page["text"], page

    anyio.run(public_server)
    anyio.run(unrestricted_server)


def test_bad_calls_get_clear_tool_errors_and_the_server_keeps_answering(index: dict[str, Any]) -> None:
    async def scenario() -> None:
        async with stdio_session(index["config"]) as client:
            cases = [
                ("get_page", {"page_id": "no-such-page"}, "no page with id 'no-such-page'"),
                ("get_page", {"page_id": "  "}, "page_id is empty"),
                ("search_confluence", {"query": ""}, "the query is empty"),
                ("search_confluence", {"query": "   \n"}, "the query is empty"),
                ("search_confluence", {"query": "vpn", "k": 0}, "k must be between 1 and 50"),
                ("search_confluence", {}, "query"),
            ]
            for tool, arguments, expected in cases:
                failed, answer = await call(client, tool, arguments)
                assert failed and expected in answer, f"{tool}({arguments}) answered {answer!r}, wanted {expected!r}"
            failed, found = await call(client, "search_confluence", {"query": "VPN setup"})
            assert not failed and found["results"], f"the server stopped answering after bad calls: {found}"
            failed, found = await call(client, "search_confluence", {"query": "vpn", "labels": ["no-such-label"]})
            assert not failed and not found["results"], f"a label no page carries still found results: {found}"

    anyio.run(scenario)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_streamable_http_transport_on_loopback(index: dict[str, Any], tmp_path: Path) -> None:
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    command = [sys.executable, "-m", "destination_vectors", "mcp", "--config", str(index["config"])]
    server = subprocess.Popen(
        [*command, "--http", str(port)], cwd=ROOT, env={**os.environ, **_env()}, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert server.poll() is None, f"the HTTP server exited: {(tmp_path / 'server.log').read_text()[-2000:]}"
            assert time.monotonic() < deadline, "the HTTP server did not listen within 120 s"
            time.sleep(0.2)

        async def scenario() -> None:
            async with Client(f"http://127.0.0.1:{port}/mcp", read_timeout_seconds=120) as client:
                names = {tool.name for tool in (await client.list_tools()).tools}
                assert names == {"search_confluence", "get_page", "list_spaces"}, names
                failed, found = await call(client, "search_confluence", {"query": "connect to the VPN", "k": 3})
                assert not failed and "VPN Setup" in [hit["title"] for hit in found["results"]], found
                failed, answer = await call(client, "search_confluence", {"query": "vpn", "visibility": "all"})
                assert failed and "fixed when it starts" in answer, answer

        anyio.run(scenario)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_as_user_server_answers_with_what_that_person_may_read(tmp_path: Path) -> None:
    from testkit.indexes import HASH_MODEL, write_in_process
    from testkit.messages import page

    config = {"lancedb_uri": str(tmp_path / "lancedb"), "embedding": {"model": HASH_MODEL}}
    write_in_process(
        config,
        [
            page("1", "Deploy guide", "<p>deploy checklist for the release</p>", readers=["user:alice"]),
            page("2", "Deploy FAQ", "<p>deploy questions everyone asks</p>", readers=["anonymous"]),
            page("3", "Deploy salaries", "<p>deploy team salary review</p>", space="HR", readers=["group:hr"]),
        ],
    )
    path = tmp_path / "destination.json"
    path.write_text(json.dumps(config))

    async def scenario() -> None:
        async with stdio_session(path, "--as-user", "alice") as client:
            failed, found = await call(client, "search_confluence", {"query": "deploy", "k": 10})
            assert not failed and {hit["page_id"] for hit in found["results"]} == {"1", "2"}, found
            assert "alice" in found["served"], found["served"]
            failed, answer = await call(client, "get_page", {"page_id": "3"})
            assert failed and "no page with id '3'" in answer, f"alice opened a page only hr may read: {answer}"
            failed, answer = await call(client, "search_confluence", {"query": "deploy", "as_user": "bob"})
            assert failed and "fixed when it starts" in answer, answer
            failed, spaces = await call(client, "list_spaces", {})
            assert not failed and [s["space_key"] for s in spaces["spaces"]] == ["ENG"], spaces

    anyio.run(scenario)


def _memberships_index(tmp_path: Path, members: list[dict[str, Any]]) -> Path:
    """Three pages readable by a group, by a group or a user, and by anyone, plus who is in which group."""
    from destination_vectors.destination import DestinationVectors
    from testkit.indexes import HASH_MODEL
    from testkit.messages import catalog, page, record, state

    config = {"lancedb_uri": str(tmp_path / "lancedb"), "embedding": {"model": HASH_MODEL}}
    pages = [
        page("1", "Deploy guide", "<p>deploy checklist for the release</p>", readers=["group:eng"]),
        page("2", "Deploy salaries", "<p>deploy team salary review</p>", space="HR", readers=["group:hr", "user:cy"]),
        page("3", "Deploy FAQ", "<p>deploy questions everyone asks</p>", readers=["anonymous"]),
    ]
    messages = [record(p) for p in pages] + [record(m, "memberships") for m in members]
    messages += [state("pages"), state("memberships")]
    list(DestinationVectors().write(config, catalog(["pages", "memberships"]), iter(messages)))
    path = tmp_path / "destination.json"
    path.write_text(json.dumps(config))
    return path


ANN = {"user_id": "ann", "groups": ["eng", "hr"], "email": "ann@example.com", "display_name": "Ann"}


def test_as_user_alone_gets_the_groups_the_index_holds_and_follows_a_re_pull(tmp_path: Path) -> None:
    path = _memberships_index(tmp_path, [ANN])

    async def scenario() -> None:
        async with stdio_session(path, "--as-user", "ann") as client:
            failed, found = await call(client, "search_confluence", {"query": "deploy", "k": 10})
            assert not failed and {hit["page_id"] for hit in found["results"]} == {"1", "2", "3"}, found
            failed, opened = await call(client, "get_page", {"page_id": "2"})
            assert not failed and opened["title"] == "Deploy salaries", opened
            _memberships_index(tmp_path, [{**ANN, "groups": ["eng"]}])  # ann leaves hr; the server keeps running
            failed, found = await call(client, "search_confluence", {"query": "deploy", "k": 10})
            assert not failed and {hit["page_id"] for hit in found["results"]} == {"1", "3"}, "hr's page stayed"
            failed, answer = await call(client, "get_page", {"page_id": "2"})
            assert failed and "no page with id '2'" in answer, answer

    anyio.run(scenario)


def test_as_email_serves_that_person_and_a_hidden_address_is_a_clear_error(tmp_path: Path) -> None:
    path = _memberships_index(tmp_path / "shown", [ANN])

    async def scenario() -> None:
        async with stdio_session(path, "--as-email", "Ann@Example.com") as client:
            failed, found = await call(client, "search_confluence", {"query": "deploy", "k": 10})
            assert not failed and {hit["page_id"] for hit in found["results"]} == {"1", "2", "3"}, found
            assert "'ann'" in found["served"] and "Ann@Example.com" in found["served"], found["served"]
            failed, spaces = await call(client, "list_spaces", {})
            assert not failed and [s["space_key"] for s in spaces["spaces"]] == ["ENG", "HR"], spaces

    anyio.run(scenario)
    hidden = _memberships_index(tmp_path / "hidden", [{k: v for k, v in ANN.items() if k != "email"}])
    run = subprocess.run(
        [sys.executable, "-m", "destination_vectors", "mcp", "--config", str(hidden), "--as-email", "ann@example.com"],
        capture_output=True,
        text=True,
        env={**os.environ, **_env()},
        cwd=str(ROOT),
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 2 and "hides e-mail addresses" in run.stderr, run.stderr[-2000:]
