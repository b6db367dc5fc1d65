"""Snippets: query words marked, everything else escaped, whatever the text or the query holds."""

from __future__ import annotations

from destination_vectors.serve.web.highlight import excerpt, highlight, query_words


def test_words_are_marked_case_insensitively_on_word_prefixes() -> None:
    marked = str(highlight("Deploys roll back; redeploy later", "how do I DEPLOY and roll back?"))
    assert marked == "<mark>Deploys</mark> <mark>roll</mark> <mark>back</mark>; redeploy later", marked


def test_markup_in_the_text_and_the_query_is_escaped() -> None:
    marked = str(highlight('<script>alert("x")</script> & script', "<script> alert"))
    assert "<script>" not in marked and "&lt;<mark>script</mark>&gt;" in marked, marked
    assert "&amp; <mark>script</mark>" in marked and "<mark>alert</mark>(&quot;x&quot;)" in marked, marked


def test_a_query_of_stopwords_or_symbols_marks_nothing_and_still_escapes() -> None:
    assert query_words("how do I? .* (") == [], query_words("how do I? .* (")
    assert str(highlight("a < b", "how is it")) == "a &lt; b"


def test_regex_characters_in_the_query_are_literal() -> None:
    assert str(highlight("c++ and c# (beta)", "c++ (beta)")) == "c++ and c# (<mark>beta</mark>)"


def test_excerpt_centres_on_the_first_match_of_a_long_text() -> None:
    text = " ".join(["filler"] * 200) + " the failover runbook " + " ".join(["tail"] * 200)
    short = excerpt(text, "failover", width=120)
    assert "failover" in short and short.startswith("… ") and short.endswith(" …"), short
    assert len(short) <= 124, len(short)
    assert excerpt("short text", "x") == "short text"


def test_words_that_spell_an_entity_never_cut_one() -> None:
    marked = str(highlight("Tom & Jerry's 39 quotes: 'amp' <lt> #x27", "amp quot 39 lt x27"))
    assert marked == (
        "Tom &amp; Jerry&#x27;s <mark>39</mark> <mark>quotes</mark>: &#x27;<mark>amp</mark>&#x27; "
        "&lt;<mark>lt</mark>&gt; #<mark>x27</mark>"
    ), marked
