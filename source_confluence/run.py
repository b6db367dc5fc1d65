"""Entry point of `source-confluence` and `main.py`: the Airbyte protocol on stdout, nothing else.

The source is built with the config (the CDK normalises it at construction), so a config error can surface before
the CDK's entrypoint runs; it is reported here as a protocol message (a FAILED connection status for `check`, an
error trace otherwise) instead of a stack trace.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteErrorTraceMessage,
    AirbyteMessage,
    AirbyteMessageSerializer,
    AirbyteTraceMessage,
    FailureType,
    Status,
    TraceType,
    Type,
)
from airbyte_cdk.sources.source import TState
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_confluence.source import SourceConfluence


def _print_message(message: AirbyteMessage) -> None:
    print(json.dumps(AirbyteMessageSerializer.dump(message)), flush=True)


def _config_failure(command: str, error: AirbyteTracedException) -> AirbyteMessage:
    text = error.message or "The configuration is invalid."
    if command == "check":
        return AirbyteMessage(
            type=Type.CONNECTION_STATUS, connectionStatus=AirbyteConnectionStatus(status=Status.FAILED, message=text)
        )
    return AirbyteMessage(
        type=Type.TRACE,
        trace=AirbyteTraceMessage(
            type=TraceType.ERROR,
            emitted_at=datetime.now(UTC).timestamp() * 1000,
            error=AirbyteErrorTraceMessage(message=text, failure_type=error.failure_type or FailureType.config_error),
        ),
    )


def create_source(args: list[str]) -> SourceConfluence:
    """Read config/catalog/state named by the CLI args and build the source with them."""
    parsed = AirbyteEntrypoint.parse_args(args)
    config_path = getattr(parsed, "config", None)
    catalog_path = getattr(parsed, "catalog", None)
    state_path = getattr(parsed, "state", None)
    config = SourceConfluence.read_config(config_path) if config_path else None
    catalog = SourceConfluence.read_catalog(catalog_path) if catalog_path else None
    state = SourceConfluence.read_state(state_path) if state_path else None
    return SourceConfluence(config=config, catalog=catalog, state=state, config_path=config_path)


def run(args: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if args is None else args)
    try:
        source = create_source(args)
    except AirbyteTracedException as error:
        _print_message(_config_failure(args[0] if args else "", error))
        sys.exit(0 if args and args[0] == "check" else 1)
    launch(source, args)


__all__ = ["run", "create_source", "TState"]
