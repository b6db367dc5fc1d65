"""An in-memory Confluence (v2 cursor paging and v1 offset paging) behind requests-mock, with scripted faults.

Unit tests use it instead of the HTTP stand-in so that each option and error path can be exercised in milliseconds.
"""

from __future__ import annotations

import base64
import json
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import requests_mock

SECRET_TOKEN = "s3cr3t-api-token-value"
SECRET_PAT = "s3cr3t-personal-access-token"
USERNAME = "reader@example.com"


@dataclass
class FakeSpace:
    id: str
    key: str
    name: str
    type: str = "global"


@dataclass
class FakePage:
    id: str
    space_key: str
    title: str
    body: str | None
    parent_id: str | None = None
    version: int = 1


@dataclass
class Scripted:
    """One scripted answer: a status (with headers/body) or an exception to raise."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None
    exception: type[BaseException] | None = None


class FakeConfluence:
    def __init__(self, origin: str = "https://acme.atlassian.net", dc_context: str = "/confluence") -> None:
        self.origin = origin
        self.dc_context = dc_context
        self.spaces: list[FakeSpace] = []
        self.pages: list[FakePage] = []
        self.faults: dict[str, deque[Scripted]] = {}
        self.cursor_suffix = "+/=%2B"  # cursors must come back untouched, including characters that need quoting
        self.serve_v2 = True
        self.serve_v1_at: set[str] = {"/wiki", dc_context}
        self.max_v1_limit = 1000
        self.requests: list[requests_mock.request._RequestObjectProxy] = []

    # ---- building the site
    def add_space(
        self, key: str, name: str = "", type: str = "global", n_pages: int = 0, body: str | None = "<p>x</p>"
    ) -> FakeSpace:
        space = FakeSpace(id=str(1000 + len(self.spaces)), key=key, name=name or f"Space {key}", type=type)
        self.spaces.append(space)
        parent: str | None = None
        for index in range(n_pages):
            page = FakePage(
                id=str(50000 + len(self.pages)), space_key=key, title=f"{key} page {index}", body=body, parent_id=parent
            )
            self.pages.append(page)
            parent = page.id if index % 3 == 0 else parent
        return space

    def fail(self, path_regex: str, *answers: Scripted) -> None:
        """The next requests whose path matches `path_regex` get these answers, in order."""
        self.faults.setdefault(path_regex, deque()).extend(answers)

    def install(self, mocker: requests_mock.Mocker) -> FakeConfluence:
        mocker.register_uri(requests_mock.ANY, re.compile(re.escape(self.origin) + r"(/.*)?$"), text=self._dispatch)
        return self

    # ---- serving
    def _dispatch(self, request: Any, context: Any) -> str:
        self.requests.append(request)
        path = urlsplit(request.url).path
        for pattern, answers in self.faults.items():
            if answers and re.search(pattern, path):
                answer = answers.popleft()
                if answer.exception is not None:
                    raise answer.exception(f"scripted {answer.exception.__name__} for {path}")
                context.status_code = answer.status
                context.headers.update(answer.headers or {"Content-Type": "application/json"})
                return answer.text if answer.text is not None else json.dumps({"message": "scripted"})
        if not self._authorised(request.headers.get("Authorization")):
            context.status_code = 401
            context.headers["Content-Type"] = "application/json"
            return json.dumps({"statusCode": 401, "message": "Unauthorized"})
        query = {k: v for k, v in parse_qs(urlsplit(request.url).query, keep_blank_values=True).items()}
        result = self._route(path, query)
        if result is None:
            context.status_code = 404
            context.headers["Content-Type"] = "text/html"
            return "<html><body>Page not found</body></html>"
        context.headers["Content-Type"] = "application/json"
        return json.dumps(result)

    def _authorised(self, header: str | None) -> bool:
        if header == f"Bearer {SECRET_PAT}":
            return True
        expected = base64.b64encode(f"{USERNAME}:{SECRET_TOKEN}".encode()).decode()
        return header == f"Basic {expected}"

    def _route(self, path: str, query: dict[str, list[str]]) -> dict[str, Any] | None:
        if self.serve_v2 and path == "/wiki/api/v2/spaces":
            keys = query.get("keys")
            spaces = [s for s in self.spaces if not keys or s.key in keys]
            return self._v2_page(path, query, [self._v2_space(s) for s in spaces])
        match = re.fullmatch(r"/wiki/api/v2/spaces/(\w+)/pages", path)
        if self.serve_v2 and match:
            space = next((s for s in self.spaces if s.id == match.group(1)), None)
            if space is None:
                return None
            pages = [p for p in self.pages if p.space_key == space.key]
            return self._v2_page(
                path, query, [self._v2_page_json(p, space, "storage" in query.get("body-format", [])) for p in pages]
            )
        access = self._access_route(path, query)
        if access is not None:
            return access
        for context_path in self.serve_v1_at:
            if path == f"{context_path}/rest/api/space":
                return self._v1_page(context_path, query, [self._v1_space(s) for s in self.spaces])
            match = re.fullmatch(re.escape(context_path) + r"/rest/api/space/([^/]+)", path)
            if match:
                space = next((s for s in self.spaces if s.key == match.group(1)), None)
                return self._v1_space(space) if space else None
            if path == f"{context_path}/rest/api/content":
                key = query.get("spaceKey", [None])[0]
                pages = [p for p in self.pages if key is None or p.space_key == key]
                return self._v1_page(context_path, query, [self._v1_page_json(p) for p in pages])
        return None

    def _access_route(self, path: str, query: dict[str, list[str]]) -> dict[str, Any] | None:
        """Access as the source reads it: no page restrictions; every space readable by group `everyone` (id
        `g-1`), whose one member is `acc-1` (Cloud) / `u-1` (Data Center)."""
        if self.serve_v2 and re.fullmatch(r"/wiki/api/v2/spaces/\w+/permissions", path):
            read = {"key": "read", "targetType": "space"}
            return {"results": [{"id": "1", "principal": {"type": "group", "id": "g-1"}, "operation": read}]}
        for context_path in self.serve_v1_at:
            cloud = context_path == "/wiki"
            if path == f"{context_path}/rest/api/content/search":
                key = re.search(r'space = "([^"]+)"', query.get("cql", [""])[0])
                pages = [p for p in self.pages if key and p.space_key == key.group(1)]
                return self._v1_page(context_path, query, [self._v1_page_json(p) for p in pages])
            if path == f"{context_path}/rest/api/group/by-id" and cloud:
                return {"type": "group", "name": "everyone", "id": "g-1"}
            if path in (
                f"{context_path}/rest/api/group/g-1/membersByGroupId",
                f"{context_path}/rest/api/group/everyone/member",
            ):
                user = {"type": "known", "accountId": "acc-1"} if cloud else {"type": "known", "userKey": "u-1"}
                return {"results": [user], "start": 0, "limit": 200, "size": 1, "_links": {}}
            match = re.fullmatch(re.escape(context_path) + r"/rest/api/space/([^/]+)", path)
            if match and "permissions" in query.get("expand", [""])[0]:
                space = next((s for s in self.spaces if s.key == match.group(1)), None)
                group = {"results": [{"type": "group", "name": "everyone"}], "size": 1}
                read = {"operation": "read", "targetType": "space"}
                permission = {"subjects": {"group": group}, "operation": read, "anonymousAccess": False}
                return {**self._v1_space(space), "permissions": [permission]} if space else None
        return None

    def _v2_page(self, path: str, query: dict[str, list[str]], items: list[dict[str, Any]]) -> dict[str, Any]:
        limit = int(query.get("limit", ["25"])[0])
        cursor = query.get("cursor", [None])[0]
        start = 0
        if cursor is not None:
            assert cursor.endswith(self.cursor_suffix), f"cursor changed in transit: {cursor!r}"
            start = int(cursor[: -len(self.cursor_suffix)].removeprefix("c"))
        chunk = items[start : start + limit]
        links: dict[str, Any] = {"base": self.origin + "/wiki"}
        if start + limit < len(items):
            links["next"] = (
                f"{path}?limit={limit}&cursor={quote('c' + str(start + limit) + self.cursor_suffix, safe='')}"
            )
            if "body-format" in query:
                links["next"] += f"&body-format={query['body-format'][0]}"
        return {"results": chunk, "_links": links}

    def _v1_page(self, context_path: str, query: dict[str, list[str]], items: list[dict[str, Any]]) -> dict[str, Any]:
        limit = min(int(query.get("limit", ["25"])[0]), self.max_v1_limit)
        start = int(query.get("start", ["0"])[0])
        chunk = items[start : start + limit]
        links: dict[str, Any] = {"base": self.origin + context_path, "context": context_path}
        if start + limit < len(items):
            links["next"] = f"/rest/api/content?start={start + limit}&limit={limit}"
        return {"results": chunk, "start": start, "limit": limit, "size": len(chunk), "_links": links}

    @staticmethod
    def _v2_space(space: FakeSpace) -> dict[str, Any]:
        return {"id": space.id, "key": space.key, "name": space.name, "type": space.type, "status": "current"}

    @staticmethod
    def _v1_space(space: FakeSpace) -> dict[str, Any]:
        return {"id": int(space.id), "key": space.key, "name": space.name, "type": space.type, "status": "current"}

    def _v2_page_json(self, page: FakePage, space: FakeSpace, with_body: bool) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if with_body and page.body is not None:
            body = {"storage": {"value": page.body, "representation": "storage"}}
        return {
            "id": page.id,
            "status": "current",
            "title": page.title,
            "spaceId": space.id,
            "parentId": page.parent_id,
            "authorId": "acc-1",
            "createdAt": "2024-01-01T00:00:00.000Z",
            "version": {"number": page.version, "createdAt": "2024-02-01T00:00:00.000Z"},
            "body": body,
            "_links": {"webui": f"/spaces/{space.key}/pages/{page.id}/{quote(page.title.replace(' ', '+'), safe='+')}"},
        }

    def _ancestors(self, page: FakePage) -> list[FakePage]:
        chain: list[FakePage] = []
        by_id = {p.id: p for p in self.pages}
        parent = by_id.get(page.parent_id or "")
        while parent is not None:
            chain.insert(0, parent)
            parent = by_id.get(parent.parent_id or "")
        return chain

    def _v1_page_json(self, page: FakePage) -> dict[str, Any]:
        space = next(s for s in self.spaces if s.key == page.space_key)
        result: dict[str, Any] = {
            "id": page.id,
            "type": "page",
            "status": "current",
            "title": page.title,
            "space": self._v1_space(space),
            "version": {"number": page.version, "when": "2024-02-01T00:00:00.000Z", "by": {"userKey": "u-1"}},
            "history": {"createdDate": "2024-01-01T00:00:00.000Z", "createdBy": {"userKey": "u-1"}},
            "ancestors": [{"id": a.id, "title": a.title} for a in self._ancestors(page)],
            "_links": {"webui": f"/pages/viewpage.action?pageId={page.id}"},
        }
        if page.body is not None:
            result["body"] = {"storage": {"value": page.body, "representation": "storage"}}
        return result
