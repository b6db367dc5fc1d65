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


def test_a_result_takes_its_origin_from_grouping_when_given_else_from_its_stream() -> None:
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
        "snippets": [{"heading_path": "", "text": "more words", "chunk_url": "", "origin": "attachment"}],
    }
    shown = _result(hit, "words")
    assert shown["origin"] == "comment" and shown["snippets"][0]["origin"] == "attachment", shown
    assert shown["section_url"] == "https://wiki/9" and shown["on_url"] == "https://wiki/1"
    assert str(shown["snippet"]) == "<mark>words</mark>", shown["snippet"]
