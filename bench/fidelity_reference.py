"""The yardstick for bench/fidelity.py: an independent extraction of what a reader sees on a storage-format page, and
the measures every converter is scored by.

Independent: lxml's XML parser (the project's converter uses bs4's html.parser) on the page wrapped in a root that
declares the ac/ri namespaces, with HTML named entities mapped to characters first; no entity is ever resolved from a
DTD and nothing is fetched.

Visible text (what the rendered page shows):
- every text node and CDATA section (code macro bodies are shown as code);
- except inside macro parameters, task ids/statuses/uuids, placeholders, ADF attributes, script/style, the
  CSS-hidden MathML copy of KaTeX (`katex-mathml`), and an ADF fallback whose extension has native content;
- plus the parameters a reader does see: a status lozenge's title, a Jira issue key, and the title of panels,
  expand and code blocks;
- plus the numbers of ordered list items, and what a body-less link shows (target page title, attachment file name, space key) and `<time>` dates.
Not counted (a reader sees them but no converter can know them from the page alone): mention display names, the
included page's text, image pixels.
"""

from __future__ import annotations

import html.entities
import re
from collections import Counter
from dataclasses import dataclass

from lxml import etree

AC = "http://atlassian.com/content"
RI = "http://atlassian.com/resource/identifier"
_ROOT_OPEN = f'<root xmlns:ac="{AC}" xmlns:ri="{RI}">'
_WORD = re.compile(r"[^\W_]+")
_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
_HIDDEN = {
    f"{{{AC}}}parameter",
    f"{{{AC}}}default-parameter",
    f"{{{AC}}}task-id",
    f"{{{AC}}}task-uuid",
    f"{{{AC}}}task-status",
    f"{{{AC}}}placeholder",
    f"{{{AC}}}adf-attribute",
    "script",
    "style",
}
_SHOWN_PARAMETERS = {
    "status": ("title",),
    "jira": ("key",),
    "info": ("title",),
    "note": ("title",),
    "warning": ("title",),
    "tip": ("title",),
    "panel": ("title",),
    "expand": ("title",),
    "code": ("title",),
}


def words(text: str) -> list[str]:
    """Letters-and-digits runs, lower-cased: markup characters, escapes and underscores never count as words."""
    return _WORD.findall(text.lower())


def parse(body: str) -> etree._Element:
    def entity(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _XML_ENTITIES:
            return match.group(0)
        char = html.entities.html5.get(name + ";")
        return char if char is not None else match.group(0)

    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    root = etree.fromstring((_ROOT_OPEN + _ENTITY.sub(entity, body) + "</root>").encode("utf-8"), parser)
    if root is None:
        raise ValueError("reference parser could not read the page")
    return root


def _macro_name(element: etree._Element) -> str:
    return str(element.get(f"{{{AC}}}name") or "").lower()


def _hidden(element: etree._Element) -> bool:
    if element.tag in _HIDDEN:
        parent = element.getparent()
        if element.tag == f"{{{AC}}}parameter" and parent is not None:
            shown = _SHOWN_PARAMETERS.get(_macro_name(parent), ())
            return str(element.get(f"{{{AC}}}name") or "").lower() not in shown
        if element.tag == f"{{{AC}}}default-parameter" and parent is not None:
            return _macro_name(parent) != "jira"
        return True
    if "katex-mathml" in str(element.get("class") or "").split():
        return True
    if element.tag == f"{{{AC}}}adf-fallback":
        extension = element.getparent()
        return extension is not None and any(
            child.tag == f"{{{AC}}}adf-content" for node in extension for child in node
        )
    return False


_INLINE = {"a", "span", "strong", "b", "em", "i", "u", "s", "sub", "sup", "code", "small", "big", "mark", "del", "ins"}
_INLINE |= {"abbr", "cite", "q", "font", "time", "img"}
_INLINE |= {f"{{{AC}}}{name}" for name in ("link", "link-body", "plain-text-link-body", "emoticon", "image")}


def visible_text(element: etree._Element) -> str:
    """Visible text of an element; block elements are separated by spaces, inline ones are not (H<sub>2</sub>O is
    one word). Iterative: deep pages are fine."""
    out: list[str] = []
    stack: list[tuple[etree._Element, bool]] = [(element, False)]
    while stack:
        node, done = stack.pop()
        block = isinstance(node.tag, str) and node.tag not in _INLINE
        if done:
            out.append(" " if block else "")
            if node.tail and node is not element:
                out.append(node.tail)
            continue
        if not isinstance(node.tag, str) or _hidden(node):
            if node.tail and node is not element:
                out.append(node.tail)
            continue
        out.append(" " if block else "")
        out.append(_shown_by_attributes(node))
        if node.text:
            out.append(node.text)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(list(node)))
    return "".join(out)


