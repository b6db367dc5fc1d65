"""Entry point of `source-confluence` and `main.py`: build the source from the CLI's files and launch it, as the
`source-declarative-manifest` image does for a bundled manifest (`handle_local_manifest_command`)."""

import sys

from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch

from source_confluence.source import SourceConfluence


def create_source(args: list[str]) -> SourceConfluence:
    """Read config/catalog/state named by the CLI args and build the source with them."""
    parsed = AirbyteEntrypoint.parse_args(args)
    config_path = getattr(parsed, "config", None)
    catalog_path = getattr(parsed, "catalog", None)
    state_path = getattr(parsed, "state", None)
    return SourceConfluence(
        config=SourceConfluence.read_config(config_path) if config_path else None,
        catalog=SourceConfluence.read_catalog(catalog_path) if catalog_path else None,
        state=SourceConfluence.read_state(state_path) if state_path else None,
        config_path=config_path,
    )


def run(args: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if args is None else args)
    launch(create_source(args), args)
