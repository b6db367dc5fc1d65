"""Names and page trees for one sync: display names of authors and mentioned users (looked up in bulk), and
ancestors on Cloud (REST v2 pages carry only `parentId`), never a request per page."""

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import requests

from source_confluence.component_parts.common import CLOUD, logger, optional_text
from source_confluence.component_parts.containers import CONTAINERS
from source_confluence.component_parts.http import Probe, describe_outcome, is_json
from source_confluence.component_parts.paging import next_listing_url
from source_confluence.component_parts.stats import SYNC_STATS

_MENTION = re.compile(r"<ri:user\b[^<>]*?\bri:(account-id|userkey|username)\s*=\s*\"([^\"<>]*)\"")
UNKNOWN_USER = "Unknown user"  # an id Confluence does not answer for: readable, never the raw id
FORMER_USER = "Former user"  # a deactivated or closed account without a name
V2_USERS_BULK_MAX = 250


def mentioned_users(body: str) -> list[tuple[str, str]]:
    """(kind, id) of every `ri:user` in a storage body, in order, once each: kind is account-id, userkey or username."""
    return list(dict.fromkeys((kind, value) for kind, value in _MENTION.findall(body or "") if value))


def display_name(user: Mapping[str, Any]) -> str:
    """A user object's name as Confluence shows it; a deactivated account is marked, a nameless one is a placeholder."""
    name = str(user.get("displayName") or user.get("publicName") or "").strip()
    if str(user.get("accountStatus") or "active") != "active":
        return f"{name} (deactivated)" if name and name != FORMER_USER else FORMER_USER
    return name or UNKNOWN_USER


