"""Heading-aware chunking of a page's sections that never exceeds the embedding model's token limit.

Why this shape: the model silently truncates input beyond max_seq_length, so every chunk is checked with the model's
own tokenizer (special tokens included). Each chunk starts with a context line (`Ancestor > Title > Heading`, the
page's breadcrumb then its heading path) so a chunk retrieved alone still says where it comes from.

Strategy, per section (sections are never merged: a chunk carries exactly one heading path, which keeps citations
and filters exact; tiny sections just make small chunks):
1. split the section text into blocks: paragraphs/lists, fenced code, table rows (blank lines and fences delimit);
2. count every block once (one batched tokenizer call per page) and pack whole blocks greedily;
3. a block too big for a chunk is split: tables between rows repeating the header row, code between lines re-opening
   the fence, prose on lines then sentences; any single piece still too big is cut on token boundaries
   (`tokenizer.offsets`, so never inside a character);
4. with overlap, a chunk after the first in a section starts with the tail (<= overlap tokens) of the previous one;
5. every final chunk is counted again; a chunk that does not fit (only possible with tokenizers whose counts are not
   additive over whitespace, unlike WordPiece) is cut on token boundaries until it does.
Empty page: one chunk holding just the title, so the page is still findable by title. A heading with no content
and no subsections gives a chunk holding just its context line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from destination_vectors.embedding.model import Tokenizer
from destination_vectors.text.documents import Section

MIN_MAX_TOKENS = 16
_FENCE = re.compile(r"^(`{3,})(.*)$")
_TABLE_RULE = re.compile(r"^\|[\s:|-]*-[\s:|-]*\|$")
_SENTENCE_END = re.compile(r"(?<=[.!?;。！？])\s+")

Piece = tuple[str, int]  # text, tokens (special tokens excluded)


@dataclass(frozen=True)
class Chunk:
    index: int
    heading_path: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class _Block:
    kind: str  # text | code | table
    text: str
    separator: str  # what separated it from the previous block in the section text ('\n\n' or '\n')


def validate_chunking(max_tokens: int, overlap_tokens: int, model_max: int) -> None:
    """Reject settings that would make the model truncate chunks or leave no room for new content."""
    if max_tokens > model_max:
        raise ValueError(
            f"max_tokens={max_tokens} is larger than the model's max_seq_length={model_max}: "
            "the model would silently truncate longer chunks; use max_tokens <= max_seq_length"
        )
    _validate_budget(max_tokens, overlap_tokens)


def _validate_budget(max_tokens: int, overlap_tokens: int) -> None:
    if max_tokens < MIN_MAX_TOKENS:
        raise ValueError(
            f"max_tokens={max_tokens} is too small: at least {MIN_MAX_TOKENS} are needed for a context line and content"
        )
    if overlap_tokens < 0:
        raise ValueError(f"overlap_tokens={overlap_tokens} must not be negative")
    if overlap_tokens * 2 >= max_tokens:
        raise ValueError(
            f"overlap_tokens={overlap_tokens} must be less than half of max_tokens={max_tokens}, "
            "otherwise chunks would repeat more than they add"
        )


def split_blocks(text: str) -> list[_Block]:
    """Blocks of a section's text: fenced code (until its own closing fence), runs of table rows, other paragraphs."""
    blocks: list[_Block] = []
    lines = text.split("\n")
    current: list[str] = []
    kind = "text"
    separator = ""

    def close() -> None:
        nonlocal current, separator
        if current:
            blocks.append(_Block(kind, "\n".join(current), separator))
            current = []
            separator = "\n"  # the next block follows directly unless a blank line comes first

    index = 0
    while index < len(lines):
        line = lines[index]
        fence = _FENCE.match(line)
        if fence:
            close()
            end = index + 1
            while end < len(lines) and lines[end].rstrip() != fence.group(1):
                end += 1
            kind, current = "code", lines[index : end + 1]
            if end >= len(lines):
                current.append(fence.group(1))  # unclosed fence: close it so each piece is well formed
            close()
            index = end + 1
            continue
        if not line.strip():
            close()
            separator = "\n\n"
        else:
            line_kind = "table" if line.startswith("|") else "text"
            if current and line_kind != kind:
                close()
            if not current:
                kind = line_kind
            current.append(line)
        index += 1
    close()
    return blocks


