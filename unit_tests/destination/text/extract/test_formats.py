"""Pure bytes -> text per format (no worker): each supported format, media-type resolution and the zip check."""

from __future__ import annotations

import pytest

from destination_vectors.text.extract.formats import (
    ArchiveTooLarge,
    ExtractionError,
    check_archive,
    decode_text,
    extract_text,
    resolve_format,
)
from testkit import attachment_files as files

BIG = 10**9


def _text(data: bytes, fmt: str, max_chars: int = 100_000) -> tuple[str, bool]:
    return extract_text(data, fmt, max_text_chars=max_chars, max_uncompressed_bytes=BIG)


@pytest.mark.parametrize(
    ("fmt", "data", "expected"),
    [
        (
            "pdf",
            files.pdf_bytes(["Failover takes (about) 90 seconds", "Page two line"]),
            ["Failover takes (about) 90 seconds", "Page two line"],
        ),
        (
            "docx",
            files.docx_bytes(["Spec", "The widget weighs 12 kg"], [["part", "qty"], ["bolt", "4"]]),
            ["Spec", "The widget weighs 12 kg", "bolt | 4"],
        ),
        ("pptx", files.pptx_bytes([("Roadmap", "Ship v2 in March")]), ["Slide 1", "Roadmap", "Ship v2 in March"]),
        (
            "xlsx",
            files.xlsx_bytes({"Budget": [["item", "cost"], ["laptops", 1200]]}),
            ["Sheet Budget", "laptops | 1200"],
        ),
        (
            "csv",
            files.csv_bytes([["name", "role"], ["Ana", "on-call, primary"]]),
            ["name | role", "Ana | on-call, primary"],
        ),
        ("txt", "Plain notes\r\nwith ünïcode".encode(), ["Plain notes", "with ünïcode"]),
        ("md", b"# Title\n\n- item one\n", ["# Title", "- item one"]),
        ("html", files.html_bytes("Guide", "Reset the router"), ["Guide", "Reset the router"]),
        ("json", files.json_bytes({"service": "billing", "owners": ["ops"]}), ['"service": "billing"', '"ops"']),
    ],
)
def test_each_format_yields_its_text(fmt: str, data: bytes, expected: list[str]) -> None:
    text, truncated = _text(data, fmt)
    for piece in expected:
        assert piece in text, f"{fmt}: {piece!r} missing from extracted text {text!r}"
    assert not truncated, f"{fmt}: small file reported truncated"


def test_html_drops_scripts_and_styles() -> None:
    text, _ = _text(b"<p>keep</p><script>var secret=1</script><style>p{}</style>", "html")
    assert text.strip() == "keep", f"script/style text leaked into {text!r}"


def test_text_is_capped_and_marked_truncated() -> None:
    rows = [[str(i), "x" * 20] for i in range(50_000)]
    text, truncated = _text(files.csv_bytes(rows), "csv", max_chars=1_000)
    assert truncated, "a 50,000-row CSV under a 1,000-char budget was not marked truncated"
    assert len(text) <= 1_000, f"text of {len(text)} chars exceeds the 1,000-char budget"


def test_exact_fit_is_not_truncated() -> None:
    text, truncated = _text(b"abcde", "txt", max_chars=5)
    assert (text, truncated) == ("abcde", False), f"an exact fit came back as {(text, truncated)}"


def test_non_utf8_text_decodes_without_error() -> None:
    assert decode_text(b"caf\xe9") == "café", "Windows-1252 fallback did not decode an e-acute"


@pytest.mark.parametrize(
    ("media_type", "filename", "expected"),
    [
        ("application/pdf", "x.bin", "pdf"),
        ("text/plain; charset=utf-8", None, "txt"),
        ("application/octet-stream", "Notes.MD", "md"),
        ("", "sheet.xlsx", "xlsx"),
        ("image/png", "photo.png", None),
        ("application/octet-stream", "tool.exe", None),
        ("image/png", "disguised.pdf", None),  # a specific, unsupported type is believed over the name
    ],
)
def test_resolve_format(media_type: str, filename: str | None, expected: str | None) -> None:
    assert resolve_format(media_type, filename) == expected, f"{media_type!r}/{filename!r} resolved wrongly"


def test_zip_directory_declaring_too_much_is_refused_before_reading() -> None:
    bomb = files.zip_bomb_docx_bytes(64 * 1024 * 1024)
    assert len(bomb) < 1024 * 1024, f"test bomb is {len(bomb)} bytes, expected a small file"
    with pytest.raises(ArchiveTooLarge, match="expands to"):
        check_archive(bomb, max_uncompressed_bytes=32 * 1024 * 1024)


def test_zip_directory_that_lies_is_bounded_by_its_declared_size() -> None:
    liar = files.zip_bomb_docx_bytes(32 * 1024 * 1024, declared_bytes=1_000)
    with pytest.raises(ExtractionError, match="CRC"):
        extract_text(liar, "docx", max_text_chars=1_000, max_uncompressed_bytes=1_000_000)


@pytest.mark.parametrize(
    ("fmt", "data", "reason"),
    [
        ("pdf", files.corrupt_pdf_bytes(), "unreadable PDF"),
        ("pdf", files.encrypted_pdf_bytes(), "encrypted PDF"),
        ("docx", b"PK\x03\x04 not really a zip", "not a valid office file"),
        ("xlsx", files.docx_bytes(["a docx named xlsx"]), "unreadable XLSX"),
        ("json", b"{not json", "unreadable JSON"),
        ("csv", b'"' + b"x" * 200_000 + b'"\n', "unreadable CSV"),
    ],
)
def test_broken_files_raise_extraction_error_with_reason(fmt: str, data: bytes, reason: str) -> None:
    with pytest.raises(ExtractionError, match=reason):
        _text(data, fmt)
