"""Atlassian's published OpenAPI documents (in ../shared/confluence-api), loaded for validating stand-in answers."""

from __future__ import annotations

import json
from pathlib import Path

import requests
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def openapi(name: str, server: str, strict: bool, path_prefix_swap: tuple[str, str] | None = None) -> OpenAPI:
    """One document with `server` as its only server; strict forbids undocumented fields in objects."""
    document = json.loads((SHARED / "confluence-api" / name).read_text())
    document["servers"] = [{"url": server}]
    if path_prefix_swap is not None:
        old, new = path_prefix_swap
        document["paths"] = {p.replace(old, new, 1): spec for p, spec in document["paths"].items()}
    policy = "forbid" if strict else "allow"
    return OpenAPI.from_dict(
        document, config=Config(spec_validator_cls=None, additional_properties_default_policy=policy)
    )


def confluence_specs() -> dict[str, OpenAPI]:
    """v2 and v1 (Cloud at /wiki, Data Center at /confluence), each strict and lenient."""
    return {
        "v2": openapi("openapi-v2.v3.json", "/wiki/api/v2", strict=False),
        "v2-strict": openapi("openapi-v2.v3.json", "/wiki/api/v2", strict=True),
        "v1": openapi("swagger-v1-cloud-2021-11.json", "/", strict=False),
        "v1-strict": openapi("swagger-v1-cloud-2021-11.json", "/", strict=True),
        "v1-dc": openapi("swagger-v1-cloud-2021-11.json", "/confluence", strict=False, path_prefix_swap=("/wiki", "")),
    }


def validate(spec: OpenAPI, response: requests.Response, status: int = 200) -> None:
    """Raise unless `response` has `status` and its body matches the document for its request."""
    assert response.status_code == status, f"{response.url} answered {response.status_code}: {response.text[:300]}"
    spec.validate_response(RequestsOpenAPIRequest(response.request), RequestsOpenAPIResponse(response))
