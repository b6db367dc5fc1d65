"""The web page in a real browser: headless Chromium from Debian, driven by Selenium, over the demo's index.

These tests run in CI and never skip: without Chromium they fail with the sentence that says how to install it.
With UPDATE_SCREENSHOTS=1 they also write the screenshots docs/ and the README show (docs/web-*.png); normal runs
leave the tree as it is.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from testkit.confluence_stand_in import load_site
from testkit.paths import ROOT, SAMPLE_SITE
from testkit.web import chromium, serving

SCREENSHOTS = os.environ.get("UPDATE_SCREENSHOTS") == "1"


@pytest.fixture(scope="module")
def browser():
    with chromium() as session:
        yield session


@pytest.fixture(scope="module")
def public_url(demo_index: dict[str, Any]):
    with serving(demo_index["config_path"]) as url:
        yield url


def _screenshot(browser: Any, name: str) -> None:
    if SCREENSHOTS:
        height = browser.execute_script("return Math.min(document.body.scrollHeight, 1600)")
        browser.set_window_size(1200, max(700, height))
        browser.save_screenshot(str(ROOT / "docs" / f"web-{name}.png"))
        browser.set_window_size(1200, 900)


def _loaded(browser: Any) -> bool:
    """The page is parsed to its end (its footer is there) and loaded: under load chromedriver can hand back a
    document still being parsed."""
    return bool(browser.find_elements(By.TAG_NAME, "footer")) and (
        browser.execute_script("return document.readyState") == "complete"
    )


def _open(browser: Any, url: str) -> None:
    """Load `url` and wait until the server's page is complete (a browser shows its own error page silently)."""
    browser.get(url)
    try:
        WebDriverWait(browser, 60).until(_loaded)
    except TimeoutException:
        raise AssertionError(f"{url} did not show the web page: {browser.page_source[:1500]}") from None


def _navigate(browser: Any, action: Any) -> None:
    """Do `action` (a click, a key) and wait until the browser has left the page it was on for a complete one.

    The old document is marked with a script variable that a new document does not carry. (Selenium's
    `staleness_of` asks the old element, and chromedriver can answer that mid-navigation with "Node with given id
    does not belong to the document" instead of a stale-element error, which failed the wait.)"""
    browser.execute_script("window.__leftBehind = true")
    action()
    WebDriverWait(browser, 60, ignored_exceptions=(WebDriverException,)).until(
        lambda b: b.execute_script("return window.__leftBehind !== true") and _loaded(b)
    )


def _focused(browser: Any, element_id: str) -> bool:
    """Whether `element_id` gets the focus; Chromium applies autofocus at a rendering update after the load event,
    so this waits for it (up to 30 s) instead of reading the focus once."""
    try:
        WebDriverWait(browser, 30).until(lambda b: b.switch_to.active_element.get_attribute("id") == element_id)
    except TimeoutException:
        return False
    return True


def _results(browser: Any) -> list[dict[str, str]]:
    return [
        {
            "page_id": item.get_attribute("data-page-id"),
            "title": item.find_element(By.CSS_SELECTOR, "a.title").text,
            "crumb": item.find_element(By.CSS_SELECTOR, ".crumb").text,
            "origin": item.find_element(By.CSS_SELECTOR, ".meta .origin").get_attribute("data-kind"),
            "space": item.get_attribute("data-space"),
        }
        for item in browser.find_elements(By.CSS_SELECTOR, "#results .result")
    ]


