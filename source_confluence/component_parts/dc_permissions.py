"""Data Center space read permissions through the routes Data Center has, each tried at most once per space:
`?expand=permissions` on the space (where it answers: it also reports anonymous access), the 9.1+ route
`GET /rest/api/space/{key}/permissions`, and JSON-RPC `getSpacePermissionSets` (versions before 9). All need space
admin rights; some versions answer a non-admin with HTTP 500 instead of 403 (CONFSERVER-99908), which is taken as
"not an admin" on the spot, never retried. A route the instance does not have (404) is not asked again in the sync.
So a space whose permissions no route gives costs at most 3 requests, and the problem names each route's answer."""

import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from source_confluence.component_parts.access_fetch import AccessFetcher, Problems, user_id_of
from source_confluence.component_parts.access_rule import ReadGrant

Requester = Callable[..., Any]
"""`request(method, url, params=None, json=None, final=frozenset())`: one request with the sync's credentials,
retried like the others except for the statuses in `final`; the response or the exception."""

NOT_ADMIN_STATUSES = frozenset({500})  # CONFSERVER-99908: a non-admin's answer on some versions, not a server fault
READ_SPACE = {"operation": "read", "targetType": "space"}
ROUTES = ("expand", "rest", "json_rpc")


class DataCenterSpacePermissions:
    """Reads a Data Center space's read grant by the first route that answers (see the module's docstring)."""

    def __init__(self, fetcher: AccessFetcher, request: Requester | None) -> None:
        self.fetcher, self.request = fetcher, request
        self.absent: set[str] = set()  # routes this instance does not have (404): not asked again
        self._lock = threading.Lock()

    def grant(self, space_key: str, access: Problems) -> ReadGrant | None:
        refusals: list[str] = []
        for route in ROUTES:
            with self._lock:
                if route in self.absent:
                    continue
            grant, refusal, absent = getattr(self, f"_{route}")(space_key)
            if grant is not None:
                return grant
            refusals.append(refusal)
            if absent:
                with self._lock:
                    self.absent.add(route)
        access.problems.append(
            f"could not read who may view space {space_key}: {'; '.join(refusals) or 'no route is available'} "
            f"(reading space permissions needs the space admin permission on {space_key}, or Confluence administrator)"
        )
        return None

    # ---- the routes: (grant, why not, the instance lacks the route) -----------------------------------------------
    def _send(self, method: str, url: str, **options: Any) -> Any:
        if self.request is not None:
            return self.request(method, url, final=NOT_ADMIN_STATUSES, **options)
        if method == "GET":
            return self.fetcher.get(url, options.get("params"))
        return None

    def _expand(self, space_key: str) -> tuple[ReadGrant | None, str, bool]:
        url = f"{self.fetcher.v1_root}/space/{quote(space_key, safe='~')}"
        answer = self._send("GET", url, params={"expand": "permissions"})
        route = f"GET {urlsplit(url).path}?expand=permissions"
        body, why = _json(answer, route)
        if isinstance(body, dict) and "permissions" in body:
            return self._from_expansion(body["permissions"] or []), "", False
        if isinstance(body, dict):
            why = f"{route}: answered without `permissions`"
        return None, why, False

    def _rest(self, space_key: str) -> tuple[ReadGrant | None, str, bool]:
        url = f"{self.fetcher.v1_root}/space/{quote(space_key, safe='~')}/permissions"
        answer = self._send("GET", url)
        body, why = _json(answer, f"GET {urlsplit(url).path} (Confluence 9.1+)")
        if isinstance(body, dict):
            body = body.get("results")
        if isinstance(body, list):
            return self._from_rest(body), "", False
        return None, why, _status(answer) == 404

    def _json_rpc(self, space_key: str) -> tuple[ReadGrant | None, str, bool]:
        if self.request is None:
            return None, "JSON-RPC getSpacePermissionSets: not tried", False
        url = f"{self.fetcher.site_base}/rpc/json-rpc/confluenceservice-v2/getSpacePermissionSets"
        answer = self._send("POST", url, json=[space_key])
        body, why = _json(answer, "JSON-RPC getSpacePermissionSets (before Confluence 9)")
        if isinstance(body, dict) and body.get("error"):
            message = str((body["error"] or {}).get("message") if isinstance(body["error"], dict) else body["error"])
            return None, f"JSON-RPC getSpacePermissionSets: {message[:160]}", False
        if isinstance(body, list):
            return self._from_json_rpc(body), "", False
        return None, why, _status(answer) == 404

    # ---- shapes ----------------------------------------------------------------------------------------------------
    def _from_expansion(self, permissions: list[Any]) -> ReadGrant:
        """v1 SpacePermission objects (swagger-v1-cloud-2021-11.json), with `anonymousAccess`."""
        users: set[str] = set()
        groups: set[str] = set()
        anonymous = False
        for permission in permissions:
            if (permission.get("operation") or {}) != READ_SPACE:
                continue
            anonymous = anonymous or bool(permission.get("anonymousAccess"))
            subjects = permission.get("subjects") or {}
            users |= self.fetcher.note_people((subjects.get("user") or {}).get("results"))
            groups |= {str(g.get("name")) for g in (subjects.get("group") or {}).get("results") or [] if g.get("name")}
        return ReadGrant(frozenset(users), frozenset(groups), anonymous)

    @staticmethod
    def _from_rest(permissions: list[Any]) -> ReadGrant:
        """9.1+ entries `{operation: {targetType, operationKey}, subject: {type, name | userKey}, spaceKey, spaceId}`
        (shape from CONFSERVER-100505); an `anonymous` subject type, where an instance reports one, opens the space."""
        users: set[str] = set()
        groups: set[str] = set()
        anonymous = False
        for permission in permissions:
            operation = permission.get("operation") or {}
            if (operation.get("operationKey") or operation.get("operation")) != "read":
                continue
            if operation.get("targetType") != "space":
                continue
            subject = permission.get("subject") or {}
            if subject.get("type") == "group" and subject.get("name"):
                groups.add(str(subject["name"]))
            elif subject.get("type") == "user" and user_id_of(subject):
                users.add(user_id_of(subject))
            elif subject.get("type") == "anonymous":
                anonymous = True
        return ReadGrant(frozenset(users), frozenset(groups), anonymous)

    def _from_json_rpc(self, permission_sets: list[Any]) -> ReadGrant:
        """SpacePermissionSet objects (remote API data objects): the `VIEWSPACE` set's entries name a `groupName`, a
        `userName`, or neither (anonymous users). Usernames become user keys (`/user?username=`, one each)."""
        usernames: set[str] = set()
        groups: set[str] = set()
        anonymous = False
        for permission_set in permission_sets:
            if not isinstance(permission_set, Mapping) or permission_set.get("type") != "VIEWSPACE":
                continue
            for entry in permission_set.get("spacePermissions") or []:
                if entry.get("groupName"):
                    groups.add(str(entry["groupName"]))
                elif entry.get("userName"):
                    usernames.add(str(entry["userName"]))
                else:
                    anonymous = True
        users: set[str] = set()
        for username in sorted(usernames):
            answer = self.fetcher.get(f"{self.fetcher.v1_root}/user", {"username": username})
            body, _ = _json(answer, "user")
            if isinstance(body, dict):
                users |= self.fetcher.note_people([body])
        return ReadGrant(frozenset(users), frozenset(groups), anonymous)


def _status(answer: Any) -> int | None:
    return getattr(answer, "status_code", None)


def _json(answer: Any, route: str) -> tuple[Any, str]:
    """(decoded JSON body of a 200, or None; why not, naming the route and the answer)."""
    if answer is None:
        return None, f"{route}: not tried"
    if isinstance(answer, Exception):
        return None, f"{route}: {type(answer).__name__} after retries"
    status = _status(answer)
    if status == 500:
        return None, f"{route}: HTTP 500 (what some versions answer a non-admin, CONFSERVER-99908)"
    if status == 404:
        return None, f"{route}: HTTP 404 (this version has no such route)"
    if status != 200:
        return None, f"{route}: HTTP {status}"
    if "json" not in str(answer.headers.get("Content-Type", "")).lower():
        return None, f"{route}: answered a web page, not JSON (WebSudo, a login page, or the API turned off)"
    try:
        return answer.json(), ""
    except ValueError:
        return None, f"{route}: answered malformed JSON"
