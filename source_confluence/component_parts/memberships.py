"""The `memberships` stream: one record per person the sync's access tokens concern (every member of a group named
by a `group:` token, every person of a `user:` token), with their groups, so a destination can resolve a person's
groups by itself. Read from the sync's shared `AccessReader`: each group is listed once per sync (200 a request), the
same listing the pages' readers came from; never a request per page."""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import InitVar, dataclass, field
from typing import Any

import requests
from airbyte_cdk.sources.declarative.partition_routers.substream_partition_router import SubstreamPartitionRouter
from airbyte_cdk.sources.declarative.retrievers.retriever import Retriever
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

from source_confluence.component_parts.access_fetch import Person, person_of
from source_confluence.component_parts.access_fields import SHARED_ACCESS
from source_confluence.component_parts.access_reader import AccessReader
from source_confluence.component_parts.common import CLOUD, logger
from source_confluence.component_parts.config import raise_config_problem
from source_confluence.component_parts.http import Probe, describe_outcome, is_json
from source_confluence.component_parts.stats import SYNC_STATS

USERS_BULK_MAX = 250  # Cloud v2 POST /users-bulk


@dataclass
class SpacesInOneSlice(SubstreamPartitionRouter):
    """The spaces of the sync (the `spaces` stream with its filters) as ONE slice: a person's record gathers their
    groups across every space, so it cannot be written space by space."""

    def stream_slices(self) -> Iterable[StreamSlice]:
        spaces: list[list[str | None]] = []
        for space in super().stream_slices():
            partition, extra = space.partition or {}, space.extra_fields or {}
            key = extra.get("key") or partition.get("space_key")
            if key:
                spaces.append([str(key), str(partition["space_id"]) if partition.get("space_id") else None])
        yield StreamSlice(partition={"spaces": "all"}, cursor_slice={}, extra_fields={"spaces": spaces})


def people_concerned(reader: AccessReader, spaces: Iterable[tuple[str, str | None]]) -> dict[str, set[str]]:
    """user id -> the groups of `group:` tokens they belong to, for every member of such a group and every person
    of a `user:` token of the given spaces' pages and blog posts (access decided per combination, cached)."""
    for key, space_id in spaces:
        space = reader.space(key, space_id)
        for content_id in list(space.parent_of):
            reader.page_access(content_id, key, space_id)
    tokens = reader.decided_tokens()
    groups_of: dict[str, set[str]] = {token[5:]: set() for token in tokens if token.startswith("user:")}
    for group in sorted(token[6:] for token in tokens if token.startswith("group:")):
        for account in reader.members(group) or ():
            groups_of.setdefault(account, set()).add(group)
    return groups_of


def look_up_people(config: Mapping[str, Any], ids: list[str]) -> dict[str, Person]:
    """Names (and e-mail addresses where the site shows them) of people no access answer described: Cloud in bulk
    (`POST /users-bulk`, 250 a request), Data Center one `GET /user?key=` each (it has no bulk call)."""
    probe, found = Probe(config), {}
    root = str(config.get("normalised_api_root") or "")
    if config.get("deployment", CLOUD) == CLOUD:
        for start in range(0, len(ids), USERS_BULK_MAX):
            answer = probe.post(f"{root}/users-bulk", {"accountIds": ids[start : start + USERS_BULK_MAX]})
            SYNC_STATS.count(access_requests=1)
            if isinstance(answer, requests.Response) and answer.ok and is_json(answer):
                found.update((p.user_id, p) for p in map(person_of, answer.json().get("results") or []) if p.user_id)
            else:
                logger.warning(f"Memberships: people could not be looked up ({describe_outcome(answer)}).")
        return found
    for user_id in ids:
        answer = probe.get(f"{root}/user", {"key": user_id})
        SYNC_STATS.count(access_requests=1)
        if isinstance(answer, requests.Response) and answer.ok and is_json(answer):
            found[user_id] = person_of(answer.json())
    return found


def membership_records(
    reader: AccessReader, config: Mapping[str, Any], spaces: Iterable[tuple[str, str | None]]
) -> Iterator[dict[str, Any]]:
    """The `memberships` records, sorted by user id; null fields left out."""
    groups_of = people_concerned(reader, spaces)
    missing = sorted(u for u in groups_of if not (reader.people.get(u) and reader.people[u].display_name))
    people = {**reader.people, **(look_up_people(config, missing) if missing else {})}
    for user_id in sorted(groups_of):
        person = people.get(user_id) or Person(user_id)
        record = {
            "user_id": user_id,
            "groups": sorted(groups_of[user_id]),
            "display_name": person.display_name,
            "email": person.email,
            "username": person.username,
        }
        yield {name: value for name, value in record.items() if value is not None}


@dataclass
class MembershipsRetriever(Retriever):
    """Retriever of the `memberships` stream: its one slice names the sync's spaces (`SpacesInOneSlice`); the records
    come from the sync's shared `AccessReader`. With `read_permissions: false` there are none."""

    config: Config = field(default_factory=dict)
    partition_router: Any = None
    parameters: InitVar[Mapping[str, Any]] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        raise_config_problem(self.config)

    def read_records(self, records_schema: Mapping[str, Any], stream_slice: StreamSlice | None = None) -> Iterable[Any]:
        if not self.config.get("read_permissions", True):
            return
        listed = (getattr(stream_slice, "extra_fields", None) or {}).get("spaces") or []
        spaces = [(str(key), space_id) for key, space_id in listed]
        yield from membership_records(SHARED_ACCESS.reader(self.config), self.config, spaces)

    def stream_slices(self) -> Iterable[StreamSlice | None]:
        yield from self.partition_router.stream_slices() if self.partition_router else [None]

    @property
    def state(self) -> StreamState:
        return {}

    @state.setter
    def state(self, value: StreamState) -> None:
        pass
