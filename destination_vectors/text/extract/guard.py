"""The parent side of extraction: limits checked before work, one worker process bounded in time and memory."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from destination_vectors.text.extract.formats import SUPPORTED_MEDIA_TYPES, normalise_media_type, resolve_format
from destination_vectors.text.extract.worker import _LEN


class ExtractLimits(BaseModel):
    """What one attachment may cost. Defaults suit a laptop; every value is in docs/configuration.md (`attachments.*`)."""

    model_config = ConfigDict(extra="forbid", title="Attachment limits")

    attachment_max_bytes: int = Field(20 * 1024 * 1024, ge=1, description="Larger files are not downloaded.")
    attachment_media_types: list[str] = Field(
        default_factory=lambda: list(SUPPORTED_MEDIA_TYPES),
        description="Allow-list of media types to extract; others are recorded as unsupported_type.",
    )
    attachment_timeout_seconds: float = Field(30.0, gt=0, description="Wall time per file before it is abandoned.")
    attachment_max_text_chars: int = Field(
        500_000,
        ge=1,
        description="Extracted text beyond this is cut (and marked truncated), so a huge sheet "
        "cannot turn into hours of embedding.",
    )
    attachment_max_uncompressed_bytes: int = Field(
        200 * 1024 * 1024, ge=1, description="An office file (a zip) declaring more is refused as too_large."
    )
    attachment_max_memory_bytes: int = Field(
        1024 * 1024 * 1024, ge=64 * 1024 * 1024, description="Address-space limit of the extraction process."
    )


@dataclass(frozen=True)
class Extraction:
    status: str  # ok | too_large | unsupported_type | failed: <reason>
    text: str = ""
    truncated: bool = False
    detail: str = ""


def precheck(
    media_type: str | None, filename: str | None, size: int | None, limits: ExtractLimits
) -> Extraction | None:
    """The verdict from metadata alone (so nothing is downloaded), or None when the file should be read."""
    allowed = {normalise_media_type(t) for t in limits.attachment_media_types}
    fmt = resolve_format(media_type, filename)
    if fmt is None or not _allowed(fmt, normalise_media_type(media_type), allowed):
        return Extraction("unsupported_type", detail=f"media type {media_type!r}")
    if size is not None and size > limits.attachment_max_bytes:
        return Extraction("too_large", detail=f"{size} bytes (limit {limits.attachment_max_bytes})")
    return None


def _allowed(fmt: str, media_type: str, allowed: set[str]) -> bool:
    from destination_vectors.text.extract.formats import MEDIA_TYPES

    return media_type in allowed or any(t in allowed for t in MEDIA_TYPES[fmt])


class Extractor:
    """Owns one worker process, started on first use and replaced after a time-out or a crash. Not thread-safe."""

    def __init__(self, limits: ExtractLimits | None = None) -> None:
        self.limits = limits or ExtractLimits()
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Extractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._proc is not None:
            proc, self._proc = self._proc, None
            try:
                proc.stdin.close()  # type: ignore[union-attr]
                proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()

    def extract(self, data: bytes, media_type: str | None, filename: str | None = None) -> Extraction:
        verdict = precheck(media_type, filename, len(data), self.limits)
        if verdict is not None:
            return verdict
        request = {
            "format": resolve_format(media_type, filename),
            "max_text_chars": self.limits.attachment_max_text_chars,
            "max_uncompressed_bytes": self.limits.attachment_max_uncompressed_bytes,
        }
        try:
            reply = self._ask(json.dumps(request).encode(), data)
        except TimeoutError:
            self._kill()
            return Extraction(f"failed: timed out after {self.limits.attachment_timeout_seconds:g} s")
        except (OSError, ValueError, EOFError) as exc:
            code = self._kill()
            return Extraction(f"failed: extractor stopped ({type(exc).__name__}, exit {code})")
        return Extraction(reply["status"], reply.get("text", ""), bool(reply.get("truncated")), reply.get("detail", ""))

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "destination_vectors.text.extract.worker",
                    str(self.limits.attachment_max_memory_bytes),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=os.environ.copy(),
            )
        return self._proc

    def _kill(self) -> int | None:
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        proc.kill()
        return proc.wait()

    def _ask(self, header: bytes, data: bytes) -> dict:
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        for payload in (header, data):
            proc.stdin.write(_LEN.pack(len(payload)) + payload)
        proc.stdin.flush()
        deadline = time.monotonic() + self.limits.attachment_timeout_seconds
        size = _LEN.unpack(self._read_exact(proc, _LEN.size, deadline))[0]
        return json.loads(self._read_exact(proc, size, deadline))

    @staticmethod
    def _read_exact(proc: subprocess.Popen[bytes], size: int, deadline: float) -> bytes:
        """Read `size` bytes from the worker, or raise TimeoutError at the deadline and EOFError if it died."""
        fd = proc.stdout.fileno()  # type: ignore[union-attr]
        buf = bytearray()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while len(buf) < size:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not sel.select(remaining):
                    raise TimeoutError
                chunk = os.read(fd, min(size - len(buf), 1 << 20))
                if not chunk:
                    raise EOFError
                buf += chunk
        return bytes(buf)
