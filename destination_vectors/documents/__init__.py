"""Confluence storage-format XHTML -> faithful structured plain text, split into sections by heading.

Kept: headings, paragraphs, lists and task lists, tables (markdown rows, header first), code macros (fenced, content
byte-for-byte), panels/expand as labelled blocks, status text, link texts, mentions, image names, dates, emoji.
Dropped: toc/children/pagetree/anchor and other body-less macros, macro parameters (except code language and
panel/expand titles), comments, DOCTYPE/entity declarations. Never raises on malformed markup; unknown entities are
never expanded (html.parser keeps them as text).

Depth: bs4's html.parser tree builder is iterative (a 100,000-level page builds in about a second) and the renderer
walks with an explicit stack, so deep pages never hit RecursionError. Nothing here calls bs4's recursive helpers
(`decode`, `prettify`, `str(tag)`) on the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from destination_vectors.documents._markup import parse
from destination_vectors.documents._render import RawSection, Renderer

__all__ = ["ConversionError", "Section", "storage_to_sections", "storage_to_text"]


class ConversionError(ValueError):
    """The body is not a string; malformed markup never raises."""


@dataclass(frozen=True)
class Section:
    heading_path: tuple[str, ...]  # enclosing heading texts, outermost first; () before the first heading
    text: str  # the section's content without its heading line


def _raw_sections(xhtml: str) -> list[RawSection]:
    if not isinstance(xhtml, str):
        raise ConversionError(f"storage body must be str, got {type(xhtml).__name__}")
    if not xhtml.strip():
        return []
    return Renderer().render(parse(xhtml))


def storage_to_sections(xhtml: str) -> list[Section]:
    """Sections in page order. Headings with no text of their own are kept (their path is information), except an
    empty preamble before the first heading."""
    return [Section(raw.heading_path, raw.text) for raw in _raw_sections(xhtml) if raw.text or raw.heading_path]


def storage_to_text(xhtml: str) -> str:
    """The whole page as text, each heading rendered as a markdown '#' line at its own level."""
    parts: list[str] = []
    for raw in _raw_sections(xhtml):
        if raw.heading_path:
            parts.append("#" * raw.level + " " + raw.heading_path[-1])
        if raw.text:
            parts.append(raw.text)
    return "\n\n".join(parts)
