"""What every part shares: the logger, the deployment kinds, the config error, and the record transformations' one
signature (`ConfluenceTransformation`), so each shaper says only how it shapes."""

import logging
from collections.abc import Mapping, MutableMapping
from dataclasses import InitVar, dataclass, field
from typing import Any

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

logger = logging.getLogger("airbyte.source_confluence")

CLOUD, DATA_CENTER = "cloud", "data_center"
DEFAULT_TIMEOUT_SECONDS = 60.0


def config_error(message: str) -> AirbyteTracedException:
    """An error the user fixes in the config: no stack trace is shown for it."""
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.config_error)


def labels_wanted(config: Mapping[str, Any]) -> bool:
    """Labels are read only when asked for or filtered on (on Cloud a CQL listing per 100 pages when access is not
    read, nothing more when it is)."""
    return bool(config.get("read_labels") or config.get("include_labels") or config.get("exclude_labels"))


def optional_text(value: Any) -> str | None:
    """An id or name as text; None for a missing or empty value."""
    return None if value is None or value == "" else str(value)


@dataclass
class ConfluenceTransformation(RecordTransformation):
    """A record transformation of the manifest: built with the config, it may be handed another (or none) per
    record. Subclasses implement `shape`, which edits the record in place with the config that applies."""

    config: Config = field(default_factory=dict)
    parameters: InitVar[Mapping[str, Any]] = None

    def transform(
        self,
        record: MutableMapping[str, Any],
        config: Config | None = None,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> None:
        self.shape(record, config or self.config, stream_slice)

    def shape(self, record: MutableMapping[str, Any], config: Config, stream_slice: StreamSlice | None) -> None:
        raise NotImplementedError


@dataclass
class VersionedShaper(ConfluenceTransformation):
    """A shaper of records of REST v2 (`api_version: v2`, Cloud) or REST v1 (`v1`, Data Center), the version named
    by the manifest for its stream (never guessed from the record's keys)."""

    api_version: str = "v2"

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        if self.api_version not in ("v1", "v2"):
            raise ValueError(f"{type(self).__name__}.api_version must be v1 or v2, not {self.api_version!r}")