def test_a_search_typed_into_the_box_shows_the_right_page_first(browser: Any, public_url: str) -> None:
    _open(browser, public_url + "/")
    assert _focused(browser, "q"), "the search box does not have the focus when the page opens"
    box = browser.switch_to.active_element
    _navigate(browser, lambda: box.send_keys("How do I roll back a bad deploy?", Keys.ENTER))
    results = _results(browser)
    assert results and results[0]["title"] == "Rollback", f"first result: {results[:1]}"
    first = browser.find_element(By.CSS_SELECTOR, "#results .result")
    marks = [mark.text.casefold() for mark in first.find_elements(By.CSS_SELECTOR, ".snippet mark")]
    assert marks and all(m.startswith(("roll", "back", "bad", "deploy")) for m in marks), f"highlighted: {marks}"
    section = first.find_element(By.CSS_SELECTOR, "a.section")
    page = first.find_element(By.CSS_SELECTOR, "a.title").get_attribute("href")
    href = section.get_attribute("href")
    assert href.startswith(page + "#") and "/pages/101004/" in href, f"section link {href} (page {page})"
    heading = section.text.removeprefix("Go to section: ").split(" > ")[-1]
    assert href.endswith("#" + heading.replace(" ", "-")), f"section link {href} does not name {heading!r}"
    query = parse_qs(urlparse(browser.current_url).query)
    assert query["q"] == ["How do I roll back a bad deploy?"], f"the URL does not carry the query: {query}"
    assert "space" not in query and "label" not in query, f"filters left at 'any' are in the URL: {query}"
    _screenshot(browser, "search")
    _open(browser, browser.current_url)  # the address alone reproduces the search (bookmark, share)
    assert _results(browser)[0]["title"] == "Rollback", "the bookmarked search does not show the same first page"


def test_slash_focuses_the_box_and_keyboard_reaches_the_results(browser: Any, public_url: str) -> None:
    _open(browser, public_url + "/synced")
    _navigate(browser, lambda: browser.find_element(By.TAG_NAME, "body").send_keys("/"))
    assert urlparse(browser.current_url).path == "/", f"'/' on a view without the box: {browser.current_url}"
    assert _focused(browser, "q"), "the search page opened without the focus in the box"
    _open(browser, public_url + "/?q=vpn")
    assert _focused(browser, "q"), "the results page opened without the focus in the box"
    browser.execute_script("document.activeElement.blur()")
    assert browser.switch_to.active_element.tag_name == "body", "the box kept the focus"
    browser.find_element(By.TAG_NAME, "body").send_keys("/")
    assert _focused(browser, "q"), "'/' does not focus the search box"
    labels = {label.text.split("\n")[0] for label in browser.find_elements(By.CSS_SELECTOR, "fieldset.filters label")}
    assert {"Space", "Label", "Stream", "Mode"} <= {label.split(" ")[0] for label in labels}, labels


def test_the_filters_narrow_the_results(browser: Any, public_url: str) -> None:
    _open(browser, public_url + "/?q=policy+days+leave+setup&k=20")
    everything = _results(browser)
    assert len({r["space"] for r in everything}) > 1, f"results from one space only, nothing to narrow: {everything}"
    Select(browser.find_element(By.ID, "space")).select_by_value("HR")
    _navigate(browser, browser.find_element(By.CSS_SELECTOR, "form.search button").click)
    narrowed = _results(browser)
    assert narrowed and len(narrowed) < len(everything), f"space filter: {len(narrowed)} of {len(everything)}"
    assert {r["space"] for r in narrowed} == {"HR"}, [r["space"] for r in narrowed]
    assert parse_qs(urlparse(browser.current_url).query)["space"] == ["HR"], browser.current_url

    _open(browser, public_url + "/?q=rollback+assets+cache&k=20")
    Select(browser.find_element(By.ID, "stream")).select_by_value("comments")
    _navigate(browser, browser.find_element(By.CSS_SELECTOR, "form.search button").click)
    comments = _results(browser)
    assert comments and all(r["origin"] in ("comment", "inline_comment") for r in comments), comments

    _open(browser, public_url + "/?q=deploy&k=20")
    all_pages = _results(browser)
    below = browser.find_element(By.CSS_SELECTOR, '.result[data-page-id="101003"] a.below')
    _navigate(browser, below.click)
    under = _results(browser)
    assert {r["page_id"] for r in under} <= {"101003", "101004"}, f"below Deploys: {under}"
    assert len(under) < len(all_pages), "'below this page' did not narrow"
    assert "Deploys" in browser.find_element(By.CSS_SELECTOR, ".under").text


