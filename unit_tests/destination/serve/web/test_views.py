"""Search parameters from the URL: defaults, repeated filters, and a sentence for each bad value."""

from __future__ import annotations

import pytest
from starlette.datastructures import QueryParams

from destination_vectors.serve.web.views import BadRequest, SearchAsk, _result


def test_defaults_and_repeated_filters() -> None:
    ask = SearchAsk.parse(QueryParams("q=+vpn+&space=ENG&space=&space=HR&space=ENG&label=&mode=fts"))
    assert (ask.query, ask.spaces, ask.labels, ask.mode, ask.k, ask.under) == ("vpn", ["ENG", "HR"], [], "fts", 10, "")


@pytest.mark.parametrize(
    ("query", "sentence"),
    [
        ("mode=x", "the mode must be one of hybrid, vector, fts"),
        ("k=51", "between 1 and 50"),
        ("k=1.5", "whole number"),
    ],
)
def test_bad_values_are_refused_with_a_sentence(query: str, sentence: str) -> None:
    with pytest.raises(BadRequest, match=sentence):
        SearchAsk.parse(QueryParams(query))


def test_a_result_shows_the_origins_grouping_gives() -> None:
    comment = {
        "kind": "comment",
        "label": "comment by Ann Lee",
        "author": "Ann Lee",
        "attachment": "",
        "url": "https://wiki/c7",
    }
    hit = {
        "rank": 1,
        "score": 0.5,
        "page_id": "9",
        "title": "Rollback",
        "breadcrumb": "Deploys > Rollback",
        "heading_path": "",
        "text": "Rollback › comment by Ann Lee\n\nclear the CDN words",
        "webui_url": "https://wiki/9",
        "chunk_url": "",
        "space_key": "ENG",
        "stream": "pages",
        "container_title": "Rollback",
        "container_url": "https://wiki/9",
        "origin": comment,
        "snippets": [
            {
                "heading_path": "Steps",
                "text": "Deploys > Rollback > Steps\n\nmore words",
                "chunk_url": "https://wiki/9#Steps",
                "origin": {"kind": "page", "label": "page", "author": "", "attachment": "", "url": ""},
            }
        ],
    }
    shown = _result(hit, "words")
    assert shown["origin"] == {"kind": "comment", "label": "comment by Ann Lee", "url": "https://wiki/c7"}, shown
    assert shown["section_url"] == "https://wiki/c7" and shown["page_url"] == "https://wiki/9", shown
    assert shown["on_url"] == "", "a grouped answer names its page twice"
    assert str(shown["snippet"]) == "clear the CDN <mark>words</mark>", shown["snippet"]
    assert (
        shown["snippets"][0]["origin"]["kind"] == "page"
        and str(shown["snippets"][0]["text"]) == "more <mark>words</mark>"
    )


def test_a_result_without_origins_takes_its_streams_name() -> None:
    hit = {
        "rank": 1,
        "score": 0.5,
        "page_id": "9",
        "title": "T",
        "breadcrumb": "T",
        "heading_path": "",
        "text": "T\n\nwords",
        "webui_url": "https://wiki/9",
        "chunk_url": "",
        "space_key": "ENG",
        "stream": "comments",
        "container_title": "Page",
        "container_url": "https://wiki/1",
        "snippets": [],
    }
    shown = _result(hit, "words")
    assert shown["origin"]["label"] == "comment" and shown["on_url"] == "https://wiki/1", shown
