"""Walk the parsed page ITERATIVELY (explicit stack: a 10,000-level page must not hit RecursionError) and render it
as structured plain text, split into sections at top-level headings.

Containers that need their content laid out (lists, items, tables, rows, cells, quotes, panels, pre, headings) push a
frame; everything else either flushes the current inline text (block tags) or adds to it (inline tags).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bs4 import BeautifulSoup, CData, NavigableString, Tag
from bs4.element import PreformattedString

from destination_vectors.text.documents import _blocks as blocks
from destination_vectors.text.documents import _macros as macros
from destination_vectors.text.documents import _markup as markup
from destination_vectors.text.documents._blocks import Block, Cell
from destination_vectors.text.documents._context import PageContext

_SKIPPED = {
    "ac:parameter",
    "ac:default-parameter",
    "ac:task-id",
    "ac:task-uuid",
    "ac:task-status",
    "ac:adf-attribute",
    "ac:placeholder",
    "script",
    "style",
    "head",
    "template",
    "colgroup",
    "col",
    "noscript",
    "svg",
}
_BLOCK_TAGS = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "nav",
    "aside",
    "address",
    "figure",
    "figcaption",
    "dl",
    "dt",
    "dd",
    "center",
    "caption",
    "thead",
    "tbody",
    "tfoot",
    "hr",
    "body",
    "html",
    "ac:layout",
    "ac:layout-section",
    "ac:layout-cell",
    "ac:rich-text-body",
    "ac:adf-content",
    "ac:adf-node",
    "ac:adf-extension",
    "ac:adf-fallback",
    "ac:task-body",
    "details",
    "summary",
    "form",
    "fieldset",
}
_SPLITTABLE = {"list", "item", "quote", "panel"}  # containers a heading may break (see Renderer.split_at_heading)
_HEADINGS = {f"h{level}": level for level in range(1, 7)}


@dataclass
class Frame:
    kind: str  # root | heading | list | item | table | row | cell | quote | panel | pre
    tag: Tag | None = None
    blocks: list[Block] = field(default_factory=list)
    inline: list[str] = field(default_factory=list)
    label: str = ""  # panel heading line, list item marker, heading level as text
    title: str = ""  # a panel's own title: shown even when its body is empty (never on a re-opened continuation)
    counter: int = 0  # next number of an ordered list
    ordered: bool = False
    rows: list[list[Cell]] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)

    def reopened(self) -> Frame:
        """An empty copy that continues this container after a section break: a list keeps counting, an item
        continues indented under its marker instead of repeating it."""
        label = " " * len(self.label) if self.kind == "item" else self.label
        return Frame(self.kind, self.tag, label=label, counter=self.counter, ordered=self.ordered)

    def flush(self) -> None:
        if self.inline:
            lines = blocks.inline_lines(self.inline)
            self.inline.clear()
            if lines:
                self.blocks.append(lines)


@dataclass(frozen=True)
class RawSection:
    heading_path: tuple[str, ...]
    level: int  # 0 before the first heading
    text: str


class Renderer:
    """One use per page: `render(soup)` returns the sections in page order."""

    def __init__(self, context: PageContext | None = None) -> None:
        self.context = context or PageContext()
        self.frames: list[Frame] = [Frame("root")]
        self.sections: list[RawSection] = []
        self.heading_stack: list[tuple[int, str]] = []

    # -- walking -------------------------------------------------------------------------------------------------
    def render(self, soup: BeautifulSoup) -> list[RawSection]:
        stack: list[tuple[object, bool]] = [(child, False) for child in reversed(soup.contents)]
        while stack:
            node, leaving = stack.pop()
            if leaving:
                self.leave(node)  # type: ignore[arg-type]
            elif isinstance(node, Tag):
                if self.enter(node):
                    stack.append((node, True))
                    stack.extend((child, False) for child in reversed(node.contents))
            elif isinstance(node, NavigableString):
                if isinstance(node, CData) or not isinstance(node, PreformattedString):  # no comments, doctype, PIs
                    self.top.inline.append(str(node))
        while len(self.frames) > 1:  # unclosed frames cannot happen with bs4 trees, but never lose text
            self.pop_into_parent()
        self.close_section()
        return self.sections

    @property
    def top(self) -> Frame:
        return self.frames[-1]

    def push(self, kind: str, tag: Tag, **values: object) -> bool:
        self.top.flush()
        self.frames.append(Frame(kind, tag, **values))  # type: ignore[arg-type]
        return True

    def emit(self, text: str) -> None:
        self.top.inline.append(text)

    def add_block(self, block: Block) -> None:
        self.top.flush()
        if block:
            self.top.blocks.append(block)

    # -- entering: returns whether to walk the children -----------------------------------------------------------
    def enter(self, tag: Tag) -> bool:
        name = tag.name
        if name in _SKIPPED or str(tag.get("aria-hidden") or "") == "true":
            return False
        if name.startswith("ri:"):
            if name == "ri:user" and (tag.parent is None or tag.parent.name != "ac:link"):
                self.emit(markup.user_reference(tag, self.context.user_names))
            return False
        if name in ("ac:structured-macro", "ac:macro"):
            return self.enter_macro(tag)
        if name in _HEADINGS:
            return self.push("heading", tag, label=str(_HEADINGS[name]))
        if name in ("ul", "ol", "ac:task-list"):
            start = blocks.span(tag.get("start", 1), 10**9) if name == "ol" else 1
            return self.push("list", tag, ordered=name == "ol", counter=start)
        if name in ("li", "ac:task"):
            return self.push("item", tag, label=self.item_marker(tag))
        if name in ("table", "tr", "td", "th", "blockquote", "pre"):
            kind = {"tr": "row", "td": "cell", "th": "cell", "blockquote": "quote"}.get(name, name)
            return self.push(kind, tag)
        if name == "ac:adf-extension":
            return self.enter_adf_extension(tag)
        if name == "ac:adf-fallback" and self.has_adf_content(tag.parent):
            return False
        if name in _BLOCK_TAGS:
            self.top.flush()
            return True
        return self.enter_inline(tag)

    def enter_inline(self, tag: Tag) -> bool:
        name = tag.name
        if name == "br":
            self.emit(markup.HARD_BREAK)
            return False
        if name == "ac:link":
            has_body = any(
                markup.collapse_whitespace(body.get_text())
                for body in markup.direct_children(tag, "ac:link-body")
                + markup.direct_children(tag, "ac:plain-text-link-body")
            )
            if has_body:
                return True
            self.emit(markup.resource_text(tag, self.context.user_names))
            return False
        if name in ("ac:image", "img"):
            return name == "ac:image"  # no words of its own (pixels, file name, alt); walk on for its <ac:caption>
        if name == "ac:emoticon":
            self.emit(
                str(tag.get("ac:emoji-fallback") or tag.get("ac:emoji-shortname") or f":{tag.get('ac:name', '')}:")
            )
            return False
        if name == "time" and not tag.contents:
            self.emit(str(tag.get("datetime") or ""))
            return False
        if name == "math":
            annotation = tag.find("annotation")
            if annotation is not None:
                self.emit(" " + annotation.get_text() + " ")
                return False
        return True

    def enter_macro(self, tag: Tag) -> bool:
        """Apply the macro policy (see _macros.MACRO_POLICY and docs/CONTRACTS.md)."""
        name = markup.macro_name(tag)
        policy = macros.policy_of(name)
        code = markup.plain_text_body(tag)
        if code is not None and (policy is None or policy.action is macros.Action.CODE):
            language = markup.macro_parameter(tag, "language")
            if not language and name not in ("code", "noformat"):
                language = name
            self.add_block(blocks.code_block(code, blocks.code_info(language, markup.macro_parameter(tag, "title"))))
            return False
        has_body = bool(markup.direct_children(tag, "ac:rich-text-body"))
        action = policy.action if policy else None
        if action is macros.Action.PANEL and has_body:
            title = markup.macro_parameter(tag, "title")
            return self.push("panel", tag, label=macros.panel_heading(policy.argument, title), title=title)
        if action is macros.Action.DROP:
            return False
        if action is macros.Action.TEXT:
            text = macros.fill_template(
                policy.argument, lambda field: markup.macro_parameter(tag, field), markup.default_parameter(tag)
            )
            if text:
                self.emit(" " + text + " ")
            return False
        if action is macros.Action.INCLUDE:
            self.include(name, tag)
            return False
        if has_body:
            self.top.flush()
            return True  # unknown macro (or a panel-like one without body): keep its rich-text body only
        return False

    def include(self, kind: str, tag: Tag) -> None:
        target = markup.include_target(tag)
        if target is None:
            return
        own = target.space_key in ("", self.context.space_key)
        key = macros.IncludeTarget(self.context.space_key if own else target.space_key, target.title)
        text = self.context.included_text(key) if self.context.included_text else None
        if text:
            self.add_block(blocks.text_block(text))
        else:
            self.add_block(
                [
                    (
                        macros.include_line(kind, target._replace(space_key="" if own else target.space_key)),
                        blocks.LineKind.TEXT,
                    )
                ]
            )

    def enter_adf_extension(self, tag: Tag) -> bool:
        for node in markup.direct_children(tag, "ac:adf-node"):
            if node.get("type") == "panel":
                panel_type = ""
                for attribute in markup.direct_children(node, "ac:adf-attribute"):
                    if attribute.get("key") == "panel-type":
                        panel_type = markup.collapse_whitespace(attribute.get_text()).lower()
                return self.push("panel", tag, label=macros.panel_heading(macros.panel_label(panel_type), ""))
        self.top.flush()
        return True

    @staticmethod
    def has_adf_content(extension: Tag | None) -> bool:
        if extension is None or extension.name != "ac:adf-extension":
            return False
        return any(
            markup.direct_children(node, "ac:adf-content") for node in markup.direct_children(extension, "ac:adf-node")
        )

    def item_marker(self, tag: Tag) -> str:
        if tag.name == "ac:task":
            statuses = markup.direct_children(tag, "ac:task-status")
            done = bool(statuses) and markup.collapse_whitespace(statuses[0].get_text()).lower() == "complete"
            return "- [x] " if done else "- [ ] "
        parent = self.top
        if parent.kind == "list" and parent.ordered:
            parent.counter += 1
            return f"{parent.counter - 1}. "
        return "- "

    # -- leaving ----------------------------------------------------------------------------------------------------
    def leave(self, tag: Tag) -> None:
        if self.top.tag is tag:
            self.pop_into_parent()
        elif tag.name in _BLOCK_TAGS or tag.name in ("ac:structured-macro", "ac:macro"):
            self.top.flush()  # end of a paragraph-like element; inline tags (strong, a, span) do not break text

    def pop_into_parent(self) -> None:
        frame = self.frames.pop()
        parent = self.top
        kind = frame.kind
        if kind == "pre":  # preformatted text keeps its whitespace: render it like a code macro without language
            raw = "".join(frame.inline).replace(markup.HARD_BREAK, "\n")
            frame.inline.clear()
            parent.blocks.extend(frame.blocks)
            parent.blocks.append(blocks.code_block(raw.strip("\n") + "\n", ""))
            return
        frame.flush()
        if kind == "heading":
            text = blocks.flatten(frame.blocks)
            if text and all(open_frame.kind in _SPLITTABLE for open_frame in self.frames[1:]):
                self.split_at_heading(int(frame.label), text)
            elif text:
                parent.blocks.append([(text, blocks.LineKind.TEXT)])
        elif kind == "item":
            item = blocks.list_item(frame.blocks, frame.label)
            if item:
                parent.blocks.append(item)  # a list joins its items into one block when it closes
        elif kind == "cell":
            if parent.kind == "row":
                parent.cells.append(
                    (
                        blocks.flatten(frame.blocks),
                        blocks.span(frame.tag.get("colspan", 1), blocks.MAX_COLSPAN),
                        blocks.span(frame.tag.get("rowspan", 1), blocks.MAX_ROWSPAN),
                    )
                )  # type: ignore[union-attr]
            else:
                parent.blocks.extend(frame.blocks)
        elif kind == "row":
            stray = blocks.flatten(frame.blocks)
            cells = frame.cells + ([(stray, 1, 1)] if stray else [])
            if parent.kind == "table":
                parent.rows.append(cells)
            elif cells:
                parent.blocks.append([(" | ".join(text for text, _, _ in cells), blocks.LineKind.TEXT)])
        elif kind == "table":
            parent.blocks.extend(frame.blocks)
            parent.blocks.append(blocks.table_block(frame.rows))
        elif kind == "quote":
            parent.blocks.extend(blocks.prefixed(block, "> ") for block in frame.blocks)
        elif kind == "panel":
            if frame.blocks and frame.label:
                parent.blocks.append([(frame.label, blocks.LineKind.TEXT), *frame.blocks[0]])
                parent.blocks.extend(frame.blocks[1:])
            elif frame.blocks:  # a panel without label or title: its text alone
                parent.blocks.extend(frame.blocks)
            elif frame.title:  # an empty panel still shows its title
                parent.blocks.append([(frame.label, blocks.LineKind.TEXT)])
        else:  # list: items (and any stray text) as one block, lines in order
            merged = [line for block in frame.blocks for line in block]
            if merged:
                parent.blocks.append(merged)

    def split_at_heading(self, level: int, heading: str) -> None:
        """A heading inside list items, quotes or panels starts a section as it does at top level: the open
        containers are closed into the current section and re-opened (item continued, not re-numbered) for the rest
        of their content. Inside tables a heading stays cell text (a row is never split)."""
        reopened = [frame.reopened() for frame in self.frames[1:]]
        while len(self.frames) > 1:
            self.pop_into_parent()
        self.start_section(level, heading)
        self.frames.extend(reopened)

    # -- sections -----------------------------------------------------------------------------------------------------
    def start_section(self, level: int, heading: str) -> None:
        self.close_section()
        while self.heading_stack and self.heading_stack[-1][0] >= level:
            self.heading_stack.pop()
        self.heading_stack.append((level, heading))

    def close_section(self) -> None:
        root = self.frames[0]
        root.flush()
        path = tuple(text for _, text in self.heading_stack)
        level = self.heading_stack[-1][0] if self.heading_stack else 0
        self.sections.append(RawSection(path, level, blocks.render_blocks(root.blocks)))
        root.blocks = []