def test_the_synced_view_lists_every_page_with_its_link(browser: Any, demo_index: dict[str, Any]) -> None:
    """Every page of the sample site, each linked to Confluence, on a server that may show everything; the public
    server lists exactly the public spaces' pages."""
    site = load_site(SAMPLE_SITE)
    with serving(demo_index["config_path"], visibility="all") as url:
        _open(browser, url + "/synced")
        spaces = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#spaces tbody th a")]
        keys = [
            a.get_attribute("href").rsplit("/", 1)[1]
            for a in browser.find_elements(By.CSS_SELECTOR, "#spaces tbody th a")
        ]
        assert len(keys) == len(site.spaces), f"spaces listed: {spaces}"
        listed: dict[str, str] = {}
        views: dict[str, str] = {}
        for key in keys:
            _open(browser, f"{url}/synced/{key}")
            links = browser.find_elements(By.CSS_SELECTOR, "#tree a[data-page-id]")
            views[key] = f"{len(links)} links: " + browser.find_element(By.TAG_NAME, "main").text[:300]
            for link in links:
                listed[link.get_attribute("data-page-id")] = link.get_attribute("href")
        missing = [p.title for p in site.pages if p.id not in listed]
        assert not missing, f"pages of the sample site not listed: {missing}; the space views: {views}"
        for page in site.pages:
            assert f"/pages/{page.id}/" in listed[page.id] and listed[page.id].startswith("http"), listed[page.id]
    with serving(demo_index["config_path"]) as url:
        _open(browser, url + "/synced/ENG")
        nested = browser.find_elements(By.CSS_SELECTOR, '#tree ul a[data-page-id="101004"]')
        assert nested, "Rollback is not nested under its parent in the tree"
        _screenshot(browser, "synced")
        _open(browser, url + "/attachments")
        statuses = {cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "#attachments .status")}
        assert {"ok", "too_large", "unsupported_type", "failed"} <= statuses, f"attachment statuses: {statuses}"


def test_the_health_view_shows_the_two_syncs_with_the_chart(browser: Any, public_url: str) -> None:
    _open(browser, public_url + "/health")
    runs = browser.find_elements(By.CSS_SELECTOR, "#runs tbody tr")
    assert len(runs) == 2, f"syncs listed: {[r.text for r in runs]}"
    newest, first = (row.find_elements(By.TAG_NAME, "td") for row in runs)
    assert newest[2].text.startswith("succeeded") and first[2].text.startswith("succeeded")
    assert int(newest[5].text) > 0 and int(newest[4].text) < int(first[4].text), "the second sync reused nothing"
    assert newest[7].text == "1", f"pages updated by the second sync: {newest[7].text}"
    bars = browser.find_elements(By.CSS_SELECTOR, "#chart svg rect.bar-time")
    assert len(bars) == 2, f"duration bars in the chart: {len(bars)}"
    assert browser.find_elements(By.CSS_SELECTOR, "#chart svg title"), "the chart has no accessible title"
    assert not browser.find_elements(By.ID, "failed-sync"), "a banner for a failed sync, but both succeeded"
    _screenshot(browser, "health")


def test_a_restricted_page_never_appears_in_the_browser(browser: Any, public_url: str) -> None:
    _open(browser, public_url + "/?q=lighthouse+budget+marmalade+migration&visibility=all&k=50")
    assert "~alice" not in browser.page_source and "Alice's Notes" not in browser.page_source
    _open(browser, public_url + "/synced/~alice?visibility=all")
    assert browser.find_element(By.CSS_SELECTOR, "#error h1").text == "Not found"


def test_a_broken_index_shows_an_explanation(browser: Any, tmp_path: Path) -> None:
    config = tmp_path / "destination.json"
    config.write_text('{"lancedb_uri": "%s", "embedding": {"model": "test-hash-embedder"}}' % (tmp_path / "none"))
    with serving(config) as url:
        _open(browser, url + "/?q=deploy")
        error = browser.find_element(By.ID, "error")
        assert "The index cannot be read" in error.text and "Run a sync into it" in error.text, error.text
        assert "Traceback" not in browser.page_source
