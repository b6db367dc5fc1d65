"""Exact strings: identifier-like tokens are kept whole, quoted phrases are found as phrases (exact.py)."""

from __future__ import annotations

import pytest

from destination_vectors.text.exact import holds_phrase, identifier_column, identifiers, is_identifier, parse_query


@pytest.mark.parametrize(
    "token",
    [
        "ERR_CONN_RESET",
        "E-2217",
        "OPS-311",
        "4.0.12",
        "db-01.prod.example.com",
        "request_timeout_seconds",
        "deploy_canary.sh",
        "getUserById",
        "billing::invoice::render",
        "narwhal-comment-3",
        "CVE-2024-3094",
        "v2",
    ],
)
def test_identifier_kinds_are_identifier_like(token):
    assert is_identifier(token), f"{token} should count as an identifier"


@pytest.mark.parametrize("word", ["deploy", "3", "2026", "VPN", "Confluence", "the", "OPS"])
def test_plain_words_and_bare_numbers_are_not(word):
    assert not is_identifier(word), f"{word} is an ordinary word or number, not an identifier"


def test_tokens_are_kept_whole_and_a_trailing_full_stop_is_not_part_of_them():
    found = identifiers("See narwhal-comment-3. Then E-2217, then version 4.0.12 and step 3.")
    assert found == {"narwhal-comment-3", "e-2217", "4.0.12"}, found
    assert "narwhal-comment-30" not in identifiers("narwhal-comment-3") and "3" not in found


def test_paths_and_host_names_count_by_their_parts_too():
    found = identifiers("Edit src/payments/retry_policy.yaml on db-01.prod.example.com; call Foo::barBaz")
    for part in ("src/payments/retry_policy.yaml", "retry_policy.yaml", "db-01.prod.example.com", "db-01"):
        assert part in found, f"{part} missing from {sorted(found)}"
    assert {"foo::barbaz", "barbaz"} <= found, sorted(found)
    assert identifier_column("b-2 a-1 b-2") == "a-1 b-2", "the column holds each token once, sorted"


def test_a_query_gives_its_phrases_words_and_identifiers():
    parsed = parse_query('what does “roll back” mean for "OPS-311" in 4.0.12?')
    assert parsed.phrases == ("roll back", "OPS-311"), parsed
    assert parsed.words == "what does roll back mean for OPS-311 in 4.0.12?", parsed
    assert parsed.identifiers == ("ops-311", "4.0.12"), parsed
    unbalanced = parse_query('the "open quote')
    assert unbalanced.phrases == () and unbalanced.words == 'the "open quote', unbalanced


def test_a_phrase_matches_whole_words_in_any_case_and_spacing():
    assert holds_phrase("We ROLL\n back the deploy", "roll back")
    assert not holds_phrase("back roll", "roll back"), "another order is not the phrase"
    assert holds_phrase("see narwhal-comment-3.", "narwhal-comment-3")
    assert not holds_phrase("see narwhal-comment-30", "narwhal-comment-3"), "comment-3 must not match comment-30"
    assert holds_phrase("cost (a+b) * 2", "(a+b) *"), "regular-expression characters are literal"
