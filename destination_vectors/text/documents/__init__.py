"""Confluence storage-format XHTML -> faithful structured plain text, split into sections by heading.

Kept: headings (a heading inside a list item, quote or panel starts a section too), paragraphs, lists and task lists,
tables (markdown rows, header first, '|' in cells escaped), code macros (fenced, content byte-for-byte), link texts,
mentions (display names from the page context), image captions, dates, emoji. Macros follow the macro policy table
(`_macros.MACRO_POLICY`, mirrored in docs/CONTRACTS.md). Dropped: macro parameters (legacy default parameters
included) except those the policy names, images themselves (file name, URL, alt: not words on the page), comments,
DOCTYPE/entity declarations. Never raises on malformed markup;
unknown entities are never expanded (html.parser keeps them as text).

Depth: bs4's html.parser tree builder is iterative (a 100,000-level page builds in about a second) and the renderer
walks with an explicit stack, so deep pages never hit RecursionError. Nothing here calls bs4's recursive helpers
(`decode`, `prettify`, `str(tag)`) on the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from destination_vectors.text.documents._context import PageContext
from destination_vectors.text.documents._macros import MACRO_POLICY, Action, IncludeTarget, Policy
from destination_vectors.text.documents._markup import include_target, macro_name, parse
from destination_vectors.text.documents._render import RawSection, Renderer

__all__ = [
    "MACRO_POLICY",
    "Action",
    "ConversionError",
    "IncludeTarget",
    "PageContext",
    "Policy",
    "Section",
    "include_targets",
    "storage_to_sections",
    "storage_to_text",
]


class ConversionError(ValueError):
    """The body is not a string; malformed markup never raises."""


@dataclass(frozen=True)
class Section:
    heading_path: tuple[str, ...]  # enclosing heading texts, outermost first; () before the first heading
    text: str  # the section's content without its heading line


def _raw_sections(xhtml: str, context: PageContext | None) -> list[RawSection]:
    if not isinstance(xhtml, str):
        raise ConversionError(f"storage body must be str, got {type(xhtml).__name__}")
    if not xhtml.strip():
        return []
    return Renderer(context).render(parse(xhtml))


def include_targets(xhtml: str, space_key: str = "") -> set[IncludeTarget]:
    """Pages this page includes (include / excerpt-include macros), a missing space key read as `space_key`. A cheap
    text test first: most pages include nothing and are not parsed twice."""
    if not isinstance(xhtml, str) or "include" not in xhtml:
        return set()
    targets: set[IncludeTarget] = set()
    for macro in parse(xhtml).find_all(["ac:structured-macro", "ac:macro"]):
        policy = MACRO_POLICY.get(macro_name(macro))
        target = include_target(macro) if policy is not None and policy.action is Action.INCLUDE else None
        if target is not None:
            targets.add(target if target.space_key else target._replace(space_key=space_key))
    return targets


def storage_to_sections(xhtml: str, context: PageContext | None = None) -> list[Section]:
    """Sections in page order. Headings with no text of their own are kept (their path is information), except an
    empty preamble before the first heading."""
    return [
        Section(raw.heading_path, raw.text) for raw in _raw_sections(xhtml, context) if raw.text or raw.heading_path
    ]


def storage_to_text(xhtml: str, context: PageContext | None = None) -> str:
    """The whole page as text, each heading rendered as a markdown '#' line at its own level."""
    parts: list[str] = []
    for raw in _raw_sections(xhtml, context):
        if raw.heading_path:
            parts.append("#" * raw.level + " " + raw.heading_path[-1])
        if raw.text:
            parts.append(raw.text)
    return "\n\n".join(parts)
