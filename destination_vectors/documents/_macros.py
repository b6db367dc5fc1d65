"""The macro policy: what each Confluence macro becomes in the text. One entry per macro; docs/CONTRACTS.md shows the
same table (a unit test keeps the two equal), so supporting the next macro is a one-line change here and there.

Actions:
- `code`: the plain-text body as a fenced block (the language parameter, else the macro name, as info string);
- `panel`: the rich-text body as a block headed by the label (`Info: <title>`);
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
    argument: str = ""  # panel label or text template


MACRO_POLICY: dict[str, Policy] = {
    "code": Policy(Action.CODE),
    "noformat": Policy(Action.CODE),
    "info": Policy(Action.PANEL, "Info"),
    "note": Policy(Action.PANEL, "Note"),
    "warning": Policy(Action.PANEL, "Warning"),
    "tip": Policy(Action.PANEL, "Tip"),
    "panel": Policy(Action.PANEL, "Panel"),
    "success": Policy(Action.PANEL, "Success"),
    "error": Policy(Action.PANEL, "Error"),
    "expand": Policy(Action.PANEL, "Expand"),
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
    """Label of a panel-like macro or ADF panel type; 'Panel' for kinds the table does not name."""
    policy = MACRO_POLICY.get(kind)
    return policy.argument if policy is not None and policy.action is Action.PANEL else "Panel"
