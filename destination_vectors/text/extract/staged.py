"""Attachment bytes delivered by Airbyte file transfer: the record's `file_reference` names a staged file.

The source's `attachment_files` stream writes each changed attachment under the staging folder and sets
`file_reference.staging_file_url`; here the file is read (never more than the size limit), extracted, and removed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from destination_vectors.text.extract.guard import Extraction, Extractor, precheck

logger = logging.getLogger("airbyte")


def staged_path(file_reference: Any) -> Path | None:
    """The staged file's path from a record message's file_reference (pydantic model or dict), or None."""
    if file_reference is None:
        return None
    url = file_reference.get("staging_file_url") if isinstance(file_reference, Mapping) else None
    url = url or getattr(file_reference, "staging_file_url", None)
    if not url:
        return None
    return Path(str(url).removeprefix("file://"))


def extract_staged(
    extractor: Extractor, path: Path | None, media_type: str | None, filename: str | None, remove: bool = True
) -> Extraction:
    """Text of the staged file; a missing file, or one over the size limit, is a status (nothing read past it)."""
    if path is None:
        return Extraction("failed: no file was delivered with the record")
    try:
        size = path.stat().st_size
    except OSError as error:
        return Extraction(f"failed: staged file unreadable ({type(error).__name__})")
    try:
        verdict = precheck(media_type, filename, size, extractor.limits)
        if verdict is not None:
            return verdict
        with path.open("rb") as handle:
            data = handle.read(extractor.limits.attachment_max_bytes + 1)
        return extractor.extract(data, media_type, filename)
    finally:
        if remove:
            try:
                path.unlink()
            except OSError:
                logger.debug(f"staged file {path.name} could not be removed")
