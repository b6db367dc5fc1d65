"""The extraction guard: limits from metadata, the worker's time and memory bounds, recovery after a bad file."""

from __future__ import annotations

import pytest

from destination_vectors.text.extract import ExtractLimits, Extractor, precheck
from testkit import attachment_files as files

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(scope="module")
def extractor():
    with Extractor() as ex:
        yield ex


def test_ok_file_gives_text(extractor: Extractor) -> None:
    result = extractor.extract(files.pdf_bytes(["The VPN gateway is vpn.example.com"]), "application/pdf", "vpn.pdf")
    assert result.status == "ok", f"a valid PDF gave {result.status}"
    assert "vpn.example.com" in result.text, f"PDF text missing: {result.text!r}"


def test_precheck_refuses_large_and_unlisted_without_bytes() -> None:
    limits = ExtractLimits(attachment_max_bytes=1_000, attachment_media_types=["application/pdf"])
    assert precheck("application/pdf", "a.pdf", 1_001, limits).status == "too_large", "oversize PDF not too_large"
    assert precheck("text/csv", "a.csv", 10, limits).status == "unsupported_type", "CSV outside allow-list accepted"
    assert precheck("image/png", "a.png", 10, ExtractLimits()).status == "unsupported_type", "PNG accepted"
    assert precheck("application/pdf", "a.pdf", 1_000, limits) is None, "a PDF at the size limit was refused"


def test_billion_row_csv_is_too_large_before_download() -> None:
    # a billion rows of "1,2\n" is 4 GB: refused from its declared size alone, never read
    verdict = precheck("text/csv", "rows.csv", 4 * 10**9, ExtractLimits())
    assert verdict is not None and verdict.status == "too_large", f"4 GB CSV got {verdict}"


def test_many_row_csv_within_limits_is_cut_not_stalled() -> None:
    limits = ExtractLimits(attachment_max_text_chars=5_000)
    data = b"".join(b"%d,row\n" % i for i in range(1_000_000))  # ~11 MB, a million rows
    with Extractor(limits) as ex:
        result = ex.extract(data, "text/csv", "rows.csv")
    assert result.status == "ok" and result.truncated, (
        f"million-row CSV gave {result.status}, truncated={result.truncated}"
    )
    assert len(result.text) <= 5_000, f"text of {len(result.text)} chars exceeds the budget"


def test_zip_bomb_docx_is_too_large(extractor: Extractor) -> None:
    result = extractor.extract(files.zip_bomb_docx_bytes(), DOCX, "bomb.docx")
    assert result.status == "too_large", f"a 300 MB-expanding DOCX gave {result.status}"


def test_bomb_past_the_zip_check_hits_the_memory_limit_not_the_sync() -> None:
    limits = ExtractLimits(attachment_max_uncompressed_bytes=2**31, attachment_max_memory_bytes=256 * 1024 * 1024)
    with Extractor(limits) as ex:
        result = ex.extract(files.zip_bomb_docx_bytes(), DOCX, "bomb.docx")
        assert result.status.startswith("failed: "), f"bomb with the zip check off gave {result.status}"
        after = ex.extract(b"still alive", "text/plain", "a.txt")
    assert after.status == "ok", f"the extractor did not recover after the bomb: {after.status}"


@pytest.mark.parametrize(
    ("data", "reason"),
    [(files.corrupt_pdf_bytes(), "unreadable PDF"), (files.encrypted_pdf_bytes(), "encrypted PDF")],
)
def test_hostile_pdfs_are_failed_with_reason(extractor: Extractor, data: bytes, reason: str) -> None:
    result = extractor.extract(data, "application/pdf", "x.pdf")
    assert result.status.startswith(f"failed: {reason}"), f"expected failed: {reason}..., got {result.status}"


def test_time_limit_abandons_the_file_and_the_next_one_works() -> None:
    # the first request cannot finish within 1 ms (the worker has not even started): the guard gives up, kills it
    limits = ExtractLimits(attachment_timeout_seconds=0.001)
    with Extractor(limits) as ex:
        result = ex.extract(b"slow", "text/plain", "a.txt")
        assert result.status == "failed: timed out after 0.001 s", f"time limit not applied: {result.status}"
        ex.limits = ExtractLimits(attachment_timeout_seconds=30)
        after = ex.extract(b"next file", "text/plain", "b.txt")
    assert after.text == "next file", f"the extractor did not recover after a time-out: {after}"
