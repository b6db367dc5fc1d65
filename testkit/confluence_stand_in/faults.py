"""Fault injection, credentials and counters: what makes the stand-in behave like a busy, strict Confluence.

Faults are keyed on the API request number (1-based, counted only on API paths), never on wall-clock time, so a
test can say "request 5 gets a 429" and rely on it. Only one fault fires per request; the order of precedence is
reset > 5xx > 429 > slow > malformed JSON. Latency applies to every API request, faulted or not.
"""

from __future__ import annotations

import base64
import binascii
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True)
class Faults:
    """Which API requests misbehave, by request number (`every=N` means requests N, 2N, 3N, ...)."""

    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0  # plus uniform [0, jitter) drawn from `seed` and the request number
    status_429_every: int = 0
    retry_after: str | None = "1"  # None: send no Retry-After at all; any string is sent verbatim
    status_5xx_every: int = 0
    status_5xx_burst: int = 1  # how many requests in a row fail from each Nth one on
    status_5xx_code: int = 503
    reset_every: int = 0  # the socket is closed (RST) with no response
    slow_every: int = 0
    slow_seconds: float = 0.0  # respond after this delay; make it longer than the client's read timeout
    malformed_json_every: int = 0  # 200 with a truncated JSON body
    # endpoint families answered with 403 on every request, as for credentials without the right:
    # "space_permissions", "group_members", "restrictions" (see api_access.py)
    forbidden: frozenset[str] = frozenset()
    # Data Center space permission routes answering this HTTP status instead of the permissions, as for a non-admin or
    # a version without the route: "expand" (500, CONFSERVER-99908), "rest" (the 9.1+ route; 404 before 9.1),
    # "json_rpc" (404, 403, or 200 with a JSON-RPC error) (see api_dc_permissions.py)
    dc_space_permissions: tuple[tuple[str, int], ...] = ()
    seed: int = 0

    def latency_seconds(self, request_number: int) -> float:
        jitter = 0.0
        if self.latency_jitter_ms > 0:
            jitter = random.Random(self.seed * 1_000_003 + request_number).uniform(0, self.latency_jitter_ms)
        return (self.latency_ms + jitter) / 1000.0

    def decide(self, request_number: int) -> Fault:
        """The one fault (or NONE) for API request number `request_number` (1-based)."""
        n = request_number
        if _hits(n, self.reset_every):
            return Fault.RESET
        if (
            self.status_5xx_every > 0
            and n >= self.status_5xx_every
            and (n % self.status_5xx_every < max(1, self.status_5xx_burst))
        ):
            return Fault.SERVER_ERROR
        if _hits(n, self.status_429_every):
            return Fault.RATE_LIMITED
        if _hits(n, self.slow_every):
            return Fault.SLOW
        if _hits(n, self.malformed_json_every):
            return Fault.MALFORMED_JSON
        return Fault.NONE


class Fault(Enum):
    NONE = "none"
    RESET = "reset"
    SERVER_ERROR = "5xx"
    RATE_LIMITED = "429"
    SLOW = "slow"
    MALFORMED_JSON = "malformed_json"


def _hits(request_number: int, every: int) -> bool:
    return every > 0 and request_number % every == 0


@dataclass(frozen=True)
class Auth:
    """Accepted credentials: Basic (Cloud e-mail + API token) and Bearer (Data Center personal access token)."""

    username: str = "demo@example.com"
    api_token: str = "demo-api-token"
    bearer_token: str = "demo-pat"
    scoped_api_token: str = "demo-scoped-token"  # accepted only through the gateway (/ex/confluence/{cloudId})
    scoped_token_has_scopes: bool = True  # False: the gateway refuses it too, 401 "scope does not match"

    def __repr__(self) -> str:  # never show secrets in logs or test output
        return f"Auth(username={self.username!r}, api_token='***', bearer_token='***', scoped_api_token='***')"

    def verdict(self, authorization_header: str | None, via_gateway: bool, oauth_tokens: frozenset[str]) -> str:
        """`ok`, `scope` (401 "scope does not match") or `wrong` (401) for one request."""
        scheme, _, credentials = (authorization_header or "").strip().partition(" ")
        if scheme.lower() == "bearer" and credentials.strip() in oauth_tokens:
            return "ok" if via_gateway else "scope"
        if self.scoped_api_token and self._basic(authorization_header) == (self.username, self.scoped_api_token):
            return "ok" if via_gateway and self.scoped_token_has_scopes else "scope"
        return "ok" if self.accepts(authorization_header) else "wrong"

    @staticmethod
    def _basic(authorization_header: str | None) -> tuple[str, str] | None:
        scheme, _, credentials = (authorization_header or "").strip().partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            username, _, token = base64.b64decode(credentials.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return username, token

    def accepts(self, authorization_header: str | None) -> bool:
        if not authorization_header:
            return False
        scheme, _, credentials = authorization_header.strip().partition(" ")
        credentials = credentials.strip()
        if scheme.lower() == "bearer":
            return bool(self.bearer_token) and credentials == self.bearer_token
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return False
            username, separator, token = decoded.partition(":")
            return bool(separator) and username == self.username and token == self.api_token
        return False


DEFAULT_AUTH = Auth()


@dataclass
class Stats:
    """Thread-safe counters of what the stand-in saw and sent; read them with `snapshot()` or the properties."""

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _counts: Counter[str] = field(default_factory=Counter)
    _by_path: Counter[str] = field(default_factory=Counter)
    _api_requests: int = 0

    def next_api_request_number(self, path: str) -> int:
        """Count one API request and return its 1-based number (the key faults are decided on)."""
        with self._lock:
            self._api_requests += 1
            self._counts["requests"] += 1
            self._by_path[path] += 1
            return self._api_requests

    def count_other_request(self, path: str) -> None:
        with self._lock:
            self._counts["requests"] += 1
            self._counts["web_ui_requests"] += 1
            self._by_path[path] += 1

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[name] += amount

    def reset(self) -> None:
        """Zero every counter, including the request number faults are keyed on."""
        with self._lock:
            self._counts.clear()
            self._by_path.clear()
            self._api_requests = 0

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {**self._counts, "api_requests": self._api_requests, "by_path": dict(self._by_path)}

    @property
    def requests(self) -> int:
        return self._get("requests")

    @property
    def api_requests(self) -> int:
        with self._lock:
            return self._api_requests

    @property
    def status_429_sent(self) -> int:
        return self._get("status_429_sent")

    @property
    def status_5xx_sent(self) -> int:
        return self._get("status_5xx_sent")

    @property
    def resets(self) -> int:
        return self._get("resets")

    @property
    def by_path(self) -> dict[str, int]:
        with self._lock:
            return dict(self._by_path)

    def _get(self, name: str) -> int:
        with self._lock:
            return self._counts[name]
