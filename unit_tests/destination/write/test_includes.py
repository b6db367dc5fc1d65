"""The cross-page include step: texts of pages in the same sync, one level deep, and the page-hash digest."""

from __future__ import annotations

from destination_vectors.text.documents import IncludeTarget, include_targets, storage_to_text
from destination_vectors.write.includes import IncludeIndex

INCLUDE = (
    '<ac:structured-macro ac:name="include"><ac:parameter ac:name="">'
    '<ac:link><ri:page ri:content-title="{title}"/></ac:link></ac:parameter></ac:structured-macro>'
)


def test_included_text_comes_from_the_same_sync_one_level_deep() -> None:
    with IncludeIndex() as index:
        index.add("ENG", "Rota", "<p>Primary this week: Chen.</p>" + INCLUDE.format(title="Deeper"))
        index.add("ENG", "Deeper", "<p>deeper text</p>")
        body = "<p>See below.</p>" + INCLUDE.format(title="Rota") + INCLUDE.format(title="Not synced")
        text = storage_to_text(body, index.context("ENG"))
    assert "Primary this week: Chen." in text, f"included page text missing: {text!r}"
    assert "Included from page: Deeper" in text and "deeper text" not in text, (
        f"an include inside an included page must stay a naming line (one level): {text!r}"
    )
    assert "Included from page: Not synced" in text, f"a page outside the sync must be named: {text!r}"


def test_same_title_in_another_space_is_not_taken() -> None:
    with IncludeIndex() as index:
        index.add("OPS", "Rota", "<p>ops rota</p>")
        assert index.text(IncludeTarget("ENG", "Rota")) is None, "title matched across spaces"
        assert index.text(IncludeTarget("OPS", "Rota")) == "ops rota", "page in the named space not found"


def test_included_hash_changes_when_the_included_page_does() -> None:
    body = INCLUDE.format(title="Rota")
    targets = include_targets(body, "ENG")
    with IncludeIndex() as before, IncludeIndex() as after, IncludeIndex() as absent:
        before.add("ENG", "Rota", "<p>Chen</p>")
        after.add("ENG", "Rota", "<p>Dana</p>")
        hashes = {before.included_hash(targets), after.included_hash(targets), absent.included_hash(targets)}
        assert len(hashes) == 3, "edited or missing included page must change the includer's page hash"
        assert before.included_hash(set()) == "", "a page without includes adds nothing to its hash"


def test_a_sync_gives_an_including_page_the_text_of_a_page_that_comes_later(config):
    from destination_vectors.destination import DestinationVectors
    from destination_vectors.read.search import Searcher
    from testkit.messages import catalog, page, record, state

    includer = page("1", "On-call", "<p>Rota below.</p>" + INCLUDE.format(title="Rota"), ancestor_ids=["9"])
    included = page("2", "Rota", "<p>Primary this week: Chen Wei, pager marmalade.</p>", ancestor_ids=["9", "1"])
    other = page("3", "Elsewhere", "<p>pager marmalade mentioned elsewhere</p>")
    messages = [record(includer), record(included), record(other), state()]
    list(DestinationVectors().write(config.model_dump(), catalog(), iter(messages)))
    searcher = Searcher.from_config(config)
    hits = searcher.search("pager marmalade", k=10, mode="fts")
    texts = {hit.page_id: hit.text for hit in hits}
    assert "Primary this week: Chen Wei" in texts.get("1", ""), f"included text missing from the includer: {texts}"
    under = {hit.page_id for hit in searcher.search("pager marmalade", k=10, mode="fts", under="1")}
    assert under == {"1", "2"}, f"--under 1 must keep page 1 and the pages below it only: {under}"
