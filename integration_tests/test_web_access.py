"""`destination-vectors web` over plain HTTP: what a public server never shows, whatever the URL asks; the Host and
Origin check; errors as sentences; the failed-sync banner; the command itself (address, warning, port in use).

The index is the demo's (two syncs of the sample site, read for real by the source: integration_tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import lance
import pytest
import requests

from testkit.indexes import copy_index
from testkit.paths import ROOT
from testkit.web import serving

ALICE_PHRASE = "lighthouse budget for the marmalade migration"  # only on a page of the personal space ~alice


def _rows(config: dict[str, Any]) -> list[dict[str, Any]]:
    path = Path(config["lancedb_uri"]) / "confluence_chunks.lance"
    columns = ["stream", "page_id", "title", "webui_url", "visibility", "space_key", "restricted"]
    return lance.dataset(str(path)).to_table(columns=columns).to_pylist()


@pytest.fixture(scope="module")
def hidden(demo_index: dict[str, Any]) -> dict[str, Any]:
    """What a public server must never show: the ids, links and (unshared) titles of every non-public row."""
    rows = _rows(demo_index)
    internal = [row for row in rows if row["visibility"] != "public"]
    public_titles = {row["title"] for row in rows if row["visibility"] == "public"}
    assert internal and any(row["restricted"] for row in internal), "the demo index has no restricted page to hide"
    return {
        "ids": sorted({row["page_id"] for row in internal}),
        "urls": sorted({row["webui_url"] for row in internal if row["webui_url"]}),
        "titles": sorted(
            {row["title"] for row in internal if row["title"] not in public_titles and len(row["title"]) > 4}
        ),
        "spaces": sorted(
            {row["space_key"] for row in internal} - {row["space_key"] for row in rows if row["visibility"] == "public"}
        ),
        "restricted_id": next(row["page_id"] for row in internal if row["restricted"] and row["stream"] == "pages"),
    }


@pytest.fixture(scope="module")
def public_url(demo_index: dict[str, Any]):
    with serving(demo_index["config_path"]) as url:
        yield url


def _leaks(body: str, hidden: dict[str, Any]) -> list[str]:
    body = _without_echo(body)
    found = [url for url in hidden["urls"] if url in body or url.replace("&", "&amp;") in body]
    found += [title for title in hidden["titles"] if title in body or str(_escape(title)) in body]
    found += [f"page id {page_id}" for page_id in hidden["ids"] if re.search(rf"\b{re.escape(page_id)}\b", body)]
    found += [f"space {key}" for key in hidden["spaces"] if f"/synced/{quote(key)}" in body]
    return found


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def _without_echo(body: str) -> str:
    """The page without the parts that echo the request (its title, the query and below-page boxes, links that carry
    the query, "no page matches" and the error message), which repeat what the URL gave without revealing anything."""
    body = re.sub(r"<title>.*?</title>", "", body, flags=re.S)
    body = re.sub(r'<p class="empty" id="no-results">.*?</p>', "", body, flags=re.S)
    body = re.sub(r'<input[^>]*name="(q|under)"[^>]*>', "", body)
    body = re.sub(r'href="/\?[^"]*"', "", body)
    return re.sub(r'<section class="error".*?</section>', "", body, flags=re.S)


def test_public_server_never_shows_a_restricted_page_whatever_the_url_asks(public_url: str, hidden: dict) -> None:
    restricted = hidden["restricted_id"]
    variants = [
        f"/?q={quote(ALICE_PHRASE)}",
        f"/?q={quote(ALICE_PHRASE)}&visibility=all",
        f"/?q={quote(ALICE_PHRASE)}&visibility=internal&as_user=5d8a1b2c3e4f5a6b7c8d9e01",
        f"/?q={quote(ALICE_PHRASE)}&as-user=5d8a1b2c3e4f5a6b7c8d9e01&group=confluence-users",
        f"/?q={quote(ALICE_PHRASE)}&as_email=alice%40example.com",
        *(f"/?q={quote(ALICE_PHRASE)}&space={quote(key)}" for key in hidden["spaces"]),
        *(f"/?q={quote(ALICE_PHRASE)}&mode={mode}&k=50" for mode in ("hybrid", "vector", "fts")),
        f"/?q=agenda&under={restricted}",
        f"/?q=agenda&under={restricted}&visibility=all",
        "/?q=agenda&stream=pages&stream=comments&stream=attachments&k=50",
        *(f"/?q={quote(title)}&k=50&mode=fts" for title in hidden["titles"][:6]),
        *(f"/synced/{quote(key, safe='')}" for key in hidden["spaces"]),
        *(f"/synced/{key}?visibility=all" for key in hidden["spaces"]),
        "/synced?visibility=all",
        "/synced",
        "/attachments?visibility=all",
        "/attachments?status=ok",
        "/health?visibility=all",
        f"/{restricted}",
        "/synced/ENG/../%7Ealice?visibility=all",
    ]
    for variant in variants:
        response = requests.get(public_url + variant, timeout=60)
        assert response.status_code in (200, 400, 404), f"{variant}: status {response.status_code}"
        leaks = _leaks(response.text, hidden)
        assert not leaks, f"{variant}: a public server showed what it must not: {leaks[:5]}"


def test_a_page_outside_the_scope_is_not_found_like_a_missing_one(public_url: str, hidden: dict) -> None:
    restricted = hidden["restricted_id"]
    outside = requests.get(f"{public_url}/?q=agenda&under={restricted}", timeout=60)
    missing = requests.get(f"{public_url}/?q=agenda&under=999999999", timeout=60)
    assert outside.status_code == missing.status_code == 404, (outside.status_code, missing.status_code)
    assert outside.text.replace(restricted, "ID") == missing.text.replace("999999999", "ID"), (
        "a restricted page is answered differently from a missing one"
    )
    for key in hidden["spaces"]:
        space = requests.get(f"{public_url}/synced/{quote(key, safe='')}", timeout=60)
        nowhere = requests.get(f"{public_url}/synced/NOSUCHSPACE", timeout=60)
        assert space.status_code == nowhere.status_code == 404, f"space {key}: {space.status_code}"
        assert space.text.replace(key, "KEY") == nowhere.text.replace("NOSUCHSPACE", "KEY")


def test_an_all_server_shows_what_the_public_one_hides(demo_index: dict[str, Any], hidden: dict) -> None:
    """The hiding is the access rule, not a page that shows nothing: the same URLs on a server started with
    --visibility all show the restricted pages."""
    with serving(demo_index["config_path"], visibility="all") as url:
        found = requests.get(f"{url}/?q={quote(ALICE_PHRASE)}", timeout=60).text
        assert _leaks(found, hidden), "a --visibility all server does not find the personal-space page either"
        space = requests.get(f"{url}/synced/{quote(hidden['spaces'][0], safe='')}", timeout=60)
        assert space.status_code == 200, f"the personal space's listing: {space.status_code}"


ALICE = "5d8a1b2c3e4f5a6b7c8d9e01"  # the owner of the personal space ~alice (integration_tests/sample_site)
BOB = "5d8a1b2c3e4f5a6b7c8d9e02"


@pytest.mark.parametrize(
    ("person", "sees_alices_page"),
    [({"principal": ALICE}, True), ({"email": "alice.martin@example.com"}, True), ({"principal": BOB}, False)],
    ids=["as-user alice", "as-email alice", "as-user bob"],
)
def test_a_server_started_as_a_person_shows_what_that_person_may_read(
    demo_index: dict[str, Any], hidden: dict, person: dict[str, str], sees_alices_page: bool
) -> None:
    from destination_vectors.read.access import Principal

    principal = Principal(account_id=person["principal"]) if "principal" in person else None
    with serving(demo_index["config_path"], principal=principal, email=person.get("email")) as url:
        found = requests.get(f"{url}/?q={quote(ALICE_PHRASE)}&k=50", timeout=60)
        space = requests.get(f"{url}/synced/{quote('~alice', safe='')}", timeout=60)
        assert found.status_code == 200, found.text[:300]
        alices = "~alice" in found.text and 'data-space="~alice"' in found.text
        assert alices is sees_alices_page, f"{person}: Alice's personal page in the answers: {alices}"
        assert space.status_code == (200 if sees_alices_page else 404), f"{person}: ~alice listing {space.status_code}"
        assert "Confluence account" in found.text, "the page does not say whom it answers as"


def test_a_refused_mass_deletion_is_shown_naming_only_spaces_in_scope(
    demo_index: dict[str, Any], tmp_path: Path
) -> None:
    from destination_vectors.config import DestinationConfig
    from destination_vectors.store.counts import SyncCounts
    from destination_vectors.store.ledger import Ledger, MassDeletion

    config = copy_index({k: v for k, v in demo_index.items() if k != "config_path"}, tmp_path)
    path = tmp_path / "destination.json"
    path.write_text(json.dumps(config))
    ledger = Ledger(DestinationConfig.model_validate(config).resolved_ledger_path)
    ledger.start_sync("refused-run", ["pages"], "test-hash-embedder")
    decisions = [
        MassDeletion("pages", "ENG", live_pages=10, deleted_pages=9, decision="refused"),
        MassDeletion("pages", "~alice", live_pages=3, deleted_pages=3, vanished=True, decision="refused"),
    ]
    ledger.refused("refused-run", decisions, SyncCounts(), 2.0, error="mass deletion refused")
    with serving(path) as url:
        health = requests.get(url + "/health", timeout=60).text
        assert "The last sync was refused by the mass-deletion guard" in requests.get(url + "/", timeout=60).text
        assert "refused: 9 of 10 pages in ENG" in health, health[health.find("<table") :][:1500]
        assert "refused: 3 of 3 pages in a space this page does not show" in health, "the other space is not counted"
        assert "~alice" not in health, "a public server named a personal space in the guard's decisions"
    with serving(path, visibility="all") as url:
        assert "refused: 3 of 3 pages in ~alice (space missing from the listing)" in requests.get(url + "/health").text


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Host": "evil.example:80"}, 421),
        ({"Host": "evil.example"}, 421),
        ({"Origin": "http://evil.example"}, 403),
        ({"Origin": "http://127.0.0.1:1"}, 403),
        ({"Origin": "null"}, 403),
    ],
)
def test_requests_from_other_origins_are_refused(public_url: str, headers: dict[str, str], status: int) -> None:
    response = requests.get(f"{public_url}/?q=deploy", headers=headers, timeout=60)
    assert response.status_code == status, f"{headers}: {response.status_code} {response.text[:200]}"
    assert "Rollback" not in response.text, f"{headers}: refused, yet the answer holds search results"


def test_own_origin_and_read_only(public_url: str) -> None:
    port = public_url.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        response = requests.get(
            f"{public_url}/?q=deploy", headers={"Host": host, "Origin": f"http://{host}"}, timeout=60
        )
        assert response.status_code == 200, f"Host {host}: {response.status_code}"
    assert "default-src 'self'" in response.headers["content-security-policy"], response.headers
    assert response.headers["referrer-policy"] == "no-referrer"
    assert requests.post(f"{public_url}/", data={"q": "x"}, timeout=60).status_code == 405, "POST was accepted"


def test_the_search_page_loads_nothing_from_elsewhere_and_stays_light(public_url: str) -> None:
    """Offline: every style sheet, script and image comes from the server itself (no CDN, font or script from outside),
    and the search page with ten results and its assets weighs at most 100 KB (bench/web_search.py measures it too)."""
    page = requests.get(f"{public_url}/?q=deploy&k=10", timeout=60)
    assert page.status_code == 200 and page.text.count('class="result"') == 10, "not a page of ten results"
    loaded = re.findall(r'<(?:link|script|img|iframe|source)\b[^>]*?(?:href|src)="([^"]+)"', page.text)
    assert loaded and all(url.startswith("/static/") for url in loaded), f"loaded from elsewhere: {loaded}"
    assets = [requests.get(public_url + url, timeout=60) for url in loaded]
    assert all(asset.status_code == 200 for asset in assets), [(a.url, a.status_code) for a in assets]
    css = "".join(asset.text for asset in assets if asset.url.endswith(".css"))
    assert "@import" not in css and "url(" not in css, "the style sheet loads something more"
    weight = len(page.content) + sum(len(asset.content) for asset in assets)
    assert weight <= 100_000, f"the search page weighs {weight:,} bytes with its assets (budget 100,000)"


@pytest.mark.parametrize(
    ("path", "status", "sentence"),
    [
        ("/?q=deploy&mode=telepathy", 400, "The mode must be one of hybrid, vector, fts"),
        ("/?q=deploy&k=0", 400, "The number of results must be between 1 and 50"),
        ("/?q=deploy&k=lots", 400, "The number of results must be a whole number"),
        ("/attachments?status=lost", 400, "The status must be one of"),
        ("/no/such/view", 404, "There is no such page here"),
    ],
)
def test_bad_requests_get_a_sentence(public_url: str, path: str, status: int, sentence: str) -> None:
    response = requests.get(public_url + path, timeout=60)
    assert response.status_code == status, f"{path}: {response.status_code}"
    assert sentence in response.text and "Traceback" not in response.text, f"{path}: {response.text[:600]}"


def test_a_broken_index_is_explained_not_a_500(demo_index: dict[str, Any], tmp_path: Path) -> None:
    config = copy_index({k: v for k, v in demo_index.items() if k != "config_path"}, tmp_path)
    path = tmp_path / "destination.json"
    path.write_text(json.dumps(config))
    table = Path(config["lancedb_uri"]) / "confluence_chunks.lance"
    for data in (table / "data").iterdir():
        data.write_bytes(b"not a lance file")  # every data file damaged, the manifest intact
    with serving(path) as url:
        for view in ("/?q=deploy", "/synced", "/synced/ENG", "/attachments"):
            response = requests.get(url + view, timeout=60)
            assert response.status_code == 503, f"{view}: {response.status_code} {response.text[:300]}"
            assert "The index cannot be read" in response.text and "Run a sync into it" in response.text, view
            assert "Traceback" not in response.text, f"{view}: a stack trace reached the page"
        assert requests.get(url + "/health", timeout=60).status_code == 200, "the ledger view needs no table"


def test_a_missing_index_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "destination.json"
    path.write_text(
        json.dumps({"lancedb_uri": str(tmp_path / "nothing-here"), "embedding": {"model": "test-hash-embedder"}})
    )
    with serving(path) as url:
        response = requests.get(url + "/?q=deploy", timeout=60)
        assert response.status_code == 503 and "has no sync yet" in response.text, response.text[:500]
        health = requests.get(url + "/health", timeout=60)
        assert health.status_code == 200 and "No sync recorded yet" in health.text, health.text[:500]


def test_a_failed_last_sync_shows_on_every_page(demo_index: dict[str, Any], tmp_path: Path) -> None:
    from destination_vectors.config import DestinationConfig
    from destination_vectors.store.counts import SyncCounts
    from destination_vectors.store.ledger import Ledger

    config = copy_index({k: v for k, v in demo_index.items() if k != "config_path"}, tmp_path)
    path = tmp_path / "destination.json"
    path.write_text(json.dumps(config))
    ledger = Ledger(DestinationConfig.model_validate(config).resolved_ledger_path)
    ledger.start_sync("failed-run", ["pages"], "test-hash-embedder")
    ledger.finish_sync("failed-run", "failed", SyncCounts(), 1.5, error="stream pages: Secret Page Title lost")
    with serving(path) as url:
        for view in ("/", "/?q=deploy", "/synced", "/synced/ENG", "/attachments", "/health", "/nowhere"):
            body = requests.get(url + view, timeout=60).text
            assert 'id="failed-sync"' in body and "The last sync failed" in body, f"{view}: no banner"
            assert "Secret Page Title" not in body, f"{view}: a public server showed a failed run's message"
    with serving(path, visibility="all") as url:
        assert "Secret Page Title" in requests.get(url + "/health", timeout=60).text, "--visibility all hides errors"


# -- the command ------------------------------------------------------------------------------------------------------
def _start(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "destination_vectors", "web", *args],
        cwd=ROOT,
        env=env,
        text=True,
        stderr=subprocess.PIPE,
    )


def _address(process: subprocess.Popen[str]) -> tuple[str, list[str]]:
    lines = []
    for line in process.stderr:  # the command prints the address once it listens
        lines.append(line)
        found = re.search(r"Web page on (http://\S+/)", line)
        if found:
            return found.group(1), lines
    raise AssertionError(f"the web command ended without an address: {''.join(lines)[-2000:]}")


def test_the_command_serves_on_loopback_and_warns_elsewhere(demo_index: dict[str, Any]) -> None:
    config = demo_index["config_path"]
    process = _start("--config", config, "--port", "0")
    try:
        url, lines = _address(process)
        assert url.startswith("http://127.0.0.1:"), f"default address: {url}"
        assert "public pages only" in lines[-1], lines
        response = requests.get(url + "?q=roll+back+a+deploy", timeout=60)
        assert response.status_code == 200 and 'data-page-id="101004"' in response.text, response.text[:300]
    finally:
        process.terminate()
        process.wait(timeout=30)
    process = _start("--config", config, "--port", "0", "--host", "0.0.0.0")
    try:
        url, lines = _address(process)
        warning = next(process.stderr)
        assert "there is no login" in warning and "0.0.0.0" in warning, (
            f"no warning for a non-loopback address: {warning}"
        )
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_port_in_use_is_a_sentence(demo_index: dict[str, Any]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "destination_vectors",
                "web",
                "--config",
                demo_index["config_path"],
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 2, f"exit {done.returncode}: {done.stderr[-1000:]}"
    assert f"error: port {port} on 127.0.0.1 is in use: give another with --port" in done.stderr, done.stderr[-1000:]
    assert "Traceback" not in done.stderr
