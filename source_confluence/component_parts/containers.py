"""Cloud's non-page containers in the page tree (folders, whiteboards, databases, embeds: REST v2 `parentType`), each
read once per sync by its own v2 route (`/folders/{id}` ...: title, parent, parent type), shared by the access path
and the breadcrumbs so a container costs one request however many pages sit below it and whoever asks first."""

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from source_confluence.component_parts.common import optional_text

CONTAINER_ROUTES = {"folder": "folders", "whiteboard": "whiteboards", "database": "databases", "embed": "embeds"}

ContainerFetch = Callable[[str, str], Mapping[str, Any] | str]
"""GET a URL (and a sentence saying what it is for) -> its JSON body, or a sentence saying why it could not be read."""


@dataclass(frozen=True)
class TreeContainer:
    """A folder, whiteboard, database or embed: a level of the page tree whose children are pages or containers."""

    id: str
    kind: str
    title: str
    parent_id: str | None
    parent_kind: str  # "page" when at the space root (parent_id None)


class ContainerDirectory:
    """Containers read so far in this sync (a sentence: why it could not be read; never asked again). The lock is held
    across the request so two threads meeting one container still send one request."""

    def __init__(self) -> None:
        self._known: dict[str, TreeContainer | str] = {}  # by id: one site per sync
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._known.clear()

    def read(self, api_root: str, kind: str, container_id: str, fetch: ContainerFetch) -> TreeContainer | str:
        """The container `container_id` of type `kind` under REST v2 root `api_root` (.../wiki/api/v2), or why not."""
        with self._lock:
            if container_id not in self._known:
                self._known[container_id] = self._fetch(api_root, kind, container_id, fetch)
            return self._known[container_id]

    @staticmethod
    def _fetch(api_root: str, kind: str, container_id: str, fetch: ContainerFetch) -> TreeContainer | str:
        route = CONTAINER_ROUTES.get(kind)
        if route is None:
            return f"{kind} {container_id} is a parent type this source does not know"
        body = fetch(f"{api_root}/{route}/{quote(container_id, safe='')}", f"read {kind} {container_id}")
        if isinstance(body, str):
            return body
        parent = optional_text(body.get("parentId"))
        kind_above = str(body.get("parentType") or "page") if parent else "page"
        return TreeContainer(container_id, kind, str(body.get("title") or ""), parent, kind_above)


CONTAINERS = ContainerDirectory()  # the sync's: shared by the access reader and the breadcrumbs, reset per read
