"""`SourceConfluence`: manifest.yaml with its components.py, loaded the way Airbyte's manifest-only image loads them.

Nothing of its own: check, timeouts and the sync summary live in the manifest and components.py, so `main.py`, the
`source-confluence` console script, the `source-declarative-manifest` image and the Connector Builder run the same
connector. The manifest names its classes `source_declarative_manifest.components.<Class>`, the module the image
(components.py copied beside the manifest) and the CDK's `--components-path` register; here it is this package's
components.py, registered under that name.
"""

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airbyte_cdk.models import AirbyteStateMessage, ConfiguredAirbyteCatalog
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource

try:
    from source_confluence import components
except ImportError:  # a fresh clone before `make install`: the generated file is not committed
    if Path(__file__).with_name("components.py").exists():
        raise
    raise ImportError(
        "source_confluence/components.py is generated from source_confluence/component_parts/ and not committed: run "
        "`make install` (or `make components`, or `python -m scripts.bundle_components`) first"
    ) from None

MANIFEST_PATH = Path(__file__).with_name("manifest.yaml")
COMPONENTS_PATH = Path(components.__file__)
COMPONENTS_MODULE = "source_declarative_manifest.components"


def register_components() -> None:
    """Make components.py importable under the name the manifest uses (the module the CDK looks up first)."""
    sys.modules[COMPONENTS_MODULE] = components


class SourceConfluence(YamlDeclarativeSource):
    """The manifest-only connector; build it with the config, which the manifest normalises at construction."""

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        catalog: ConfiguredAirbyteCatalog | None = None,
        state: list[AirbyteStateMessage] | None = None,
        config_path: str | None = None,
    ) -> None:
        register_components()
        super().__init__(
            path_to_yaml=str(MANIFEST_PATH), catalog=catalog, config=config, state=state, config_path=config_path
        )
