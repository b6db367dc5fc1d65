"""Exact strings in queries and chunks: identifier-like tokens and quoted phrases, one rule for writing and reading.

People search a wiki for strings they copied or remember: `ERR_CONN_RESET`, `E-2217`, `OPS-311`, `4.0.12`,
`request_timeout_seconds`, `db-01.prod.example.com`, `src/app/main.py`, `getUserById`, `Foo::Bar`. The embedding
model sees `narwhal-comment-3` and `narwhal-comment-30` as near twins, and the full-text index splits both into
`narwhal comment 3` / `narwhal comment 30` parts. So such tokens are kept whole:

- writing: each chunk's identifier-like tokens go, lower-cased and whole, to the `identifiers` column, indexed with a
  whitespace tokenizer (no stemming, no stop words), where `comment-3` is one token and never matches `comment-30`;
- reading: the query's identifier-like tokens are looked up there, and hybrid ranking puts chunks holding more of
  them exactly above chunks that only resemble them (fusion.py).

A token is a run of word characters joined by `-`, `.`, `/` or `::` (never starting or ending with one, so a full
stop after a version is not part of it). It is identifier-like when it holds one of those joiners or an `_` inside,
mixes digits and letters, or is camelCase. Paths and dotted names also count by their parts (`main.py` is found in
`src/app/main.py`, `db-01` in `db-01.prod.example.com`). Pure: no I/O.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from destination_vectors.store.snapshot import quote

_TOKEN = re.compile(r"\w+(?:(?:::|[-./])\w+)*")
_SEGMENTS = re.compile(r"::|/")  # a path's or a namespace's parts
_DOTTED = re.compile(r"\.")  # a dotted name's parts (host names)
_JOINED = re.compile(r"::|[-./]|(?<=[^\W_])_(?=[^\W_])")
_DIGIT = re.compile(r"\d")
_LETTER = re.compile(r"[^\W\d_]")
_CAMEL = re.compile(r"[a-z][A-Z]")  # getUserById, iPhone, XMLHttpRequest (not VPN, not VPNs)
# Double quotes, typographic ones too (text pasted from a page or a chat): “a phrase” / "a phrase".
_QUOTED = re.compile(r"[\"“”„]([^\"“”„]+)[\"“”„]")
PHRASE_MAX = 12  # words: a longer "phrase" is a pasted paragraph, searched as words


def is_identifier(token: str) -> bool:
    """Whether a token (as `tokens` returns it) is identifier-like: joined parts, letters with digits, camelCase."""
    if _JOINED.search(token):
        return True
    if _DIGIT.search(token) and _LETTER.search(token):
        return True
    return bool(_CAMEL.search(token))


def tokens(text: str) -> list[str]:
    """Word runs joined by `-` `.` `/` `::`, in order (with case), e.g. "see E-2217." -> ["see", "E-2217"]."""
    return _TOKEN.findall(text)


@functools.lru_cache(maxsize=16384)  # candidates come back query after query
def identifiers(text: str) -> frozenset[str]:
    """The lower-cased identifier-like tokens of a text, each whole and, for paths and dotted names, by part."""
    found: set[str] = set()
    for token in tokens(text):
        if not is_identifier(token):
            continue
        found.add(token.lower())
        for segment in _SEGMENTS.split(token) if _SEGMENTS.search(token) else ():
            if segment and is_identifier(segment):
                found.add(segment.lower())
        for segment in _SEGMENTS.split(token):
            if _DOTTED.search(segment):
                found.update(part.lower() for part in _DOTTED.split(segment) if part and is_identifier(part))
    return frozenset(found)


def identifier_column(text: str) -> str:
    """The `identifiers` column's value: the tokens of `identifiers`, sorted, space-separated (whitespace-tokenized
    by its full-text index)."""
    return " ".join(sorted(identifiers(text)))


@dataclass(frozen=True)
class ParsedQuery:
    """What a query asks for exactly, besides its words."""

    words: str  # the query without its quote marks: what is embedded and matched word by word
    phrases: tuple[str, ...]  # quoted phrases: only chunks holding each of them answer
    identifiers: tuple[str, ...]  # lower-cased identifier-like tokens: chunks holding them rank first (hybrid)


def parse_query(query: str) -> ParsedQuery:
    """Quoted phrases (double quotes, balanced; at most PHRASE_MAX words each) and identifier-like tokens."""
    phrases = []
    for match in _QUOTED.finditer(query):
        phrase = " ".join(match.group(1).split())
        if phrase and len(phrase.split()) <= PHRASE_MAX:
            phrases.append(phrase)
    words = " ".join(_QUOTED.sub(lambda m: f" {m.group(1)} ", query).split()) or query.strip()
    found = dict.fromkeys(token.lower() for token in tokens(words) if is_identifier(token))
    return ParsedQuery(words, tuple(dict.fromkeys(phrases)), tuple(found))


def phrase_pattern(phrase: str) -> str:
    """A case-insensitive regular expression (Rust `regex` syntax, as Lance filters run it) for the phrase as whole
    words: any whitespace between its words, no word character right before or after it (`comment-3` is not found
    in `comment-30`)."""
    words = [re.escape(word) for word in phrase.split()]
    body = r"\s+".join(words)
    before = r"(^|\W)" if re.match(r"\w", phrase) else ""
    after = r"($|\W)" if re.search(r"\w$", phrase) else ""
    return f"(?i){before}{body}{after}"


def phrase_filter(phrases: tuple[str, ...], column: str = "text") -> str | None:
    """The SQL clause that keeps only chunks holding every phrase (None: no phrase)."""
    if not phrases:
        return None
    return " AND ".join(f"regexp_like({column}, {quote(phrase_pattern(p))})" for p in phrases)


def holds_phrase(text: str, phrase: str) -> bool:
    """The same test as `phrase_filter`, in Python (Python's and Rust's `regex` agree on these patterns)."""
    return re.search(phrase_pattern(phrase), text) is not None
