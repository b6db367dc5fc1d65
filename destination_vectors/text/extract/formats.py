"""Pure bytes -> text for each supported attachment format. No I/O, no limits on time: the worker guards those.

Libraries (chosen over markitdown, which pulls many converters and network-capable extras): pypdf (pure Python,
reads encrypted/malformed PDFs with clear errors), python-docx, python-pptx, openpyxl (read-only streaming for
large sheets), bs4's html.parser (already used for storage XHTML) and the stdlib for CSV, JSON and text.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath

# format name -> media types Confluence reports for it
MEDIA_TYPES: dict[str, tuple[str, ...]] = {
    "pdf": ("application/pdf",),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation",),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",),
    "csv": ("text/csv",),
    "txt": ("text/plain",),
    "md": ("text/markdown", "text/x-markdown"),
    "html": ("text/html", "application/xhtml+xml"),
    "json": ("application/json",),
}
SUPPORTED_MEDIA_TYPES: list[str] = [t for types in MEDIA_TYPES.values() for t in types]
_BY_MEDIA_TYPE = {t: fmt for fmt, types in MEDIA_TYPES.items() for t in types}
_BY_SUFFIX = {".pdf": "pdf", ".docx": "docx", ".pptx": "pptx", ".xlsx": "xlsx", ".csv": "csv", ".txt": "txt"}
_BY_SUFFIX |= {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".json": "json"}
# Confluence labels files it does not recognise with these; then the file name decides.
_GENERIC = {"", "application/octet-stream", "binary/octet-stream", "application/zip", "application/x-zip-compressed"}
_ZIP_FORMATS = {"docx", "pptx", "xlsx"}
_MAX_ZIP_MEMBERS = 10_000


class ExtractionError(Exception):
    """The file cannot be read; the message becomes `failed: <message>`."""


class ArchiveTooLarge(ExtractionError):
    """An office file's zip directory declares more uncompressed bytes than allowed (a zip bomb)."""


def normalise_media_type(media_type: str | None) -> str:
    return (media_type or "").split(";", 1)[0].strip().lower()


def resolve_format(media_type: str | None, filename: str | None) -> str | None:
    """The format to extract, or None when unsupported. A generic media type defers to the file name's suffix."""
    mt = normalise_media_type(media_type)
    if mt in _BY_MEDIA_TYPE:
        return _BY_MEDIA_TYPE[mt]
    if mt in _GENERIC:
        return _BY_SUFFIX.get(PurePosixPath(filename or "").suffix.lower())
    return None


def check_archive(data: bytes, max_uncompressed_bytes: int) -> None:
    """Refuse a zip whose directory declares too much: Python's zipfile never inflates past a member's declared
    size, so bounding the declared sizes bounds the memory any reader can be made to use."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ExtractionError(f"not a valid office file ({exc})") from None
    if len(members) > _MAX_ZIP_MEMBERS:
        raise ArchiveTooLarge(f"archive has {len(members)} members (limit {_MAX_ZIP_MEMBERS})")
    total = sum(m.file_size for m in members)
    if total > max_uncompressed_bytes:
        raise ArchiveTooLarge(f"archive expands to {total} bytes (limit {max_uncompressed_bytes})")


class _Capped:
    """Collects text pieces until a character budget is spent; extractors stop reading once it is full."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.parts: list[str] = []
        self.size = 0
        self.truncated = False

    def add(self, piece: str) -> bool:
        """Add a piece; False once the budget is spent (the caller stops reading)."""
        piece = piece.strip()
        if not piece:
            return True
        room = self.max_chars - self.size
        if len(piece) > room:
            if room > 0:
                self.parts.append(piece[:room])
            self.size, self.truncated = self.max_chars, True
            return False
        self.parts.append(piece)
        self.size += len(piece) + 1
        return True

    def feed(self, pieces: Iterable[str]) -> None:
        for piece in pieces:
            if not self.add(piece):
                return

    def text(self) -> str:
        return "\n".join(self.parts)


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM); otherwise Windows-1252 with replacement, so no byte sequence fails."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _pdf(data: bytes) -> Iterator[str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionError("encrypted PDF (needs a password)")
        for page in reader.pages:
            yield page.extract_text() or ""
    except ExtractionError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, NotImplementedError) as exc:
        raise ExtractionError(f"unreadable PDF ({type(exc).__name__}: {exc})") from None


def _docx(data: bytes) -> Iterator[str]:
    import docx

    document = docx.Document(io.BytesIO(data))
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            yield "".join(t.text or "" for t in block.iter() if t.tag.endswith("}t"))
        elif tag == "tbl":
            for row in block.iter():
                if row.tag.endswith("}tr"):
                    cells = ["".join(t.text or "" for t in c.iter() if t.tag.endswith("}t")) for c in row]
                    yield " | ".join(c for c in cells if c)


def _pptx(data: bytes) -> Iterator[str]:
    from pptx import Presentation

    for number, slide in enumerate(Presentation(io.BytesIO(data)).slides, start=1):
        yield f"Slide {number}"
        for shape in slide.shapes:
            if shape.has_text_frame:
                yield shape.text_frame.text
            if getattr(shape, "has_table", False) and shape.has_table:
                for row in shape.table.rows:
                    yield " | ".join(cell.text for cell in row.cells)


def _xlsx(data: bytes) -> Iterator[str]:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        for sheet in workbook.worksheets:
            yield f"Sheet {sheet.title}"
            for row in sheet.iter_rows(values_only=True):
                cells = ["" if v is None else str(v) for v in row]
                if any(cells):
                    yield " | ".join(cells).rstrip(" |")
    finally:
        workbook.close()


def _csv(data: bytes) -> Iterator[str]:
    try:
        for row in csv.reader(io.StringIO(decode_text(data))):
            yield " | ".join(row)
    except csv.Error as exc:
        raise ExtractionError(f"unreadable CSV ({exc})") from None


def _html(data: bytes) -> Iterator[str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(data), "html.parser")
    for hidden in soup(["script", "style"]):
        hidden.decompose()
    yield soup.get_text("\n")


def _json(data: bytes) -> Iterator[str]:
    try:
        value = json.loads(decode_text(data))
    except ValueError as exc:
        raise ExtractionError(f"unreadable JSON ({exc})") from None
    yield json.dumps(value, indent=1, ensure_ascii=False)


def _plain(data: bytes) -> Iterator[str]:
    yield from decode_text(data).splitlines()


_EXTRACTORS = {"pdf": _pdf, "docx": _docx, "pptx": _pptx, "xlsx": _xlsx, "csv": _csv}
_EXTRACTORS |= {"txt": _plain, "md": _plain, "html": _html, "json": _json}


def extract_text(data: bytes, fmt: str, *, max_text_chars: int, max_uncompressed_bytes: int) -> tuple[str, bool]:
    """(text, truncated) for a supported format; raises ExtractionError when the file cannot be read."""
    if fmt in _ZIP_FORMATS:
        check_archive(data, max_uncompressed_bytes)
    capped = _Capped(max_text_chars)
    try:
        capped.feed(_EXTRACTORS[fmt](data))
    except ExtractionError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, AttributeError, OSError) as exc:
        raise ExtractionError(f"unreadable {fmt.upper()} ({type(exc).__name__}: {exc})") from None
    return capped.text(), capped.truncated
