"""The airbyte-cdk's standard destination tests (`DestinationTestSuiteBase`), in-process, on `DestinationVectors`.

The connector root is `docker/destination-vectors/` (its `metadata.yaml` and `acceptance-test-config.yml`): `spec`,
config-matches-spec, and `check` succeeding with the packaged model and failing with a model folder that does not
exist. Each scenario's `lancedb_uri` is moved to a temporary folder, so `check` (which creates the folder and probes
that it is writable) never writes into the clone. The Docker tests are configured out, as in the source's suite.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from airbyte_cdk.test.models import ConnectorTestScenario
from airbyte_cdk.test.standard_tests import DestinationTestSuiteBase
from airbyte_cdk.test.standard_tests.pytest_hooks import pytest_generate_tests  # noqa: F401  (parametrizes `scenario`)
from boltons.typeutils import classproperty

from destination_vectors.destination import DestinationVectors

CONNECTOR_ROOT = Path(__file__).resolve().parent.parent / "docker" / "destination-vectors"
WORK = Path(tempfile.mkdtemp(prefix="destination-standard-tests-"))
"""Made when this module is collected: the scenarios' configs must name it before any fixture runs."""


@pytest.fixture(scope="module", autouse=True)
def _remove_work_folder() -> Iterator[None]:
    yield
    shutil.rmtree(WORK, ignore_errors=True)


class TestDestinationVectorsStandardSuite(DestinationTestSuiteBase):
    """Every standard test of the destination suite that runs without Docker."""

    @classproperty
    def connector(cls) -> type[DestinationVectors]:
        return DestinationVectors

    @classmethod
    def get_connector_root_dir(cls) -> Path:
        return CONNECTOR_ROOT

    @classmethod
    def get_scenarios(cls) -> list[ConnectorTestScenario]:
        scenarios = super().get_scenarios()
        assert len(scenarios) == 2, f"acceptance-test-config.yml should yield 2 scenarios, got {scenarios}"
        moved = []
        for number, scenario in enumerate(scenarios):
            config = scenario.get_config_dict(connector_root=CONNECTOR_ROOT, empty_if_missing=False)
            config = {**config, "lancedb_uri": str(WORK / f"scenario-{number}" / "lancedb")}
            moved.append(scenario.model_copy(update={"config_dict": config}))
        return moved

    # Configured out: these build the connector's Docker image and run it (no Docker engine here).
    test_docker_image_build_and_spec = None
    test_docker_image_spec_backward_compatibility = None
    test_docker_image_build_and_check = None
    test_docker_image_build_and_config_matches_spec = None
    test_docker_image_build_and_discover = None
    test_docker_image_build_and_read = None


def test_the_suite_checked_both_outcomes() -> None:
    """Guards the suite from proving nothing: one scenario must expect success, one failure."""
    statuses = sorted(str(s.status) for s in TestDestinationVectorsStandardSuite.get_scenarios())
    assert statuses == ["failed", "succeed"], statuses
