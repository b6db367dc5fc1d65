"""The macro policy: what each Confluence macro becomes in the text. One entry per macro; docs/CONTRACTS.md shows the
same table (a unit test keeps the two equal), so supporting the next macro is a one-line change here and there.

Actions:
- `code`: the plain-text body as a fenced block (the language parameter, else the macro name, as info string);
- `panel`: the rich-text body as a block headed by the kind label and the title (`Warning: <title>`). The label is
  kept only for kinds whose colour and icon tell a reader to take care (`Warning`, `Note`, `Error`); for the others
  (`info`, `tip`, `panel`, `success`, `expand`) it is empty, since the kind is decoration, not words on the page, and
  the block is headed by its title alone when the author wrote one (nothing otherwise);
- `text`: inline text from a template whose `{name}` fields are the macro's parameters; a missing field falls back to
  the legacy `<ac:default-parameter>` / unnamed parameter (`ac:name=""`), and nothing is written when it stays empty;
- `include`: the included page's text when that page is in the same sync, else a line naming it;
- `drop`: nothing (navigation and layout helpers whose output is other pages' titles or page furniture).
A macro not in the table keeps its rich-text body and drops its parameters (degrade, never delete); a macro with a
plain-text body is rendered as code whatever its name.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import Enum
from typing import NamedTuple


class Action(Enum):
    CODE = "code"
    PANEL = "panel"
    TEXT = "text"
    INCLUDE = "include"
    DROP = "drop"


class Policy(NamedTuple):
    action: Action
    argument: str = ""  # panel label ('' = none) or text template


MACRO_POLICY: dict[str, Policy] = {
    "code": Policy(Action.CODE),
    "noformat": Policy(Action.CODE),
    "info": Policy(Action.PANEL),
    "note": Policy(Action.PANEL, "Note"),
    "warning": Policy(Action.PANEL, "Warning"),
    "tip": Policy(Action.PANEL),
    "panel": Policy(Action.PANEL),
    "success": Policy(Action.PANEL),
    "error": Policy(Action.PANEL, "Error"),
    "expand": Policy(Action.PANEL),
    "status": Policy(Action.TEXT, "{title}"),
    "jira": Policy(Action.TEXT, "{key}"),
    "drawio": Policy(Action.TEXT, "[diagram: {diagramname}]"),
    "inc-drawio": Policy(Action.TEXT, "[diagram: {diagramname}]"),
    "gliffy": Policy(Action.TEXT, "[diagram: {name}]"),
    "include": Policy(Action.INCLUDE),
    "excerpt-include": Policy(Action.INCLUDE),
    "toc": Policy(Action.DROP),
    "children": Policy(Action.DROP),
    "pagetree": Policy(Action.DROP),
    "anchor": Policy(Action.DROP),
    "recently-updated": Policy(Action.DROP),
    "contentbylabel": Policy(Action.DROP),
}

_FIELD = re.compile(r"\{([a-zA-Z0-9_-]+)\}")


def policy_of(name: str) -> Policy | None:
    return MACRO_POLICY.get(name)


def fill_template(template: str, parameter: Callable[[str], str], default: str) -> str:
    """The template with each `{field}` replaced by that parameter (or the legacy default parameter); '' when a field
    stays empty, so no half-filled text like '[diagram: ]' appears."""
    values: list[str] = []

    def value(match: re.Match[str]) -> str:
        found = parameter(match.group(1)) or default
        values.append(found)
        return found

    text = _FIELD.sub(value, template)
    return text if all(values) else ""


class IncludeTarget(NamedTuple):
    space_key: str  # '' = the including page's own space
    title: str


def include_line(kind: str, target: IncludeTarget) -> str:
    """The line written when the included page is not in the sync: it names the page (and its space if another)."""
    label = "Excerpt included from" if kind == "excerpt-include" else "Included from"
    where = f" (space {target.space_key})" if target.space_key else ""
    return f"{label} page: {target.title}{where}"


def panel_label(kind: str) -> str:
    """Kind label of a panel-like macro or ADF panel type; '' for kinds that show no label (and kinds the table does
    not name: a custom panel's colour says nothing a reader must heed)."""
    policy = MACRO_POLICY.get(kind)
    return policy.argument if policy is not None and policy.action is Action.PANEL else ""


def panel_heading(label: str, title: str) -> str:
    """The line that heads a panel's text: 'Warning: Careful', 'Warning:', 'Careful' (no label), or '' (neither)."""
    if label:
        return f"{label}: {title}" if title else f"{label}:"
    return title
