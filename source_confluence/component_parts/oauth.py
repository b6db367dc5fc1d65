"""OAuth 2.0 through Atlassian's gateway, with the CDK's own authenticators: client credentials (service accounts)
and an access token with a rotating refresh token (3LO apps). One authenticator per run serves the streams and every
request made outside them (`Probe`), so a rotated refresh token is never used twice; each rotation is emitted as an
Airbyte CONTROL message (connectorConfig) by the CDK's `SingleUseRefreshTokenOauth2Authenticator`, as Airbyte's own
OAuth connectors do, so the platform stores the new token before the old one stops working."""

import threading
from collections.abc import Mapping
from dataclasses import InitVar, dataclass, field
from typing import Any

import requests
from airbyte_cdk.sources.declarative.auth.declarative_authenticator import DeclarativeAuthenticator
from airbyte_cdk.sources.streams.http.requests_native_auth import (
    Oauth2Authenticator,
    SingleUseRefreshTokenOauth2Authenticator,
)
from airbyte_cdk.sources.types import Config
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets

OAUTH_TYPES = ("oauth2_client_credentials", "oauth2_refresh_token")
DEFAULT_TOKEN_URL = "https://auth.atlassian.com/oauth/token"

_OAUTH_SHARED: dict[tuple[str, ...], Any] = {}
_OAUTH_LOCK = threading.Lock()


def is_oauth(config: Mapping[str, Any]) -> bool:
    return (config.get("credentials") or {}).get("auth_type") in OAUTH_TYPES


def _user_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The config as the user gave it (no derived `normalised_*` keys): what a CONTROL message hands back to the
    platform to store, with the rotated token in it."""
    kept = {k: v for k, v in config.items() if not str(k).startswith("normalised_") and k != "diagnose_connection"}
    kept["credentials"] = dict(config.get("credentials") or {})
    return kept


def shared_oauth(config: Mapping[str, Any]) -> Any:
    """The run's one OAuth authenticator for these credentials (built on first use): the streams' and every other
    request's, so a rotated refresh token is never presented twice."""
    credentials = config.get("credentials") or {}
    token_url = str(credentials.get("token_url") or DEFAULT_TOKEN_URL)
    # the refresh token given is part of the key: a run given an older config gets its own (failing) refresh
    key = tuple(str(credentials.get(n) or "") for n in ("auth_type", "client_id", "refresh_token")) + (token_url,)
    with _OAUTH_LOCK:
        if key not in _OAUTH_SHARED:
            for secret in ("client_secret", "refresh_token", "access_token"):
                if credentials.get(secret):
                    add_to_secrets(str(credentials[secret]))
            if credentials.get("auth_type") == "oauth2_client_credentials":
                _OAUTH_SHARED[key] = Oauth2Authenticator(
                    token_refresh_endpoint=token_url,
                    client_id=str(credentials.get("client_id") or ""),
                    client_secret=str(credentials.get("client_secret") or ""),
                    refresh_token="",
                    grant_type="client_credentials",
                )
            else:
                _OAUTH_SHARED[key] = _RotatingRefreshToken(
                    connector_config=_user_config(config),
                    token_refresh_endpoint=token_url,
                    client_id=str(credentials.get("client_id") or ""),
                    client_secret=str(credentials.get("client_secret") or ""),
                    refresh_token_error_status_codes=(400, 401, 403),
                    refresh_token_error_key="error",
                    refresh_token_error_values=("invalid_grant",),
                )
        return _OAUTH_SHARED[key]


class _RotatingRefreshToken(SingleUseRefreshTokenOauth2Authenticator):
    """The CDK's single-use refresh token authenticator whose new tokens are masked in every log from then on."""

    def refresh_and_set_access_token(self) -> None:
        super().refresh_and_set_access_token()
        for value in (self.access_token, self.get_refresh_token()):
            if value:
                add_to_secrets(str(value))

    def get_access_token(self) -> str:
        token = super().get_access_token()
        add_to_secrets(token)
        return token


def refresh_after_401(config: Mapping[str, Any]) -> bool:
    """For a request outside the streams answered 401: refresh the token once (True when it was refreshed)."""
    if not is_oauth(config):
        return False
    authenticator = shared_oauth(config)
    try:
        authenticator.refresh_and_set_access_token()
        add_to_secrets(str(authenticator.access_token))
    except Exception:  # noqa: BLE001 - the request's own 401 is what gets reported
        return False
    return True


@dataclass
class ConfluenceOAuth(DeclarativeAuthenticator):
    """The manifest's authenticator for the OAuth credentials: the run's shared CDK authenticator (Bearer token,
    refreshed before it expires, and after a 401 through the CDK's REFRESH_TOKEN_THEN_RETRY)."""

    config: Config
    parameters: InitVar[Mapping[str, Any]] = None
    _inner: Any = field(init=False, default=None)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._inner = shared_oauth(self.config)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.update(self.get_auth_header())
        return request

    def get_auth_header(self) -> Mapping[str, Any]:
        return {"Authorization": f"Bearer {self._inner.get_access_token()}"}

    @property
    def auth_header(self) -> str:
        return "Authorization"

    @property
    def token(self) -> str:
        return f"Bearer {self._inner.get_access_token()}"

    def refresh_and_set_access_token(self) -> None:
        refresh_after_401(self.config)
