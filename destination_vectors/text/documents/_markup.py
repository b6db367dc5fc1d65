"""Make storage XHTML safe to parse, parse it, and read the few macro/resource attributes that carry meaning.

Safety: the stdlib `html.parser` (through bs4) never expands DOCTYPE entities and never reads external ones; on top of
that, DOCTYPE, <!ENTITY>-style declarations and processing instructions are cut out before parsing so their text can
not leak into the output. Every regex here excludes '<' from its repeated part, so each scan stops at the next tag:
linear time even on hostile input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bs4 import BeautifulSoup, Tag

from destination_vectors.text.documents._macros import IncludeTarget

UNKNOWN_USER = "Unknown user"  # written for a mention whose id has no known name: never the raw id

_DECLARATION = re.compile(r"<!(?:ENTITY|ELEMENT|ATTLIST|NOTATION)\b[^<>]*>", re.IGNORECASE)
_DOCTYPE = re.compile(r"<!DOCTYPE[^<>\[\]]*(?:\[[^<>\[\]]*\])?\s*>", re.IGNORECASE)
_PROCESSING_INSTRUCTION = re.compile(r"<\?[^<>]*>")
_CDATA_OPEN = "<![CDATA["
_CDATA_CLOSE = "]]>"
_ASCII_WHITESPACE = re.compile(r"[ \t\n\r\f\v]+")

HARD_BREAK = "\x00"  # stands for <br> inside inline text; NUL is removed from the input so it cannot collide


def sanitise(xhtml: str) -> str:
    """Remove what must never reach the parser's output: NULs, DOCTYPE, entity declarations, PIs; close broken CDATA."""
    text = xhtml.replace(HARD_BREAK, "")
    text = _DECLARATION.sub("", text)
    text = _DOCTYPE.sub("", text)
    text = _PROCESSING_INSTRUCTION.sub("", text)
    return _close_unterminated_cdata(text)


def _close_unterminated_cdata(text: str) -> str:
    """A CDATA section without ']]>' would swallow the closing tags that follow; end it at the next body close tag."""
    position = 0
    while True:
        start = text.find(_CDATA_OPEN, position)
        if start < 0:
            return text
        end = text.find(_CDATA_CLOSE, start + len(_CDATA_OPEN))
        if end >= 0:
            position = end + len(_CDATA_CLOSE)
            continue
        close_tag = text.find("</ac:", start)
        cut = close_tag if close_tag >= 0 else len(text)
        return text[:cut] + _CDATA_CLOSE + text[cut:]


def parse(xhtml: str) -> BeautifulSoup:
    """Parse with html.parser: it keeps CDATA (code macros) and link bodies that lxml drops, and expands no entities."""
    return BeautifulSoup(sanitise(xhtml), "html.parser")


def collapse_whitespace(text: str) -> str:
    return _ASCII_WHITESPACE.sub(" ", text).strip()


def direct_children(tag: Tag, name: str) -> list[Tag]:
    return [child for child in tag.contents if isinstance(child, Tag) and child.name == name]


def macro_name(tag: Tag) -> str:
    return str(tag.get("ac:name") or "").strip().lower()


def macro_parameter(tag: Tag, name: str) -> str:
    """Value of a macro's own <ac:parameter ac:name=...> (not a nested macro's), whitespace-collapsed; '' if absent."""
    for parameter in direct_children(tag, "ac:parameter"):
        if str(parameter.get("ac:name") or "").strip().lower() == name:
            return collapse_whitespace(parameter.get_text())
    return ""


def plain_text_body(tag: Tag) -> str | None:
    """Code of a macro's <ac:plain-text-body>, byte for byte (CDATA content); None when the macro has no such body."""
    bodies = direct_children(tag, "ac:plain-text-body")
    if not bodies:
        return None
    from bs4 import CData

    strings = list(bodies[0].strings)
    cdata = [str(s) for s in strings if isinstance(s, CData)]
    return "".join(cdata) if cdata else "".join(str(s) for s in strings)


def default_parameter(tag: Tag) -> str:
    """The legacy <ac:default-parameter> of an old-style macro, else the unnamed parameter (ac:name="")."""
    legacy = direct_children(tag, "ac:default-parameter")
    if legacy:
        return collapse_whitespace(legacy[0].get_text())
    return macro_parameter(tag, "")


def user_reference(tag: Tag, names: Mapping[str, str]) -> str:
    """'@Display Name' for a <ri:user>. Ids without a known name become a placeholder, never the raw id (an account id
    or user key means nothing to a reader); a Data Center username is readable and is kept."""
    for attribute in ("ri:account-id", "ri:userkey", "ri:username"):
        value = str(tag.get(attribute) or "").strip()
        if value and names.get(value):
            return "@" + collapse_whitespace(names[value])
    username = str(tag.get("ri:username") or "").strip()
    return "@" + (username or UNKNOWN_USER)


def resource_text(link: Tag, names: Mapping[str, str]) -> str:
    """What a body-less <ac:link> shows: the target page/attachment/space/user name, else its anchor."""
    for child in link.contents:
        if not isinstance(child, Tag) or not child.name.startswith("ri:"):
            continue
        if child.name == "ri:user":
            return user_reference(child, names)
        for attribute in ("ri:content-title", "ri:filename", "ri:space-key", "ri:value", "ri:content-id"):
            value = str(child.get(attribute) or "").strip()
            if value:
                return value
    return str(link.get("ac:anchor") or "").strip()


def include_target(macro: Tag) -> IncludeTarget | None:
    """The page an include/excerpt-include macro points at (first <ri:page> in its parameters), or None."""
    for parameter in direct_children(macro, "ac:parameter") + direct_children(macro, "ac:default-parameter"):
        page = parameter.find("ri:page")
        if isinstance(page, Tag) and str(page.get("ri:content-title") or "").strip():
            return IncludeTarget(
                str(page.get("ri:space-key") or "").strip(), collapse_whitespace(str(page.get("ri:content-title")))
            )
    return None