def _shown_by_attributes(node: etree._Element) -> str:
    parent = node.getparent()
    if node.tag == "li" and parent is not None and parent.tag == "ol":  # the browser numbers ordered items
        try:
            start = int(str(parent.get("start") or "1"))
        except ValueError:
            start = 1
        return f"{start + [child for child in parent if child.tag == 'li'].index(node)}. "
    if node.tag == "time" and not len(node) and not (node.text or "").strip():
        return str(node.get("datetime") or "")
    if node.tag == f"{{{AC}}}link" and not any(
        child.tag in (f"{{{AC}}}link-body", f"{{{AC}}}plain-text-link-body") for child in node
    ):
        for child in node:
            for attribute in ("content-title", "filename", "space-key"):
                value = child.get(f"{{{RI}}}{attribute}")
                if value:
                    return value
    return ""


# -- measures -----------------------------------------------------------------------------------------------------


_LABELS = re.compile(
    r"\[image: [^\]\n]*\]|!\[[^\]\n]*\]\([^)\n]*\)"  # image markers: ours, Markdown's
    r"|(?m:^(`{3,})[^`\n]*$)"  # code fence info strings (language, title)
    r"|(?m:^(?:Info|Note|Warning|Tip|Panel|Success|Error|Expand):)"  # panel kind labels
)


def without_labels(output: str) -> str:
    """The output with the markers a converter adds on purpose for things a reader sees but that are not text: image
    markers, code fence info strings, panel kind labels. Used for the second precision column only."""
    return _LABELS.sub(lambda match: match.group(1) or " ", output)


def overlap(reference: list[str], output: list[str]) -> tuple[int, int, int]:
    """(words of the reference found in the output, reference words, output words), as multisets."""
    found = sum((Counter(reference) & Counter(output)).values())
    return found, len(reference), len(output)


def code_blocks(root: etree._Element) -> list[tuple[str, bool]]:
    """(code, inside a table) for every non-empty plain-text macro body."""
    blocks: list[tuple[str, bool]] = []
    for body in root.iter(f"{{{AC}}}plain-text-body"):
        code = body.text or ""
        if code.strip():
            in_table = any(ancestor.tag in ("td", "th") for ancestor in body.iterancestors())
            blocks.append((code, in_table))
    return blocks


def code_kept(code: str, in_table: bool, output: str) -> bool:
    """Verbatim (line breaks and indentation included); inside a table cell, where a Markdown row cannot hold line
    breaks, the same characters with whitespace runs collapsed."""
    if in_table:
        return _flat(code) in _flat(_unescape(output))
    return code.strip("\n") in output


@dataclass(frozen=True)
class Row:
    table: int
    cells: tuple[str, ...]


def table_rows(root: etree._Element) -> list[Row]:
    """Rows of innermost tables (a row holding a table cannot be one line), as their cells' visible text."""
    rows: list[Row] = []
    for number, table in enumerate(root.iter("table")):
        for row in table.iter("tr"):
            if row.xpath(".//table") or next(row.iterancestors("table")) is not table:
                continue
            cells = tuple(_flat(visible_text(cell)) for cell in row if cell.tag in ("td", "th"))
            if words(" ".join(cells)):
                rows.append(Row(number, cells))
    return rows


def rows_kept(rows: list[Row], output: str) -> int:
    """A row is kept whole when one output line holds its words in order and not much else (at most twice the row's
    words plus four: room for a rowspan's repeated text, never for a second row or the rest of the table)."""
    lines = [words(_unescape(line)) for line in output.split("\n")]
    kept = 0
    for row in rows:
        wanted = words(" ".join(row.cells))
        kept += any(len(line) <= 2 * len(wanted) + 4 and _subsequence(wanted, line) for line in lines)
    return kept


def _subsequence(wanted: list[str], line: list[str]) -> bool:
    remaining = iter(line)
    return all(word in remaining for word in wanted)


_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def ragged_tables(output: str) -> int:
    """Markdown tables (header, rule line, rows) whose rows do not all have the header's number of cells."""
    lines = output.split("\n")
    ragged = 0
    for index, line in enumerate(lines):
        if index == 0 or not _RULE.match(line) or "|" not in lines[index - 1]:
            continue
        width = _cells(lines[index - 1])
        end = index + 1
        widths = {width, _cells(line)}
        while end < len(lines) and "|" in lines[end] and lines[end].strip():
            widths.add(_cells(lines[end]))
            end += 1
        ragged += len(widths) > 1
    return ragged


def _cells(line: str) -> int:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return len(re.split(r"(?<!\\)\|", inner))


def _unescape(text: str) -> str:
    """Markdown backslash escapes (`\\|`, `\\_`, `\\*`) read as the characters they stand for."""
    return re.sub(r"\\([\\`*_{}\[\]()#+\-.!|<>~])", r"\1", text)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
