"""Restriction answers read to their end: a content listing's restriction expansion shows at most 200 users and 200
groups per page, so a page that names more is read again through its own route, paged with `start` and `limit`
(`/content/{id}/restriction/byOperation/read`, both subject lists expanded); and a CQL listing batch that Confluence
Cloud refuses (CONFCLOUD-77618: a 404 for the whole batch when one page's ancestor is a draft or trashed) is read
again without ancestors, each of its pages then read on its own (that batch only)."""

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from source_confluence.component_parts.access_fetch import AccessFetcher, Problems

RESTRICTION_SUBJECTS_PAGE = 200  # the most names one restriction answer lists per subject type
READ_RESTRICTION_EXPAND = "restrictions.user,restrictions.group"  # both, always: one alone hides the other


def subject_lists(read: Mapping[str, Any]) -> tuple[list[Any], list[Any]]:
    """(user objects, group objects) of a `restrictions` object (a listing's expansion or the by-operation route)."""
    return list((read.get("user") or {}).get("results") or []), list((read.get("group") or {}).get("results") or [])


def more_than_listed(read: Mapping[str, Any]) -> bool:
    """A full subject list may hide more names (the answer pages them): the restriction must be read to its end."""
    for part in ("user", "group"):
        listed = read.get(part) or {}
        limit = listed.get("limit")
        if (listed.get("_links") or {}).get("next") or (limit and len(listed.get("results") or []) >= int(limit)):
            return True
    return False


def whole_read_restriction(
    fetcher: AccessFetcher, content_id: str, problems: Problems
) -> tuple[list[Any], list[Any]] | None:
    """Every user and group object of a page's read restriction, paged to the end (200 a request); None (and a
    problem naming the page) when an answer is missing."""
    url = f"{fetcher.v1_root}/content/{content_id}/restriction/byOperation/read"
    users: list[Any] = []
    groups: list[Any] = []
    start = 0
    while True:
        params = {"expand": READ_RESTRICTION_EXPAND, "start": start, "limit": RESTRICTION_SUBJECTS_PAGE}
        body = fetcher.fetch_json(url, params, problems, f"read the whole read restriction of content {content_id}")
        if body is None:
            return None
        listed_users, listed_groups = subject_lists(body.get("restrictions") or {})
        users += listed_users
        groups += listed_groups
        step = max(len(listed_users), len(listed_groups))
        if not more_than_listed(body.get("restrictions") or {}) or step == 0:
            return users, groups
        start += step


def without_ancestors(url: str, params: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The same listing request (same cursor or start) with `ancestors` dropped from `expand`."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update({str(k): str(v) for k, v in (params or {}).items()})
    expand = [e for e in str(query.get("expand", "")).split(",") if e and e != "ancestors"]
    query["expand"] = ",".join(expand)
    return urlunsplit(parts._replace(query="")), query
