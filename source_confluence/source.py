"""The Confluence source: the declarative manifest plus the three things a manifest cannot express.

1. `check` diagnoses the cause of a failure (see connection_check.py) instead of "stream spaces failed".
2. `request_timeout_seconds` becomes the requesters' connect/read timeout: the schema only takes literal numbers
   there, so the manifest is patched with the configured value before the components are built.
3. `read` resets the sync counters and ends with a summary log line (pages, spaces, requests, retries, seconds, empty
   bodies), also when the sync fails.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteLogMessage,
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    Level,
    Status,
    Type,
)
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
from airbyte_cdk.sources.types import ConnectionDefinition

from source_confluence.components import register_derived_secrets
from source_confluence.connection_check import check_connection
from source_confluence.progress import SYNC_STATS

MANIFEST_PATH = Path(__file__).with_name("manifest.yaml")
DEFAULT_REQUEST_TIMEOUT_SECONDS = 60.0


def _set_requester_timeouts(node: Any, timeout_seconds: float) -> None:
    """Set connect/read timeouts on every HttpRequester definition in the (unresolved) manifest."""
    if isinstance(node, MutableMapping):
        if node.get("type") == "HttpRequester":
            node["connect_timeout_in_seconds"] = timeout_seconds
            node["read_timeout_in_seconds"] = timeout_seconds
        for value in node.values():
            _set_requester_timeouts(value, timeout_seconds)
    elif isinstance(node, list):
        for value in node:
            _set_requester_timeouts(value, timeout_seconds)


class SourceConfluence(YamlDeclarativeSource):
    """Build it with the config: the CDK normalises the config (URLs, legacy fields) at construction."""

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        catalog: ConfiguredAirbyteCatalog | None = None,
        state: list[AirbyteStateMessage] | None = None,
        config_path: str | None = None,
    ) -> None:
        self._raw_config: Mapping[str, Any] = config or {}
        super().__init__(
            path_to_yaml=str(MANIFEST_PATH), catalog=catalog, config=config, state=state, config_path=config_path
        )

    def _read_and_parse_yaml_file(self, path_to_yaml_file: str) -> ConnectionDefinition:
        manifest = super()._read_and_parse_yaml_file(path_to_yaml_file)
        timeout = self._raw_config.get("request_timeout_seconds") or DEFAULT_REQUEST_TIMEOUT_SECONDS
        _set_requester_timeouts(manifest, float(timeout))
        return manifest

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        register_derived_secrets(self._config or config)
        outcome = check_connection(self._config or config)
        (logger.info if outcome.succeeded else logger.warning)(outcome.message)
        return AirbyteConnectionStatus(
            status=Status.SUCCEEDED if outcome.succeeded else Status.FAILED, message=outcome.message
        )

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None = None,
    ) -> Iterator[AirbyteMessage]:
        SYNC_STATS.reset()
        register_derived_secrets(self._config or config)  # after the entrypoint replaced the secret list
        try:
            yield from super().read(logger, config, catalog, state)
        except Exception:
            # A failed sync still says how far it got (the error trace itself is emitted by the CDK).
            yield AirbyteMessage(
                type=Type.LOG, log=AirbyteLogMessage(level=Level.WARN, message=SYNC_STATS.summary_line(failed=True))
            )
            raise
        yield AirbyteMessage(type=Type.LOG, log=AirbyteLogMessage(level=Level.INFO, message=SYNC_STATS.summary_line()))