class _Chunker:
    """Per-page chunking state: the tokenizer, the limits, and the special-token overhead of every count."""

    def __init__(self, tokenizer: Tokenizer, max_tokens: int, overlap_tokens: int) -> None:
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.overlap = overlap_tokens
        self.special = tokenizer.special_tokens
        self._counted: dict[str, int] = {}  # this page's counts: an oversize line is counted as a block, as a line
        # and as a sentence, each the same text (tokenizing is most of the cost of chunking a large page)

    def counts(self, texts: list[str]) -> list[int]:
        missing = list(dict.fromkeys(text for text in texts if text not in self._counted))
        if missing:
            for text, count in zip(missing, self.tokenizer.count_many(missing), strict=True):
                self._counted[text] = count - self.special
        return [self._counted[text] for text in texts]

    # -- prefix --------------------------------------------------------------------------------------------------
    def prefix(self, title: str, heading_path: tuple[str, ...], breadcrumb: Sequence[str] = ()) -> Piece:
        """Context line `Ancestor > ... > Title > Heading`. When it would take more than half of the room left for
        content, ancestors are dropped from the root side first (the title and headings say most), then the rest
        is cut on a token boundary."""
        cap = (self.max_tokens - self.special - self.overlap) // 2
        crumbs = [part.strip() for part in breadcrumb if part and part.strip()]
        text, tokens = "", 0
        for skip in range(len(crumbs) + 1):
            text = " > ".join(part for part in (*crumbs[skip:], title.strip(), *heading_path) if part)
            tokens = self.counts([text])[0] if text else 0
            if tokens <= cap:
                return text, tokens
        while tokens > cap and cap > 0:
            offsets = self.tokenizer.offsets(text)
            text = text[: offsets[min(cap, len(offsets)) - 1][1]].rstrip()
            tokens = self.counts([text])[0] if text else 0
            cap -= 1 if tokens > cap else 0
        return text, tokens

    # -- splitting oversize blocks ------------------------------------------------------------------------------
    def fit_tokens(self, text: str, budget: int, strip: bool) -> list[Piece]:
        """Cut text on token boundaries into pieces that each count <= budget (re-counted, never trusted)."""
        out: list[Piece] = []
        work: list[str] = [text]
        while work:
            piece = work.pop()
            tokens = self.counts([piece])[0]
            if tokens <= budget or len(piece) <= 1:
                if piece.strip():
                    out.append((piece.strip() if strip else piece, tokens))
                continue
            offsets = self.tokenizer.offsets(piece)
            step = budget if len(offsets) > budget else max(1, len(offsets) // 2)
            cuts = [0] + [offsets[i][0] for i in range(step, len(offsets), step)]
            if len(cuts) == 1:  # one token that still does not fit: halve by characters
                cuts = [0, len(piece) // 2]
            segments = [piece[a:b] for a, b in zip(cuts, cuts[1:] + [len(piece)], strict=False) if b > a]
            work.extend(reversed(segments))
        return out

    def pack(
        self, units: list[str], joiner: str, budget: int, split_unit: Callable[[str, int], list[Piece]]
    ) -> list[Piece]:
        """Greedy packing of units (counted once, in one batch); a unit over budget is split by split_unit."""
        groups: list[Piece] = []
        current: list[str] = []
        used = 0
        for unit, tokens in zip(units, self.counts(units), strict=False):
            if tokens > budget:
                if current:
                    groups.append((joiner.join(current), used))
                    current, used = [], 0
                groups.extend(split_unit(unit, budget))
            elif current and used + tokens > budget:
                groups.append((joiner.join(current), used))
                current, used = [unit], tokens
            else:
                current.append(unit)
                used += tokens
        if current:
            groups.append((joiner.join(current), used))
        return groups

    def split_prose(self, text: str, budget: int) -> list[Piece]:
        def by_sentences(line: str, line_budget: int) -> list[Piece]:
            sentences = [s for s in _SENTENCE_END.split(line) if s]
            return self.pack(sentences, " ", line_budget, lambda s, b: self.fit_tokens(s, b, strip=True))

        return self.pack(text.split("\n"), "\n", budget, by_sentences)

    def split_table(self, text: str, budget: int) -> list[Piece]:
        """Between rows, each piece repeating the header row (and its rule line when there is room for it)."""
        lines = text.split("\n")
        head_size = 2 if len(lines) > 1 and _TABLE_RULE.match(lines[1]) else 1
        rows = lines[head_size:]
        for head in dict.fromkeys(("\n".join(lines[:head_size]), lines[0])):
            head_tokens = self.counts([head])[0]
            if head_tokens * 2 <= budget and rows:
                groups = self.pack(rows, "\n", budget - head_tokens, lambda row, b: self.fit_tokens(row, b, strip=True))
                return [(head + "\n" + rows_text, head_tokens + tokens) for rows_text, tokens in groups]
        return self.split_prose(text, budget)

    def split_code(self, text: str, budget: int) -> list[Piece]:
        """Between lines, each piece re-opening the fence; the info string is shortened if it would crowd the code."""
        lines = text.split("\n")
        opening, closing, body = lines[0], lines[-1], lines[1:-1]
        fence = _FENCE.match(opening)
        language = fence.group(2).split(" ")[0] if fence else ""
        for candidate in dict.fromkeys((opening, closing + language, closing)):
            frame_tokens = self.counts([candidate + "\n" + closing])[0]
            if frame_tokens * 2 <= budget and body:
                groups = self.pack(
                    body, "\n", budget - frame_tokens, lambda line, b: self.fit_tokens(line, b, strip=False)
                )
                return [
                    (f"{candidate}\n{code}\n{closing}", frame_tokens + tokens)
                    for code, tokens in groups
                    if code.strip()
                ]
        return self.split_prose(text, budget)

    def split_block(self, block: _Block, budget: int) -> list[Piece]:
        if block.kind == "code":
            return self.split_code(block.text, budget)
        if block.kind == "table":
            return self.split_table(block.text, budget)
        return self.split_prose(block.text, budget)

    # -- overlap --------------------------------------------------------------------------------------------------
    def tail(self, content: str) -> Piece:
        """Last <= overlap tokens of a chunk's content: whole trailing lines when they fit, else the end of the last
        line cut on a token boundary. None after code (the next piece re-opens its fence) or a table rule."""
        if self.overlap <= 0:
            return "", 0
        lines = content.rstrip("\n").split("\n")
        if _FENCE.match(lines[-1]) or _TABLE_RULE.match(lines[-1]):
            return "", 0
        picked: Piece = ("", 0)
        for start in range(len(lines) - 1, max(-1, len(lines) - 1 - self.overlap), -1):
            if _FENCE.match(lines[start]) or _TABLE_RULE.match(lines[start]):
                break
            candidate = "\n".join(lines[start:]).strip()
            tokens = self.counts([candidate])[0]
            if tokens > self.overlap:
                break
            picked = (candidate, tokens)
        if picked[0] or lines[-1].startswith("|"):  # never a fragment of a table row
            return picked
        offsets = self.tokenizer.offsets(lines[-1])
        if not offsets:
            return "", 0
        text = lines[-1][offsets[max(0, len(offsets) - self.overlap)][0] :].strip()
        tokens = self.counts([text])[0] if text else 0
        return (text, tokens) if text and tokens <= self.overlap else ("", 0)

    # -- a section ------------------------------------------------------------------------------------------------
    def section_contents(self, blocks: list[_Block], block_tokens: list[int], budget: int) -> list[str]:
        """Contents (without prefix) of a section's chunks; `budget` is the room left after the prefix."""
        piece_budget = budget - self.overlap
        contents: list[str] = []
        parts: list[str] = []
        used = 0
        only_tail = False
        for block, tokens in zip(blocks, block_tokens, strict=False):
            pieces = [(block.text, tokens)] if tokens <= piece_budget else self.split_block(block, piece_budget)
            for number, (text, piece_tokens) in enumerate(pieces):
                if parts and not only_tail and (used + piece_tokens > budget or number > 0):
                    contents.append("".join(parts))  # pieces of one split block never share a chunk
                    tail, tail_tokens = self.tail(contents[-1])
                    parts, used, only_tail = ([tail], tail_tokens, True) if tail else ([], 0, False)
                if only_tail and used + piece_tokens > budget:
                    parts, used, only_tail = [], 0, False  # no room for the overlap next to this piece
                if parts:
                    parts.append("\n\n" if only_tail else block.separator if number == 0 else "\n")
                parts.append(text)
                used += piece_tokens
                only_tail = False
        if parts and not only_tail:
            contents.append("".join(parts))
        return contents


def chunk_sections(
    title: str,
    sections: Sequence[Section],
    tokenizer: Tokenizer,
    max_tokens: int,
    overlap_tokens: int = 0,
    breadcrumb: Sequence[str] = (),
) -> list[Chunk]:
    """Token-bounded chunks of one page, in page order, each starting with its context line: the page's ancestors
    (`breadcrumb`, root first), its title and the section's heading path, joined by ' > '."""
    _validate_budget(max_tokens, overlap_tokens)
    chunker = _Chunker(tokenizer, max_tokens, overlap_tokens)
    section_blocks = [split_blocks(section.text) for section in sections]
    all_tokens = iter(chunker.counts([block.text for blocks in section_blocks for block in blocks]))
    planned: list[tuple[tuple[str, ...], str, str]] = []  # heading path, prefix, content
    for position, (section, blocks) in enumerate(zip(sections, section_blocks, strict=False)):
        tokens = [next(all_tokens) for _ in blocks]
        prefix, prefix_tokens = chunker.prefix(title, section.heading_path, breadcrumb)
        if not blocks:
            path = section.heading_path
            has_subsections = any(
                later.heading_path[: len(path)] == path and len(later.heading_path) > len(path)
                for later in sections[position + 1 :]
            )
            if path and not has_subsections:
                planned.append((path, prefix, ""))
            continue
        budget = max_tokens - chunker.special - prefix_tokens
        for content in chunker.section_contents(blocks, tokens, budget):
            planned.append((section.heading_path, prefix, content))
    if not planned:
        prefix, _ = chunker.prefix(title, (), breadcrumb)
        planned.append(((), prefix, ""))
    return _fitted_chunks(chunker, planned)


def _join(prefix: str, content: str) -> str:
    if prefix and content:
        return f"{prefix}\n\n{content}"
    return prefix or content


def _fitted_chunks(chunker: _Chunker, planned: list[tuple[tuple[str, ...], str, str]]) -> list[Chunk]:
    """Count every final chunk; cut any that does not fit on token boundaries (see module docstring, step 5)."""
    texts = [_join(prefix, content) for _, prefix, content in planned]
    totals = chunker.tokenizer.count_many(texts)
    chunks: list[Chunk] = []
    for (path, prefix, content), text, total in zip(planned, texts, totals, strict=False):
        if total <= chunker.max_tokens:
            chunks.append(Chunk(len(chunks), path, text))
            continue
        budget = (
            chunker.max_tokens - chunker.special - chunker.counts([prefix])[0] - 2
            if prefix
            else chunker.max_tokens - chunker.special
        )
        while True:
            pieces = [_join(prefix, piece) for piece, _ in chunker.fit_tokens(content, max(1, budget), strip=True)]
            if all(count <= chunker.max_tokens for count in chunker.tokenizer.count_many(pieces)) or budget <= 1:
                break
            budget = budget * 3 // 4
        chunks.extend(Chunk(len(chunks) + offset, path, piece) for offset, piece in enumerate(pieces))
    return chunks
