"""The airbyte-cdk's in-process standard connector tests (`airbyte_cdk.test.standard_tests`) against the stand-in.

The suite runs the manifest the way Airbyte runs a manifest-only connector from the Connector Builder: a
`ConcurrentDeclarativeSource` built from `source_confluence/manifest.yaml` in the config (`__injected_manifest`), with
`components.py` injected as text (`__injected_components_py` and its checksum). Its scenarios are the configs of
`acceptance-test-config.yml`; they name the stand-in at 127.0.0.1:8090, and this module serves the sample site on a
free loopback port chosen when the tests are collected instead, rewriting `base_url` in each scenario's config to
it, so the suite runs wherever 8090 is taken.

The suite's pytest hooks: only `pytest_generate_tests` (it parametrizes `scenario`) is needed, and a test module may
define it for its own tests, so it is imported here rather than registered in a conftest. The option hooks
(`--connector-image`, `--read-from-streams`, ...) serve only the Docker tests, which are configured out below.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from airbyte_cdk.test.models import ConnectorTestScenario
from airbyte_cdk.test.standard_tests.declarative_sources import DeclarativeSourceTestSuite
from airbyte_cdk.test.standard_tests.pytest_hooks import pytest_generate_tests  # noqa: F401  (parametrizes `scenario`)
from boltons.typeutils import classproperty

from testkit.confluence_stand_in import StandIn, load_site

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_SITE = Path(__file__).parent / "sample_site"


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


STAND_IN_PORT = _free_loopback_port()
"""Chosen once, when this module is collected: the scenarios' configs must name it before any fixture runs."""


def _pointed_at_stand_in(config: dict[str, Any]) -> dict[str, Any]:
    """The config with its loopback base_url moved to the stand-in's port (path kept)."""
    parts = urlsplit(str(config.get("base_url", "")))
    if parts.hostname not in ("127.0.0.1", "localhost"):
        raise AssertionError(f"an acceptance config points away from the stand-in: {config.get('base_url')!r}")
    return {**config, "base_url": f"http://127.0.0.1:{STAND_IN_PORT}{parts.path}"}


@pytest.fixture(scope="module", autouse=True)
def sample_site_stand_in() -> Iterator[StandIn]:
    # The suite passes the manifest in the config (`__injected_manifest`), which the CDK treats as untrusted: custom
    # components then need this opt-in (the suite sets it itself only when it injects components.py text).
    previous = os.environ.get("AIRBYTE_ENABLE_UNSAFE_CODE")
    os.environ["AIRBYTE_ENABLE_UNSAFE_CODE"] = "true"
    try:
        server = StandIn(load_site(SAMPLE_SITE), port=STAND_IN_PORT).start()
    except OSError as error:
        pytest.fail(
            f"could not start the Confluence stand-in on 127.0.0.1:{STAND_IN_PORT} (chosen free at collection): {error}"
        )
    try:
        yield server
    finally:
        server.stop()
        if previous is None:
            os.environ.pop("AIRBYTE_ENABLE_UNSAFE_CODE", None)
        else:
            os.environ["AIRBYTE_ENABLE_UNSAFE_CODE"] = previous


class TestSourceConfluenceStandardSuite(DeclarativeSourceTestSuite):
    """Every standard test of the declarative source suite: spec, config-matches-spec, check (succeed and failed),
    discover, basic read with schema validation, and a read with a bad catalog."""

    @classproperty
    def manifest_yaml_path(cls) -> Path:
        # The suite looks for manifest.yaml at the connector root; ours lives in the package.
        return REPO_ROOT / "source_confluence" / "manifest.yaml"

    @classproperty
    def components_py_path(cls) -> Path:
        # Injected as text with its md5 checksum (`__injected_components_py`), as the platform does for a Builder
        # connector: the module the manifest's `source_declarative_manifest.components.<Class>` names.
        return REPO_ROOT / "source_confluence" / "components.py"

    @classmethod
    def get_connector_root_dir(cls) -> Path:
        return REPO_ROOT

    @classmethod
    def get_scenarios(cls) -> list[ConnectorTestScenario]:
        scenarios = super().get_scenarios()
        assert scenarios, "acceptance-test-config.yml yielded no scenarios: the suite would test nothing"
        return [
            scenario.model_copy(
                update={
                    "config_dict": _pointed_at_stand_in(
                        scenario.get_config_dict(connector_root=REPO_ROOT, empty_if_missing=False)
                    )
                }
            )
            for scenario in scenarios
        ]

    # Configured out: these build the connector's Docker image and run it. No Docker daemon here, and the image's
    # base (airbyte/source-declarative-manifest) would have to be pulled from a registry; the manifest-only layout
    # is exercised without Docker by integration_tests/test_manifest_only_layout.py.
    test_docker_image_build_and_spec = None
    test_docker_image_spec_backward_compatibility = None
    test_docker_image_build_and_check = None
    test_docker_image_build_and_config_matches_spec = None
    test_docker_image_build_and_discover = None
    test_docker_image_build_and_read = None
