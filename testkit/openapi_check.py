"""Atlassian's published OpenAPI documents as validators for what the stand-in serves (tests only)."""

from __future__ import annotations

import json
from pathlib import Path

import requests
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

API_DOCS = Path(__file__).resolve().parents[1].parent / "shared" / "confluence-api"


def _openapi(name: str, server: str, strict: bool, path_prefix_swap: tuple[str, str] | None = None) -> OpenAPI:
    document = json.loads((API_DOCS / name).read_text())
    document["servers"] = [{"url": server}]
    if path_prefix_swap is not None:
        old, new = path_prefix_swap
        document["paths"] = {p.replace(old, new, 1): spec for p, spec in document["paths"].items()}
    policy = "forbid" if strict else "allow"
    return OpenAPI.from_dict(
        document, config=Config(spec_validator_cls=None, additional_properties_default_policy=policy)
    )


def load_specs() -> dict[str, OpenAPI]:
    """v2 and v1 (Cloud, and Data Center under /confluence), each strict (no undocumented field) and lenient."""
    return {
        "v2": _openapi("openapi-v2.v3.json", "/wiki/api/v2", strict=False),
        "v2-strict": _openapi("openapi-v2.v3.json", "/wiki/api/v2", strict=True),
        "v1": _openapi("swagger-v1-cloud-2021-11.json", "/", strict=False),
        "v1-strict": _openapi("swagger-v1-cloud-2021-11.json", "/", strict=True),
        "v1-dc": _openapi("swagger-v1-cloud-2021-11.json", "/confluence", strict=False, path_prefix_swap=("/wiki", "")),
    }


def validate(spec: OpenAPI, response: requests.Response) -> None:
    """Raise when the response is not a 200 or breaks the document's schema for its operation."""
    assert response.status_code == 200, f"{response.url} answered {response.status_code}: {response.text[:300]}"
    spec.validate_response(RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response))
