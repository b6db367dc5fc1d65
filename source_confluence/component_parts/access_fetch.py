"""The HTTP side of reading access: one GET with the sync's credentials, a v1 list followed to its end, every failure
kept as a sentence that names the request and its status (never its credentials), and the people met on the way
(names and e-mail addresses of every user object an access answer carried)."""

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from source_confluence.component_parts.common import logger
from source_confluence.component_parts.paging import next_listing_url
from source_confluence.component_parts.people import display_name

Getter = Callable[[str, Mapping[str, Any] | None], Any]
"""GET with the sync's credentials and retries: the `requests.Response`, or the exception after the last retry."""


@dataclass
class Problems:
    """Why something could not be read: each entry names the request and the HTTP status (or the exception)."""

    problems: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Person:
    """What access answers say about one user: the id tokens use, and what a front end may know them by."""

    user_id: str
    display_name: str | None = None
    email: str | None = None
    username: str | None = None


def user_id_of(user: Mapping[str, Any]) -> str:
    """Cloud: accountId; Data Center: userKey (stable across renames), else username."""
    return str(user.get("accountId") or user.get("userKey") or user.get("username") or "")


def person_of(user: Mapping[str, Any]) -> Person:
    """A v1 or v2 user object as a `Person`; an e-mail address a site hides ("" or absent) stays None."""
    email = user.get("email") or ((user.get("details") or {}).get("personal") or {}).get("email")
    named = user.get("displayName") or user.get("publicName")
    return Person(
        user_id_of(user),
        display_name(user) if named else None,
        str(email) if email else None,
        str(user["username"]) if user.get("username") and user.get("userKey") else None,
    )


def cql_quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


class AccessFetcher:
    """GETs for access reading: JSON objects or a recorded problem, v1 lists to their end, people remembered."""

    def __init__(self, get: Getter, *, origin: str, site_base: str) -> None:
        self.get, self.origin, self.site_base = get, origin.rstrip("/"), site_base.rstrip("/")
        self.v1_root = f"{self.site_base}/rest/api"
        self.bases = {"normalised_origin": self.origin, "normalised_api_site_base": self.site_base}  # next links
        self.warnings: list[str] = []
        self.people: dict[str, Person] = {}
        self._people_lock = threading.Lock()

    def note_people(self, users: Any) -> set[str]:
        """Remembers every user object of `users` (a list); returns their ids."""
        ids: set[str] = set()
        for user in users or []:
            if not isinstance(user, Mapping):
                continue
            person = person_of(user)
            if not person.user_id:
                continue
            ids.add(person.user_id)
            with self._people_lock:
                known = self.people.get(person.user_id)
                if (
                    known is None
                    or (person.display_name and not known.display_name)
                    or (person.email and not known.email)
                ):
                    self.people[person.user_id] = Person(
                        person.user_id,
                        person.display_name or (known.display_name if known else None),
                        person.email or (known.email if known else None),
                        person.username or (known.username if known else None),
                    )
        return ids

    def v1_pages(
        self, url: str, params: Mapping[str, Any] | None, access: Problems, what: str
    ) -> Iterator[dict[str, Any]]:
        """Every page of a v1 list, following `_links.next` by the v1 rule (paging.py); stops at the first failure,
        at an empty page, at a link back to a page already read, and warns when it fell short of its `totalSize`."""
        next_url: str | None = url
        seen, requested = 0, set()
        while next_url:
            if next_url in requested:  # a server linking a page already read: the listing would never end
                logger.warning(f"The listing to {what} linked a page it had already given; it ends there.")
                return
            requested.add(next_url)
            body = self.fetch_json(next_url, params, access, what)
            if body is None:
                return
            yield body
            seen += len(body.get("results") or [])
            next_url = next_listing_url(body, "v1", self.bases, what, seen)
            params = None

    def fetch_json(
        self, url: str, params: Mapping[str, Any] | None, access: Problems, what: str
    ) -> dict[str, Any] | None:
        outcome = self.get(url, params)
        path = urlsplit(url).path
        if isinstance(outcome, Exception):
            access.problems.append(f"could not {what}: {type(outcome).__name__} on {path} after retries")
            return None
        if outcome.status_code != 200:
            access.problems.append(f"could not {what}: HTTP {outcome.status_code} on {path}")
            access.statuses.append(int(outcome.status_code))
            return None
        try:
            body = outcome.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            access.problems.append(f"could not {what}: {path} did not answer a JSON object")
            return None
        return body

    def warn(
        self, problem: str, consequence: str = "the pages it concerns are treated as restricted (visibility internal)"
    ) -> None:
        message = f"Access: {problem}; {consequence}."
        self.warnings.append(message)
        logger.warning(message)
