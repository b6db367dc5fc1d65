"""An OAuth 2.0 token endpoint in Atlassian's shape (`POST /oauth/token`): client credentials (service accounts) and
refresh with rotation (3LO apps: each refresh hands out a new refresh token and the old one stops working). Access
tokens are accepted only through the gateway, and each dies after `requests_per_token` API requests (a count, not a
clock, so a test can make a sync outlive its token deterministically); then the API answers 401 as for an expired
token.

Shapes: `{"access_token", "expires_in", "token_type": "Bearer", "scope", "refresh_token"}` and, for a refresh token
used twice, 403 `{"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."}` (Atlassian's
"OAuth 2.0 (3LO) apps" guide, rotating refresh tokens; the CDK's own OAuth tests use the same fields).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from .common import ApiResult

PATH = "/oauth/token"


@dataclass
class OAuthServer:
    client_id: str = "demo-client"
    client_secret: str = "demo-client-secret"
    refresh_token: str = "demo-refresh-0"  # the one valid refresh token; rotated on each refresh
    requests_per_token: int = 0  # 0: an access token never dies
    expires_in: int = 3600
    refreshes: list[str] = field(default_factory=list)  # refresh tokens presented, in order
    issued: list[str] = field(default_factory=list)  # refresh tokens handed out, in order
    _uses: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __repr__(self) -> str:  # never show secrets in test output
        return f"OAuthServer(client_id={self.client_id!r}, refreshes={len(self.refreshes)})"

    def token(self, body: bytes | None, content_type: str) -> ApiResult:
        fields = _fields(body or b"", content_type)
        if fields.get("client_id") != self.client_id or fields.get("client_secret") != self.client_secret:
            return ApiResult(401, {"error": "access_denied", "error_description": "Unauthorized"})
        grant = fields.get("grant_type")
        with self._lock:
            if grant == "client_credentials":
                return ApiResult(200, self._grant(with_refresh=False))
            if grant == "refresh_token":
                presented = fields.get("refresh_token", "")
                self.refreshes.append(presented)
                if presented != self.refresh_token:
                    error = {"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."}
                    return ApiResult(403, error)
                return ApiResult(200, self._grant(with_refresh=True))
        return ApiResult(400, {"error": "unsupported_grant_type"})

    def _grant(self, with_refresh: bool) -> dict[str, object]:
        access = f"demo-access-{len(self._uses) + 1}"
        self._uses[access] = self.requests_per_token or -1
        answer: dict[str, object] = {
            "access_token": access,
            "expires_in": self.expires_in,
            "token_type": "Bearer",
            "scope": "read:confluence-content.all offline_access",
        }
        if with_refresh:
            self.refresh_token = f"demo-refresh-{len(self.issued) + 1}"
            self.issued.append(self.refresh_token)
            answer["refresh_token"] = self.refresh_token
        return answer

    def live(self) -> frozenset[str]:
        with self._lock:
            return frozenset(token for token, left in self._uses.items() if left != 0)

    def spend(self, authorization_header: str | None) -> None:
        """Count one API request made with an access token (it dies when its count runs out)."""
        token = (authorization_header or "").partition(" ")[2].strip()
        with self._lock:
            if self._uses.get(token, 0) > 0:
                self._uses[token] -= 1


def _fields(body: bytes, content_type: str) -> dict[str, str]:
    text = body.decode("utf-8", "replace")
    if "json" in content_type:
        try:
            loaded = json.loads(text)
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
    return dict(parse_qsl(text))
