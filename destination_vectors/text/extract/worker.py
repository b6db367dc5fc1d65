"""The extraction worker: a child process that turns one file at a time into text, under a memory limit.

Run by `Extractor` as `python -m destination_vectors.text.extract.worker`; frames on stdin/stdout are an 8-byte length then
a JSON header (request: format, limits; reply: status, text, truncated, detail), the request followed by a second frame
with the file's bytes. A hostile file can exhaust only this process: the parent kills it on time-out and starts another.
"""

from __future__ import annotations

import json
import struct
import sys
from typing import Any, BinaryIO

_LEN = struct.Struct(">Q")


def write_frame(stream: BinaryIO, payload: bytes) -> None:
    stream.write(_LEN.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def read_frame(stream: BinaryIO) -> bytes | None:
    """One frame, or None at end of stream."""
    head = stream.read(_LEN.size)
    if len(head) < _LEN.size:
        return None
    (size,) = _LEN.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        return None
    return data


def handle(request: dict[str, Any], data: bytes) -> dict[str, Any]:
    """One request -> one reply; every error becomes a status, never an exception."""
    from destination_vectors.text.extract.formats import ArchiveTooLarge, ExtractionError, extract_text

    try:
        text, truncated = extract_text(
            data,
            request["format"],
            max_text_chars=request["max_text_chars"],
            max_uncompressed_bytes=request["max_uncompressed_bytes"],
        )
    except ArchiveTooLarge as exc:
        return {"status": "too_large", "text": "", "truncated": False, "detail": str(exc)}
    except ExtractionError as exc:
        return {"status": f"failed: {exc}", "text": "", "truncated": False, "detail": str(exc)}
    except MemoryError:
        return {"status": "failed: out of memory", "text": "", "truncated": False, "detail": "memory limit reached"}
    except Exception as exc:  # noqa: BLE001 - a library's unexpected error on a hostile file is a status, not a crash
        reason = f"{type(exc).__name__}: {exc}"[:200]
        return {"status": f"failed: {reason}", "text": "", "truncated": False, "detail": reason}
    clean = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates from odd PDFs become "?"
    return {"status": "ok", "text": clean, "truncated": truncated, "detail": ""}


def _limit_memory(max_memory_bytes: int) -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (max_memory_bytes, max_memory_bytes))
    except (ImportError, ValueError, OSError):  # not on this platform: the time limit still holds
        pass


def main() -> int:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a library that prints must not corrupt the frames
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    if limit:
        _limit_memory(limit)
    while True:
        header = read_frame(stdin)
        data = read_frame(stdin) if header is not None else None
        if header is None or data is None:
            return 0
        reply = handle(json.loads(header), data)
        write_frame(stdout, json.dumps(reply).encode("ascii"))


if __name__ == "__main__":
    raise SystemExit(main())
