"""Pages as records: the results of a list response (with its link base), `max_pages` and `restricted_pages:
exclude`, and a page of REST v2 or v1 shaped into the `pages` record of docs/CONTRACTS.md."""

from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import InitVar, dataclass
from typing import Any

import requests
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_confluence.component_parts.access_fields import SHARED_ACCESS
from source_confluence.component_parts.common import VersionedShaper, logger, optional_text
from source_confluence.component_parts.config import raise_config_problem, register_derived_secrets
from source_confluence.component_parts.containers import CONTAINERS
from source_confluence.component_parts.http import PARSED_BODY_ATTRIBUTE, response_body_problem
from source_confluence.component_parts.people import PAGE_TREE, PEOPLE, add_people_and_ancestors
from source_confluence.component_parts.stats import SYNC_STATS, SummaryOnSyncEnd

LINK_BASE_KEY = "__confluence_links_base"
"""Key under which the extractor hands `_links.base` of the response envelope to the record shaper."""


def link_base(record: MutableMapping[str, Any], config: Mapping[str, Any]) -> str:
    """The base URL of the record's web links (taken off the record): its response's `_links.base`, else the site;
    never Atlassian's API gateway, which a browser cannot open (the gateway answers with the site's own base)."""
    given = str(record.pop(LINK_BASE_KEY, None) or "")
    gateway = str(config.get("normalised_gateway") or "")
    if given and not (gateway and given.startswith(gateway)):
        return given
    return str(config.get("normalised_site_base") or "")


def absolute_url(base: str, path: Any) -> str | None:
    """A Confluence link (a path under the site) made absolute; None when there is no link."""
    return (base.rstrip("/") + str(path)) if path else None


@dataclass
class ConfluenceResultsExtractor(RecordExtractor):
    """Yields `results` of a Confluence list response, each with the envelope's `_links.base` attached, and counts
    requests (and, for `pages`, finished spaces). Refuses to build for a config that could not be normalised."""

    config: Config
    parameters: InitVar[Mapping[str, Any]] = None
    counts_space_completion: bool = False

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        raise_config_problem(self.config)
        register_derived_secrets(self.config)  # built per command, after the entrypoint replaced the secret list

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        problem = None if hasattr(response, PARSED_BODY_ATTRIBUTE) else response_body_problem(response)
        if problem is not None:  # only without ConfluenceErrorHandler, which retries these answers
            raise AirbyteTracedException(message=problem[0], internal_message=problem[0], failure_type=problem[1])
        body = getattr(response, PARSED_BODY_ATTRIBUTE)
        links = body.get("_links") or {}
        results = body.get("results") or []
        last = not links.get("next") or not results  # an empty page ends a listing whatever `next` says
        SYNC_STATS.count(requests=1, spaces_done=int(self.counts_space_completion and last))
        for record in results:
            record[LINK_BASE_KEY] = links.get("base")
            yield record


@dataclass
class MaxPagesFilter(RecordFilter):
    """Passes pages until `max_pages` (if set) were passed in this read, across all spaces and worker threads, and
    drops restricted ones under `restricted_pages: exclude` (the selector filters after the transformations). Built
    once per read (with the `pages` stream), so it starts the read's counts and hooks the summary. With
    `counts_pages: false` (blog posts) `max_pages` does not apply; `admits` is the subclasses' scope."""

    counts_pages: bool = True

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        SYNC_STATS.reset()
        PEOPLE.reset()  # names and page trees are data of one sync: a renamed user shows the new name next time
        PAGE_TREE.reset()
        CONTAINERS.reset()  # folders and other containers: titles, parents (restrictions live in SHARED_ACCESS)
        SHARED_ACCESS.reset()  # permissions are data of one sync too
        SummaryOnSyncEnd.install()

    def admits(self, record: Mapping[str, Any]) -> bool:
        return True

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: StreamSlice | None = None,
        next_page_token: Mapping[str, Any] | None = None,
    ) -> Iterable[Mapping[str, Any]]:
        max_pages = int(self.config.get("max_pages") or 0) or None
        exclude = self.config.get("restricted_pages", "internal") == "exclude"
        for record in records:
            if not self.admits(record):
                continue
            if exclude and record.get("restricted", True):
                SYNC_STATS.count(excluded=1)
                continue
            if not self.counts_pages or SYNC_STATS.admit_page(max_pages):
                yield record


