"""Pieces both API versions share: the result type, Confluence-style errors, opaque cursors, query parsing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from urllib.parse import quote

Query = dict[str, list[str]]

# Cursors are signed so that one the server did not issue (or issued for another endpoint) is refused with a 400,
# as Confluence refuses garbage cursors. The key is fixed so cursors are stable across runs (benchmarks diff them).
_CURSOR_KEY = b"confluence-stand-in-cursor-key"


@dataclass
class ApiResult:
    """What a handler answers: status, a JSON-able body, extra headers."""

    status: int
    body: object
    headers: dict[str, str] = field(default_factory=dict)


class BadRequest(Exception):
    """A parameter Confluence would refuse with 400."""


def v2_error(status: int, code: str, title: str) -> ApiResult:
    """v2 error shape: {"errors": [{"status", "code", "title", "detail"}]}."""
    return ApiResult(status, {"errors": [{"status": status, "code": code, "title": title, "detail": None}]})


def v1_error(status: int, message: str) -> ApiResult:
    """v1 error shape (Cloud and Data Center): {"statusCode", "data", "message", "reason"}."""
    reasons = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests"}
    data = {
        "authorized": status != 401,
        "valid": status != 400,
        "allowedInReadOnlyMode": True,
        "errors": [],
        "successful": False,
    }
    return ApiResult(
        status, {"statusCode": status, "data": data, "message": message, "reason": reasons.get(status, "Error")}
    )


def encode_cursor(path: str, after_id: str) -> str:
    """Opaque base64: the keyset position (last id served) plus a signature bound to the endpoint path."""
    signature = hmac.new(_CURSOR_KEY, f"{path}|{after_id}".encode(), hashlib.sha256).hexdigest()[:20]
    payload = json.dumps({"id": after_id, "contentOrder": "id", "sig": signature}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(path: str, cursor: str) -> str:
    """The id a cursor resumes after; BadRequest if the server did not issue it for this path."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        after_id = str(payload["id"])
        expected = hmac.new(_CURSOR_KEY, f"{path}|{after_id}".encode(), hashlib.sha256).hexdigest()[:20]
        if not after_id.isdigit() or not hmac.compare_digest(str(payload["sig"]), expected):
            raise ValueError("signature")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        raise BadRequest("Invalid cursor") from error
    return after_id


def query_values(query: Query, name: str) -> list[str]:
    """All values of a parameter, accepting both repeated (`keys=A&keys=B`) and comma-separated (`keys=A,B`)."""
    values: list[str] = []
    for raw in query.get(name, []):
        values.extend(v.strip() for v in raw.split(",") if v.strip())
    return values


def query_value(query: Query, name: str, default: str | None = None) -> str | None:
    values = query.get(name)
    return values[-1] if values else default


def int_param(query: Query, name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    """Parse an integer parameter; out-of-range or non-numeric values are a 400 (v2 validates `limit` strictly)."""
    raw = query_value(query, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise BadRequest(f"'{name}' must be an integer") from error
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise BadRequest(f"'{name}' must be {bound}")
    return value


def title_slug(title: str) -> str:
    """Confluence's URL form of a title: spaces become '+', everything else percent-encoded."""
    return quote(title, safe="").replace("%20", "+")


def tiny_code(page_id: str) -> str:
    """A short code for `/x/<code>` tiny links (Confluence base64-encodes the id the same way)."""
    raw = int(page_id).to_bytes(8, "little").rstrip(b"\0") or b"\0"
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def page_id_from_tiny_code(code: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(code + "=" * (-len(code) % 4))
    except (ValueError, TypeError):
        return None
    return str(int.from_bytes(raw, "little")) if raw else None
