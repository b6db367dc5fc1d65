"""Attachment bytes -> text, with limits that keep a hostile file from failing or stalling a sync.

`Extractor(limits).extract(data, media_type, filename)` returns an `Extraction` whose `status` is `ok`, `too_large`,
`unsupported_type` or `failed: <reason>`; it never raises for a bad file. `precheck(...)` answers the size and type
questions from metadata alone, before any byte is downloaded.
"""

from destination_vectors.text.extract.formats import MEDIA_TYPES, SUPPORTED_MEDIA_TYPES, resolve_format
from destination_vectors.text.extract.guard import Extraction, ExtractLimits, Extractor, precheck

__all__ = [
    "MEDIA_TYPES",
    "SUPPORTED_MEDIA_TYPES",
    "Extraction",
    "ExtractLimits",
    "Extractor",
    "precheck",
    "resolve_format",
]
