"""A snippet with the query's words marked, safe to put in a page.

The whole text is escaped first, then only our own `<mark>` tags are added around whole words (never inside an
entity): nothing from the index or the query ever reaches the page unescaped, whatever it holds (`<script>`, `&amp;`,
quotes). Matching is case-insensitive on whole-word prefixes ("deploy" marks "Deploys").
"""

from __future__ import annotations

import functools
import html
import re

from markupsafe import Markup

MIN_WORD = 2  # single letters would mark half the text
WINDOW = 320  # characters of a snippet shown: about three lines
STOPWORDS = frozenset(
    "a an and are as at be by do does for from how i in is it of on or the to what when where which who why with".split()
)


def query_words(query: str) -> list[str]:
    """The words of a query worth marking, longest first (so "deploys" wins over "deploy" in one alternation)."""
    words = {w.casefold() for w in re.findall(r"\w+", query or "") if len(w) >= MIN_WORD}
    return sorted(words - STOPWORDS, key=lambda w: (-len(w), w))


@functools.lru_cache(maxsize=256)
def _pattern(query: str) -> re.Pattern[str] | None:
    """The query's words as one pattern, built once per query (a page of results highlights some thirty passages)."""
    words = query_words(query)
    if not words:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\w*", re.IGNORECASE)


@functools.lru_cache(maxsize=256)
def _escaped_pattern(query: str) -> re.Pattern[str] | None:
    """The same words found in escaped text: never right after `&` or `&#`, so an entity (`&amp;`, `&#39;`) is never
    cut; the words are letters and digits, which escaping leaves as they are."""
    words = [html.escape(word) for word in query_words(query)]
    if not words:
        return None
    return re.compile(r"(?<!&)(?<!&#)\b(?:" + "|".join(re.escape(w) for w in words) + r")\w*", re.IGNORECASE)


def excerpt(text: str, query: str, width: int = WINDOW) -> str:
    """About `width` characters of `text` around its first query word (the start when none is in it)."""
    text = " ".join((text or "").split())
    if len(text) <= width:
        return text
    pattern = _pattern(query or "")
    found = pattern.search(text) if pattern else None
    start = 0
    if found and found.start() > width // 3:
        start = text.rfind(" ", 0, found.start() - width // 3) + 1
    end = text.rfind(" ", start, start + width)
    end = end if end > start else start + width
    return ("… " if start else "") + text[start:end] + (" …" if end < len(text) else "")


def highlight(text: str, query: str) -> Markup:
    """`text` escaped, with each query word wrapped in <mark>: the text is escaped whole, then the words are marked
    in it (one pass each, a page of results calls this some thirty times)."""
    escaped = html.escape(text)
    pattern = _escaped_pattern(query or "")
    if pattern is None:
        return Markup(escaped)
    return Markup(pattern.sub(lambda match: f"<mark>{match.group(0)}</mark>", escaped))