class PeopleDirectory:
    """Display names by account id (Cloud) or user key / username (Data Center), for one sync: every unknown id is
    looked up once, in bulk where the API has it (Cloud v2 `POST /users-bulk`, 250 ids a request; Data Center has no
    bulk call: `GET /rest/api/user?key=` or `?username=`, one per id). An id Confluence does not answer for, or a failed
    look-up, becomes `Unknown user` (logged once), so a sync never stops over a name."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._names.clear()

    def names(self, config: Mapping[str, Any], wanted: Iterable[tuple[str, str]]) -> dict[str, str]:
        wanted = list(dict.fromkeys(wanted))
        with self._lock:
            unknown = [(kind, value) for kind, value in wanted if value not in self._names]
            if unknown:
                self._names.update(self._look_up(config, unknown))
            return {value: self._names[value] for _, value in wanted if value in self._names}

    def _look_up(self, config: Mapping[str, Any], unknown: list[tuple[str, str]]) -> dict[str, str]:
        probe = Probe(config)
        found: dict[str, str] = {}
        root = str(config.get("normalised_api_root") or "")
        if config.get("deployment", CLOUD) == CLOUD:
            ids = [value for _, value in unknown]
            for start in range(0, len(ids), V2_USERS_BULK_MAX):
                answer = probe.post(f"{root}/users-bulk", {"accountIds": ids[start : start + V2_USERS_BULK_MAX]})
                SYNC_STATS.count(requests=1)
                if isinstance(answer, requests.Response) and answer.ok and is_json(answer):
                    for user in answer.json().get("results") or []:
                        if user.get("accountId"):
                            found[str(user["accountId"])] = display_name(user)
                else:
                    logger.warning(
                        f"User names could not be looked up ({describe_outcome(answer)}); mentions read '{UNKNOWN_USER}'."
                    )
        else:
            for kind, value in unknown:
                parameter = "username" if kind == "username" else "key"
                answer = probe.get(f"{root}/user", params={parameter: value})
                SYNC_STATS.count(requests=1)
                if isinstance(answer, requests.Response) and answer.ok and is_json(answer):
                    found[value] = display_name(answer.json())
        return {value: found.get(value, UNKNOWN_USER) for _, value in unknown}


class PageTree:
    """Title and parent of every page of a space, for ancestors on Cloud (REST v2 pages carry only `parentId`): the
    pages the sync already listed, and, when a parent is not among them, one light listing of the space (ids,
    titles and parents, no bodies, 250 a request), plus one request per folder (whiteboard, database, embed) on a
    path, shared with the access reader. Never a request per page."""

    def __init__(self) -> None:
        self._pages: dict[str, tuple[str, str | None]] = {}  # pages and the containers met (title, parent)
        self._kinds: dict[str, str] = {}  # parent id -> its content type by REST v2 (`parentType`) when not a page
        self._listed: set[str] = set()
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._pages.clear()
            self._kinds.clear()
            self._listed.clear()

    def remember(self, page_id: str, title: str, parent_id: str | None, parent_kind: str = "page") -> None:
        with self._lock:
            self._pages[page_id] = (title, parent_id)
            self._note_kind(parent_id, parent_kind)

    def _note_kind(self, parent_id: str | None, kind: str) -> None:
        if parent_id and kind != "page":
            self._kinds[parent_id] = kind

    def ancestors(self, config: Mapping[str, Any], space_id: str, parent_id: str | None) -> tuple[list[str], list[str]]:
        """(titles, ids) of the ancestors, root first; stops at a parent that cannot be found (or a cycle)."""
        titles: list[str] = []
        ids: list[str] = []
        with self._lock:
            current = parent_id
            while current and current not in ids:
                if current not in self._pages and space_id and space_id not in self._listed:
                    self._list_space(config, space_id)
                if current not in self._pages and current in self._kinds:
                    self._read_container(config, self._kinds[current], current)
                if current not in self._pages:
                    break
                title, parent = self._pages[current]
                titles.append(title)
                ids.append(current)
                current = parent
        return titles[::-1], ids[::-1]

    def _read_container(self, config: Mapping[str, Any], kind: str, container_id: str) -> None:
        """A folder (whiteboard, database, embed) on the path: its title and parent, read once per sync."""
        probe = Probe(config)

        def fetch(url: str, what: str) -> Mapping[str, Any] | str:
            answer = probe.get(url)
            SYNC_STATS.count(requests=1)
            if isinstance(answer, requests.Response) and answer.ok and is_json(answer):
                return dict(answer.json())
            return f"{what}: {describe_outcome(answer)}"

        found = CONTAINERS.read(str(config.get("normalised_api_root")), kind, container_id, fetch)
        if isinstance(found, str):
            logger.warning(f"Breadcrumbs stop at {kind} {container_id}: {found}.")
            return
        self._pages[container_id] = (found.title, found.parent_id)
        self._note_kind(found.parent_id, found.parent_kind)

    def _list_space(self, config: Mapping[str, Any], space_id: str) -> None:
        self._listed.add(space_id)
        probe = Probe(config)
        url: str | None = f"{config.get('normalised_api_root')}/spaces/{quote(space_id)}/pages"
        params: dict[str, Any] | None = {"limit": 250}
        while url:
            answer = probe.get(url, params=params)
            if not (isinstance(answer, requests.Response) and answer.ok and is_json(answer)):
                logger.warning(f"Space {space_id} could not be listed for ancestors ({describe_outcome(answer)}).")
                return
            body = answer.json()
            SYNC_STATS.count(requests=1)
            for page in body.get("results") or []:
                parent = optional_text(page.get("parentId"))
                self._pages[str(page["id"])] = (str(page.get("title") or ""), parent)
                self._note_kind(parent, str(page.get("parentType") or "page"))
            url, params = next_listing_url(body, "v2", config, f"pages of space {space_id} (for ancestors)"), None


PEOPLE = PeopleDirectory()
PAGE_TREE = PageTree()


def add_people_and_ancestors(
    shaped: dict[str, Any], config: Mapping[str, Any], api_version: str, raw: Mapping[str, Any]
) -> None:
    """Fills `ancestors`/`ancestor_ids` on Cloud, `author_name`, and `user_names` (every mentioned id -> name)."""
    if api_version == "v2":
        PAGE_TREE.remember(
            shaped["id"], str(shaped.get("title") or ""), shaped.get("parent_id"), str(raw.get("parentType") or "page")
        )
        shaped["ancestors"], shaped["ancestor_ids"] = PAGE_TREE.ancestors(
            config, str(shaped.get("space_id") or ""), shaped.get("parent_id")
        )
    else:
        shaped["ancestor_ids"] = [str(a.get("id")) for a in raw.get("ancestors") or [] if a.get("id") is not None]
    mentions = mentioned_users(shaped.get("body_storage") or "")
    author = shaped.get("author_id")
    creator = (raw.get("history") or {}).get("createdBy") or {}  # v1 names the creator itself
    wanted = mentions + (
        [("userkey" if api_version == "v1" else "account-id", str(author))]
        if author and not creator.get("displayName")
        else []
    )
    names = PEOPLE.names(config, wanted) if wanted else {}
    shaped["author_name"] = creator.get("displayName") or (names.get(str(author)) if author else None)
    shaped["user_names"] = {value: names[value] for _, value in mentions if value in names}
