"""Atlassian's API gateway as the stand-in serves it: `/ex/confluence/{cloudId}/wiki/...` answers what the site answers
(with the site's own `_links.base`, as the real gateway does), `/_edge/tenant_info` names the site's cloudId, and a
scoped token is refused on the site's own URL with 401 "scope does not match".

Shapes: tenant_info `{"cloudId": "..."}` (md2conf #281, Atlassian's "Scoped API tokens in Confluence Cloud" KB);
the 401 body `{"code": 401, "message": "Unauthorized; scope does not match"}` (mcp-atlassian #968,
atlassian-python-api #1546); links in gateway answers keep the site URL (issue 18; Atlassian announced for July 2026
that Jira links move to the gateway form, which is why the source never builds browser links on the gateway).
"""

from __future__ import annotations

from .common import ApiResult

CLOUD_ID = "5d4e3f2a-1b0c-4d9e-8f7a-6b5c4d3e2f1a"
PREFIX = "/ex/confluence/"


def tenant_info(cloud_id: str = CLOUD_ID) -> ApiResult:
    return ApiResult(200, {"cloudId": cloud_id})


def through_gateway(path: str, cloud_id: str = CLOUD_ID) -> str | None:
    """The site path a gateway path stands for ("" for an unknown cloud id); None when `path` is not a gateway path."""
    if not path.startswith(PREFIX):
        return None
    rest = path[len(PREFIX) :]
    given, _, tail = rest.partition("/")
    return "/" + tail if given == cloud_id and tail else ""


def scope_mismatch() -> ApiResult:
    return ApiResult(401, {"code": 401, "message": "Unauthorized; scope does not match"})


def unknown_cloud() -> ApiResult:
    return ApiResult(404, {"code": 404, "message": "Cloud id not found"})
