"""The source's config for a stand-in server, on either deployment, with the stand-in's default credentials."""

from __future__ import annotations

from typing import Any

from testkit.confluence_stand_in import StandIn

CLOUD_CREDENTIALS = {"auth_type": "basic", "username": "demo@example.com", "api_token": "demo-api-token"}
DATA_CENTER_CREDENTIALS = {"auth_type": "bearer", "token": "demo-pat"}


def stand_in_config(server: StandIn, deployment: str, **fields: Any) -> dict[str, Any]:
    """`base_url`, `deployment` and credentials for `server`, then `fields` (retries, streams, ...) over them."""
    cloud = deployment == "cloud"
    return {
        "base_url": server.url if cloud else server.dc_url,
        "deployment": deployment,
        "credentials": dict(CLOUD_CREDENTIALS if cloud else DATA_CENTER_CREDENTIALS),
        **fields,
    }
