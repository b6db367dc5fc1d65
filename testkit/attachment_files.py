"""Attachment files of every supported format, written by code (nothing copied in), plus hostile ones.

Used by the extraction tests, the sample site's attachments and the benchmarks. Each builder returns bytes.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
import zipfile

FIXED_TIME = (2024, 1, 1, 0, 0, 0)  # zip entries and document properties: the same bytes whenever they are built


def _fixed_zip(data: bytes) -> bytes:
    """The same Office file with every zip entry dated FIXED_TIME: the libraries stamp entries with the current time,
    so two builds of one file (the stand-in's, a test's) differed whenever a second boundary fell between them."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=FIXED_TIME)
            fixed.compress_type = entry.compress_type
            fixed.external_attr = entry.external_attr
            content = source.read(entry.filename)
            if entry.filename == "docProps/core.xml":  # openpyxl writes the time of saving as `modified`
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>2024-01-01T00:00:00Z\2", content)
            target.writestr(fixed, content)
    return out.getvalue()


def pdf_bytes(lines: list[str]) -> bytes:
    """A one-page PDF whose text layer is `lines` (Helvetica), written object by object with a correct xref."""

    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"] + [f"({esc(line)}) Tj T*" for line in lines] + ["ET"]
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def encrypted_pdf_bytes(password: str = "s3cret") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes(["Locked text"]))))
    writer.encrypt(user_password=password, algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def corrupt_pdf_bytes() -> bytes:
    """A PDF header, then the middle of a real PDF cut away: no xref, a truncated object."""
    good = pdf_bytes(["This will not survive"])
    return good[:120] + b"\x00\xff garbage \x00" * 8


def docx_bytes(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    import docx

    document = docx.Document()
    for number, text in enumerate(paragraphs):
        if number == 0:
            document.add_heading(text, level=1)
        else:
            document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    buf = io.BytesIO()
    document.save(buf)
    return _fixed_zip(buf.getvalue())


def pptx_bytes(slides: list[tuple[str, str]]) -> bytes:
    from pptx import Presentation

    deck = Presentation()
    for title, body in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
    buf = io.BytesIO()
    deck.save(buf)
    return _fixed_zip(buf.getvalue())


def xlsx_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.properties.created = datetime.datetime(*FIXED_TIME)
    buf = io.BytesIO()
    workbook.save(buf)
    return _fixed_zip(buf.getvalue())


def csv_bytes(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode()


def html_bytes(title: str, body: str) -> bytes:
    return f"<html><head><title>{title}</title><style>p{{color:red}}</style></head><body><h1>{title}</h1><p>{body}</p></body></html>".encode()


def json_bytes(value: object) -> bytes:
    return json.dumps(value).encode()


def zip_bomb_docx_bytes(uncompressed_bytes: int = 300 * 1024 * 1024, declared_bytes: int | None = None) -> bytes:
    """A real DOCX whose word/document.xml inflates to `uncompressed_bytes` of whitespace (~1000:1). With
    `declared_bytes`, the zip directory lies and declares that size instead (the central directory is what
    readers trust)."""
    source = zipfile.ZipFile(io.BytesIO(docx_bytes(["Bomb"])))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for item in source.infolist():
            if item.filename != "word/document.xml":
                out.writestr(item, source.read(item))
        with out.open("word/document.xml", "w", force_zip64=True) as member:
            block = b" " * (1 << 20)
            left = uncompressed_bytes
            while left > 0:
                member.write(block[: min(left, len(block))])
                left -= len(block)
        if declared_bytes is not None:
            out.getinfo("word/document.xml").file_size = declared_bytes
    return buf.getvalue()
