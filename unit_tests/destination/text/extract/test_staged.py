"""A file-transfer record's staged file: read up to the size limit, extracted, removed; problems are statuses."""

from __future__ import annotations

from pathlib import Path

from destination_vectors.text.extract import ExtractLimits, Extractor
from destination_vectors.text.extract.staged import extract_staged, staged_path


def test_staged_path_from_model_or_dict() -> None:
    class Ref:
        staging_file_url = "/tmp/x/att1/v1"

    assert staged_path(Ref()) == Path("/tmp/x/att1/v1"), "pydantic-like file_reference not read"
    assert staged_path({"staging_file_url": "file:///tmp/y"}) == Path("/tmp/y"), "dict file_reference not read"
    assert staged_path(None) is None, "a record without file_reference must give no path"


def test_missing_and_oversized_staged_files_are_statuses(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 2_000)
    with Extractor(ExtractLimits(attachment_max_bytes=1_000)) as extractor:
        missing = extract_staged(extractor, tmp_path / "gone.txt", "text/plain", "gone.txt")
        none = extract_staged(extractor, None, "text/plain", "a.txt")
        oversized = extract_staged(extractor, big, "text/plain", "big.txt")
    assert missing.status.startswith("failed: staged file unreadable"), missing
    assert none.status == "failed: no file was delivered with the record", none
    assert oversized.status == "too_large", oversized
    assert not big.exists(), "an oversized staged file must still be removed"