@dataclass
class PageRecordShaper(VersionedShaper):
    """Rewrites a page of REST v2 (`api_version: v2`, Cloud) or REST v1 (`v1`, Data Center) into the `pages`
    record of docs/CONTRACTS.md, copying the storage body untouched (YAML would re-parse a body that looks like a
    Python literal). `visibility` is added after it, by the manifest's one rule."""

    def shape(self, record: MutableMapping[str, Any], config: Config, stream_slice: StreamSlice | None) -> None:
        base = link_base(record, config)
        shaped = self._from_v2(record, stream_slice) if self.api_version == "v2" else self._from_v1(record)
        shaped["version"] = int(shaped["version"]) if shaped["version"] is not None else None
        shaped["body_storage"] = ((record.get("body") or {}).get("storage") or {}).get("value")
        shaped["webui"] = (record.get("_links") or {}).get("webui")
        if not isinstance(shaped["body_storage"], str) or shaped["body_storage"] == "":
            shaped["body_storage"] = ""
            SYNC_STATS.count(empty_bodies=1)
            logger.info(
                f'Page {shaped["id"]} ({shaped["space_key"]}) has no storage body; emitted with body_storage "".'
            )
        shaped["webui_url"] = absolute_url(base, shaped["webui"])
        labels = ((record.get("metadata") or {}).get("labels") or {}).get("results")
        if labels is not None:  # REST v1 with expand=metadata.labels (asked for only when labels are wanted)
            shaped["labels"] = [str(label.get("name")) for label in labels if label.get("name")]
        add_people_and_ancestors(shaped, config, self.api_version, record)
        record.clear()
        record.update(shaped)

    @staticmethod
    def _from_v2(page: Mapping[str, Any], stream_slice: StreamSlice | None) -> dict[str, Any]:
        space: Mapping[str, Any] = getattr(stream_slice, "extra_fields", None) or {}
        partition: Mapping[str, Any] = getattr(stream_slice, "partition", None) or {}
        version = page.get("version") or {}
        return {
            "id": str(page["id"]),
            "title": page.get("title"),
            "status": page.get("status"),
            "space_id": optional_text(page.get("spaceId") or partition.get("space_id")),
            "space_key": space.get("key"),
            "space_name": space.get("name"),
            "space_type": space.get("type"),
            "parent_id": optional_text(page.get("parentId")),
            "ancestors": [],
            "author_id": page.get("authorId"),
            "created_at": page.get("createdAt"),
            "updated_at": version.get("createdAt") or page.get("createdAt"),
            "version": version.get("number"),
        }

    @staticmethod
    def _from_v1(page: Mapping[str, Any]) -> dict[str, Any]:
        space, version, history = page.get("space") or {}, page.get("version") or {}, page.get("history") or {}
        ancestors = page.get("ancestors") or []
        first = version.get("number") == 1
        creator = history.get("createdBy") or (version.get("by") if first else None) or {}
        return {
            "id": str(page["id"]),
            "title": page.get("title"),
            "status": page.get("status"),
            "space_id": optional_text(space.get("id")),
            "space_key": space.get("key"),
            "space_name": space.get("name"),
            "space_type": space.get("type"),
            "parent_id": optional_text(ancestors[-1].get("id")) if ancestors else None,
            "ancestors": [ancestor.get("title") for ancestor in ancestors],
            "author_id": creator.get("accountId") or creator.get("userKey") or creator.get("username"),
            "created_at": history.get("createdDate") or (version.get("when") if first else None),
            "updated_at": version.get("when"),
            "version": version.get("number"),
        }
