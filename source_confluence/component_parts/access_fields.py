"""The read's one `AccessReader` (shared by the pages, blog posts and memberships streams) and the `restricted` and
`readers` fields it adds to pages and blog posts (fail closed)."""

import threading
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from airbyte_cdk.sources.types import Config, StreamSlice

from source_confluence.component_parts.access_reader import AccessReader
from source_confluence.component_parts.common import CLOUD, ConfluenceTransformation, labels_wanted, optional_text
from source_confluence.component_parts.containers import CONTAINERS
from source_confluence.component_parts.http import Probe
from source_confluence.component_parts.stats import SYNC_STATS


class SharedAccess:
    """The read's one `AccessReader`, shared by the pages, blog posts and memberships streams (each builds its own components),
    so each space and each group is read once per read whatever the number of streams, pages and threads."""

    def __init__(self) -> None:
        self._reader: AccessReader | None = None
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._reader = None

    def reader(self, config: Config) -> AccessReader:
        with self._lock:
            if self._reader is None:
                probe = Probe(config)

                def counted_get(url: str, params: Mapping[str, Any] | None) -> Any:
                    SYNC_STATS.count(access_requests=1)
                    return probe.get(url, params)

                def counted_request(method: str, url: str, **options: Any) -> Any:
                    SYNC_STATS.count(access_requests=1)
                    return probe.request(method, url, **options)

                self._reader = AccessReader(
                    counted_get,
                    cloud=config.get("deployment", CLOUD) == CLOUD,
                    origin=config["normalised_origin"],
                    site_base=config["normalised_api_site_base"],
                    blog_posts=bool(config.get("include_blog_posts")),
                    labels=labels_wanted(config),
                    access=bool(config.get("read_permissions", True)),
                    request=counted_request,
                    declared_readers=config.get("declared_space_readers") or {},
                    containers=CONTAINERS,
                )
            return self._reader


SHARED_ACCESS = SharedAccess()


@dataclass
class PageAccessFields(ConfluenceTransformation):
    """Adds `restricted` and `readers` to a shaped page or blog post record (docs/CONTRACTS.md), with access read in
    bulk by the read's shared `AccessReader`. With `read_permissions: false` nothing is read and every record is
    restricted with no readers (fail closed)."""

    def shape(self, record: MutableMapping[str, Any], config: Config, stream_slice: StreamSlice | None) -> None:
        if not config.get("read_permissions", True) or not record.get("space_key"):
            record["restricted"], record["readers"] = True, []
            SYNC_STATS.count(restricted=1)
            return
        restricted, tokens = SHARED_ACCESS.reader(config).page_access(
            str(record["id"]), str(record["space_key"]), optional_text(record.get("space_id"))
        )
        record["restricted"], record["readers"] = restricted, tokens
        if restricted:
            SYNC_STATS.count(restricted=1)
