"""Lines and blocks of rendered text, and how containers (list items, quotes, panels, tables, cells) lay them out.

A block is a list of lines; each line carries a kind so that containers indent or prefix prose but never touch code
(so code macro content stays byte-for-byte) and keep table rows at column 0 (so the chunker can find them).
"""

from __future__ import annotations

import re
from enum import Enum

from destination_vectors.text.documents._markup import HARD_BREAK, collapse_whitespace


class LineKind(Enum):
    TEXT = "text"  # prose: may be indented or quoted by an enclosing container
    CODE = "code"  # code content, verbatim
    FENCE = "fence"  # ``` opening/closing line
    ROW = "row"  # table row '| a | b |'
    RULE = "rule"  # table header separator '|---|---|'


Line = tuple[str, LineKind]
Block = list[Line]

_BACKTICK_RUN = re.compile(r"`{3,}")
MAX_COLSPAN = 64  # hostile colspan/rowspan values must not blow a table up
MAX_ROWSPAN = 1024


def inline_lines(pieces: list[str]) -> Block:
    """Inline text pieces -> prose lines: whitespace runs collapsed, <br> kept as line breaks, blank lines dropped."""
    joined = "".join(pieces)
    lines = (collapse_whitespace(part).strip() for part in joined.split(HARD_BREAK))
    return [(line, LineKind.TEXT) for line in lines if line]


def code_block(code: str, info: str) -> Block:
    """A fenced block whose fence is longer than any backtick run in the code, so the code stays verbatim."""
    if not code.strip():
        return []
    longest = max((len(run) for run in _BACKTICK_RUN.findall(code)), default=0)
    fence = "`" * max(3, longest + 1)
    body = code[:-1] if code.endswith("\n") else code
    lines: Block = [(fence + info, LineKind.FENCE)]
    lines.extend((line, LineKind.CODE) for line in body.split("\n"))
    lines.append((fence, LineKind.FENCE))
    return lines


def code_info(language: str, title: str) -> str:
    info = collapse_whitespace(language).replace("`", "")
    clean_title = collapse_whitespace(title).replace('"', "'").replace("`", "")
    if clean_title:
        info = f'{info} title="{clean_title}"'.strip()
    return info


def list_item(blocks: list[Block], marker: str) -> Block:
    """Marker on the first prose line, continuation prose indented under it; code and table lines stay at column 0."""
    indent = " " * len(marker)
    lines: Block = []
    marked = False
    for block in blocks:
        for text, kind in block:
            if kind is not LineKind.TEXT:
                if not marked:
                    if marker.strip():  # a continued item (after a section break) has no marker to show
                        lines.append((marker.rstrip(), LineKind.TEXT))
                    marked = True
                lines.append((text, kind))
            elif not marked:
                lines.append((marker + text, LineKind.TEXT))
                marked = True
            else:
                lines.append((indent + text, LineKind.TEXT))
    return lines


def prefixed(block: Block, prefix: str) -> Block:
    """Quote prose lines ('> '); code and tables are left as they are."""
    return [(prefix + text if kind is LineKind.TEXT else text, kind) for text, kind in block]


def flatten(blocks: list[Block]) -> str:
    """All text of some blocks on one line (table cells, headings): fences and table rules dropped."""
    texts = (text for block in blocks for text, kind in block if kind not in (LineKind.FENCE, LineKind.RULE))
    return collapse_whitespace(" ".join(texts))


def span(value: object, limit: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        return 1
    return min(max(number, 1), limit)


Cell = tuple[str, int, int]  # text, colspan, rowspan


def table_block(rows: list[list[Cell]]) -> Block:
    """Rows as '| a | b |' lines, the first row as header followed by '|---|'; colspan pads empty cells, rowspan
    repeats the text in the rows it covers (so a row split off by the chunker still carries it)."""
    grid: list[list[str]] = []
    pending: dict[int, tuple[str, int]] = {}  # column -> (text, rows still covered)
    for row in rows:
        out: list[str] = []

        def take_pending(out: list[str] = out) -> None:
            while len(out) in pending:
                text, remaining = pending.pop(len(out))
                if remaining > 1:
                    pending[len(out)] = (text, remaining - 1)
                out.append(text)

        for text, colspan, rowspan in row:
            take_pending()
            for offset in range(colspan):
                column = len(out)
                out.append(text if offset == 0 else "")
                if rowspan > 1:
                    pending[column] = (text if offset == 0 else "", rowspan - 1)
        take_pending()
        while pending and max(pending) >= len(out):
            if len(out) in pending:
                take_pending()
            else:
                out.append("")
        grid.append(out)
    grid = [row for row in grid if any(cell for cell in row)]
    if not grid:
        return []
    width = max(len(row) for row in grid)
    lines: Block = []
    for index, row in enumerate(grid):
        cells = [escape_cell(cell) for cell in row] + [""] * (width - len(row))
        lines.append(("| " + " | ".join(cells) + " |", LineKind.ROW))
        if index == 0:
            lines.append(("|" + "|".join(["---"] * width) + "|", LineKind.RULE))
    return lines


def escape_cell(text: str) -> str:
    """A '|' inside a cell would add a column to the Markdown row: escape it as Markdown does ('\\|')."""
    return text.replace("|", "\\|")


def text_block(text: str) -> Block:
    """Already-rendered text (an included page) as a block: fences, code and table lines keep their kinds, so an
    enclosing container never indents them."""
    lines: Block = []
    fence = ""
    for line in text.split("\n"):
        opening = _BACKTICK_RUN.match(line)
        if fence:
            kind = LineKind.FENCE if line == fence else LineKind.CODE
            fence = "" if line == fence else fence
        elif opening:
            kind, fence = LineKind.FENCE, opening.group(0)
        elif line.startswith("|"):
            kind = LineKind.RULE if set(line) <= set("|-: ") else LineKind.ROW
        else:
            kind = LineKind.TEXT
        lines.append((line, kind))
    return lines


def render_blocks(blocks: list[Block]) -> str:
    """Blocks separated by one blank line."""
    return "\n\n".join("\n".join(text for text, _ in block) for block in blocks if block)
