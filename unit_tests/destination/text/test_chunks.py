"""Chunking with the model's REAL tokenizer: every chunk fits, carries its context line, splits where it should."""

from __future__ import annotations

import pytest

from destination_vectors.embedding.model import load_tokenizer
from destination_vectors.text.chunks import Chunk, chunk_sections, split_blocks, validate_chunking
from destination_vectors.text.documents import Section, storage_to_sections
from testkit.storage_format import file_bodies, roundtrip_page_body

TOKENIZER = load_tokenizer()
LIMITS = (256, 128, 64, 32)
BODIES = [*file_bodies(), roundtrip_page_body()]  # the shared storage-format fixtures, as test_documents converts them


def _fits(chunks: list[Chunk], max_tokens: int, where: str) -> None:
    for chunk in chunks:
        count = TOKENIZER.count(chunk.text)
        assert count <= max_tokens, (
            f"{where}: chunk {chunk.index} has {count} tokens > {max_tokens}: {chunk.text[:80]!r}"
        )
    assert [c.index for c in chunks] == list(range(len(chunks))), f"{where}: indexes not 0..n-1"


@pytest.mark.parametrize("max_tokens", LIMITS)
@pytest.mark.parametrize(("name", "body"), BODIES, ids=[n for n, _ in BODIES])
def test_every_fixture_chunk_fits(name: str, body: str, max_tokens: int) -> None:
    sections = storage_to_sections(body)
    for overlap in (0, max_tokens // 4):
        chunks = chunk_sections("Fixture page", sections, TOKENIZER, max_tokens, overlap)
        where = f"{name} max_tokens={max_tokens} overlap={overlap}"
        assert chunks, f"{where}: no chunks"
        _fits(chunks, max_tokens, where)
        paths = {s.heading_path for s in sections}
        for chunk in chunks:
            assert chunk.text.startswith("Fixture page"), f"{where}: chunk {chunk.index} lacks the title prefix"
            assert chunk.heading_path in paths or chunk.heading_path == (), (
                f"{where}: unknown heading path {chunk.heading_path}"
            )
            expected_prefix = " > ".join(("Fixture page", *chunk.heading_path))
            if max_tokens >= 128:
                assert chunk.text.split("\n", 1)[0] == expected_prefix, (
                    f"{where}: prefix line wrong in chunk {chunk.index}"
                )


def test_prefix_and_heading_path() -> None:
    sections = [Section(("Deploys", "Rollback"), "Run the rollback job.")]
    chunks = chunk_sections("Runbooks", sections, TOKENIZER, 128)
    assert chunks == [Chunk(0, ("Deploys", "Rollback"), "Runbooks > Deploys > Rollback\n\nRun the rollback job.")], (
        chunks
    )


def test_prefix_carries_the_breadcrumb_then_the_heading_path() -> None:
    sections = [Section(("Steps to roll back",), "Revert the release tag.")]
    chunks = chunk_sections("Rollback", sections, TOKENIZER, 128, breadcrumb=("Engineering Home", "Runbooks"))
    assert chunks[0].text.split("\n", 1)[0] == "Engineering Home > Runbooks > Rollback > Steps to roll back", (
        f"breadcrumb prefix wrong: {chunks[0].text!r}"
    )
    assert chunks[0].heading_path == ("Steps to roll back",), "the heading path must not include the breadcrumb"


def test_long_breadcrumb_drops_ancestors_from_the_root_side_first() -> None:
    breadcrumb = tuple(f"Ancestor number {n} with a rather long title" for n in range(12))
    chunks = chunk_sections("Rollback", [Section(("Steps",), "Revert.")], TOKENIZER, 64, breadcrumb=breadcrumb)
    first_line = chunks[0].text.split("\n", 1)[0]
    assert first_line.endswith("Rollback > Steps"), f"title and heading must survive a long breadcrumb: {first_line!r}"
    assert "Ancestor number 0 " not in first_line, f"the root-most ancestor should go first: {first_line!r}"
    assert TOKENIZER.count_many([chunks[0].text])[0] <= 64, "chunk over the token limit"


def test_empty_page_gives_title_chunk() -> None:
    assert chunk_sections("Lonely page", [], TOKENIZER, 64) == [Chunk(0, (), "Lonely page")], (
        "empty page must be findable by title"
    )
    sections = storage_to_sections('<ac:structured-macro ac:name="toc"/>')
    assert chunk_sections("Toc only", sections, TOKENIZER, 64) == [Chunk(0, (), "Toc only")], "toc-only page"


def test_heading_without_content_kept_only_when_leaf() -> None:
    sections = [Section(("A",), ""), Section(("A", "B"), "text"), Section(("C",), "")]
    chunks = chunk_sections("T", sections, TOKENIZER, 64)
    assert [c.text for c in chunks] == ["T > A > B\n\ntext", "T > C"], [c.text for c in chunks]


@pytest.mark.parametrize("max_tokens", (LIMITS[0], LIMITS[-1]))  # the widest and the narrowest: the same split path
def test_hundred_thousand_char_word(max_tokens: int) -> None:
    for word in ("x" * 100_000, "ab-" * 33_334, "漢字" * 50_000):
        chunks = chunk_sections("Word", [Section((), f"before {word} after")], TOKENIZER, max_tokens)
        _fits(chunks, max_tokens, f"100k-char word {word[:3]!r} at {max_tokens}")
        joined = "".join(c.text.split("\n\n", 1)[1] for c in chunks)
        assert joined.replace(" ", "").replace("\n", "") == f"before{word}after".replace(" ", ""), (
            f"{word[:3]!r}: text lost or altered"
        )


@pytest.mark.parametrize("max_tokens", LIMITS)
def test_giant_code_block_reopens_fence(max_tokens: int) -> None:
    code = "\n".join(f"    value_{i} = compute(value_{i - 1}, {i})  # step {i}" for i in range(2_000))
    text = f"Intro paragraph.\n\n```python\n{code}\n```\n\nOutro paragraph."
    chunks = chunk_sections("Code", [Section(("Impl",), text)], TOKENIZER, max_tokens)
    _fits(chunks, max_tokens, f"giant code at {max_tokens}")
    code_chunks = [c for c in chunks if "value_" in c.text]
    assert len(code_chunks) > 10, "giant code not split"
    for chunk in code_chunks:
        lines = chunk.text.split("\n")
        code_rows = [i for i, line in enumerate(lines) if line.startswith("    value_")]
        opening = [i for i, line in enumerate(lines) if line.startswith("```python")]
        closing = [i for i, line in enumerate(lines) if line == "```"]
        assert opening and opening[0] < code_rows[0], f"code chunk {chunk.index} does not re-open the fence"
        assert closing and closing[-1] > code_rows[-1], f"code chunk {chunk.index} does not close the fence"
    lines = [line for c in code_chunks for line in c.text.split("\n") if line.startswith("    value_")]
    assert lines == code.split("\n") or max_tokens <= 32, f"code lines lost or reordered at {max_tokens}"


@pytest.mark.parametrize("max_tokens", LIMITS)
def test_giant_table_repeats_header(max_tokens: int) -> None:
    rows = "\n".join(f"| row {i} | value {i} |" for i in range(500))
    text = f"| Name | Value |\n|---|---|\n{rows}"
    chunks = chunk_sections("Table", [Section(("Data",), text)], TOKENIZER, max_tokens)
    _fits(chunks, max_tokens, f"giant table at {max_tokens}")
    assert len(chunks) > 5, "giant table not split"
    for chunk in chunks:
        assert chunk.text.split("\n\n", 1)[1].startswith("| Name | Value |"), (
            f"table chunk {chunk.index} lacks header row"
        )
    found = [line for c in chunks for line in c.text.split("\n") if line.startswith("| row ")]
    assert found == rows.split("\n"), "table rows lost, duplicated or reordered"


def test_overlap_carries_previous_tail_within_section_only() -> None:
    sentences = " ".join(f"Sentence number {i} talks about topic {i}." for i in range(60))
    sections = [Section(("One",), sentences), Section(("Two",), "Short second section.")]
    plain = chunk_sections("O", sections, TOKENIZER, 64, 0)
    overlapped = chunk_sections("O", sections, TOKENIZER, 64, 12)
    _fits(overlapped, 64, "overlap 12")
    first_section = [c for c in overlapped if c.heading_path == ("One",)]
    assert len(first_section) >= len([c for c in plain if c.heading_path == ("One",)]), (
        "overlap should not reduce chunks"
    )
    for previous, current in zip(first_section, first_section[1:], strict=False):
        start = current.text.split("\n\n", 2)[1]
        assert start in previous.text, f"chunk {current.index} does not start with the tail of chunk {previous.index}"
        assert TOKENIZER.count(start) - TOKENIZER.special_tokens <= 12, "tail longer than overlap_tokens"
    second = [c for c in overlapped if c.heading_path == ("Two",)]
    assert second[0].text == "O > Two\n\nShort second section.", "overlap must not cross sections"


def test_long_heading_path_prefix_is_truncated_but_content_fits() -> None:
    path = tuple(f"Very long heading number {i} with many words" for i in range(40))
    chunks = chunk_sections("Title", [Section(path, "The actual content of this section. " * 20)], TOKENIZER, 64, 8)
    _fits(chunks, 64, "long prefix")
    assert all("actual content" in c.text for c in chunks), "no room left for content"
    assert all(c.heading_path == path for c in chunks), "heading_path metadata must stay complete"


def test_deterministic() -> None:
    body = next(b for n, b in BODIES if n.endswith("test-page.storage.xhtml"))
    runs = [chunk_sections("T", storage_to_sections(body), TOKENIZER, 64, 8) for _ in range(3)]
    assert runs[0] == runs[1] == runs[2], "chunking not deterministic"


def test_split_blocks_recognises_fences_tables_paragraphs() -> None:
    blocks = split_blocks("para one\nline two\n\n```py\na\n\nb\n```\n| h |\n|---|\n| r |\n\nend")
    assert [(b.kind, b.text) for b in blocks] == [
        ("text", "para one\nline two"),
        ("code", "```py\na\n\nb\n```"),
        ("table", "| h |\n|---|\n| r |"),
        ("text", "end"),
    ], blocks


def test_validate_chunking_errors() -> None:
    validate_chunking(256, 32, 256)
    with pytest.raises(ValueError, match="max_seq_length"):
        validate_chunking(512, 0, 256)
    with pytest.raises(ValueError, match="half"):
        validate_chunking(128, 64, 256)
    with pytest.raises(ValueError, match="negative"):
        validate_chunking(128, -1, 256)
    with pytest.raises(ValueError, match="too small"):
        validate_chunking(8, 0, 256)
    with pytest.raises(ValueError, match="half"):
        chunk_sections("T", [Section((), "x")], TOKENIZER, 64, 40)
